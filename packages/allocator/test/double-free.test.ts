import { describe, expect, it } from 'vitest';
import { ErrorCode, FREE_KEY_WORD, GH_FREE_KEY } from '@hakmem/contracts';
import { attachHeap, createHeap, type Heap } from '../src/index.js';
import { codeOf } from './helpers/code-of.js';

// Issue "Safe by default": at debug level 0 a double free, or a realloc / usableSize of a
// freed block, must throw before anything changes, in every tier and across threads of a
// shared heap; no misuse may hand one block to two callers.


/** One size per class range of the tiny and mid tiers (and L2.5 / big, caught before too). */
const SIZES = [8, 64, 2048, 2049, 9000, 20_480, 52_000, 65_535, 200_000, 2 << 20];

describe('double free at debug level 0', () => {
  it.each(SIZES)('malloc(%i), free, free: E_DOUBLE_FREE, and the heap never hands the block out twice', (size) => {
    const h = createHeap({ maxBytes: 64 << 20 });
    const p = h.malloc(size);
    h.free(p);
    const live = h.liveBytes();
    expect(codeOf(() => h.free(p))).toBe(ErrorCode.DOUBLE_FREE);
    expect(codeOf(() => h.realloc(p, size + 100))).toBe(ErrorCode.DOUBLE_FREE);
    expect(codeOf(() => h.realloc(p, 1))).toBe(ErrorCode.DOUBLE_FREE);
    expect(codeOf(() => h.usableSize(p))).toBe(ErrorCode.INVALID_POINTER);
    expect(h.isAllocated(p)).toBe(false);
    expect(h.liveBytes()).toBe(live);
    const a = h.malloc(size);
    const b = h.malloc(size);
    expect(a).not.toBe(b);
    expect(h.isAllocated(a) && h.isAllocated(b)).toBe(true);
    h.validate();
    h.free(a);
    h.free(b);
    h.trim();
    h.validate();
    expect(h.liveBytes()).toBe(0);
  });

  it('a mid-tier double free then trim leaves no cycle and no negative live bytes (the issue\'s 20 KiB case)', () => {
    const h = createHeap({ maxBytes: 64 << 20 });
    const p = h.malloc(20_480);
    h.free(p);
    expect(codeOf(() => h.free(p))).toBe(ErrorCode.DOUBLE_FREE);
    h.trim();
    h.validate();
    expect(h.liveBytes()).toBe(0);
  });

  it('a block that left the cache (spilled to its slab or span free list) is caught too', () => {
    const h = createHeap({ maxBytes: 64 << 20 });
    for (const [size, n] of [[48, 600], [12_000, 200]] as const) {
      const ps = Array.from({ length: n }, () => h.malloc(size));
      // Every fourth block stays live, so that no slab or span empties and goes back.
      const kept = ps.filter((_, i) => i % 4 === 1);
      const freed = ps.filter((_, i) => i % 4 !== 1);
      for (const p of freed) h.free(p); // the first ones freed are spilled as the class overflows
      const b = h.boxes;
      const cached = (p: number): boolean => (size <= 2048 ? b.unifiedCache.holds(b.tinyRoute.classOf(size), p) : b.poolTls.holds(b.poolTls.classOf(size), p));
      const spilled = freed.filter((p) => !cached(p));
      expect(spilled.length, `${size} B: blocks spilled out of the cache`).toBeGreaterThan(20);
      for (const p of spilled) expect(codeOf(() => h.free(p)), `${size} B`).toBe(ErrorCode.DOUBLE_FREE);
      const again = new Set(Array.from({ length: freed.length }, () => h.malloc(size)));
      expect(again.size).toBe(freed.length);
      for (const p of kept) expect(again.has(p)).toBe(false);
      for (const p of [...again, ...kept]) h.free(p);
    }
    h.validate();
  });

  it('a free of a block carved into a cache and never handed out (a stale or guessed pointer) is E_DOUBLE_FREE', () => {
    const h = createHeap({ maxBytes: 64 << 20 });
    for (const size of [64, 9000]) {
      const p = h.malloc(size); // the refill carved a batch: the cache holds its neighbours
      const usable = h.usableSize(p);
      const b = h.boxes;
      const cls = size <= 2048 ? b.tinyRoute.classOf(size) : b.poolTls.classOf(size);
      const q = [p + usable, p - usable].find((x) => (size <= 2048 ? b.unifiedCache.holds(cls, x) : b.poolTls.holds(cls, x)))!;
      expect(q, `${size} B: a never-handed-out neighbour in the cache`).toBeDefined();
      const live = h.liveBytes();
      expect(codeOf(() => h.free(q))).toBe(ErrorCode.DOUBLE_FREE);
      expect(h.isAllocated(q)).toBe(false);
      expect(h.liveBytes()).toBe(live);
      h.free(p);
    }
    h.validate();
  });

  it('live data equal to the free key is no double free: the exact check clears it', () => {
    const h = createHeap({ maxBytes: 32 << 20 });
    const key = h.views.i32[GH_FREE_KEY]!;
    expect(key & 1).toBe(1);
    for (const size of [16, 4096, 10_000]) {
      const p = h.malloc(size);
      expect(h.views.i32[(p >>> 2) + FREE_KEY_WORD]).toBe(0); // malloc clears it
      h.views.i32[(p >>> 2) + FREE_KEY_WORD] = key; // the program stores the key's value
      expect(h.isAllocated(p)).toBe(true);
      expect(h.usableSize(p)).toBeGreaterThanOrEqual(size);
      expect(h.realloc(p, size)).toBe(p);
      h.free(p);
      expect(codeOf(() => h.free(p))).toBe(ErrorCode.DOUBLE_FREE);
    }
    h.validate();
    expect(h.liveBytes()).toBe(0);
  });

  it('every way a block is handed out clears its key word: from a refill (carved with the key) and reused after a free, in both tiers', () => {
    const h = createHeap({ maxBytes: 32 << 20 });
    const keyWord = (p: number): number => h.views.i32[(p >>> 2) + FREE_KEY_WORD]!;
    const key = h.views.i32[GH_FREE_KEY]!;
    const calls: Array<[string, () => number]> = [
      ['malloc(40)', () => h.malloc(40)], ['calloc(4, 16)', () => h.calloc(4, 16)], ['memalign(64, 100)', () => h.memalign(64, 100)],
      ['realloc(0, 300)', () => h.realloc(0, 300)], ['malloc(9000)', () => h.malloc(9000)], ['calloc(1, 9000)', () => h.calloc(1, 9000)],
      ['memalign(4096, 5000)', () => h.memalign(4096, 5000)],
    ];
    for (let round = 0; round < 3; round++) { // round 0: fresh refills; then blocks freed just before
      for (const [what, call] of calls) {
        const p = call();
        expect(keyWord(p), `${what}, round ${round}: the key word of the block handed out`).not.toBe(key);
        h.free(p);
        expect(keyWord(p), `${what}, round ${round}: free writes the key`).toBe(key);
      }
    }
    h.validate();
    expect(h.liveBytes()).toBe(0);
  });
});

