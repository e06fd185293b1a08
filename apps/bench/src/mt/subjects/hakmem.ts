import { attachHeap, createHeap, type Heap, type SharedHeapHandle } from '@hakmem/allocator';
import type { Subject } from '../../subject.js';
import { hakmemSubjectOf } from '../../subjects/hakmem.js';
import type { MtHost, MtSubject, MtSubjectOptions } from '../api.js';

/** The heap's default limit and the most it accepts, as for the single-thread subject. */
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
const LIMIT_MAX_BYTES = 2 * 1024 * 1024 * 1024 - 64 * 1024;

function maxBytesFor(options: MtSubjectOptions): number {
  return Math.min(Math.max(options.arenaBytes, DEFAULT_MAX_BYTES), LIMIT_MAX_BYTES);
}

/** This worker's heap (one per worker). */
let attached: Heap | undefined;

/**
 * hakmem's default heap on shared memory. The main thread creates it with
 * `createHeap({ shared: true, maxBytes })` and keeps it (its `stats().footprint` after the
 * run is the peak footprint of all threads); `heap.share()` is the handle. Each worker
 * `attachHeap(handle)`s (its own thread-local boxes and thread id over the same memory)
 * and is driven through the single-thread subject's class (`hakmemSubjectOf`: blocks
 * touched through `views.u8`); `detach()` at its end gives the thread id back.
 */
export const hakmemMt: MtSubject = {
  name: 'hakmem',
  create(options: MtSubjectOptions): MtHost {
    const heap = createHeap({ shared: true, maxBytes: maxBytesFor(options) });
    return { handle: heap.share(), footprint: () => heap.stats().footprint };
  },
  attach(handle: unknown): Subject {
    attached = attachHeap(handle as SharedHeapHandle);
    return hakmemSubjectOf(attached);
  },
  detach() {
    attached?.detach();
    attached = undefined;
  },
};
