import { describe, expect, test } from 'vitest';
import { errorCodeOf } from '@hakmem/testkit';
import { ErrorCode, PAGE_SIZE } from '@hakmem/contracts';
import { createHeap, type Heap } from '@hakmem/allocator';

const MiB = 1 << 20;


function fill(heap: Heap, p: number, n: number, seed: number): void {
  const u8 = heap.views.u8;
  for (let i = 0; i < n; i += 509) u8[p + i] = (seed + i) & 0xff;
  u8[p + n - 1] = seed & 0xff;
}

/** The bytes `fill(heap, p, n, seed)` wrote, below `limit` (default all of them), are still there. */
function same(heap: Heap, p: number, n: number, seed: number, limit = n): boolean {
  const u8 = heap.views.u8;
  for (let i = 0; i < n - 1 && i < limit; i += 509) if (u8[p + i] !== ((seed + i) & 0xff)) return false;
  return limit < n || u8[p + n - 1] === (seed & 0xff);
}

describe('memalign across tiers', () => {
  test('every power-of-two alignment up to 4 MiB, for sizes in every tier: aligned, usable ≥ size, freed by free', () => {
    for (const debug of [0, 1]) {
      const heap = createHeap({ maxBytes: 128 << 20, debug });
      const got: number[] = [];
      for (let align = 1; align <= 4 * MiB; align *= 2) {
        for (const size of [0, 1, 100, 2048, 3000, 40000, 65535, 65536, 300_000, MiB, MiB + 1, 3 * MiB]) {
          const p = heap.memalign(align, size);
          expect(p, `memalign(${align}, ${size})`).toBeGreaterThan(0);
          expect(p % Math.max(align, size >= 16 ? 16 : 8), `memalign(${align}, ${size}) = 0x${p.toString(16)}`).toBe(0);
          expect(heap.usableSize(p)).toBeGreaterThanOrEqual(size);
          fill(heap, p, Math.max(size, 1), got.length);
          got.push(p);
        }
        heap.validate();
        for (const p of got.splice(0)) heap.free(p);
      }
      expect(heap.liveBytes()).toBe(0);
      heap.validate();
      expect(errorCodeOf(() => heap.memalign(3 * 4096, 10))).toBe(ErrorCode.INVALID_ALIGNMENT);
      expect(errorCodeOf(() => heap.memalign(2 ** 31, 10))).toBe(ErrorCode.INVALID_ALIGNMENT);
    }
  });
});

