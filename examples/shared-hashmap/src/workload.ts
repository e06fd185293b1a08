// What each worker does to the map, as plain functions of (worker, index), so that the
// main thread can compute the final contents the workers must leave behind.

/** The i-th key of worker w: 6 to ~100 bytes, and every 50th one 3 000 bytes (a mid-tier node). */
export function keyOf(w: number, i: number): string {
  const pad = i % 50 === 1 ? 3000 : (i * 13 + w * 7) % 90;
  return `w${w}:k${i}:${'x'.repeat(pad)}`;
}

/** The value worker w first stores under its i-th key. */
export function valueOf(w: number, i: number): number {
  return w * 1_000_000 + i;
}

/**
 * Keys deleted by the next worker, (w + 1) % workers: their nodes were allocated by w and
 * are freed by another thread (remote frees). That worker may try before w inserted the
 * key; it retries until the delete succeeds.
 */
export const deletedByNeighbour = (i: number): boolean => i % 3 === 0;
/** Keys w deletes itself, a few steps after inserting them (local frees). */
export const deletedByOwner = (i: number): boolean => !deletedByNeighbour(i) && i % 5 === 0;
/** Keys w sets a second time, to minus the first value (an update in place). */
export const updatedByOwner = (i: number): boolean => !deletedByNeighbour(i) && !deletedByOwner(i) && i % 7 === 0;
/** How many inserts later the owner deletes a key. */
export const OWNER_DELETE_LAG = 4;

/** The contents the workers leave: every key neither of the two deletes removed, with its last value. */
export function expectedContents(workers: number, keysPerWorker: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let w = 0; w < workers; w++) {
    for (let i = 0; i < keysPerWorker; i++) {
      if (deletedByNeighbour(i) || deletedByOwner(i)) continue;
      m.set(keyOf(w, i), updatedByOwner(i) ? -valueOf(w, i) : valueOf(w, i));
    }
  }
  return m;
}

/** What the main thread sends each worker. */
export interface WorkerJob {
  readonly handle: import('@hakmem/allocator').SharedHeapHandle;
  readonly table: number;
  readonly worker: number;
  readonly workers: number;
  readonly keysPerWorker: number;
  /** One Int32 word: workers attached so far. Each waits until all have, so they run at once. */
  readonly start: SharedArrayBuffer;
  /** The TypeScript entry boot.mjs loads (worker.ts). */
  readonly script: string;
}

/** What each worker reports when it is done (after detach). */
export interface WorkerReport {
  readonly worker: number;
  readonly tid: number;
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
  /** Deletes tried before the key's owner had inserted it (retried later). */
  readonly early: number;
  /** page-box and pool-refill: blocks this thread sent to their owners' remote-free lists. */
  readonly remoteFreed: number;
  readonly detached: boolean;
}
