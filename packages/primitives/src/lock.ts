/**
 * A mutex over one Int32Array word in shared memory: the classic three-state futex lock
 * (U. Drepper, "Futexes Are Tricky", mutex #2) with a bounded spin before sleeping.
 *
 * ```
 *  word  0  unlocked
 *        1  locked, nobody sleeps on it
 *        2  locked, a thread may sleep on it (release must notify)
 * ```
 * A thread that sleeps always re-takes the lock with 2, so a release that finds 2 wakes
 * one sleeper, and the woken thread marks the word 2 again before it sleeps or enters:
 * no wake-up is lost, and an uncontended release costs one atomic exchange and no notify.
 *
 * Threads that may not block (a browser's main thread) only spin; they take the lock
 * with 1 like the fast path, which the protocol allows.
 *
 * Not reentrant: a thread that acquires a lock it holds deadlocks (or, spinning, hangs).
 */

/** Lock word value: unlocked. */
export const LOCK_FREE = 0;
/** Lock word value: locked, no sleeper. */
export const LOCK_HELD = 1;
/** Lock word value: locked, sleepers possible. */
export const LOCK_SLEEPERS = 2;

/** Attempts with compareExchange before a blocking thread sleeps. */
const SPIN_LIMIT = 128;

/**
 * Takes the lock at `i32[index]`.
 *
 * Pre: `i32` views a SharedArrayBuffer (or a shared WebAssembly.Memory) when other
 * threads use the lock; `canBlock` is `canBlockHere()` of the calling thread.
 * Post: the caller holds the lock. Returns 0 when it was free at once (cost: one
 * compareExchange), 1 when the caller had to spin or sleep (feed a contention counter).
 */
export function lockAcquire(i32: Int32Array, index: number, canBlock: boolean): number {
  if (Atomics.compareExchange(i32, index, LOCK_FREE, LOCK_HELD) === LOCK_FREE) return 0;
  lockAcquireContended(i32, index, canBlock);
  return 1;
}

/** Slow path of {@link lockAcquire}: spin (forever when the thread cannot block), then sleep. */
function lockAcquireContended(i32: Int32Array, index: number, canBlock: boolean): void {
  for (let spins = 0; spins < SPIN_LIMIT || !canBlock; spins++) {
    if (Atomics.load(i32, index) === LOCK_FREE
      && Atomics.compareExchange(i32, index, LOCK_FREE, LOCK_HELD) === LOCK_FREE) return;
  }
  while (Atomics.exchange(i32, index, LOCK_SLEEPERS) !== LOCK_FREE) {
    Atomics.wait(i32, index, LOCK_SLEEPERS);
  }
}

/**
 * Releases the lock at `i32[index]`, waking one sleeper when there may be one.
 * Pre: the caller holds the lock. Cost: one atomic exchange (plus a notify if contended).
 */
export function lockRelease(i32: Int32Array, index: number): void {
  if (Atomics.exchange(i32, index, LOCK_FREE) === LOCK_SLEEPERS) Atomics.notify(i32, index, 1);
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
