import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@hakmem/contracts';
import { createHeap, type Heap } from '../src/index.js';
import { codeOf } from './helpers/code-of.js';

// The bad-input matrix of the hardening issue: every row is a call with bad input, the
// typed error it must throw (or C's defined result), and afterwards the heap must be
// intact — validate() passes, the blocks allocated before keep their contents, the live
// bytes are unchanged — at every debug level.

const MAX = 64 << 20;
/** One live block per tier, filled with a pattern: tiny, pool, L2.5, big. */
const TIER_SIZES = [64, 6000, 300_000, 2 << 20];

interface Fixture {
  readonly heap: Heap;
  /** [ptr, size] of the live blocks, one per tier. */
  readonly blocks: ReadonlyArray<readonly [number, number]>;
}

function fixture(debug: number): Fixture {
  const heap = createHeap({ maxBytes: MAX, debug });
  const blocks = TIER_SIZES.map((n, k) => {
    const p = heap.malloc(n);
    heap.u8(p, n).fill(0x30 + k);
    return [p, n] as const;
  });
  return { heap, blocks };
}

function intact(f: Fixture, live: number, row: string): void {
  f.heap.validate();
  f.blocks.forEach(([p, n], k) => {
    expect(f.heap.u8(p, n).every((b) => b === 0x30 + k), `${row}: block of ${n} B lost its contents`).toBe(true);
  });
  expect(f.heap.liveBytes(), `${row}: live bytes changed`).toBe(live);
}


type Row = readonly [name: string, call: (f: Fixture) => unknown, want: string];

