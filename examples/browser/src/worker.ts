// The Web Worker: attaches to the page's shared heap, checks the blocks the page filled,
// frees some of them (remote frees: the page's thread owns their slabs and spans),
// allocates and fills blocks of its own while the page does the same, frees a third of
// them, detaches, and hands the rest to the page.
import { attachHeap } from '@hakmem/allocator';
import {
  CTL_DONE, CTL_GO, WORKER_HOST_ID, allocate, holds,
  type Block, type WorkerJob, type WorkerMessage,
} from './protocol.js';

const post = (m: WorkerMessage): void => self.postMessage(m);

self.addEventListener('message', (e: MessageEvent<WorkerJob>) => {
  try {
    run(e.data);
  } catch (error) {
    post({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
}, { once: true });

function run(job: WorkerJob): void {
  // This thread's own thread id, caches and boxes over the page's memory. A browser has
  // no worker_threads id: the page gives its worker one (for heap.watch).
  const heap = attachHeap(job.handle, { hostThreadId: WORKER_HOST_ID });
  const ctl = new Int32Array(job.control);
  post({ type: 'attached', tid: heap.tid });
  // Wait for the page's go, so that both threads allocate at the same time (a worker may
  // block in Atomics.wait; the page may not).
  Atomics.wait(ctl, CTL_GO, 0);

  let pageBlocksChecked = 0;
  for (const b of job.pageBlocks) if (holds(heap, b)) pageBlocksChecked++;

  // Own blocks, a remote free of one of the page's blocks after each.
  const mine: Block[] = [];
  let remoteFrees = 0;
  for (let i = 0; i < job.blocks; i++) {
    mine.push(allocate(heap, 1, i));
    const j = job.freeIndexes[i];
    if (j !== undefined) {
      heap.free(job.pageBlocks[j]!.ptr);
      remoteFrees++;
    }
  }
  for (let i = job.blocks; i < job.freeIndexes.length; i++) {
    heap.free(job.pageBlocks[job.freeIndexes[i]!]!.ptr);
    remoteFrees++;
  }

  // Every third of its own blocks freed (local frees), after a check of all of them.
  const kept: Block[] = [];
  let freedOwn = 0;
  for (const [i, b] of mine.entries()) {
    if (!holds(heap, b)) throw new Error(`the worker's block ${i} at ${b.ptr} was overwritten`);
    if (i % 3 === 0) {
      heap.free(b.ptr);
      freedOwn++;
    } else kept.push(b);
  }
  // (No heap.validate() here: it reads the shared state without locks, so it runs only
  // while no other thread uses the heap — the page calls it once this worker is done.)
  Atomics.store(ctl, CTL_DONE, 1);

  // detach() flushes this thread's caches: blocks of the page's slabs go to its remote-free
  // lists. The thread id stays ABANDONED while its blocks (kept) are live.
  const count = (s: { remoteFreed: number }, t: { remoteFreed: number }): number => s.remoteFreed + t.remoteFreed;
  heap.detach();
  // A detached instance refuses every call; its boxes' own counters stay readable.
  const sentToOwners = count(heap.boxes.pageBox.stats(), heap.boxes.poolRefill.stats());
  post({
    type: 'done',
    report: { tid: heap.tid, pageBlocksChecked, remoteFrees, allocated: mine.length, freedOwn, kept, sentToOwners, detached: heap.isDetached },
  });
}
