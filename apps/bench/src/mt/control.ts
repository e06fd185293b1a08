/**
 * The control block every worker of a run shares with the main thread: one Int32Array
 * over a SharedArrayBuffer, each word on its own 64-byte line.
 *
 * ```
 *  word  0  GO    0 until the main thread releases the timed phase, then 1 (workers sleep on it)
 *  word 16  STOP  1 when a fixed-time workload's time is up (larson), or to close standbys
 * ```
 * The main thread writes both; workers only read them.
 */
export const CTL_GO = 0;
export const CTL_STOP = 16;
const CTL_WORDS = 32;

export function createControl(): SharedArrayBuffer {
  return new SharedArrayBuffer(CTL_WORDS * 4);
}

/** Worker: sleeps until the main thread releases the timed phase. */
export function awaitGo(ctl: Int32Array): void {
  while (Atomics.load(ctl, CTL_GO) === 0) Atomics.wait(ctl, CTL_GO, 0);
}

/** Main thread: starts every worker's timed phase at once. */
export function releaseGo(ctl: Int32Array): void {
  Atomics.store(ctl, CTL_GO, 1);
  Atomics.notify(ctl, CTL_GO);
}

export function signalStop(ctl: Int32Array): void {
  Atomics.store(ctl, CTL_STOP, 1);
  Atomics.notify(ctl, CTL_STOP);
}

export function stopped(ctl: Int32Array): boolean {
  return Atomics.load(ctl, CTL_STOP) !== 0;
}

/**
 * A clock all threads share: each worker's performance.now() counts from its own
 * timeOrigin, so timestamps compared across threads add it (ms; a double keeps better
 * than a microsecond at today's epoch).
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The seed of thread (or pair, or lineage) `k` of a run seeded `seed`: thread 0 takes the
 * run's seed itself (so one thread of mid-large-mt replays the single-thread `pool` band
 * exactly), the others a hash of it; never 0 (xorshift32 stays at 0), the same in every
 * subject's run.
 */
export function threadSeed(seed: number, k: number): number {
  if (k === 0) return seed >>> 0 || 1;
  let x = (seed ^ Math.imul(k + 1, 0x9e3779b9)) | 0;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0 || 1;
}