/** Pointers that are no block start: `p` of each tier's block. */
function rows(debug: number): Row[] {
  const tiny = (f: Fixture): number => f.blocks[0]![0];
  const pool = (f: Fixture): number => f.blocks[1]![0];
  const l25 = (f: Fixture): number => f.blocks[2]![0];
  const big = (f: Fixture): number => f.blocks[3]![0];
  const unowned = (f: Fixture): number => f.heap.layout.heapStart + (40 << 20) + 64; // a page no tier owns
  const r: Row[] = [
    ['free(0)', (f) => f.heap.free(0), 'returned undefined'],
    ['usableSize(0)', (f) => f.heap.usableSize(0), 'returned 0'],
    ['free of an unowned page', (f) => f.heap.free(unowned(f)), ErrorCode.INVALID_POINTER],
    ['free of the header (metadata)', (f) => f.heap.free(64), ErrorCode.INVALID_POINTER],
    ['free outside the memory', (f) => f.heap.free(MAX + 64), ErrorCode.INVALID_POINTER],
    ['free(-8)', (f) => f.heap.free(-8), ErrorCode.INVALID_POINTER],
    ['free(2^31)', (f) => f.heap.free(2 ** 31), ErrorCode.INVALID_POINTER],
    ['free(NaN)', (f) => f.heap.free(Number.NaN), ErrorCode.INVALID_POINTER],
    ['free(1.5 + a block)', (f) => f.heap.free(tiny(f) + 0.5), ErrorCode.INVALID_POINTER],
    ['free of a tiny interior pointer', (f) => f.heap.free(tiny(f) + 8), ErrorCode.INTERIOR_POINTER],
    ['free of a pool interior pointer', (f) => f.heap.free(pool(f) + 16), ErrorCode.INTERIOR_POINTER],
    ['free of an L2.5 interior pointer', (f) => f.heap.free(l25(f) + 4096), ErrorCode.INTERIOR_POINTER],
    ['free of a big interior pointer', (f) => f.heap.free(big(f) + 65536), ErrorCode.INTERIOR_POINTER],
    ['usableSize of an interior pointer', (f) => f.heap.usableSize(pool(f) + 16), ErrorCode.INTERIOR_POINTER],
    ['usableSize of an unowned page', (f) => f.heap.usableSize(unowned(f)), ErrorCode.INVALID_POINTER],
    ['realloc of an unowned page', (f) => f.heap.realloc(unowned(f), 10), ErrorCode.INVALID_POINTER],
    ['realloc of an interior pointer', (f) => f.heap.realloc(l25(f) + 4096, 10), ErrorCode.INTERIOR_POINTER],
    ['realloc to a negative size', (f) => f.heap.realloc(tiny(f), -1), ErrorCode.INVALID_SIZE],
    ['realloc to NaN', (f) => f.heap.realloc(pool(f), Number.NaN), ErrorCode.INVALID_SIZE],
    ['realloc above the maximum: out of memory, the block intact', (f) => f.heap.realloc(big(f), MAX + 1), 'returned 0'],
    ['malloc(-1)', (f) => f.heap.malloc(-1), ErrorCode.INVALID_SIZE],
    ['malloc(NaN)', (f) => f.heap.malloc(Number.NaN), ErrorCode.INVALID_SIZE],
    ['malloc(Infinity)', (f) => f.heap.malloc(Number.POSITIVE_INFINITY), ErrorCode.INVALID_SIZE],
    ['malloc(1.5)', (f) => f.heap.malloc(1.5), ErrorCode.INVALID_SIZE],
    ['malloc(maxBytes + 1): out of memory', (f) => f.heap.malloc(MAX + 1), 'returned 0'],
    ['malloc(2^53): out of memory', (f) => f.heap.malloc(2 ** 53), 'returned 0'],
    ['malloc(2^53 + 0.5) rounds to an integer: out of memory', (f) => f.heap.malloc(2 ** 53 + 0.5), 'returned 0'],
    ['memalign(16, maxBytes + 1): out of memory', (f) => f.heap.memalign(16, MAX + 1), 'returned 0'],
    ['memalign(2^20, maxBytes + 1): out of memory', (f) => f.heap.memalign(1 << 20, MAX + 1), 'returned 0'],
    ['malloc(maxBytes): out of memory', (f) => f.heap.malloc(MAX), 'returned 0'],
    ['memalign(3, 8)', (f) => f.heap.memalign(3, 8), ErrorCode.INVALID_ALIGNMENT],
    ['memalign(0, 8)', (f) => f.heap.memalign(0, 8), ErrorCode.INVALID_ALIGNMENT],
    ['memalign(2^31, 8)', (f) => f.heap.memalign(2 ** 31, 8), ErrorCode.INVALID_ALIGNMENT],
    ['memalign(2^40, 8)', (f) => f.heap.memalign(2 ** 40, 8), ErrorCode.INVALID_ALIGNMENT],
    ['memalign(16, -1)', (f) => f.heap.memalign(16, -1), ErrorCode.INVALID_SIZE],
    ['calloc(2^20, 2^20): n × size above the maximum, out of memory', (f) => f.heap.calloc(2 ** 20, 2 ** 20), 'returned 0'],
    ['calloc(-1, 8)', (f) => f.heap.calloc(-1, 8), ErrorCode.INVALID_SIZE],
    ['calloc(8, NaN)', (f) => f.heap.calloc(8, Number.NaN), ErrorCode.INVALID_SIZE],
  ];
  // Double frees, at every level: the L2.5 and big tiers by their blocks' state word;
  // tiny and pool blocks by the free key in a freed block's second word and the exact
  // check behind it (from level 1 on the live bitmap answers first).
  const freed = (size: number) => (f: Fixture): number => {
    const p = f.heap.malloc(size);
    f.heap.free(p);
    return p;
  };
  /**
   * Frees the block freed first of `n` of its class again, after the cache spilled it back
   * to its slab or span; its neighbour (carved next, from the same slab or span) stays
   * live meanwhile, so that the slab or span is not given back.
   */
  const spilled = (size: number, n: number) => (f: Fixture): unknown => {
    const ps = Array.from({ length: n }, () => f.heap.malloc(size));
    f.heap.free(ps[0]!);
    for (let i = 2; i < n; i++) f.heap.free(ps[i]!);
    const b = f.heap.boxes;
    const cached = size <= b.tinyRoute.tinyMax ? b.unifiedCache.holds(b.tinyRoute.classOf(size), ps[0]!) : b.poolTls.holds(b.poolTls.classOf(size), ps[0]!);
    if (debug === 0) expect(cached, `${size} B: the block left the cache`).toBe(false);
    try {
      return f.heap.free(ps[0]!);
    } finally {
      f.heap.free(ps[1]!);
    }
  };
  for (const [tier, size, spill] of [['tiny', 40, 400], ['pool', 9000, 100], ['L2.5', 200_000, 0], ['big', 3 << 20, 0]] as const) {
    r.push([`double free of a ${tier} block`, (f) => f.heap.free(freed(size)(f)), ErrorCode.DOUBLE_FREE]);
    r.push([`realloc of a freed ${tier} block (in place)`, (f) => f.heap.realloc(freed(size)(f), size - 8), ErrorCode.DOUBLE_FREE]);
    r.push([`realloc of a freed ${tier} block (moving)`, (f) => f.heap.realloc(freed(size)(f), size * 3), ErrorCode.DOUBLE_FREE]);
    r.push([`usableSize of a freed ${tier} block`, (f) => f.heap.usableSize(freed(size)(f)), ErrorCode.INVALID_POINTER]);
    r.push([`isAllocated of a freed ${tier} block`, (f) => f.heap.isAllocated(freed(size)(f)), 'returned false']);
    if (spill > 0) {
      r.push([`double free of a ${tier} block the cache spilled to its free list`, spilled(size, spill), ErrorCode.DOUBLE_FREE]);
    }
  }
  return r;
}

describe('the bad-input matrix: a typed error (or C\'s result), and the heap intact', () => {
  for (const debug of [0, 1, 2]) {
    it(`debug level ${debug}`, () => {
      const f = fixture(debug);
      const live = f.heap.liveBytes();
      for (const [name, call, want] of rows(debug)) {
        expect(codeOf(() => call(f)), name).toBe(want);
        intact(f, live, name);
      }
      // Use after the heap instance was closed (detach): E_HEAP_CLOSED for every call.
      const g = fixture(debug);
      const p = g.blocks[0]![0];
      g.heap.detach();
      for (const [name, call] of [
        ['malloc', () => g.heap.malloc(8)], ['free', () => g.heap.free(p)], ['realloc', () => g.heap.realloc(p, 8)],
        ['calloc', () => g.heap.calloc(1, 8)], ['memalign', () => g.heap.memalign(16, 8)], ['usableSize', () => g.heap.usableSize(p)],
      ] as const) {
        expect(codeOf(call), `${name} after detach`).toBe(ErrorCode.HEAP_CLOSED);
      }
    });
  }
});
