// A worker of the kill test (packages/allocator/test/kill.test.ts) and of the fuzz
// campaign's kill cases (tools/fuzz/kill.ts): attaches to the shared heap it is given and
// runs a random malloc / free / realloc stress over every size tier until it is told to
// stop — or is terminated, anywhere. Everything the creator needs after a kill is in the
// shared table it is given (tools/fuzz/kill.ts, "table"), written with plain stores in an
// order that leaves no window: a slot says ALLOCATING before malloc and holds the pointer
// in the store right after malloc returns (V8 stops a thread only at a function's entry or
// a loop's back-edge, never between a call's return and the next store); it says FREEING
// (with a random tag written into the block at offset 8) before free, and is cleared right
// after. Blocks carry a pattern derived from their address and size (bytes 0..63 and the
// last one), checked before they are freed.
import { parentPort, workerData } from 'node:worker_threads';
import { attachHeap } from '@hakmem/allocator';
import {
  C_PAUSE, C_RELEASE, C_RESUME, S_ALLOCATING, S_EMPTY, S_FREEING, S_LIVE, S_REALLOCATING, S_UNFILLED, SLOT_BASE, SLOT_WORDS,
  W_CMD, W_FINAL_OPS, W_INCALL, W_OPS, W_STATE, W_TID, WS_DETACHED, WS_FINISHED, WS_PAUSED, WS_RUNNING,
  fillBlock, randomSize, recordMismatch, verifyBlock, xorshift, type KillWorkerJob,
} from './kill-table.js';

const job = (workerData as { data: KillWorkerJob }).data;
const t = new Int32Array(job.table);
const heap = attachHeap(job.handle);
const rand = xorshift(job.seed);
const slots = job.slots;
const FINAL_SIZES = [24, 700, 2048, 5000, 40_000, 65_535, 100_000, 600_000, 1 << 20, (1 << 20) + 1, 3 << 20];

Atomics.store(t, W_TID, heap.tid);
Atomics.store(t, W_STATE, WS_RUNNING);

function slot(k: number): number {
  return SLOT_BASE + k * SLOT_WORDS;
}

/** One random operation on slot k. */
function step(k: number): void {
  const s = slot(k);
  const state = t[s + 2]!;
  if (state === S_EMPTY) {
    const n = randomSize(rand);
    t[s + 1] = n;
    t[s + 2] = S_ALLOCATING;
    t[W_INCALL] = 1;
    const p = heap.malloc(n);
    t[s] = p;
    t[s + 2] = p === 0 ? S_EMPTY : S_UNFILLED;
    t[W_INCALL] = 0;
    if (p === 0) return;
    fillBlock(heap.views.u8, p, n);
    t[s + 2] = S_LIVE;
    return;
  }
  const p = t[s]!;
  const n = t[s + 1]!;
  if (!verifyBlock(heap, p, n)) recordMismatch(t, heap, p, n, 1);
  const tag = rand() | 1;
  const free = (rand() & 3) !== 0;
  const m = randomSize(rand);
  const u32 = heap.views.u32;
  // One run of stores: the slot's state and the block's tag change together.
  t[s + 3] = tag;
  t[s + 2] = free ? S_FREEING : S_REALLOCATING;
  u32[(p + 8) >>> 2] = tag;
  if (free) {
    t[W_INCALL] = 2;
    heap.free(p);
    t[s + 2] = S_EMPTY;
    t[s] = 0;
    t[W_INCALL] = 0;
    return;
  }
  t[W_INCALL] = 3;
  const q = heap.realloc(p, m);
  if (q !== 0) {
    t[s] = q;
    t[s + 1] = m;
  }
  t[s + 2] = S_UNFILLED;
  t[W_INCALL] = 0;
  // The whole block gets a fresh pattern (a moved block carries the old one, and the tag).
  fillBlock(heap.views.u8, t[s]!, t[s + 1]!);
  t[s + 2] = S_LIVE;
}

// Run until told otherwise (the creator may terminate this thread at any point of this loop).
while (Atomics.load(t, W_CMD) === 0) {
  step(rand() % slots);
  t[W_OPS]!++;
}

// Paused: a quiet point (no call in progress), until resumed.
Atomics.store(t, W_STATE, WS_PAUSED);
while (Atomics.load(t, W_CMD) === C_PAUSE) Atomics.wait(t, W_CMD, C_PAUSE, 50);

if (Atomics.load(t, W_CMD) === C_RESUME) {
  // After the kill: every tier still serves this thread (no lock left held), and its own blocks kept their contents.
  for (let k = 0; k < slots; k++) {
    const s = slot(k);
    if (t[s + 2] === S_LIVE && !verifyBlock(heap, t[s]!, t[s + 1]!)) recordMismatch(t, heap, t[s]!, t[s + 1]!, 2);
  }
  for (let r = 0; r < 3; r++) {
    for (const n of FINAL_SIZES) {
      const p = heap.malloc(n);
      if (p === 0) throw new Error(`final phase: malloc(${n}) failed in thread ${heap.tid}`);
      fillBlock(heap.views.u8, p, n);
      if (!verifyBlock(heap, p, n)) recordMismatch(t, heap, p, n, 2);
      heap.free(p);
      t[W_FINAL_OPS]!++;
    }
  }
  Atomics.store(t, W_STATE, WS_FINISHED);
  while (Atomics.load(t, W_CMD) === C_RESUME) Atomics.wait(t, W_CMD, C_RESUME, 50);
}

// Release: free what it holds, detach, report.
if (Atomics.load(t, W_CMD) === C_RELEASE) {
  for (let k = 0; k < slots; k++) {
    const s = slot(k);
    if (t[s + 2] === S_LIVE || t[s + 2] === S_UNFILLED) {
      if (t[s + 2] === S_LIVE && !verifyBlock(heap, t[s]!, t[s + 1]!)) recordMismatch(t, heap, t[s]!, t[s + 1]!, 3);
      heap.free(t[s]!);
      t[s + 2] = S_EMPTY;
    }
  }
  heap.detach();
  Atomics.store(t, W_STATE, WS_DETACHED);
}
parentPort!.postMessage({ tid: heap.tid });
