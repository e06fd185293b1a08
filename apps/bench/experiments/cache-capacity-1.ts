// An experiment for `hakmem-bench compare`: the default heap with one box tuned to be
// worse on purpose (a unified cache that holds one block per class, so nearly every
// malloc and free goes to the page box). Run it against the default:
//
//   npx hakmem-bench compare --b apps/bench/experiments/cache-capacity-1.ts
//
// A module for `compare` exports `heap`: a Heap, or a function ({ maxBytes }) => Heap.
// To try a box of your own, pass its factory: createHeap({ maxBytes, boxes: { unifiedCache: myCache } }).
import { createHeap, type Heap } from '@hakmem/allocator';

export function heap({ maxBytes }: { maxBytes: number }): Heap {
  return createHeap({ maxBytes, tuning: { unifiedCache: { capacity: 1 } } });
}
