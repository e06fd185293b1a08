import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@hakmem/contracts';
import { attachHeap, createHeap, type Heap, type HeapOptions } from '../src/index.js';
import { codeOf } from './helpers/code-of.js';

// Typed-array views of the memory (issue 19, "Safe by default"). The rule the README
// states: a view is read right before use — `heap.views.u8` re-read after any call that may
// allocate, or `heap.u8(p)` / `heap.f64(p, n)` made then — never kept across such a call.
// These tests hold the rule to every backend, and check that the helpers refuse, at debug
// level >= 1, a view that does not fit in its block.

const MAX = 32 << 20;


describe('the typed-array helpers check the block at debug level >= 1', () => {
  for (const debug of [1, 2, 3]) {
    it(`debug ${debug}: a view past the block, of a freed block, of an interior pointer or of NULL is refused, the heap unchanged`, () => {
      const heap = createHeap({ maxBytes: MAX, debug });
      const p = heap.malloc(64);
      const q = heap.malloc(5000);
      const freed = heap.malloc(64);
      heap.free(freed);
      heap.u8(p, 64).fill(7);
      const live = heap.liveBytes();
      const usable = heap.usableSize(p);
      const rows: ReadonlyArray<readonly [string, () => unknown, string]> = [
        ['f64(p, 1000) of a 64-byte block', () => heap.f64(p, 1000), ErrorCode.INVALID_SIZE],
        ['u8(p, usable + 1)', () => heap.u8(p, usable + 1), ErrorCode.INVALID_SIZE],
        ['i32(p, usable / 4 + 1)', () => heap.i32(p, usable / 4 + 1), ErrorCode.INVALID_SIZE],
        ['u32(q, 2000)', () => heap.u32(q, 2000), ErrorCode.INVALID_SIZE],
        ['f32(p, -1)', () => heap.f32(p, -1), ErrorCode.INVALID_SIZE],
        ['u8(p, 1.5)', () => heap.u8(p, 1.5), ErrorCode.INVALID_SIZE],
        ['u8(p + 16, 8): an interior pointer', () => heap.u8(p + 16, 8), ErrorCode.INTERIOR_POINTER],
        ['u8(0, 8)', () => heap.u8(0, 8), ErrorCode.INVALID_POINTER],
        ['u8(freed, 8)', () => heap.u8(freed, 8), ErrorCode.INVALID_POINTER],
        ['u8 of an address no block owns', () => heap.u8(heap.layout.heapStart + (20 << 20), 8), ErrorCode.INVALID_POINTER],
      ];
      for (const [name, call, want] of rows) {
        expect(codeOf(call), name).toBe(want);
        heap.validate();
        expect(heap.liveBytes(), name).toBe(live);
      }
      // What fits is given, as before.
      expect(heap.u8(p, usable).length).toBe(usable);
      expect(heap.f64(p, usable / 8).length).toBe(usable / 8);
      expect(heap.u8(p, 64).every((b) => b === 7)).toBe(true);
    });
  }

  it('debug 0 checks nothing: the helpers cost what a bare typed array costs', () => {
    const heap = createHeap({ maxBytes: MAX });
    const p = heap.malloc(64);
    expect(heap.f64(p, 1000).length).toBe(1000); // past the block: the application's bug, unchecked
  });

  for (const debug of [0, 1, 2]) {
    it(`debug ${debug}: without n, a helper views the whole block, in every tier`, () => {
      const heap = createHeap({ maxBytes: MAX, debug });
      for (const size of [24, 100, 5000, 300_000, 2 << 20]) {
        const p = heap.malloc(size);
        const usable = heap.usableSize(p);
        expect(heap.u8(p).length, `u8 of ${size}`).toBe(usable);
        expect(heap.f64(p).length, `f64 of ${size}`).toBe(Math.floor(usable / 8));
        expect(heap.i32(p).byteOffset).toBe(p);
        heap.f64(p).fill(1.5);
        expect(heap.views.f64[p / 8 + Math.floor(usable / 8) - 1]).toBe(1.5);
        heap.free(p);
      }
    });
  }
});

const BACKENDS: ReadonlyArray<readonly [string, HeapOptions]> = [
  ['native (reserved)', {}],
  ['native, growable', { growable: true }],
  ['native, growable, shared', { growable: true, shared: true }],
  ['wasm', { backend: 'wasm' }],
  ['wasm, shared', { backend: 'wasm', shared: true }],
];

/** Allocates 1 MiB blocks until the memory grew by 4 MiB at least. */
function growPast(heap: Heap): number[] {
  const start = heap.backend.byteLength();
  const blocks: number[] = [];
  while (heap.backend.byteLength() < start + (4 << 20)) {
    const p = heap.malloc(1 << 20);
    if (p === 0) throw new Error('out of memory before the memory grew');
    blocks.push(p);
  }
  return blocks;
}

describe('the views rule holds on every backend', () => {
  for (const [name, options] of BACKENDS) {
    it(`${name}: heap.views re-read after an allocation, and heap.u8(p) made then, reach every block`, () => {
      const heap = createHeap({ maxBytes: MAX, ...options });
      const first = heap.malloc(64);
      const kept = heap.views.u8; // against the rule: kept across calls that may grow the memory
      const blocks = growPast(heap);
      const last = blocks[blocks.length - 1]!;
      // The rule: read the views after the call.
      expect(heap.views.u8.length).toBeGreaterThanOrEqual(last + (1 << 20));
      heap.views.u8[last] = 42;
      expect(heap.u8(last, 1)[0]).toBe(42);
      heap.u8(first).fill(3);
      expect(heap.views.u8[first]).toBe(3);
      // What a kept view is after growth (the README's table): the whole memory only on the reserved backend.
      if (name === 'native (reserved)') expect(kept.length).toBe(heap.views.u8.length);
      else if (name === 'wasm') expect(kept.length).toBe(0); // detached by the grow
      else expect(kept.length).toBeLessThan(last); // the old length: the new blocks are past it
    });
  }

  for (const [name, options] of BACKENDS.filter(([, o]) => o.shared === true)) {
    it(`${name}: a block another thread allocated after growing the memory: heap.u8(p) reaches it, heap.views after refresh()`, () => {
      const heap = createHeap({ maxBytes: MAX, ...options });
      const other = attachHeap(heap.share()); // another thread's instance (its own views)
      const blocks = growPast(other);
      const q = blocks[blocks.length - 1]!;
      other.u8(q, 8).fill(9);
      if (options.backend === 'wasm' || options.growable === true) expect(heap.views.u8.length).toBeLessThan(q); // this thread has not seen the growth yet
      expect(Array.from(heap.u8(q, 8))).toEqual([9, 9, 9, 9, 9, 9, 9, 9]);
      expect(heap.refresh()).toBe(true);
      expect(heap.views.u8[q]).toBe(9);
      for (const p of blocks) other.free(p);
      other.detach();
    });
  }
});