describe('createHeap: the big tier (bigcache above l25Max)', () => {
  test('sizes above 1 MiB are served 64 KiB aligned by bigcache; sizes between tinyMax and l25Max by the mid and L2.5 tiers', () => {
    const heap = createHeap({ maxBytes: 64 << 20 });
    const p = heap.malloc(MiB + 1);
    expect(p).toBeGreaterThan(0);
    expect(p % PAGE_SIZE).toBe(0);
    expect(heap.usableSize(p)).toBeGreaterThanOrEqual(MiB + 1);
    expect(heap.liveBytes()).toBe(heap.usableSize(p));
    expect(heap.stats().big).toMatchObject({ blocksInUse: 1, bytesInUse: heap.usableSize(p) });
    const mid = [2049, 60000, 65536, MiB].map((s) => heap.malloc(s));
    expect(heap.stats().big.blocksInUse).toBe(1);
    expect(heap.stats().pool.blocksInUse).toBe(2);
    expect(heap.stats().l25.blocksInUse).toBe(2);
    for (const q of mid) heap.free(q);
    heap.free(p);
    expect(heap.liveBytes()).toBe(0);
    heap.validate();
  });

  test('tuning reaches the limits: bigCache and l25Pool with floor 0 and share 0 cache nothing once nothing is live', () => {
    const heap = createHeap({ maxBytes: 64 << 20, tuning: { bigCache: { budgetFloor: 0, liveShare: 0 }, l25Pool: { budgetFloor: 0, liveShare: 0 } } });
    const ps = [2 * MiB, 3 * MiB, 200_000, 500_000].map((n) => heap.malloc(n));
    for (const p of ps) heap.free(p);
    expect(heap.stats().big.bytesCached).toBe(0);
    expect(heap.stats().l25.bytesCached).toBe(0);
    const d = createHeap({ maxBytes: 64 << 20 });
    for (const p of [2 * MiB, 200_000].map((n) => d.malloc(n))) d.free(p);
    expect(d.stats().big.bytesCached).toBeGreaterThan(0); // the default floors keep them
    expect(d.stats().l25.bytesCached).toBeGreaterThan(0);
  });

  test('phase test: the second round of big blocks reuses the first round\'s memory; the cache keeps at most its floor; trim gives it back', () => {
    const heap = createHeap({ maxBytes: 128 << 20 });
    const sizes = [MiB + 1, 2 * MiB, 3 * MiB + 12345, 5 * MiB, 1.5 * MiB, 8 * MiB];
    const round = (): void => {
      const ptrs = sizes.map((s, i) => {
        const p = heap.malloc(s);
        fill(heap, p, s, i);
        return p;
      });
      heap.validate();
      ptrs.forEach((p, i) => expect(same(heap, p, sizes[i]!, i)).toBe(true));
      for (const p of ptrs) heap.free(p);
    };
    round();
    const footprint = heap.stats().footprint;
    round();
    round();
    expect(heap.stats().footprint).toBe(footprint);
    expect(heap.stats().boxes.bigCache.hits).toBeGreaterThan(0);
    expect(heap.liveBytes()).toBe(0);
    // Nothing live: bigcache keeps its floor (8 MiB by default) and no more.
    const cached = heap.stats().big.bytesCached;
    expect(cached).toBeGreaterThan(0);
    expect(cached).toBeLessThanOrEqual(8 * MiB);
    const inUse = heap.stats().boxes.osBoundary.bytesInUse;
    expect(heap.trim()).toBeGreaterThanOrEqual(cached);
    expect(heap.stats().big).toEqual({ blocksInUse: 0, bytesInUse: 0, blocksCached: 0, bytesCached: 0 });
    expect(heap.stats().boxes.osBoundary.bytesInUse).toBeLessThanOrEqual(inUse - cached);
    heap.validate();
  });

  test('bad pointers into a big block get typed errors and leave it intact', () => {
    for (const debug of [0, 1]) {
      const heap = createHeap({ maxBytes: 64 << 20, debug });
      const p = heap.malloc(2 * MiB);
      fill(heap, p, 2 * MiB, 7);
      for (const q of [p + 8, p + 16, p + 4096, p + PAGE_SIZE, p + 3 * PAGE_SIZE + 16, p + 2 * MiB - 8]) {
        expect(errorCodeOf(() => heap.free(q)), `free(p + ${q - p}) at debug ${debug}`).toBe(ErrorCode.INTERIOR_POINTER);
        expect(errorCodeOf(() => heap.usableSize(q))).toBe(ErrorCode.INTERIOR_POINTER);
        expect(errorCodeOf(() => heap.realloc(q, 100))).toBe(ErrorCode.INTERIOR_POINTER);
      }
      expect(same(heap, p, 2 * MiB, 7)).toBe(true);
      heap.validate();
      // Shrunk in place: the tail is no longer the heap's.
      expect(heap.realloc(p, MiB + 1)).toBe(p);
      expect(errorCodeOf(() => heap.free(p + 30 * PAGE_SIZE))).toBe(ErrorCode.INVALID_POINTER);
      heap.free(p);
      // Freed (cached): neither free nor usableSize accepts it any more; its head's state
      // tells a double free at every debug level.
      expect(errorCodeOf(() => heap.free(p))).toBe(ErrorCode.DOUBLE_FREE);
      expect(errorCodeOf(() => heap.realloc(p, 10))).toBe(ErrorCode.DOUBLE_FREE);
      expect(errorCodeOf(() => heap.usableSize(p))).toBe(ErrorCode.INVALID_POINTER);
      expect(heap.stats().big.blocksCached).toBe(1);
      heap.validate();
      // It is reused, once.
      const a = heap.malloc(MiB + 1);
      const b = heap.malloc(MiB + 1);
      expect(a).toBe(p);
      expect(b).not.toBe(p);
      heap.free(a);
      heap.free(b);
      heap.validate();
    }
  });

  test('realloc tiny → big → bigger → smaller → tiny keeps the contents', () => {
    // Levels 0 and 1 (at 2 and 3 realloc always moves, to catch stale pointers: debug.test.ts).
    for (const debug of [0, 1]) {
      const heap = createHeap({ maxBytes: 64 << 20, debug });
      let p = heap.malloc(1000);
      fill(heap, p, 1000, 3);
      p = heap.realloc(p, 3 * MiB);
      expect(p % PAGE_SIZE).toBe(0);
      expect(same(heap, p, 1000, 3)).toBe(true);
      fill(heap, p, 3 * MiB, 5);
      // The pages after the block are free (it was mapped last): growth stays in place.
      const grown = heap.stats().boxes.bigCache.resizedInPlace;
      expect(heap.realloc(p, 4 * MiB)).toBe(p);
      expect(heap.stats().boxes.bigCache.resizedInPlace).toBe(grown + 1);
      expect(same(heap, p, 3 * MiB, 5)).toBe(true);
      // A block right after it: growth moves.
      const fence = heap.malloc(2 * MiB);
      expect(fence).toBe(p + 4 * MiB);
      const moved = heap.stats().boxes.gatekeeper.reallocsMoved;
      const q = heap.realloc(p, 6 * MiB);
      expect(q).not.toBe(p);
      expect(heap.stats().boxes.gatekeeper.reallocsMoved).toBe(moved + 1);
      expect(same(heap, q, 3 * MiB, 5)).toBe(true);
      heap.free(fence);
      const inPlace = heap.stats().boxes.gatekeeper.reallocsInPlace;
      expect(heap.realloc(q, 2 * MiB)).toBe(q); // shrink in place
      expect(heap.stats().boxes.gatekeeper.reallocsInPlace).toBe(inPlace + 1);
      expect(heap.usableSize(q)).toBe(2 * MiB);
      expect(same(heap, q, 3 * MiB, 5, 2 * MiB)).toBe(true);
      expect(heap.realloc(q, 600 * 1024)).toBe(q); // its L2.5 block (640 KiB) would be above a quarter of 2 MiB: stays
      const l = heap.realloc(q, 300 * 1024); // moves down to L2.5
      expect(l).not.toBe(q);
      expect(heap.stats().l25.blocksInUse).toBe(1);
      expect(same(heap, l, 3 * MiB, 5, 300 * 1024)).toBe(true);
      const t = heap.realloc(l, 100);
      expect(heap.usableSize(t)).toBeLessThanOrEqual(2048);
      expect(same(heap, t, 3 * MiB, 5, 100)).toBe(true);
      expect(heap.liveBytes()).toBe(heap.usableSize(t));
      heap.free(t);
      expect(heap.liveBytes()).toBe(0);
      heap.validate();
    }
  });

  test('realloc to a big size on exhaustion returns 0 with the old block intact', () => {
    const heap = createHeap({ maxBytes: 16 << 20 });
    const p = heap.malloc(2 * MiB);
    fill(heap, p, 2 * MiB, 9);
    expect(heap.realloc(p, 16 * MiB - 64 * 1024)).toBe(0); // more than the heap has, in place or moved
    expect(same(heap, p, 2 * MiB, 9)).toBe(true);
    expect(heap.usableSize(p)).toBe(2 * MiB);
    expect(heap.malloc(15 * MiB)).toBe(0);
    expect(heap.stats().boxes.gatekeeper.failed).toBe(2);
    heap.validate();
    heap.free(p);
    expect(errorCodeOf(() => createHeap({ maxBytes: 16 << 20, throwOnOutOfMemory: true }).malloc(15 * MiB))).toBe(ErrorCode.OUT_OF_MEMORY);
  });

  test('calloc of a big block is zero, also over a reused dirty block; memalign serves big sizes at any alignment', () => {
    const heap = createHeap({ maxBytes: 64 << 20 });
    const a = heap.calloc(1, 2 * MiB); // fresh: os-boundary vouches it is zero
    expect(heap.u8(a, 2 * MiB).every((b) => b === 0)).toBe(true);
    heap.views.u8.fill(0xee, a, a + 2 * MiB);
    heap.free(a);
    const b = heap.calloc(2 * MiB, 1); // the same block, from the cache: zeroed
    expect(b).toBe(a);
    expect(heap.u8(b, 2 * MiB).every((x) => x === 0)).toBe(true);
    heap.free(b);
    for (const align of [32, 4096, PAGE_SIZE, 2 * PAGE_SIZE, MiB, 4 * MiB]) {
      const p = heap.memalign(align, 3 * MiB);
      expect(p % align).toBe(0);
      expect(heap.usableSize(p)).toBeGreaterThanOrEqual(3 * MiB);
      heap.free(p);
    }
    heap.validate();
  });
});
