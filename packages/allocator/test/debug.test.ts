import { describe, expect, it } from 'vitest';
import { ErrorCode, HakmemError } from '@hakmem/contracts';
import { FREED_FILL, FRESH_FILL } from '@hakmem/gatekeeper';
import { attachHeap, createHeap, type Heap } from '../src/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof HakmemError) return e.code;
    throw e;
  }
  return undefined;
}

function errorOf(fn: () => unknown): HakmemError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HakmemError) return e;
    throw e;
  }
  throw new Error('no error thrown');
}

/**
 * A raw view of `[p, p + n)`: the bugs these tests commit (an overrun, a write through a
 * stale pointer) go around `heap.u8`, which refuses them from level 1 on, as an
 * application's own typed array over the memory would.
 */
function raw(heap: Heap, p: number, n: number): Uint8Array {
  return heap.views.u8.subarray(p, p + n);
}

/** One size per tier: tiny, pool, L2.5, big. */
const SIZES = [24, 5000, 200_000, 3 << 20];

describe('debug level 2: fill patterns, canaries, quarantine', () => {
  it('a fresh block reads FRESH_FILL, calloc zero; usableSize is the requested size; memalign stays aligned', () => {
    const heap = createHeap({ maxBytes: 64 << 20, debug: 2 });
    for (const n of SIZES) {
      const p = heap.malloc(n);
      expect(heap.u8(p, n).every((b) => b === FRESH_FILL), `malloc(${n})`).toBe(true);
      expect(heap.usableSize(p)).toBe(n);
      heap.free(p);
      const z = heap.calloc(n, 1);
      expect(heap.u8(z, n).every((b) => b === 0), `calloc(${n}, 1)`).toBe(true);
      heap.free(z);
    }
    for (const align of [16, 64, 4096, 65536, 1 << 20]) {
      const p = heap.memalign(align, 100);
      expect(p % align, `memalign(${align})`).toBe(0);
      expect(heap.usableSize(p)).toBe(100);
      heap.free(p);
    }
    heap.trim();
    heap.validate();
    expect(heap.liveBytes()).toBe(0);
  });

  it('catches a buffer overrun on free (E_CORRUPTION naming the block, its size and the offset) and leaves the block live', () => {
    const heap = createHeap({ maxBytes: 64 << 20, debug: 2 });
    for (const n of SIZES) {
      const p = heap.malloc(n);
      raw(heap, p, n + 1)[n] = 0x42; // one byte past the end
      const e = errorOf(() => heap.free(p));
      expect(e.code).toBe(ErrorCode.CORRUPTION);
      expect(e.message).toContain(`0x${p.toString(16)}`);
      expect(e.message).toContain(`${n} bytes`);
      expect(e.message).toContain(`offset ${n}`);
      expect(heap.usableSize(p)).toBe(n); // still live
      heap.validate();
    }
  });

  it('catches a use after free when the block leaves the quarantine, frees it anyway, and a double free of a quarantined block', () => {
    const heap = createHeap({ maxBytes: 64 << 20, debug: 2, tuning: {} });
    for (const n of SIZES) {
      const p = heap.malloc(n);
      heap.u8(p, n).fill(7);
      heap.free(p);
      expect(raw(heap, p, n).every((b, i) => i < 8 || b === FREED_FILL), `freed fill of ${n}`).toBe(true);
      expect(codeOf(() => heap.free(p)), `double free of a quarantined block of ${n}`).toBe(ErrorCode.DOUBLE_FREE);
      // Not reused at once: the next block of that size is another one.
      const q = heap.malloc(n);
      expect(q).not.toBe(p);
      heap.free(q);
      raw(heap, p, n)[n >> 1] = 1; // the stale pointer writes
      const e = errorOf(() => heap.trim()); // flushes the quarantine
      expect(e.code).toBe(ErrorCode.CORRUPTION);
      expect(e.message).toContain('use after free');
      expect(e.message).toContain(`0x${p.toString(16)}`);
      expect(e.message).toContain(`offset ${n >> 1}`);
    }
    heap.trim();
    heap.validate();
    expect(heap.liveBytes()).toBe(0); // nothing lost: the written blocks were freed too
  });

  it('the quarantine is bounded and a stale write is found when the block leaves it', () => {
    const heap = createHeap({ maxBytes: 64 << 20, debug: 2 });
    const p = heap.malloc(40);
    heap.free(p);
    raw(heap, p, 40)[20] = 9;
    let caught: HakmemError | undefined;
    for (let i = 0; i < 2000 && caught === undefined; i++) {
      const q = heap.malloc(40);
      try {
        heap.free(q);
      } catch (e) {
        caught = e as HakmemError;
      }
    }
    expect(caught?.code).toBe(ErrorCode.CORRUPTION);
    expect(caught?.message).toContain(`0x${p.toString(16)}`);
  });

  it('realloc moves, keeps the contents, checks the canary, and frees the old block into the quarantine', () => {
    const heap = createHeap({ maxBytes: 64 << 20, debug: 2 });
    const p = heap.malloc(100);
    heap.u8(p, 100).forEach((_, i, a) => { a[i] = i; });
    const q = heap.realloc(p, 50);
    expect(q).not.toBe(p);
    expect(Array.from(heap.u8(q, 50))).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(codeOf(() => heap.free(p))).toBe(ErrorCode.DOUBLE_FREE);
    raw(heap, q, 51)[50] = 0;
    expect(codeOf(() => heap.realloc(q, 500))).toBe(ErrorCode.CORRUPTION);
    expect(heap.usableSize(q)).toBe(50);
  });

  it('the model test still holds at level 2 (random calls, contents kept, validate)', () => {
    const heap = createHeap({ maxBytes: 64 << 20, debug: 2 });
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 8;
    };
    const live = new Map<number, [number, number]>();
    for (let i = 0; i < 5000; i++) {
      if (live.size > 0 && rnd() % 3 === 0) {
        const [p, [n, v]] = live.entries().next().value as [number, [number, number]];
        expect(heap.u8(p, n).every((b) => b === v)).toBe(true);
        heap.free(p);
        live.delete(p);
      } else {
        const n = 1 + (rnd() % (rnd() % 8 === 0 ? 100_000 : 600));
        const p = heap.malloc(n);
        const v = rnd() & 255;
        heap.u8(p, n).fill(v);
        live.set(p, [n, v]);
      }
    }
    heap.validate();
    for (const p of live.keys()) heap.free(p);
    heap.trim();
    expect(heap.liveBytes()).toBe(0);
  });
});

describe('debug level 1 in a shared heap: one live bitmap for every thread', () => {
  it('a block allocated by one thread and freed by another is a double free for a third', () => {
    const heap = createHeap({ shared: true, maxBytes: 64 << 20, debug: 1 });
    const a: Heap = attachHeap(heap.share());
    const b: Heap = attachHeap(heap.share());
    const p = a.malloc(64);
    b.free(p);
    expect(codeOf(() => heap.free(p))).toBe(ErrorCode.DOUBLE_FREE);
    expect(codeOf(() => a.free(p))).toBe(ErrorCode.DOUBLE_FREE);
    a.detach();
    b.detach();
    heap.trim();
    heap.validate();
    expect(heap.liveBytes()).toBe(0);
  });
});
