import { describe, expect, it } from 'vitest';
import { createNativeBackend } from '@hakmem/memory-backend';
import { FaultyBackend, randomOps, randomGrowFaults, runModel } from '@hakmem/testkit';
import { createHeap } from '../src/index.js';

// Fault injection: the backend refuses to grow at random moments (as a host out of
// memory does). Every allocation that needed the growth fails with 0, nothing else:
// the model checks contents, overlap and live bytes throughout, validate() passes, and
// the heap serves everything again once the faults stop.
const MAX = 128 << 20;
const dist = { maxSize: 2048, maxAlign: 1 << 16, bigSizes: { min: 2049, max: 3 << 20, probability: 1 / 32, logUniform: true } };

describe('fault injection: grow fails at random moments', () => {
  for (const [seed, debug] of [[1, 0], [2, 0], [3, 1], [4, 2]] as const) {
    it(`seed ${seed}, debug ${debug}: failed allocations return 0, nothing is lost, the heap recovers`, () => {
      let faults = true;
      const random = randomGrowFaults(seed, 0.5);
      const backend = new FaultyBackend(createNativeBackend({ maxBytes: MAX, growable: true }), (call, d, len) => faults && random(call, d, len));
      const heap = createHeap({ backend, debug });
      const report = runModel(heap, randomOps(seed, 20_000, dist), { memoryBytes: MAX, validateEvery: 2_000, liveBytesEvery: 500 });
      expect(backend.failed).toBeGreaterThan(0);
      expect(report.failed).toBeGreaterThan(0);
      expect(heap.liveBytes()).toBe(0);
      faults = false;
      const again = [64, 5000, 300_000, 3 << 20].map((n) => heap.malloc(n));
      expect(again.every((p) => p !== 0)).toBe(true);
      for (const p of again) heap.free(p);
      heap.trim();
      heap.validate();
      expect(heap.liveBytes()).toBe(0);
    });
  }
});
