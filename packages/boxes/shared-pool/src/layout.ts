/**
 * shared-pool's global state: one 64-byte box slot in page 0 (Int32 words).
 *
 * ```
 *  word  field          written by              read by
 *  0     lock           Atomics (shared heaps)  -
 *  1     head           under lock              under lock   first held SuperSlab (0 = none)
 *  2     held           under lock              stats
 *  3     lent           under lock              stats        (cumulative)
 *  4     returned       under lock              stats        (cumulative)
 *  5     fromTier       under lock              stats        (cumulative)
 *  6     toTier         under lock              stats        (cumulative)
 *  7     lockContended  under lock              stats        (cumulative)
 *  8     journal        under lock: cleared     recover()    a slab whose release is in
 *                       as the lock is taken                 progress (0 = none)
 * ```
 * Held SuperSlabs form a doubly linked list through PD_REGION_NEXT / PD_REGION_PREV of
 * their first page descriptor; a held SuperSlab has PD_REGION_OWNER = 0.
 */
export const SP_LOCK = 0;
export const SP_HEAD = 1;
export const SP_HELD = 2;
export const SP_LENT = 3;
export const SP_RETURNED = 4;
export const SP_FROM_TIER = 5;
export const SP_TO_TIER = 6;
export const SP_LOCK_CONTENDED = 7;
/** Word: the slab of the releaseSlab in progress under the lock (recover() finishes it); 0 = none. */
export const SP_JOURNAL = 8;