describe('double free across threads of a shared heap, at debug level 0', () => {
  it('A mallocs, B frees, C frees again: E_DOUBLE_FREE, and B and C never get the same block', () => {
    const heap = createHeap({ shared: true, maxBytes: 64 << 20 });
    const b: Heap = attachHeap(heap.share());
    const c: Heap = attachHeap(heap.share());
    for (const size of [64, 1024, 9000, 40_000]) {
      const p = heap.malloc(size);
      b.free(p); // in B's cache (its region in the linear memory)
      expect(codeOf(() => c.free(p)), `${size} B: C's free`).toBe(ErrorCode.DOUBLE_FREE);
      expect(codeOf(() => heap.free(p)), `${size} B: A's free`).toBe(ErrorCode.DOUBLE_FREE);
      expect(c.isAllocated(p)).toBe(false);
      const fromB = b.malloc(size);
      const fromC = c.malloc(size);
      expect(fromB).not.toBe(fromC);
      b.free(fromB);
      c.free(fromC);
    }
    b.detach();
    c.detach();
    heap.trim();
    heap.validate();
    expect(heap.liveBytes()).toBe(0);
  });

  it('blocks another thread spilled onto the owner\'s remote-free list are caught', () => {
    const heap = createHeap({ shared: true, maxBytes: 64 << 20 });
    const b: Heap = attachHeap(heap.share());
    const c: Heap = attachHeap(heap.share());
    for (const [size, n] of [[32, 600], [9000, 200]] as const) {
      const ps = Array.from({ length: n }, () => heap.malloc(size));
      for (const p of ps) b.free(p); // B's cache spills the oldest to A's remote-free list
      for (const p of ps.slice(0, 10)) expect(codeOf(() => c.free(p)), `${size} B`).toBe(ErrorCode.DOUBLE_FREE);
      for (const p of ps.slice(0, 10)) expect(codeOf(() => heap.free(p)), `${size} B`).toBe(ErrorCode.DOUBLE_FREE);
    }
    b.detach();
    c.detach();
    heap.trim();
    heap.validate();
    expect(heap.liveBytes()).toBe(0);
  });
});
