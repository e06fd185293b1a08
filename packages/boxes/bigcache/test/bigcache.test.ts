import { describe, expect, test } from 'vitest';
import { errorCodeOf } from '@hakmem/testkit';
import {
  BigBlockState, ErrorCode, isHakmemError, PAGE_SHIFT, PAGE_SIZE, PD_REGION_NEXT, PD_REGION_PAGES, PD_REGION_STATE, PageKind,
  REG_AUX_MASK, REG_AUX_SHIFT, REG_KIND_MASK, type BigCache, type BoxContext, type OsBoundary,
} from '@hakmem/contracts';
import { createHeap } from '@hakmem/allocator';
import {
  BIG_CLASSES, bigClassCeil, bigClassFloor, bigClassPages, createBigCache, DEFAULT_BUDGET, DEFAULT_BUDGET_FLOOR, DEFAULT_LIVE_SHARE,
} from '@hakmem/bigcache';

const MiB = 1 << 20;

interface Fixture {
  readonly ctx: BoxContext;
  readonly os: OsBoundary;
  readonly big: BigCache;
  /** Registry entry of the page at `addr`. */
  reg(addr: number): number;
  /** Word index of the descriptor of the page at `addr`. */
  desc(addr: number): number;
  readonly i32: () => Int32Array;
}

/**
 * A bigcache over a heap's os-boundary, both taken from the composition root (a box's
 * test meets other boxes only through it). Nothing else maps until a tiny malloc, so
 * os-boundary's bytes in use are the bigcache's alone.
 */
function fixture(maxBytes = 64 * MiB, budget?: number): Fixture {
  const heap = createHeap(budget === undefined ? { maxBytes } : { maxBytes, tuning: { bigCache: { budget } } });
  const { backend, layout } = heap;
  const ctx: BoxContext = { backend, layout, tid: 1, shared: false, slotOffset: -1, debug: 0 };
  return {
    ctx, os: heap.boxes.osBoundary, big: heap.boxes.bigCache,
    reg: (addr) => backend.views.i32[(layout.registryOffset >>> 2) + (addr >>> PAGE_SHIFT)]!,
    desc: (addr) => (layout.pageTableOffset >>> 2) + ((addr >>> PAGE_SHIFT) << 4),
    i32: () => backend.views.i32,
  };
}


describe('size classes', () => {
  test('floor/ceil/pages agree for every page count of the largest heap', () => {
    for (let c = 1; c < BIG_CLASSES; c++) expect(bigClassPages(c)).toBeGreaterThan(bigClassPages(c - 1));
    const bad: number[] = [];
    for (let p = 1; p <= 32767; p++) {
      const f = bigClassFloor(p);
      const c = bigClassCeil(p);
      const ok = bigClassPages(f) <= p && bigClassPages(f + 1) > p && bigClassPages(c) >= p && (c === 0 || bigClassPages(c - 1) < p)
        // four classes per doubling from 4 pages: the waste of a rounded block is below 25 %
        && (bigClassPages(c) - p) / bigClassPages(c) < 0.25 && c < BIG_CLASSES;
      if (!ok) bad.push(p);
    }
    expect(bad).toEqual([]);
  });
});

