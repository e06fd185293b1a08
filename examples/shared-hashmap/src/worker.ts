// One worker: attaches to the shared heap and the map, inserts its own keys (updating and
// deleting some of them), deletes its neighbour's keys (remote frees), detaches, reports.
import { parentPort, workerData } from 'node:worker_threads';
import { attachHeap } from '@hakmem/allocator';
import { SharedHashMap } from './hashmap.js';
import {
  deletedByNeighbour, deletedByOwner, keyOf, OWNER_DELETE_LAG, updatedByOwner, valueOf,
  type WorkerJob, type WorkerReport,
} from './workload.js';

const job = workerData as WorkerJob;
const heap = attachHeap(job.handle);
const map = SharedHashMap.attach(heap, job.table);
const w = job.worker;
const owner = (w + job.workers - 1) % job.workers; // whose keys this worker deletes
const K = job.keysPerWorker;
// Start together: every worker attached (and past tsx's start-up) before any inserts.
const start = new Int32Array(job.start);
Atomics.add(start, 0, 1);
Atomics.notify(start, 0);
for (let v = Atomics.load(start, 0); v < job.workers; v = Atomics.load(start, 0)) Atomics.wait(start, 0, v);

let inserted = 0;
let updated = 0;
let deleted = 0;
let early = 0;

// The neighbour's keys to delete, tried as we go; a miss (not inserted yet) stays pending.
let pending: number[] = [];
for (let i = 0; i < K; i++) if (deletedByNeighbour(i)) pending.push(i);
const tryPending = (limit: number): void => {
  const left: number[] = [];
  let tried = 0;
  for (const i of pending) {
    if (tried < limit) {
      tried++;
      if (map.delete(keyOf(owner, i))) {
        deleted++;
        continue;
      }
      early++;
    }
    left.push(i);
  }
  pending = left;
};

for (let i = 0; i < K; i++) {
  if (map.set(keyOf(w, i), valueOf(w, i))) inserted++;
  if (updatedByOwner(i) && !map.set(keyOf(w, i), -valueOf(w, i))) updated++;
  const j = i - OWNER_DELETE_LAG;
  if (j >= 0 && deletedByOwner(j) && map.delete(keyOf(w, j))) deleted++;
  if (i % 8 === 7) tryPending(4);
}
for (let j = Math.max(0, K - OWNER_DELETE_LAG); j < K; j++) if (deletedByOwner(j) && map.delete(keyOf(w, j))) deleted++;
// The rest of the neighbour's keys: it may still be inserting them.
const nap = new Int32Array(new SharedArrayBuffer(4));
while (pending.length > 0) {
  const before = pending.length;
  tryPending(pending.length);
  if (pending.length === before) Atomics.wait(nap, 0, 0, 1);
}

const s = heap.stats().boxes;
const remoteFreedBefore = s.pageBox.remoteFreed + s.poolRefill.remoteFreed;
heap.detach(); // flushes this thread's caches: more remote frees on the way out
// A detached instance refuses every call (E_HEAP_CLOSED): its boxes' own counters stay readable.
const after = { pageBox: heap.boxes.pageBox.stats(), poolRefill: heap.boxes.poolRefill.stats() };
const report: WorkerReport = {
  worker: w, tid: heap.tid, inserted, updated, deleted, early,
  remoteFreed: Math.max(remoteFreedBefore, after.pageBox.remoteFreed + after.poolRefill.remoteFreed),
  detached: heap.isDetached,
};
parentPort!.postMessage(report);
