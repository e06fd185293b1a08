import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { errorCodeOf } from '@hakmem/testkit';
import {
  ErrorCode, GH_BOX_SLOTS_END, isHakmemError, L25BlockState, PAGE_SHIFT, PAGE_SIZE, PD_REGION_NEXT, PD_REGION_PAGES, PD_REGION_STATE,
  PageKind, REG_AUX_MASK, REG_AUX_SHIFT, REG_CLASS_MASK, REG_CLASS_SHIFT, REG_KIND_MASK, REG_THREAD_MASK, REG_THREAD_SHIFT,
  type BoxContext, type L25Pool, type L25PoolOptions, type OsBoundary,
} from '@hakmem/contracts';
import { createHeap, type HeapOptions } from '@hakmem/allocator';
import {
  createL25Pool, DEFAULT_KEEP_PER_CLASS, DEFAULT_L25_BUDGET, DEFAULT_L25_BUDGET_FLOOR, DEFAULT_L25_LIVE_SHARE, DEFAULT_SPLIT_SPAN,
  DEFAULT_L25_CLASS_SIZES, DEFAULT_SHARDS, l25PoolStateBytes,
} from '@hakmem/l25-pool';

const MiB = 1 << 20;
const P = PAGE_SIZE;
/** Slot 100: far from the slots the heap itself uses. */
const SLOT = 64 + 100 * 64;
/** Shard record words (l25-pool's layout: 7 + 2n words rounded up to 16). */
const shardWords = (n: number): number => l25PoolStateBytes(1, n) >>> 2;
const W_LOCK = 0;
const W_LOCK_CONTENDED = 1;
const W_BITMAP = 2;
const W_LIVE_BLOCKS = 5;
const W_HEADS = 7;

type PoolOptions = Omit<L25PoolOptions, 'regions'>;
/** Options that turn the byte limits off (a floor of the whole budget). */
const UNLIMITED: PoolOptions = { splitSpan: 64, budget: 1 << 30, budgetFloor: 1 << 30 };

interface Fixture {
  readonly ctx: BoxContext;
  readonly os: OsBoundary;
  /** The pool as thread 1 sees it. */
  readonly pool: L25Pool;
  /** Another handle on the same state, as thread `tid` (default 2) sees it. */
  thread(tid?: number): L25Pool;
  readonly i32: () => Int32Array;
  /** Registry entry of the page at `addr`. */
  reg(addr: number): number;
  /** Word index of the registry entry of the page at `addr`. */
  regIdx(addr: number): number;
  /** Word index of the descriptor of the page at `addr`. */
  desc(addr: number): number;
  /** Word index of shard `s`'s record. */
  shard(s: number): number;
}

/**
 * An l25 pool over a heap's os-boundary (taken from the composition root: a box's test
 * meets other boxes only through it), with its state in box slot 100. Nothing else maps
 * until a malloc, so os-boundary's bytes in use are the pool's alone.
 */
function fixture(options: PoolOptions = {}, heapOptions: HeapOptions = {}): Fixture {
  const heap = createHeap({ maxBytes: 64 * MiB, ...heapOptions });
  const { backend, layout } = heap;
  const os = heap.boxes.osBoundary;
  const ctx: BoxContext = { backend, layout, tid: 1, shared: backend.shared, slotOffset: SLOT, debug: 0 };
  const n = (options.classSizes ?? DEFAULT_L25_CLASS_SIZES).length;
  return {
    ctx, os,
    // Unbounded splitting and no byte budget nor live-proportional limit unless a test asks:
    // the tests of keepPerClass and splits see only those rules.
    pool: createL25Pool(ctx, { regions: os, ...UNLIMITED, ...options }),
    thread: (tid = 2) => createL25Pool({ ...ctx, tid }, { regions: os, ...UNLIMITED, ...options }),
    i32: () => backend.views.i32,
    reg: (addr) => backend.views.i32[(layout.registryOffset >>> 2) + (addr >>> PAGE_SHIFT)]!,
    regIdx: (addr) => (layout.registryOffset >>> 2) + (addr >>> PAGE_SHIFT),
    desc: (addr) => (layout.pageTableOffset >>> 2) + ((addr >>> PAGE_SHIFT) << 4),
    shard: (s) => (SLOT >>> 2) + s * shardWords(n),
  };
}