describe('bigcache', () => {
  test('alloc rounds up to the class, is page aligned, and stamps the registry and the head descriptor', () => {
    const f = fixture();
    const p = f.big.alloc(MiB + 1); // 17 pages → class of 20 pages
    expect(p % PAGE_SIZE).toBe(0);
    expect(f.big.usableSize(p)).toBe(20 * PAGE_SIZE);
    expect(f.big.lastAllocZeroed()).toBe(true);
    for (let i = 0; i < 20; i++) {
      const e = f.reg(p + i * PAGE_SIZE);
      expect(e & REG_KIND_MASK).toBe(PageKind.BIG);
      expect((e >>> REG_AUX_SHIFT) & REG_AUX_MASK).toBe(i);
    }
    expect(f.reg(p + 20 * PAGE_SIZE)).toBe(0);
    expect(f.i32()[f.desc(p) + PD_REGION_PAGES]).toBe(20);
    expect(f.i32()[f.desc(p) + PD_REGION_STATE]).toBe(BigBlockState.LIVE);
    expect(f.big.stats()).toMatchObject({ misses: 1, hits: 0, mapped: 1, liveBlocks: 1, liveBytes: 20 * PAGE_SIZE, cachedBlocks: 0 });
    f.big.checkInvariants();
  });

  test('free caches the block (registry stays BIG, state CACHED); the next alloc of its class reuses it, dirty, without restamping', () => {
    const f = fixture();
    const p = f.big.alloc(2 * MiB);
    f.big.free(p);
    expect(f.reg(p) & REG_KIND_MASK).toBe(PageKind.BIG);
    expect(f.reg(p + 31 * PAGE_SIZE)).toBe(PageKind.BIG | (31 << REG_AUX_SHIFT));
    expect(f.i32()[f.desc(p) + PD_REGION_STATE]).toBe(BigBlockState.CACHED);
    expect(f.big.stats()).toMatchObject({ cachedBlocks: 1, cachedBytes: 2 * MiB, liveBlocks: 0, liveBytes: 0 });
    f.big.checkInvariants();
    const inUse = f.os.stats().bytesInUse;
    expect(f.big.alloc(2 * MiB - 5)).toBe(p);
    expect(f.big.lastAllocZeroed()).toBe(false);
    expect(f.os.stats().bytesInUse).toBe(inUse);
    expect(f.big.stats()).toMatchObject({ hits: 1, misses: 1, mapped: 1, cachedBlocks: 0, liveBlocks: 1 });
    f.big.checkInvariants();
  });

  test('a block from a larger class is trimmed to the request\'s class', () => {
    const f = fixture();
    const p = f.big.alloc(3 * MiB); // 48 pages
    f.big.free(p);
    const q = f.big.alloc(2 * MiB); // class of 32 pages: taken from the 48-page block
    expect(q).toBe(p);
    expect(f.big.usableSize(q)).toBe(2 * MiB);
    expect(f.reg(p + 32 * PAGE_SIZE)).toBe(0);
    expect(f.os.stats().bytesInUse).toBe(2 * MiB);
    f.big.checkInvariants();
  });

  test('budget: a free beyond it evicts largest-first; a block larger than the budget is unmapped at once', () => {
    const f = fixture(64 * MiB, 5 * MiB);
    const a = f.big.alloc(MiB);
    const b = f.big.alloc(2 * MiB);
    const c = f.big.alloc(3 * MiB);
    const d = f.big.alloc(6 * MiB);
    f.big.free(a);
    f.big.free(b);
    expect(f.big.stats()).toMatchObject({ cachedBlocks: 2, cachedBytes: 3 * MiB, unmapped: 0 });
    f.big.free(c); // 6 MiB cached > 5 MiB: the largest (c) goes
    expect(f.big.stats()).toMatchObject({ cachedBlocks: 2, cachedBytes: 3 * MiB, unmapped: 1 });
    expect(f.reg(c)).toBe(0);
    f.big.free(d); // larger than the budget itself
    expect(f.big.stats()).toMatchObject({ cachedBlocks: 2, unmapped: 2, liveBlocks: 0 });
    expect(f.os.stats().bytesInUse).toBe(3 * MiB);
    f.big.checkInvariants();
  });

  test('the live-proportional limit: after every free, cached bytes ≤ max(budgetFloor, liveShare × live bytes); largest first', () => {
    const f = fixture();
    // A cache of its own (slotless) over the heap's os-boundary: nothing else maps.
    const big = createBigCache(f.ctx, { regions: f.os, budgetFloor: MiB, liveShare: 1 });
    const a = big.alloc(MiB); // 16 pages
    const b = big.alloc(2 * MiB); // 32
    const l = big.alloc(8 * MiB); // 128: 11 MiB live
    big.free(a); // live 10 MiB: limit 10 MiB
    big.free(b); // live 8 MiB: limit 8 MiB
    expect(big.stats()).toMatchObject({ cachedBlocks: 2, cachedBytes: 3 * MiB, liveBytes: 8 * MiB, unmapped: 0 });
    big.free(l); // live 0: limit = the floor, 1 MiB; l (above it) unmapped at once, b shed (largest first), a kept
    expect(big.stats()).toMatchObject({ cachedBlocks: 1, cachedBytes: MiB, liveBytes: 0, unmapped: 2 });
    expect(f.os.stats().bytesInUse).toBe(MiB);
    expect([f.reg(b), f.reg(l)]).toEqual([0, 0]);
    big.checkInvariants();
    const maps = f.os.stats().maps;
    expect(big.alloc(MiB)).toBe(a);
    expect(f.os.stats().maps).toBe(maps);
    // Equal blocks freed one by one (share 1/2, floor 2 MiB): the cache tracks the live bytes down.
    const g = fixture();
    const c2 = createBigCache(g.ctx, { regions: g.os, budgetFloor: 2 * MiB, liveShare: 0.5 });
    const blocks = Array.from({ length: 6 }, () => c2.alloc(2 * MiB));
    const cached: number[] = [];
    for (const [i, p] of blocks.entries()) {
      c2.free(p);
      const st = c2.stats();
      expect(st.cachedBytes).toBeLessThanOrEqual(Math.max(2 * MiB, st.liveBytes / 2));
      expect(g.os.stats().bytesInUse).toBe(st.liveBytes + st.cachedBytes);
      expect(st.liveBytes).toBe((5 - i) * 2 * MiB);
      cached.push(st.cachedBytes / MiB);
    }
    expect(cached).toEqual([2, 4, 2, 2, 2, 2]); // live 10 → limit 5 MiB: 1 block; 8 → 4: 2; 6 → 3: 1; then the floor: 1
    c2.checkInvariants();
  });

  test('a shrink in place lowers the limit too: cached blocks beyond it are unmapped', () => {
    const f = fixture();
    const big = createBigCache(f.ctx, { regions: f.os, budgetFloor: 0, liveShare: 1 });
    const a = big.alloc(MiB);
    const l = big.alloc(8 * MiB);
    big.free(a); // live 8 MiB: a cached
    expect(big.stats()).toMatchObject({ cachedBytes: MiB, unmapped: 0 });
    expect(big.resizeInPlace(l, 512 * 1024)).toBe(true); // live 512 KiB: limit 512 KiB, a goes
    expect(big.stats()).toMatchObject({ cachedBlocks: 0, cachedBytes: 0, liveBytes: 512 * 1024, unmapped: 2 });
    expect(f.os.stats().bytesInUse).toBe(512 * 1024);
    expect(f.reg(a)).toBe(0);
    big.checkInvariants();
  });

  test('defaults: a floor of 8 MiB and 1/4 of the live bytes — a program done with its big blocks keeps the floor', () => {
    expect([DEFAULT_BUDGET_FLOOR, DEFAULT_LIVE_SHARE]).toEqual([8 * MiB, 0.25]);
    const f = fixture();
    const blocks = [4 * MiB, 4 * MiB, 16 * MiB, 2 * MiB].map((s) => f.big.alloc(s));
    for (const p of blocks) f.big.free(p);
    // live 22 → 5.5 MiB: the floor, 8 MiB: the first 4 MiB cached; live 6 MiB → 8 MiB: the second; 16 MiB: above
    // the limit, unmapped at once; live 0: 2 MiB more would make 10 > 8: the largest class goes (one 4 MiB block).
    expect(f.big.stats()).toMatchObject({ cachedBytes: 6 * MiB, cachedBlocks: 2, unmapped: 2, liveBytes: 0 });
    expect(f.os.stats().bytesInUse).toBe(6 * MiB);
    f.big.checkInvariants();
  });

  test('budget 0 caches nothing', () => {
    const f = fixture(64 * MiB, 0);
    f.big.free(f.big.alloc(2 * MiB));
    expect(f.big.stats()).toMatchObject({ cachedBlocks: 0, unmapped: 1 });
    expect(f.os.stats().bytesInUse).toBe(0);
  });

  test('trim unmaps every cached block and clears their registry entries', () => {
    const f = fixture();
    const ptrs = [MiB, 2 * MiB, 5 * MiB, 2 * MiB].map((s) => f.big.alloc(s));
    const keep = f.big.alloc(MiB + 1);
    for (const p of ptrs) f.big.free(p);
    const cached = f.big.stats().cachedBytes;
    expect(f.big.trim()).toBe(cached);
    expect(f.big.stats()).toMatchObject({ cachedBlocks: 0, cachedBytes: 0, liveBlocks: 1 });
    expect(f.os.stats().bytesInUse).toBe(f.big.usableSize(keep));
    for (const p of ptrs) expect(f.reg(p)).toBe(0);
    f.big.checkInvariants();
    expect(f.big.trim()).toBe(0);
  });

  test('resizeInPlace shrinks (tail back to os-boundary), grows into the free pages after the block, and returns false (nothing changed) when they are taken', () => {
    const f = fixture();
    const p = f.big.alloc(4 * MiB); // 64 pages
    expect(f.big.resizeInPlace(p, 4 * MiB - 100)).toBe(true); // same pages
    expect(f.big.resizeInPlace(p, MiB + 1)).toBe(true); // 17 pages → kept class-sized: 20
    expect(f.big.usableSize(p)).toBe(20 * PAGE_SIZE);
    expect(f.reg(p + 19 * PAGE_SIZE) & REG_KIND_MASK).toBe(PageKind.BIG);
    expect(f.reg(p + 20 * PAGE_SIZE)).toBe(0);
    expect(f.os.stats().bytesInUse).toBe(20 * PAGE_SIZE);
    expect(f.big.stats()).toMatchObject({ resizedInPlace: 2, liveBytes: 20 * PAGE_SIZE, unmapped: 1 });
    f.big.checkInvariants();
    // The 44 pages after it went back to os-boundary: growth takes them again, to the request's class (24 pages).
    expect(f.big.resizeInPlace(p, 20 * PAGE_SIZE + 1)).toBe(true);
    expect(f.big.usableSize(p)).toBe(24 * PAGE_SIZE);
    expect(f.reg(p + 23 * PAGE_SIZE)).toBe(PageKind.BIG | (23 << REG_AUX_SHIFT));
    expect(f.os.stats().bytesInUse).toBe(24 * PAGE_SIZE);
    expect(f.big.stats()).toMatchObject({ resizedInPlace: 3, liveBytes: 24 * PAGE_SIZE });
    f.big.checkInvariants();
    // A block right after it: growth cannot happen in place.
    const fence = f.big.alloc(MiB + 1);
    expect(fence).toBe(p + 24 * PAGE_SIZE);
    const before = f.big.stats();
    expect(f.big.resizeInPlace(p, 24 * PAGE_SIZE + 1)).toBe(false);
    expect(f.big.usableSize(p)).toBe(24 * PAGE_SIZE);
    expect(f.big.stats()).toEqual(before);
    f.big.free(fence);
    // The resized block is filed in its class and serves the next request of that class.
    f.big.free(p);
    f.big.checkInvariants();
    expect(f.big.alloc(20 * PAGE_SIZE + 1)).toBe(p);
  });

  test('exhaustion returns 0 with the state intact; cached blocks are given back before giving up', () => {
    const f = fixture(16 * MiB);
    const got: number[] = [];
    let p: number;
    while ((p = f.big.alloc(2 * MiB)) !== 0) got.push(p);
    expect(got.length).toBeGreaterThan(3);
    const before = f.big.stats();
    expect(f.big.alloc(2 * MiB)).toBe(0);
    expect(f.big.stats()).toEqual({ ...before, misses: before.misses + 1 });
    f.big.checkInvariants();
    f.os.checkInvariants();
    // Two 2 MiB blocks cached: a 4 MiB request cannot reuse them as they are, so they are
    // unmapped (coalescing if adjacent) and the request retried.
    f.big.free(got.pop()!);
    f.big.free(got.pop()!);
    const q = f.big.alloc(4 * MiB);
    expect(f.big.stats().cachedBlocks).toBe(0);
    if (q !== 0) expect(f.big.usableSize(q)).toBe(4 * MiB);
    f.big.checkInvariants();
  });

  test('checkInvariants catches a corrupted registry entry, a block cached twice, a wrong state and bad counters', () => {
    const corrupted = (mutate: (f: Fixture, live: number, cached: number) => void): string => {
      const f = fixture();
      const live = f.big.alloc(2 * MiB);
      const cached = f.big.alloc(3 * MiB);
      f.big.free(cached);
      f.big.checkInvariants();
      mutate(f, live, cached);
      try {
        f.big.checkInvariants();
      } catch (e) {
        expect(isHakmemError(e, ErrorCode.CORRUPTION)).toBe(true);
        return (e as Error).message;
      }
      return 'no error';
    };
    const regIdx = (f: Fixture, addr: number): number => (f.ctx.layout.registryOffset >>> 2) + (addr >>> PAGE_SHIFT);
    expect(corrupted((f, live) => { f.i32()[regIdx(f, live + 3 * PAGE_SIZE)] = PageKind.BIG | (7 << REG_AUX_SHIFT); })).toMatch(/registry entry of page 3/);
    expect(corrupted((f, _l, cached) => { f.i32()[f.desc(cached) + PD_REGION_NEXT] = cached; })).toMatch(/cached twice/);
    expect(corrupted((f, live) => { f.i32()[f.desc(live) + PD_REGION_STATE] = BigBlockState.CACHED; })).toMatch(/CACHED but in no cache list/);
    expect(corrupted((f, live) => { f.i32()[f.desc(live) + PD_REGION_STATE] = 7; })).toMatch(/neither LIVE nor CACHED/);
    expect(corrupted((f, _l, cached) => { f.i32()[f.desc(cached) + PD_REGION_STATE] = BigBlockState.LIVE; })).toMatch(/state 1, not CACHED/);
    expect(corrupted((f, _l, cached) => { f.i32()[f.desc(cached) + PD_REGION_PAGES] = 100; })).toMatch(/class/);
    expect(corrupted((f, live) => { f.i32()[regIdx(f, live)] = PageKind.MAPPED; })).toMatch(/continuation page with no block head/);
    // Split the live block in two behind the counters' back: the registry walk counts 2.
    expect(corrupted((f, live) => {
      const half = live + 16 * PAGE_SIZE;
      f.i32()[f.desc(live) + PD_REGION_PAGES] = 16;
      f.i32()[f.desc(half) + PD_REGION_PAGES] = 16;
      f.i32()[f.desc(half) + PD_REGION_STATE] = BigBlockState.LIVE;
      for (let i = 0; i < 16; i++) f.i32()[regIdx(f, half + i * PAGE_SIZE)] = PageKind.BIG | (i << REG_AUX_SHIFT);
    })).toMatch(/2 live big blocks .* counters say 1/);
  });

  test('options: budget must be a non-negative integer; the default is 64 MiB', () => {
    const f = fixture();
    expect(DEFAULT_BUDGET).toBe(64 * MiB);
    for (const budget of [-1, 1.5, Number.NaN]) expect(errorCodeOf(() => createBigCache(f.ctx, { regions: f.os, budget }))).toBe(ErrorCode.INVALID_OPTION);
    for (const budgetFloor of [-1, 0.5, Number.POSITIVE_INFINITY]) expect(errorCodeOf(() => createBigCache(f.ctx, { regions: f.os, budgetFloor }))).toBe(ErrorCode.INVALID_OPTION);
    for (const liveShare of [-1, 65, Number.NaN, '1' as unknown as number]) expect(errorCodeOf(() => createBigCache(f.ctx, { regions: f.os, liveShare }))).toBe(ErrorCode.INVALID_OPTION);
    for (const o of [{ budgetFloor: 0, liveShare: 0 }, { liveShare: 64 }, { liveShare: 0.3, budgetFloor: 1 << 30 }]) expect(errorCodeOf(() => createBigCache(f.ctx, { regions: f.os, ...o }))).toBeUndefined();
    expect(f.big.name).toBe('bigcache');
    const s = f.big.stats();
    s.hits = 9;
    expect(f.big.stats().hits).toBe(0);
  });
});
