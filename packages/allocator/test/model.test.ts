import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createHeap, type Heap } from '@hakmem/allocator';
import { heapOp, randomOps, runModel } from '@hakmem/testkit';

// 256 MiB: with every tier in the mix, the live set of some seeds peaks near 100 MB.
const MAX = 256 << 20;
// Every tier: tiny sizes mostly, and one size in 64 log-uniform in 2 KiB..2.5 MiB (mid, L2.5
// and big alike; reallocs cross tiers both ways); memalign alignments up to 64 KiB (larger
// ones: the memalign tests).
const dist = { maxSize: 2048, maxAlign: 1 << 16, bigSizes: { min: 2049, max: 5 << 19, probability: 1 / 64, logUniform: true } };

function fresh(debug = 0): Heap {
  return createHeap({ maxBytes: MAX, debug });
}

describe('model-based property tests of the composed heap', () => {
  test('short shrinkable sequences, validate() after every step (debug level 3)', () => {
    fc.assert(
      fc.property(fc.array(heapOp(dist), { maxLength: 300 }), (ops) => {
        runModel(fresh(3), ops, { memoryBytes: MAX, validateEvery: 1, liveBytesEvery: 1 });
      }),
      { numRuns: 60 },
    );
  });

  const seeds = (process.env.HAKMEM_MODEL_SEEDS ?? '1,2,3,4,5,6,7,8').split(',').map(Number);
  test.each(seeds)('seed %i: 10^5 random operations against the reference model', (seed) => {
    const heap = fresh();
    const report = runModel(heap, randomOps(seed, 100_000, dist), { memoryBytes: MAX, validateEvery: 10_000, liveBytesEvery: 5_000 });
    expect(report.ops).toBe(100_000);
    // every tier was exercised, and nothing is left live in any
    const { poolTls, l25Pool, bigCache } = heap.stats().boxes;
    expect(poolTls.refillBlocks).toBeGreaterThan(100);
    expect(l25Pool.hits + l25Pool.misses).toBeGreaterThan(100);
    expect(bigCache.hits + bigCache.misses).toBeGreaterThan(20);
    expect(bigCache.liveBlocks + l25Pool.liveBlocks).toBe(0);
    expect(heap.liveBytes()).toBe(0);
    expect(report.mallocs).toBeGreaterThan(40_000);
    expect(report.frees + report.reallocs).toBeGreaterThan(30_000);
    expect(report.failed).toBe(0);
  });

  test.each([
    ['wasm backend', { backend: 'wasm' }],
    ['growable native backend', { growable: true }],
    ['shared reserved native backend', { shared: true }],
    ['debug level 1 (double-free bitmap)', { debug: 1 }],
  ] as const)('%s: 10^5 random operations against the reference model', (_name, options) => {
    const heap = createHeap({ maxBytes: MAX, ...options });
    const report = runModel(heap, randomOps(99, 100_000, dist), { memoryBytes: MAX, validateEvery: 20_000, liveBytesEvery: 10_000 });
    expect(report.ops).toBe(100_000);
    expect(report.failed).toBe(0);
  });

  // Misuse at every level, debug 0 first: a freed block freed again, realloc'd or asked its
  // usableSize (just freed, or freed a few calls before, perhaps spilled to its slab's or
  // span's free list since) throws its typed error and changes nothing.
  test.each([
    ['debug level 0', { debug: 0 }, 11],
    ['debug level 0, shared heap', { shared: true }, 12],
    ['debug level 1', { debug: 1 }, 13],
    ['debug level 2', { debug: 2 }, 14],
  ] as const)('%s: misuse of freed blocks among 5 × 10^4 random operations', (_name, options, seed) => {
    const heap = createHeap({ maxBytes: MAX, ...options });
    const report = runModel(heap, randomOps(seed, 50_000, dist), { memoryBytes: MAX, validateEvery: 10_000, liveBytesEvery: 5_000, misuseEvery: 25 });
    expect(report.misuses).toBeGreaterThan(500);
    // Three misuses in four are a free or a realloc; most find the block still there.
    expect(report.doubleFrees).toBeGreaterThan(report.misuses / 2);
    expect(report.failed).toBe(0);
    expect(heap.liveBytes()).toBe(0);
  });
});
