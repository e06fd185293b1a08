// `npm start -w @hakmem/example-swap-unified-cache`: the two caches side by side. Free
// a block, then malloc the same size until that block comes back: the default cache
// (LIFO stacks) hands it back at once, the FIFO cache only after every block it cached
// before it.
import { createHeap, type Heap } from '@hakmem/allocator';
import { heap as fifoHeap } from './heap.js';

/** How many malloc(48) calls it takes to get a freed block back. */
function mallocsUntilReuse(heap: Heap): number {
  const held = [heap.malloc(48)]; // the first malloc refills the class: the cache holds a batch
  const a = heap.malloc(48);
  heap.free(a);
  let n = 0;
  for (let p = 0; p !== a; n++) held.push((p = heap.malloc(48)));
  for (const p of held) heap.free(p);
  heap.validate();
  return n;
}

console.log(`default cache (LIFO stacks): a freed block comes back after ${mallocsUntilReuse(createHeap({ maxBytes: 64 << 20 }))} malloc(s)`);
console.log(`FifoUnifiedCache (rings):    a freed block comes back after ${mallocsUntilReuse(fifoHeap({ maxBytes: 64 << 20 }))} malloc(s)`);