const kind = (e: number): number => e & REG_KIND_MASK;
const clsOf = (e: number): number => (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK;
const tidOf = (e: number): number => (e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK;
const auxOf = (e: number): number => (e >>> REG_AUX_SHIFT) & REG_AUX_MASK;

/** Expects every page of the block at `p` to be stamped L25 / class / thread / page index. */
function expectStamped(f: Fixture, p: number, pages: number, cls: number, tid: number): void {
  for (let i = 0; i < pages; i++) {
    const e = f.reg(p + i * P);
    expect([kind(e), clsOf(e), tidOf(e), auxOf(e)]).toEqual([PageKind.L25, cls, tid, i]);
  }
}

describe('hot-path literals', () => {
  test('the word offsets alloc / free / push / fits spell as literals are the layout constants', async () => {
    const layout = await import('../src/layout.js');
    const c = await import('@hakmem/contracts');
    expect([layout.L25_BITMAP, layout.L25_CACHED_PAGES, layout.L25_LIVE_BLOCKS, layout.L25_LIVE_PAGES, layout.L25_HEADS])
      .toEqual([2, 4, 5, 6, 7]);
    expect([c.PD_REGION_STATE, c.PD_REGION_NEXT, c.PD_REGION_PAGES, c.L25BlockState.LIVE, c.L25BlockState.CACHED, c.PAGE_SHIFT, c.PAGE_DESC_WORDS])
      .toEqual([8, 12, 14, 1, 2, 16, 1 << 4]);
  });
});

describe('classes and state size', () => {
  test('defaults: 16 classes of 1..16 pages, 8 shards, 8 kept per class', () => {
    expect(DEFAULT_L25_CLASS_SIZES).toEqual(Array.from({ length: 16 }, (_, i) => (i + 1) * P));
    expect(DEFAULT_SHARDS).toBe(8);
    expect(DEFAULT_KEEP_PER_CLASS).toBe(8);
    const f = fixture();
    expect(f.pool.name).toBe('l25-pool');
    expect(f.pool.numClasses).toBe(16);
    expect(Array.from(f.pool.classSizes)).toEqual(DEFAULT_L25_CLASS_SIZES);
    expect([1, P - 1, P, P + 1, 2 * P, 5 * P + 3, MiB - 1, MiB].map((s) => f.pool.classOf(s))).toEqual([0, 0, 0, 1, 1, 5, 15, 15]);
  });

  test('classOf with custom classes: the smallest class that holds the size', () => {
    const f = fixture({ classSizes: [P, 2 * P, 4 * P, 8 * P] });
    expect([1, P, P + 1, 2 * P, 2 * P + 1, 4 * P, 5 * P, 8 * P].map((s) => f.pool.classOf(s))).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });

  test('l25PoolStateBytes: whole box slots per shard', () => {
    expect(l25PoolStateBytes(1, 16)).toBe(3 * 64); // 7 + 32 words → 48
    expect(l25PoolStateBytes(8, 16)).toBe(8 * 3 * 64);
    expect(l25PoolStateBytes(1, 4)).toBe(64); // 15 words
    expect(l25PoolStateBytes(1, 5)).toBe(128); // 17 words
    expect(l25PoolStateBytes(64, 32)).toBe(64 * 5 * 64); // 71 words → 80
    for (let s = 1; s <= 64; s++) for (let n = 1; n <= 32; n++) expect(l25PoolStateBytes(s, n) % 64).toBe(0);
  });
});

describe('l25-pool', () => {
  test('alloc maps a page-aligned block and stamps every page and the head descriptor', () => {
    const f = fixture();
    const p = f.pool.alloc(4); // 5 pages
    expect(p).not.toBe(0);
    expect(p % P).toBe(0);
    expect(f.pool.usableSize(p)).toBe(5 * P);
    expect(f.pool.lastAllocZeroed()).toBe(true);
    expectStamped(f, p, 5, 4, 1);
    expect(f.reg(p + 5 * P)).toBe(0);
    const d = f.desc(p);
    expect([f.i32()[d + PD_REGION_STATE], f.i32()[d + PD_REGION_PAGES], f.i32()[d + PD_REGION_NEXT]]).toEqual([L25BlockState.LIVE, 5, 0]);
    expect(f.os.stats()).toMatchObject({ maps: 1, bytesInUse: 5 * P });
    expect(f.pool.stats()).toEqual({
      hits: 0, misses: 1, splits: 0, mapped: 1, unmapped: 0, cachedBlocks: 0, cachedBytes: 0, liveBlocks: 1, liveBytes: 5 * P, lockContended: 0,
    });
    f.pool.checkInvariants();
    // The heap's own lists never see the block; its validation still passes.
    f.os.checkInvariants();
  });

  test('free caches the block (registry stays L25, state CACHED); the next alloc of its class gets it back without a map', () => {
    const f = fixture();
    const p = f.pool.alloc(2);
    const q = f.pool.alloc(2);
    f.pool.free(p);
    expectStamped(f, p, 3, 2, 1);
    expect(f.i32()[f.desc(p) + PD_REGION_STATE]).toBe(L25BlockState.CACHED);
    expect(f.i32()[f.shard(0) + W_BITMAP]).toBe(1 << 2);
    expect(f.pool.stats()).toMatchObject({ cachedBlocks: 1, cachedBytes: 3 * P, liveBlocks: 1, liveBytes: 3 * P });
    f.pool.checkInvariants();
    const maps = f.os.stats().maps;
    f.i32()[p >>> 2] = 0x1234; // dirty the cached block
    expect(f.pool.alloc(2)).toBe(p);
    expect(f.pool.lastAllocZeroed()).toBe(false);
    expect(f.os.stats().maps).toBe(maps);
    expect(f.i32()[f.desc(p) + PD_REGION_STATE]).toBe(L25BlockState.LIVE);
    expect(f.i32()[f.shard(0) + W_BITMAP]).toBe(0);
    expect(f.pool.stats()).toMatchObject({ hits: 1, misses: 2, mapped: 2, cachedBlocks: 0, liveBlocks: 2 });
    f.pool.checkInvariants();
    // LIFO within a class.
    f.pool.free(p);
    f.pool.free(q);
    expect(f.pool.alloc(2)).toBe(q);
    expect(f.pool.alloc(2)).toBe(p);
  });

  test('a larger cached block is split: the head serves the request, the tail is cached in the class of its size', () => {
    const f = fixture();
    const p = f.pool.alloc(4); // 5 pages
    f.pool.free(p);
    const maps = f.os.stats().maps;
    expect(f.pool.alloc(1)).toBe(p); // 2 pages; tail of 3 pages → class 2
    expect(f.os.stats().maps).toBe(maps);
    expect(f.pool.usableSize(p)).toBe(2 * P);
    expectStamped(f, p, 2, 1, 1);
    const tail = p + 2 * P;
    expectStamped(f, tail, 3, 2, 1);
    const d = f.desc(tail);
    expect([f.i32()[d + PD_REGION_STATE], f.i32()[d + PD_REGION_PAGES]]).toEqual([L25BlockState.CACHED, 3]);
    expect(f.i32()[f.shard(0) + W_BITMAP]).toBe(1 << 2);
    expect(f.pool.stats()).toMatchObject({ hits: 1, splits: 1, unmapped: 0, cachedBlocks: 1, cachedBytes: 3 * P, liveBlocks: 1, liveBytes: 2 * P });
    f.pool.checkInvariants();
    // The smallest non-empty class at least as large is taken: a 1-page request splits the 3-page tail.
    expect(f.pool.alloc(0)).toBe(tail);
    expect(f.pool.stats()).toMatchObject({ splits: 2, cachedBlocks: 1, cachedBytes: 2 * P });
    expect(f.pool.alloc(1)).toBe(tail + P);
    expect(f.os.stats()).toMatchObject({ maps, bytesInUse: 5 * P });
    f.pool.checkInvariants();
  });

  test('splitSpan bounds the blocks an alloc may split: at most that many times its pages (default 1: never)', () => {
    expect(DEFAULT_SPLIT_SPAN).toBe(1);
    // A handle created with no splitSpan at all (the fixture's pool passes one): the default never splits.
    const f0 = fixture();
    const byDefault = createL25Pool(f0.ctx, { regions: f0.os });
    const whole = byDefault.alloc(3); // 4 pages
    byDefault.free(whole);
    expect(byDefault.alloc(1)).not.toBe(whole); // 2 pages: maps, the 4-page block stays whole
    expect(byDefault.stats()).toMatchObject({ splits: 0, cachedBlocks: 1, cachedBytes: 4 * P });
    byDefault.checkInvariants();
    const f = fixture({ splitSpan: 2 });
    const big = f.pool.alloc(7); // 8 pages
    f.pool.free(big);
    const maps = f.os.stats().maps;
    const a = f.pool.alloc(2); // 3 pages: 8 > 2 × 3, so the 8-page block stays whole
    expect(a).not.toBe(big);
    expect(f.os.stats().maps).toBe(maps + 1);
    const b = f.pool.alloc(3); // 4 pages: 8 ≤ 2 × 4, split
    expect(b).toBe(big);
    expect(f.pool.stats()).toMatchObject({ splits: 1, cachedBlocks: 1, cachedBytes: 4 * P });
    expect(f.os.stats().maps).toBe(maps + 1);
    f.pool.checkInvariants();
    const never = fixture({ splitSpan: 1 });
    const q = never.pool.alloc(1);
    never.pool.free(q);
    expect(never.pool.alloc(0)).not.toBe(q);
    expect(never.pool.stats().splits).toBe(0);
  });

  test('the byte budget: a free that would take the shard\'s cached bytes above it unmaps the block (default 64 MiB)', () => {
    expect(DEFAULT_L25_BUDGET).toBe(64 * MiB);
    const f = fixture({ budget: 10 * P });
    const blocks = [7, 7, 3].map((c) => f.pool.alloc(c)); // 8 + 8 + 4 pages
    for (const p of blocks) f.pool.free(p);
    // the first 8 pages fit; the second would make 16 > 10 and the 4-page block 12 > 10: both unmapped
    expect(f.pool.stats()).toMatchObject({ cachedBlocks: 1, cachedBytes: 8 * P, unmapped: 2 });
    expect(f.os.stats().bytesInUse).toBe(8 * P);
    f.pool.checkInvariants();
    const zero = fixture({ budget: 0 });
    zero.pool.free(zero.pool.alloc(0));
    expect(zero.pool.stats()).toMatchObject({ cachedBlocks: 0, unmapped: 1 });
  });

  test('the live-proportional limit: a shard keeps at most max(budgetFloor, liveShare × its live bytes) cached', () => {
    expect([DEFAULT_L25_BUDGET_FLOOR, DEFAULT_L25_LIVE_SHARE]).toEqual([MiB, 8]);
    // Eight blocks of 4 pages (32 live), freed one by one with a floor of 2 pages and a share of 1/2.
    const f = fixture({ budgetFloor: 2 * P, liveShare: 0.5 });
    const blocks = Array.from({ length: 8 }, () => f.pool.alloc(3));
    const cached: number[] = [];
    for (const [i, p] of blocks.entries()) {
      f.pool.free(p);
      const s = f.pool.stats();
      const live = (7 - i) * 4 * P;
      expect(s.liveBytes).toBe(live);
      expect(s.cachedBytes).toBeLessThanOrEqual(Math.max(2 * P, live / 2));
      expect(f.os.stats().bytesInUse).toBe(s.liveBytes + s.cachedBytes);
      cached.push(s.cachedBytes / P);
      f.pool.checkInvariants();
    }
    // Live 28 → limit 14 pages: cached; 24 → 12: cached; 20 → 10 and 16 → 8: unmapped; 12 → 6:
    // unmapped and one cached block shed; 8 → 4: unmapped; 4 → 2 (the floor): unmapped and the last one shed.
    // (Each free over the limit sheds at most one block: equal blocks keep the shard within it here.)
    expect(cached).toEqual([4, 8, 8, 8, 4, 4, 0, 0]);
    expect(f.pool.stats()).toMatchObject({ unmapped: 8, cachedBlocks: 0 });
    expect(f.os.stats().bytesInUse).toBe(0);
  });

  test('a free over the limit unmaps the block, then one more cached block (of the largest class) while the shard is above it', () => {
    for (const shared of [false, true]) {
      const f = fixture({ budgetFloor: 2 * P, liveShare: 1 }, { shared });
      const before = f.os.stats().bytesInUse; // a shared heap maps its thread records up front
      const [a, b, x, l] = [0, 1, 3, 15].map((c) => f.pool.alloc(c)); // 1, 2, 4, 16 pages: 23 live
      for (const p of [a!, b!, x!]) f.pool.free(p); // live 16, cached 7 ≤ 16
      expect(f.pool.stats()).toMatchObject({ cachedBytes: 7 * P, liveBytes: 16 * P, unmapped: 0 });
      f.pool.free(l!); // live 0: limit = the floor, 2 pages; l unmapped, then x (4 pages, the largest) shed
      expect(f.pool.stats()).toMatchObject({ cachedBlocks: 2, cachedBytes: 3 * P, liveBytes: 0, unmapped: 2 });
      expect(f.os.stats().bytesInUse - before).toBe(3 * P);
      f.pool.checkInvariants();
      const m = f.pool.alloc(2); // 3 pages: a miss (a and b are of other classes)
      f.pool.free(m); // over the limit: unmapped, then b (2 pages) shed; a is within the floor
      expect(f.pool.stats()).toMatchObject({ cachedBlocks: 1, cachedBytes: P, liveBytes: 0, unmapped: 4 });
      expect(f.os.stats().bytesInUse - before).toBe(P);
      f.pool.checkInvariants();
      const maps = f.os.stats().maps;
      expect(f.pool.alloc(0)).toBe(a);
      expect(f.os.stats().maps).toBe(maps);
      if (shared) expect(f.i32()[f.shard(0) + W_LOCK]).toBe(0);
    }
  });

  test('the limit follows the shard\'s own live bytes: a shard that frees what another allocated keeps only the floor', () => {
    const f = fixture({ budgetFloor: 3 * P, liveShare: 8 });
    const t2 = f.thread(2);
    const blocks = Array.from({ length: 4 }, () => f.pool.alloc(1)); // 2 pages each, shard 0
    for (const p of blocks) t2.free(p); // shard 1: live −2, −4, …: the floor, 3 pages: one block cached
    expect(t2.stats()).toMatchObject({ cachedBlocks: 1, cachedBytes: 2 * P, liveBytes: 0, unmapped: 3 });
    f.pool.checkInvariants();
  });

  test('a split tail is cached only within the limit', () => {
    const f = fixture({ budgetFloor: 0, liveShare: 1 });
    const keep = f.pool.alloc(7); // 8 pages live
    const big = f.pool.alloc(7);
    f.pool.free(big); // live 8, cached 8 ≤ 8
    expect(f.pool.alloc(1)).toBe(big); // split: live 10, cached 0; the 6-page tail fits (6 ≤ 10)
    expect(f.pool.stats()).toMatchObject({ splits: 1, cachedBytes: 6 * P, unmapped: 0 });
    const g = fixture({ budgetFloor: 0, liveShare: 0.25 });
    g.pool.alloc(7);
    const b2 = g.pool.alloc(7);
    g.pool.free(b2); // live 8: limit 2 pages, the block is unmapped
    expect(g.pool.stats()).toMatchObject({ cachedBytes: 0, unmapped: 1 });
    const h = fixture({ budgetFloor: 8 * P, liveShare: 0.25 });
    h.pool.alloc(7);
    const b3 = h.pool.alloc(7);
    h.pool.free(b3); // the floor holds it
    expect(h.pool.alloc(1)).toBe(b3); // live 10: limit max(8, 2) pages; the 6-page tail fits
    expect(h.pool.stats()).toMatchObject({ splits: 1, cachedBytes: 6 * P, unmapped: 0 });
    const k = fixture({ budgetFloor: 4 * P, liveShare: 0.25 });
    k.pool.alloc(7);
    const b4 = k.pool.alloc(3);
    const b5 = k.pool.alloc(7);
    k.pool.free(b4);
    k.pool.free(b5); // live 8: limit 4 pages; b4 (4) cached, b5 (8) unmapped
    expect(k.pool.stats()).toMatchObject({ cachedBytes: 4 * P, unmapped: 1 });
    expect(keep).not.toBe(0);
    for (const q of [f, g, h, k]) q.pool.checkInvariants();
  });

  test('a split tail whose class is at keepPerClass is unmapped', () => {
    const f = fixture({ keepPerClass: 1 });
    const big = f.pool.alloc(4); // 5 pages
    const one = f.pool.alloc(0); // 1 page
    f.pool.free(one); // class 0 now holds its one block
    f.pool.free(big);
    expect(f.pool.alloc(3)).toBe(big); // 4 pages; the 1-page tail's class is full
    expect(f.pool.stats()).toMatchObject({ splits: 1, unmapped: 1, cachedBlocks: 1, cachedBytes: P });
    expect(f.reg(big + 4 * P)).toBe(0);
    expect(f.os.stats().bytesInUse).toBe(4 * P + P);
    f.pool.checkInvariants();
    f.os.checkInvariants();
  });

  test('custom classes: a tail that is no class size is unmapped; one that is, is cached', () => {
    const f = fixture({ classSizes: [P, 2 * P, 4 * P, 8 * P] });
    const p = f.pool.alloc(3); // 8 pages
    f.pool.free(p);
    expect(f.pool.alloc(0)).toBe(p); // tail of 7 pages: no 7-page class
    expect(f.pool.stats()).toMatchObject({ splits: 1, unmapped: 1, cachedBlocks: 0 });
    expect(f.reg(p + P)).toBe(0);
    const q = f.pool.alloc(2); // 4 pages
    f.pool.free(q);
    expect(f.pool.alloc(1)).toBe(q); // tail of 2 pages: class 1
    expect(f.pool.stats()).toMatchObject({ splits: 2, unmapped: 1, cachedBlocks: 1, cachedBytes: 2 * P });
    expectStamped(f, q + 2 * P, 2, 1, 1);
    f.pool.checkInvariants();
    expect(f.os.stats().bytesInUse).toBe(P + 4 * P);
  });

  test('free beyond keepPerClass unmaps, clearing the registry and the descriptor; keepPerClass 0 caches nothing', () => {
    const f = fixture({ keepPerClass: 2 });
    const ptrs = [0, 1, 2].map(() => f.pool.alloc(3));
    for (const p of ptrs) f.pool.free(p);
    const last = ptrs[2]!;
    expect(f.pool.stats()).toMatchObject({ cachedBlocks: 2, unmapped: 1, liveBlocks: 0 });
    for (let i = 0; i < 4; i++) expect(f.reg(last + i * P)).toBe(0);
    expect([f.i32()[f.desc(last) + PD_REGION_STATE], f.i32()[f.desc(last) + PD_REGION_PAGES]]).toEqual([L25BlockState.NONE, 0]);
    expect(f.os.stats().bytesInUse).toBe(2 * 4 * P);
    f.pool.checkInvariants();
    // Another class has its own limit.
    f.pool.free(f.pool.alloc(5));
    expect(f.pool.stats()).toMatchObject({ cachedBlocks: 3, unmapped: 1 });

    const z = fixture({ keepPerClass: 0 });
    z.pool.free(z.pool.alloc(0));
    expect(z.pool.stats()).toMatchObject({ cachedBlocks: 0, unmapped: 1, liveBlocks: 0 });
    expect(z.os.stats().bytesInUse).toBe(0);
    z.pool.checkInvariants();
  });

  test('a block freed by thread 2 lands in shard 1 and is reused by thread 2, not thread 1', () => {
    const f = fixture();
    const t2 = f.thread(2);
    const p = f.pool.alloc(7);
    t2.free(p);
    expect(f.i32()[f.shard(1) + W_BITMAP]).toBe(1 << 7);
    expect(f.i32()[f.shard(0) + W_BITMAP]).toBe(0);
    // Live counts are per freeing / allocating shard; only their sum means something.
    expect(f.i32()[f.shard(0) + W_LIVE_BLOCKS]).toBe(1);
    expect(f.i32()[f.shard(1) + W_LIVE_BLOCKS]).toBe(-1);
    expect(f.pool.stats()).toMatchObject({ liveBlocks: 0, cachedBlocks: 1, cachedBytes: 8 * P });
    f.pool.checkInvariants();
    const q = f.pool.alloc(7);
    expect(q).not.toBe(p);
    expect(f.pool.stats()).toMatchObject({ misses: 2, hits: 0 });
    expect(t2.alloc(7)).toBe(p);
    expect(t2.stats()).toMatchObject({ hits: 1, misses: 0 });
    expectStamped(f, p, 8, 7, 2); // restamped with the allocating thread
    expect(t2.stats()).toMatchObject({ liveBlocks: 2, cachedBlocks: 0 });
    t2.checkInvariants();
    // Thread 9 uses shard (9 - 1) % 8 = 0: thread 1's.
    f.pool.free(q);
    expect(f.thread(9).alloc(7)).toBe(q);
  });

  test('one shard: every thread shares it', () => {
    const f = fixture({ shards: 1 });
    const p = f.pool.alloc(0);
    f.pool.free(p);
    expect(f.thread(2).alloc(0)).toBe(p);
    expectStamped(f, p, 1, 0, 2);
    f.pool.checkInvariants();
  });

  test('trim unmaps every cached block of every shard and returns the bytes', () => {
    const f = fixture();
    const t2 = f.thread(2);
    const keep = f.pool.alloc(9);
    const mine = [0, 3, 3, 15].map((c) => f.pool.alloc(c));
    const theirs = [1, 7].map((c) => t2.alloc(c));
    for (const p of mine) f.pool.free(p);
    for (const p of theirs) t2.free(p);
    f.pool.checkInvariants();
    const cached = f.pool.stats().cachedBytes;
    expect(cached).toBe((1 + 4 + 4 + 16 + 2 + 8) * P);
    const inUse = f.os.stats().bytesInUse;
    expect(f.pool.trim()).toBe(cached);
    expect(f.os.stats().bytesInUse).toBe(inUse - cached);
    expect(f.os.stats().bytesInUse).toBe(10 * P);
    expect(f.pool.stats()).toMatchObject({ cachedBlocks: 0, cachedBytes: 0, liveBlocks: 1, unmapped: 6 });
    for (const p of [...mine, ...theirs]) expect(f.reg(p)).toBe(0);
    expect(f.i32()[f.shard(0) + W_BITMAP]).toBe(0);
    expect(f.i32()[f.shard(1) + W_BITMAP]).toBe(0);
    f.pool.checkInvariants();
    f.os.checkInvariants();
    expect(f.pool.trim()).toBe(0);
    expect(f.pool.usableSize(keep)).toBe(10 * P);
  });

  test('exhaustion returns 0 with live blocks intact; after a free, alloc works again', () => {
    const f = fixture({}, { maxBytes: 8 * MiB });
    const got: number[] = [];
    let p: number;
    for (const cls of [15, 0]) {
      while ((p = f.pool.alloc(cls)) !== 0) {
        f.i32().fill(got.length + 1, p >>> 2, (p + f.pool.usableSize(p)) >>> 2);
        got.push(p);
      }
    }
    expect(got.length).toBeGreaterThan(2);
    const before = f.pool.stats();
    expect(f.pool.alloc(15)).toBe(0);
    expect(f.pool.alloc(0)).toBe(0);
    expect(f.pool.stats()).toEqual({ ...before, misses: before.misses + 2 });
    got.forEach((q, i) => {
      const v = f.i32().subarray(q >>> 2, (q + f.pool.usableSize(q)) >>> 2);
      expect(v.every((x) => x === i + 1)).toBe(true);
    });
    f.pool.checkInvariants();
    f.os.checkInvariants();
    const last = got[0]!; // a 1 MiB block
    f.pool.free(last);
    expect(f.pool.alloc(15)).toBe(last);
    f.pool.free(last);
    expect(f.pool.alloc(3)).toBe(last); // split of the cached block
    f.pool.checkInvariants();
  });

  test('exhaustion with cached blocks too small to serve: they are unmapped (coalesced) and the map retried', () => {
    const f = fixture({}, { maxBytes: 4 * MiB });
    const got: number[] = [];
    let p: number;
    while ((p = f.pool.alloc(0)) !== 0) got.push(p);
    got.sort((a, b) => a - b);
    const i = got.findIndex((a, k) => got[k + 1] === a + P);
    expect(i).toBeGreaterThanOrEqual(0);
    const [a, b] = [got[i]!, got[i + 1]!];
    f.pool.free(a);
    f.pool.free(b);
    expect(f.pool.stats().cachedBlocks).toBe(2);
    const before = f.pool.stats();
    const q = f.pool.alloc(1); // 2 pages: no cached block serves it, map fails, the cache goes back
    expect(q).toBe(a);
    expect(f.pool.stats()).toMatchObject({ misses: before.misses + 1, mapped: before.mapped + 1, unmapped: 2, cachedBlocks: 0, liveBytes: before.liveBytes + 2 * P });
    f.pool.checkInvariants();
    f.os.checkInvariants();
    // A shard with nothing cached fails at once.
    expect(f.pool.alloc(1)).toBe(0);
  });

  test('lastAllocZeroed: a fresh block is zero, a cached one is not; a wasm heap re-reads its views after growth', () => {
    const f = fixture({}, { backend: 'wasm', maxBytes: 32 * MiB });
    const blocks: number[] = [];
    for (let k = 0; k < 12; k++) {
      const p = f.pool.alloc(15);
      expect(p).not.toBe(0);
      expect(f.pool.lastAllocZeroed()).toBe(true);
      const v = f.i32();
      expect(v[(p + MiB - 4) >>> 2]).toBe(0);
      v[p >>> 2] = k + 1;
      v[(p + MiB - 4) >>> 2] = k + 1;
      blocks.push(p);
    }
    blocks.forEach((p, k) => {
      expect(f.i32()[p >>> 2]).toBe(k + 1);
      expect(f.i32()[(p + MiB - 4) >>> 2]).toBe(k + 1);
    });
    f.pool.checkInvariants();
    f.pool.free(blocks[0]!);
    expect(f.pool.alloc(15)).toBe(blocks[0]);
    expect(f.pool.lastAllocZeroed()).toBe(false);
  });

  test('a shared heap takes the shard lock (and leaves it free)', () => {
    const f = fixture({}, { shared: true });
    expect(f.ctx.shared).toBe(true);
    const t2 = f.thread(2);
    const p = f.pool.alloc(3);
    t2.free(p);
    expect(t2.alloc(3)).toBe(p);
    f.pool.free(f.pool.alloc(0));
    expect(f.pool.trim()).toBe(P);
    for (let s = 0; s < DEFAULT_SHARDS; s++) expect(f.i32()[f.shard(s) + W_LOCK]).toBe(0);
    expect(f.pool.stats().lockContended).toBe(0);
    f.pool.checkInvariants();
  });

  test('a shared heap: a shard lock held by another thread is waited for and counted as contention', async () => {
    const f = fixture({}, { shared: true });
    const i32 = f.i32();
    const lockIdx = f.shard(0) + W_LOCK;
    // A worker takes shard 0's lock (the primitives' futex protocol), holds it for 50 ms, releases it.
    const worker = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads');
      const i32 = new Int32Array(workerData.buffer);
      const idx = workerData.idx;
      while (Atomics.compareExchange(i32, idx, 0, 1) !== 0);
      parentPort.postMessage('locked');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      if (Atomics.exchange(i32, idx, 0) === 2) Atomics.notify(i32, idx, 1);
    `, { eval: true, workerData: { buffer: i32.buffer, idx: lockIdx } });
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
      const p = f.pool.alloc(2); // blocks until the worker releases the lock
      expect(p).not.toBe(0);
      expect(f.pool.stats().lockContended).toBe(1);
      expect(f.i32()[f.shard(0) + W_LOCK_CONTENDED]).toBe(1);
      expect(f.i32()[lockIdx]).toBe(0);
      f.pool.checkInvariants();
    } finally {
      await worker.terminate();
    }
  });

  test('options are validated', () => {
    const f = fixture();
    const make = (options: PoolOptions, ctx: Partial<BoxContext> = {}) => () => createL25Pool({ ...f.ctx, ...ctx }, { regions: f.os, ...UNLIMITED, ...options });
    const bad: [PoolOptions, Partial<BoxContext>?][] = [
      [{ classSizes: [] }],
      [{ classSizes: [P + 1] }],
      [{ classSizes: [0, P] }],
      [{ classSizes: [-P] }],
      [{ classSizes: [2 * P, P] }],
      [{ classSizes: [P, P] }],
      [{ classSizes: [1.5 * P] }],
      [{ classSizes: Array.from({ length: 33 }, (_, i) => (i + 1) * P) }],
      [{ shards: 0 }], [{ shards: 65 }], [{ shards: 1.5 }], [{ shards: Number.NaN }],
      [{ keepPerClass: -1 }], [{ keepPerClass: 0.5 }], [{ keepPerClass: Number.NaN }],
      [{ budget: -1 }], [{ budget: 1.5 }], [{ budgetFloor: -1 }], [{ budgetFloor: 0.5 }], [{ budgetFloor: Number.POSITIVE_INFINITY }],
      [{ liveShare: -0.5 }], [{ liveShare: 65 }], [{ liveShare: Number.NaN }], [{ liveShare: '1' as unknown as number }],
      [{}, { slotOffset: -1 }],
      [{}, { slotOffset: 0 }],
      [{}, { slotOffset: SLOT + 4 }],
      [{}, { slotOffset: GH_BOX_SLOTS_END - 64 }],
      [{ shards: 64, classSizes: Array.from({ length: 32 }, (_, i) => (i + 1) * P) }, { slotOffset: GH_BOX_SLOTS_END - 64 * 5 * 64 + 64 }],
    ];
    for (const [options, ctx] of bad) expect(errorCodeOf(make(options, ctx)), JSON.stringify([options, ctx])).toBe(ErrorCode.INVALID_OPTION);
    const good: [PoolOptions, Partial<BoxContext>?][] = [
      [{ classSizes: [P] }],
      [{ classSizes: Array.from({ length: 32 }, (_, i) => (i + 1) * P), shards: 64, keepPerClass: 0 }, { slotOffset: GH_BOX_SLOTS_END - 64 * 5 * 64 }],
      [{}, { slotOffset: GH_BOX_SLOTS_END - 8 * 3 * 64 }],
      [{ budgetFloor: 0, liveShare: 0 }], [{ liveShare: 64 }], [{ liveShare: 0.3 }],
    ];
    for (const [options, ctx] of good) expect(errorCodeOf(make(options, ctx))).toBeUndefined();
    try {
      make({ shards: 0 })();
      expect.unreachable();
    } catch (e) {
      expect(isHakmemError(e, ErrorCode.INVALID_OPTION) && e.box).toBe('l25-pool');
    }
    // stats() is a snapshot.
    const s = f.pool.stats();
    s.hits = 9;
    expect(f.pool.stats().hits).toBe(0);
  });

  test('the 32nd class uses the bitmap\'s sign bit', () => {
    const f = fixture({ classSizes: Array.from({ length: 32 }, (_, i) => (i + 1) * P), shards: 1 });
    const p = f.pool.alloc(31);
    f.pool.free(p);
    expect(f.i32()[f.shard(0) + W_BITMAP]).toBe(1 << 31);
    f.pool.checkInvariants();
    expect(f.pool.alloc(0)).toBe(p); // split 32 → 1 + 31 (cached in class 30)
    expect(f.pool.alloc(31)).not.toBe(p + P);
    expect(f.pool.alloc(30)).toBe(p + P);
    f.pool.checkInvariants();
  });

  test('checkInvariants names the first problem in corrupted lists, states, counters and registry entries', () => {
    const corrupted = (mutate: (f: Fixture, live: number, cached: number) => void): string => {
      const f = fixture();
      const live = f.pool.alloc(3); // 4 pages
      const cached = f.pool.alloc(2); // 3 pages
      f.pool.free(cached);
      f.pool.checkInvariants();
      mutate(f, live, cached);
      try {
        f.pool.checkInvariants();
      } catch (e) {
        expect(isHakmemError(e, ErrorCode.CORRUPTION)).toBe(true);
        return (e as Error).message;
      }
      return 'no error';
    };
    const heads = (f: Fixture, c: number): number => f.shard(0) + W_HEADS + c;
    const counts = (f: Fixture, c: number): number => f.shard(0) + W_HEADS + 16 + c;
    expect(corrupted((f, _l, cached) => { f.i32()[f.desc(cached) + PD_REGION_NEXT] = cached; })).toMatch(/cached twice .*cycle/);
    expect(corrupted((f, live, cached) => { f.i32()[f.desc(cached) + PD_REGION_NEXT] = live; })).toMatch(/0x[0-9a-f]+ has state 1, not CACHED/);
    expect(corrupted((f, _l, cached) => { f.i32()[f.desc(cached) + PD_REGION_STATE] = L25BlockState.LIVE; })).toMatch(/not CACHED/);
    expect(corrupted((f, _l, cached) => { f.i32()[f.desc(cached) + PD_REGION_PAGES] = 4; })).toMatch(/has 4 pages, class 2 has 3/);
    expect(corrupted((f, _l, cached) => { f.i32()[heads(f, 2)] = cached + 4; })).toMatch(/not a page of the heap/);
    expect(corrupted((f) => { f.i32()[counts(f, 2)] = 2; })).toMatch(/holds 1 blocks, the count says 2/);
    expect(corrupted((f) => { f.i32()[f.shard(0) + W_BITMAP] = 0; })).toMatch(/class 2: bitmap bit is 0/);
    expect(corrupted((f) => { f.i32()[f.shard(0) + W_BITMAP] = (1 << 2) | (1 << 20); })).toMatch(/bits beyond class 15/);
    expect(corrupted((f) => { f.i32()[f.shard(0) + 4] = 5; })).toMatch(/the counter says 5 pages/); // word 3 (cached blocks) is gone: they are Σ counts
    expect(corrupted((f, _l, cached) => { f.i32()[f.regIdx(cached + P)] = PageKind.L25 | (2 << REG_CLASS_SHIFT) | (1 << REG_THREAD_SHIFT) | (7 << REG_AUX_SHIFT); })).toMatch(/registry entry of page 1/);
    expect(corrupted((f, live) => { f.i32()[f.regIdx(live + 2 * P)] = PageKind.L25 | (4 << REG_CLASS_SHIFT) | (1 << REG_THREAD_SHIFT) | (2 << REG_AUX_SHIFT); })).toMatch(/registry entry of page 2/);
    expect(corrupted((f, live) => { f.i32()[f.regIdx(live)] = PageKind.MAPPED; })).toMatch(/continuation page with no block head/);
    expect(corrupted((f, live) => { f.i32()[f.desc(live) + PD_REGION_STATE] = L25BlockState.CACHED; })).toMatch(/CACHED but in no shard's list/);
    expect(corrupted((f, live) => { f.i32()[f.desc(live) + PD_REGION_STATE] = L25BlockState.NONE; })).toMatch(/state 0, neither LIVE nor CACHED/);
    expect(corrupted((f, live) => { f.i32()[f.desc(live) + PD_REGION_PAGES] = 5; })).toMatch(/not the size of its registry class 3/);
    expect(corrupted((f, live) => { f.i32()[f.desc(live) + PD_REGION_NEXT] = live; })).toMatch(/LIVE with a list link/);
    expect(corrupted((f) => { f.i32()[f.shard(3) + W_LIVE_BLOCKS] = 1; })).toMatch(/1 live blocks .* counters say 2/);
  });
});

describe('model', () => {
  type Op =
    | { kind: 'alloc'; thread: number; cls: number }
    | { kind: 'free'; thread: number; pick: number }
    | { kind: 'trim'; thread: number };

  const configs = [
    { classSizes: undefined, shards: 8 },
    { classSizes: [P, 2 * P, 4 * P, 8 * P], shards: 2 },
    { classSizes: [2 * P, 3 * P, 5 * P], shards: 1 },
  ] as const;

  const opArb = (numClasses: number): fc.Arbitrary<Op> => fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('alloc' as const), thread: fc.integer({ min: 1, max: 3 }), cls: fc.integer({ min: 0, max: numClasses - 1 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('free' as const), thread: fc.integer({ min: 1, max: 3 }), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('trim' as const), thread: fc.integer({ min: 1, max: 3 }) }) },
  );

  const scenario = fc.integer({ min: 0, max: configs.length - 1 }).chain((ci) => {
    const n = configs[ci]!.classSizes?.length ?? 16;
    return fc.record({
      ci: fc.constant(ci), keep: fc.integer({ min: 0, max: 3 }),
      // The live-proportional limit: a floor in pages (16384: none) and a share.
      floor: fc.constantFrom(0, 2, 5, 16384), share: fc.constantFrom(0, 0.25, 1, 2.5, 64),
      ops: fc.array(opArb(n), { minLength: 10, maxLength: 50 }),
    });
  });

  interface Live { readonly ptr: number; readonly pages: number; readonly cls: number; readonly tag: number; readonly thread: number }

  test('random alloc / free / trim sequences match a model of the shards', () => {
    // What the runs exercised, summed: the test fails if a path was never taken.
    const taken = { hits: 0, splits: 0, unmapped: 0, cachedTails: 0, crossThreadFrees: 0, shed: 0 };
    fc.assert(fc.property(scenario, ({ ci, keep, floor, share, ops }) => {
      const cfg = configs[ci]!;
      const limits = { keepPerClass: keep, budgetFloor: floor * P, liveShare: share };
      const options: PoolOptions = cfg.classSizes === undefined ? { shards: cfg.shards, ...limits } : { classSizes: cfg.classSizes, shards: cfg.shards, ...limits };
      const f = fixture(options, { maxBytes: 64 * MiB });
      const pools = [f.pool, f.thread(2), f.thread(3)];
      const pagesOf = Array.from(f.pool.classSizes, (s) => s / P);
      const n = pagesOf.length;
      const shardOf = (thread: number): number => (thread - 1) % cfg.shards;
      // Model: per shard and class a LIFO of cached addresses; per thread its counters.
      const lists = Array.from({ length: cfg.shards }, () => Array.from({ length: n }, () => [] as number[]));
      // Per shard its live pages (+ alloc there, − free there) and the limit on its cached pages.
      const shardLive = new Array<number>(cfg.shards).fill(0);
      const budgetPages = (1 << 30) / P;
      const limit = (sh: number): number => Math.min(budgetPages, Math.max(Math.min(floor, budgetPages), Math.floor(shardLive[sh]! * share)));
      const cachedPages = (sh: number): number => lists[sh]!.reduce((sum, l, j) => sum + l.length * pagesOf[j]!, 0);
      const counters = pools.map(() => ({ hits: 0, misses: 0, splits: 0, mapped: 0, unmapped: 0 }));
      const live: Live[] = [];
      let tags = 0;
      const write = (b: Live): void => {
        const v = f.i32();
        for (let i = 0; i < b.pages; i++) v[(b.ptr + i * P) >>> 2] = b.tag * 64 + i;
        v[(b.ptr + b.pages * P - 4) >>> 2] = ~b.tag;
      };
      const intact = (b: Live): boolean => {
        const v = f.i32();
        for (let i = 0; i < b.pages; i++) if (v[(b.ptr + i * P) >>> 2] !== b.tag * 64 + i) return false;
        return v[(b.ptr + b.pages * P - 4) >>> 2] === ~b.tag;
      };
      for (const op of ops) {
        const t = op.thread - 1;
        const pool = pools[t]!;
        const c = counters[t]!;
        const sh = shardOf(op.thread);
        const sl = lists[sh]!;
        if (op.kind === 'alloc') {
          const want = pagesOf[op.cls]!;
          let k = op.cls;
          while (k < n && sl[k]!.length === 0) k++;
          const p = pool.alloc(op.cls);
          expect(p).not.toBe(0);
          shardLive[sh]! += want;
          if (k < n) {
            expect(p).toBe(sl[k]!.pop());
            c.hits++;
            if (k !== op.cls) {
              c.splits++;
              const tail = pagesOf[k]! - want;
              let tc = -1;
              for (let j = 0; j < n; j++) if (pagesOf[j]! <= tail) tc = j;
              if (tc >= 0 && pagesOf[tc] === tail && sl[tc]!.length < keep && cachedPages(sh) + tail <= limit(sh)) {
                sl[tc]!.push(p + want * P);
                taken.cachedTails++;
              } else {
                c.unmapped++;
              }
            }
            expect(pool.lastAllocZeroed()).toBe(false);
          } else {
            c.misses++;
            c.mapped++;
          }
          expect(pool.usableSize(p)).toBe(want * P);
          const b = { ptr: p, pages: want, cls: op.cls, tag: ++tags, thread: op.thread };
          write(b);
          live.push(b);
        } else if (op.kind === 'free') {
          if (live.length === 0) continue;
          const [b] = live.splice(op.pick % live.length, 1);
          pool.free(b!.ptr);
          if (shardOf(b!.thread) !== shardOf(op.thread)) taken.crossThreadFrees++;
          shardLive[sh]! -= b!.pages;
          const before = cachedPages(sh);
          if (sl[b!.cls]!.length < keep && before + b!.pages <= limit(sh)) sl[b!.cls]!.push(b!.ptr);
          else {
            c.unmapped++;
            // Still over the limit (the live pages fell): one more block goes, the most recently cached of the largest class.
            if (before > limit(sh)) {
              let j = n - 1;
              while (sl[j]!.length === 0) j--;
              sl[j]!.pop();
              c.unmapped++;
              taken.shed++;
            }
          }
          // The rule, after every free: never above the limit by this free; over it, fewer cached pages than before.
          const after = cachedPages(sh);
          expect(after <= limit(sh) || after < before).toBe(true);
        } else {
          let bytes = 0;
          for (const s of lists) {
            for (let j = 0; j < n; j++) {
              bytes += s[j]!.length * pagesOf[j]! * P;
              c.unmapped += s[j]!.length;
              s[j] = [];
            }
          }
          expect(pool.trim()).toBe(bytes);
        }
        // After every step: counters, bytes, no overlap, patterns, invariants.
        let cachedBlocks = 0;
        let cachedBytes = 0;
        const ranges: [number, number][] = live.map((b) => [b.ptr, b.ptr + b.pages * P]);
        for (const s of lists) {
          for (let j = 0; j < n; j++) {
            cachedBlocks += s[j]!.length;
            cachedBytes += s[j]!.length * pagesOf[j]! * P;
            for (const a of s[j]!) ranges.push([a, a + pagesOf[j]! * P]);
          }
        }
        const liveBytes = live.reduce((sum, b) => sum + b.pages * P, 0);
        pools.forEach((q, i) => {
          expect(q.stats()).toEqual({ ...counters[i], cachedBlocks, cachedBytes, liveBlocks: live.length, liveBytes, lockContended: 0 });
        });
        expect(f.os.stats().bytesInUse).toBe(liveBytes + cachedBytes);
        ranges.sort((x, y) => x[0] - y[0]);
        for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThanOrEqual(ranges[i - 1]![1]);
        for (const b of live) expect(intact(b)).toBe(true);
        f.pool.checkInvariants();
      }
      f.os.checkInvariants();
      for (const k of counters) {
        taken.hits += k.hits;
        taken.splits += k.splits;
        taken.unmapped += k.unmapped;
      }
    }), { numRuns: 150 });
    for (const [path, times] of Object.entries(taken)) expect(times, path).toBeGreaterThan(0);
  });
});
