import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createHeap, type Heap } from '@hakmem/allocator';
import { heapOp, randomOps, runModel } from '@hakmem/testkit';

// 128 MiB: with big blocks in the mix, the live set of some seeds peaks above 50 MB.
const MAX = 128 << 20;
// Tiny sizes, and now and then a big one (above l25Max = 1 MiB); nothing in between (no mid tier yet).
const dist = { maxSize: 2048, maxAlign: 2048, bigSizes: { min: (1 << 20) + 1, max: 2 << 20, probability: 1 / 1024 } };

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
    const big = heap.stats().boxes.bigCache;
    expect(big.hits + big.misses).toBeGreaterThan(20); // the big tier was exercised
    expect(big.liveBlocks).toBe(0);
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
});
