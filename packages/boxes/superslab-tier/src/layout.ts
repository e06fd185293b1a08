/**
 * superslab-tier's global state: one 64-byte box slot in page 0 (Int32 words).
 *
 * ```
 *  word  field          written by                 read by
 *  0     lock           Atomics (shared heaps)     -
 *  1     retainedHead   under lock                 under lock
 *  2     retained       under lock                 stats
 *  3     hot            under lock                 stats
 *  4     draining       under lock                 stats
 *  5     mapped         under lock (cumulative)    stats
 *  6     unmapped       under lock (cumulative)    stats
 *  7     reused         under lock (cumulative)    stats
 *  8     guardDeferred  under lock (cumulative)    stats
 *  9     lockContended  under lock (cumulative)    stats
 *  10    journal        under lock: cleared when   recover() (reclaim of a thread that
 *                       the lock is taken; then     died holding the lock)
 *                       `base | 1` (mapped, not yet committed) or
 *                       `base | 2 | state << 2` (a release in progress from `state`)
 * ```
 * Per SuperSlab, in the page descriptor of its first page (see contracts' PD_REGION_*):
 * state (HOT/DRAINING/FREE), guard (pins), mask (free slabs), next (retained list link),
 * pages (16), aux ({@link SS_DESC_RELEASE_DEFERRED}).
 */
import { PD_REGION_AUX } from '@hakmem/contracts';

export const SS_LOCK = 0;
export const SS_RETAINED_HEAD = 1;
export const SS_RETAINED = 2;
export const SS_HOT = 3;
export const SS_DRAINING = 4;
export const SS_MAPPED = 5;
export const SS_UNMAPPED = 6;
export const SS_REUSED = 7;
export const SS_GUARD_DEFERRED = 8;
export const SS_LOCK_CONTENDED = 9;
/** Word: the journal of the operation in progress under the lock (0 = nothing to undo); see recover(). */
export const SS_JOURNAL = 10;
/** Journal flag: the SuperSlab was mapped and is not committed yet. */
export const SS_JOURNAL_FRESH = 1;
/** Journal flag: a release of the SuperSlab is in progress (its state before it in bits 2..3). */
export const SS_JOURNAL_RELEASE = 2;

/**
 * Page-descriptor word (of a SuperSlab's first page) that records a release deferred by
 * the guard: 1 from a `releaseSuperSlab` that found pins until the last `guardExit`
 * completes it, else 0. It tells a deferred release apart from a SuperSlab that is merely
 * DRAINING (`markDraining`, still held by its holder), which `guardExit` must not free.
 * Written with `Atomics` in a shared heap (set before the guard is read, so a concurrent
 * last `guardExit` either sees it or is seen as guard 0); cleared under the lock.
 * The box-specific PD_REGION_AUX word of contracts' layout.
 */
export const SS_DESC_RELEASE_DEFERRED = PD_REGION_AUX;
