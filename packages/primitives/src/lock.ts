/**
 * A mutex over one Int32Array word in shared memory: the classic three-state futex lock
 * (U. Drepper, "Futexes Are Tricky", mutex #2) with a bounded spin before sleeping, whose
 * word also records who holds it.
 *
 * ```
 *  word   31                                   2 1   0
 *        +--------------------------------------+-----+
 *        | holder (0 = anonymous, 1 .. 2^29 − 1) |state|
 *        +--------------------------------------+-----+
 *  state 0 unlocked (the whole word is 0: LOCK_FREE)
 *        1 locked, nobody sleeps on it         (LOCK_HELD with holder 0)
 *        2 locked, a thread may sleep on it    (LOCK_SLEEPERS with holder 0; release must notify)
 * ```
 * A thread that sleeps always re-takes the lock in state 2, so a release that finds 2 wakes
 * one sleeper, and the woken thread marks the word 2 again before it sleeps or enters:
 * no wake-up is lost, and an uncontended acquire costs one compareExchange, a release one
 * exchange and no notify — as without the holder field. The holder is what `lockHolder`
 * reads, so that when a thread dies holding a lock (a terminated worker) another thread can
 * find the locks it held, repair what they protect and release them on its behalf
 * (`lockRelease` by the repairing thread, or `lockBreak`). Callers without an identity
 * pass none (holder 0): the word values are then exactly those of the plain futex lock.
 *
 * Threads that may not block (a browser's main thread) only spin; they take the lock in
 * state 1 like the fast path, which the protocol allows. A sleeper sleeps in slices of
 * 50 ms, so that a woken sleeper terminated before it took the lock does not leave the
 * others asleep on a free lock (a lost wake-up costs one slice at most).
 *
 * Not reentrant: a thread that acquires a lock it holds deadlocks (or, spinning, hangs).
 */

/** Lock word value: unlocked. */
export const LOCK_FREE = 0;
/** Lock word state (low 2 bits): locked, no sleeper. */
export const LOCK_HELD = 1;
/** Lock word state (low 2 bits): locked, sleepers possible. */
export const LOCK_SLEEPERS = 2;
/** The holder field starts at this bit of the lock word. */
export const LOCK_HOLDER_SHIFT = 2;
/** The largest holder id a lock word can record. */
export const MAX_LOCK_HOLDER = (1 << 29) - 1;

/** Attempts with compareExchange before a blocking thread sleeps. */
const SPIN_LIMIT = 128;
/**
 * A sleeper sleeps at most this long at a time, then looks at the word again: a release
 * wakes one sleeper, and if that one is terminated before it takes the lock (a worker
 * killed right there), the others would sleep on a free lock forever.
 */
const SLEEP_SLICE_MS = 50;

/**
 * Takes the lock at `i32[index]` for `holder` (0 = anonymous, else an id in
 * 1..MAX_LOCK_HOLDER that names the calling thread, e.g. its heap thread id).
 *
 * Pre: `i32` views a SharedArrayBuffer (or a shared WebAssembly.Memory) when other
 * threads use the lock; `canBlock` is `canBlockHere()` of the calling thread.
 * Post: the caller holds the lock and the word names `holder`. Returns 0 when it was free
 * at once (cost: one compareExchange), 1 when the caller had to spin or sleep (feed a
 * contention counter).
 */
export function lockAcquire(i32: Int32Array, index: number, canBlock: boolean, holder = 0): number {
  const held = (holder << 2) | 1;
  if (Atomics.compareExchange(i32, index, 0, held) === 0) return 0;
  lockAcquireContended(i32, index, canBlock, held);
  return 1;
}

/** Slow path of {@link lockAcquire}: spin (forever when the thread cannot block), then sleep. */
function lockAcquireContended(i32: Int32Array, index: number, canBlock: boolean, held: number): void {
  for (let spins = 0; spins < SPIN_LIMIT || !canBlock; spins++) {
    if (Atomics.load(i32, index) === 0 && Atomics.compareExchange(i32, index, 0, held) === 0) return;
  }
  const sleeping = held + 1; // holder | state 2: a sleeper re-takes the lock marked "sleepers possible"
  for (;;) {
    const v = Atomics.load(i32, index);
    if (v === 0) {
      if (Atomics.compareExchange(i32, index, 0, sleeping) === 0) return;
      continue;
    }
    // Mark the word "sleepers possible" (keeping its holder), then sleep while it says so.
    const marked = (v & ~3) | 2;
    if (v === marked || Atomics.compareExchange(i32, index, v, marked) === v) Atomics.wait(i32, index, marked, SLEEP_SLICE_MS);
  }
}

/**
 * Releases the lock at `i32[index]`, waking one sleeper when there may be one.
 * Pre: the caller holds the lock, or repairs for the thread that held it and died.
 * Cost: one atomic exchange (plus a notify if contended).
 */
export function lockRelease(i32: Int32Array, index: number): void {
  if ((Atomics.exchange(i32, index, 0) & 3) === 2) Atomics.notify(i32, index, 1);
}

/** The holder the lock word at `i32[index]` names (0 = anonymous), or -1 when the lock is free. */
export function lockHolder(i32: Int32Array, index: number): number {
  const v = Atomics.load(i32, index);
  return v === 0 ? -1 : v >>> 2;
}

/**
 * Releases the lock at `i32[index]` on behalf of `holder`, who is gone (a terminated
 * worker), as its own `lockRelease` would have — only if the word still names `holder`.
 * Returns true when it released it. Pre: whatever the lock protects is consistent (the
 * caller repaired it first); `holder` names exactly one thread (not 0).
 */
export function lockBreak(i32: Int32Array, index: number, holder: number): boolean {
  for (;;) {
    const v = Atomics.load(i32, index);
    if (v === 0 || v >>> 2 !== holder) return false;
    if (Atomics.compareExchange(i32, index, v, 0) === v) {
      if ((v & 3) === 2) Atomics.notify(i32, index, 1);
      return true;
    }
  }
}

/** -1 unknown, 0 no, 1 yes; per thread (each worker loads its own copy of this module). */
let blockable = -1;

/**
 * True when this thread may call `Atomics.wait` (workers, Node's main thread); false on
 * a browser's main thread or where SharedArrayBuffer is unavailable. Probed once per
 * thread with a zero-timeout wait on a scratch word, then cached.
 */
export function canBlockHere(): boolean {
  if (blockable < 0) blockable = probeWait() ? 1 : 0;
  return blockable === 1;
}

function probeWait(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0);
    return true;
  } catch {
    return false;
  }
}
