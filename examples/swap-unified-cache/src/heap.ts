// The composition `hakmem-bench compare --b` measures against the default heap:
//
//   npx hakmem-bench compare --b examples/swap-unified-cache/src/heap.ts --workloads default,tiny --runs 3
//
// A module for `compare` exports `heap`: a Heap, or a function ({ maxBytes }) => Heap
// (the bench sizes the heap for each workload). Only the unified cache is swapped; every
// other box is the default.
import { createHeap, type Heap } from '@hakmem/allocator';
import { createFifoUnifiedCache } from './fifo-cache.js';

export function heap({ maxBytes }: { maxBytes: number }): Heap {
  return createHeap({ maxBytes, boxes: { unifiedCache: createFifoUnifiedCache } });
}
