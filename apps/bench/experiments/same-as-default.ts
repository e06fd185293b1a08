// The default heap through a module: `compare --b` with this file is an A/A check (the
// ratio should read "no clear difference" and every counter should be identical).
import { createHeap, type Heap } from '@hakmem/allocator';

export function heap({ maxBytes }: { maxBytes: number }): Heap {
  return createHeap({ maxBytes });
}
