import { describe, expect, test } from 'vitest';
import { defaultBoxes } from '@hakmem/allocator';
import { ErrorCode, isHakmemError } from '@hakmem/contracts';
import { boxes, composeByHand, tour } from '../src/index.js';

/** A byte pattern that differs between blocks and offsets, so overlapping blocks disagree. */
const pattern = (ptr: number, i: number): number => (ptr * 31 + i * 7 + 1) & 0xff;

describe('compose-by-hand', () => {
  test('names every box: exactly the default factories, each building the box of its contract', () => {
    expect(Object.keys(boxes).sort()).toEqual(Object.keys(defaultBoxes).sort());
    for (const [key, factory] of Object.entries(boxes)) expect(factory, key).toBe(defaultBoxes[key as keyof typeof defaultBoxes]);
    const heap = composeByHand({ maxBytes: 32 << 20 });
    expect(Object.values(heap.boxes).map((b: { name: string }) => b.name).sort()).toEqual([
      'bigcache', 'gatekeeper', 'l25-pool', 'os-boundary', 'page-box', 'pool-refill', 'pool-tls', 'shared-pool', 'superslab-tier',
      'tiny-route', 'unified-cache', 'warm-pool',
    ]);
    expect(heap.backend.kind).toBe('native');
    expect(heap.backend.maxBytes).toBe(32 << 20);
  });

  test('the tour: contents, alignment, per-tier stats, live bytes = usable sizes, empty after free', () => {
    const heap = composeByHand();
    const r = tour(heap);
    expect(r.usable80).toBeGreaterThanOrEqual(80);
    expect(r.usable80 % 16).toBe(0);
    expect(r.f64Sum).toBe(67.5);
    expect(r.reallocKept).toBe(true);
    expect(r.callocZeroed).toBe(true);
    expect(r.alignRemainders).toEqual([0, 0, 0]);
    // malloc(80), calloc(250, 4), memalign(64, 100) are tiny; memalign(4096, 100) a mid
    // block; the 100 000-byte realloc, memalign(65536, 100) and malloc(200 000) are L2.5;
    // malloc(3 MiB) is big.
    expect(r.live).toMatchObject({ tiny: 3, pool: 1, l25: 3, big: 1 });
    expect(r.live.bytes).toBe(r.usableSum);
    expect(r.usableSum).toBeGreaterThan(3 << 20);
    expect(r.liveAfterFree).toBe(0);
    expect(r.trimmed).toBeGreaterThan(0);
    expect(heap.liveBytes()).toBe(0);
  });

  test('many blocks of every tier keep their contents; stats and validate agree; free gives everything back', () => {
    const heap = composeByHand({ maxBytes: 128 << 20 });
    const sizes = [1, 8, 16, 24, 100, 512, 2048, 2049, 5000, 40_000, 65_535, 70_000, 300_000, 1_000_000, 1_500_000];
    const blocks: Array<{ p: number; n: number }> = [];
    for (let round = 0; round < 20; round++) {
      for (const n of sizes) {
        const p = heap.malloc(n + round);
        expect(p).not.toBe(0);
        expect(p % (n + round >= 16 ? 16 : 8)).toBe(0); // 16-byte aligned from 16 bytes up
        expect(heap.usableSize(p)).toBeGreaterThanOrEqual(n + round);
        const u8 = heap.u8(p, n + round);
        for (let i = 0; i < u8.length; i += 61) u8[i] = pattern(p, i);
        u8[u8.length - 1] = pattern(p, u8.length - 1);
        blocks.push({ p, n: n + round });
      }
    }
    heap.validate();
    const usable = blocks.reduce((s, b) => s + heap.usableSize(b.p), 0);
    expect(heap.liveBytes()).toBe(usable);
    const s = heap.stats();
    expect(s.tiny.blocksInUse + s.pool.blocksInUse + s.l25.blocksInUse + s.big.blocksInUse).toBe(blocks.length);
    expect(s.big.blocksInUse).toBe(20); // 1.5 MB + round, the only size above 1 MiB
    expect(s.footprint).toBeGreaterThanOrEqual(usable);
    // Every block still holds its own pattern: no two blocks overlap.
    let mismatches = 0;
    for (const { p, n } of blocks) {
      const u8 = heap.u8(p, n);
      for (let i = 0; i < n; i += 61) if (u8[i] !== pattern(p, i)) mismatches++;
      if (u8[n - 1] !== pattern(p, n - 1)) mismatches++;
    }
    expect(mismatches).toBe(0);
    for (const { p } of blocks) heap.free(p);
    expect(heap.liveBytes()).toBe(0);
    expect(heap.trim()).toBeGreaterThan(0);
    heap.validate();
    const after = heap.stats();
    expect([after.tiny.blocksInUse, after.pool.blocksInUse, after.l25.blocksInUse, after.big.blocksInUse]).toEqual([0, 0, 0, 0]);
    expect(after.boxes.superslabTier.hot + after.boxes.superslabTier.draining).toBe(0);
  });

  test('realloc keeps min(old, new) bytes when it grows and when it shrinks, across tiers', () => {
    const heap = composeByHand();
    let p = heap.malloc(40);
    heap.u8(p, 40).forEach((_, i, a) => { a[i] = i + 1; });
    for (const n of [1000, 10_000, 500_000, 2_000_000, 3000, 20]) {
      const keep = Math.min(20, n);
      p = heap.realloc(p, n);
      expect(p).not.toBe(0);
      expect(heap.usableSize(p)).toBeGreaterThanOrEqual(n);
      expect([...heap.u8(p, keep)]).toEqual(Array.from({ length: keep }, (_, i) => i + 1));
    }
    expect(heap.realloc(0, 64)).not.toBe(0); // realloc(0, n) is malloc(n)
    heap.validate();
  });

  test('calloc zeroes, memalign aligns every power of two up to 1 MiB, bad sizes throw typed errors', () => {
    const heap = composeByHand();
    const dirty = Array.from({ length: 64 }, () => heap.malloc(256));
    for (const d of dirty) heap.u8(d, 256).fill(0xab);
    for (const d of dirty) heap.free(d);
    const z = Array.from({ length: 64 }, () => heap.calloc(32, 8));
    for (const c of z) expect(heap.u8(c, 256).every((b) => b === 0)).toBe(true);
    for (let align = 1; align <= 1 << 20; align *= 2) {
      const p = heap.memalign(align, 48);
      expect(p % align, `memalign(${align})`).toBe(0);
      expect(heap.usableSize(p)).toBeGreaterThanOrEqual(48);
      heap.free(p);
    }
    const codeOf = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (e) {
        return isHakmemError(e) ? e.code : String(e);
      }
      return undefined;
    };
    expect(heap.calloc(1 << 20, 1 << 20)).toBe(0); // n × size above maxBytes: out of memory, as C's calloc
    expect(codeOf(() => heap.calloc(-1, 8))).toBe(ErrorCode.INVALID_SIZE);
    expect(codeOf(() => heap.malloc(-1))).toBe(ErrorCode.INVALID_SIZE);
    expect(codeOf(() => heap.free(12345))).toBe(ErrorCode.INVALID_POINTER);
    heap.validate();
  });

  test('typed-array views of a block share the heap\'s memory', () => {
    const heap = composeByHand();
    const p = heap.malloc(64);
    heap.f64(p, 8).set([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(heap.views.f64[p / 8 + 2]).toBe(3);
    heap.i32(p, 16)[0] = -7;
    expect(heap.u32(p, 1)[0]).toBe(2 ** 32 - 7);
    heap.f32(p, 16)[15] = 0.5;
    expect(heap.views.f32[p / 4 + 15]).toBe(0.5);
    expect(heap.u8(p, 64).buffer).toBe(heap.backend.buffer());
    heap.free(p);
  });

  test('debug level 3 validates after every call: the tour runs the same', () => {
    const heap = composeByHand({ debug: 3 });
    expect(heap.debug).toBe(3);
    const r = tour(heap);
    expect(r).toMatchObject({ f64Sum: 67.5, reallocKept: true, callocZeroed: true, alignRemainders: [0, 0, 0], liveAfterFree: 0 });
  });
});
