/**
 * l25-pool's global state: one record per shard, from `ctx.slotOffset` in page 0 (Int32
 * words). A record is a whole number of 64-byte box slots (so each shard's lock word
 * sits in its own cache line); `n` = number of classes.
 *
 * ```
 *  word      field          written by                        read by
 *  0         lock           Atomics (shared heaps only)       -
 *  1         lockContended  under lock (cumulative)           stats
 *  2         bitmap         under lock: bit c ⇔ heads[c] ≠ 0   alloc (under lock)
 *  3         reserved (0)   - (the cached blocks are the sum of counts[]: not kept twice)
 *  4         cachedPages    under lock                        stats
 *  5         liveBlocks     under lock: +1 alloc here, −1     stats (summed over shards;
 *  6         livePages        free here (may go negative)       one shard's means nothing)
 *  7 .. 7+n-1   heads[c]    under lock: first cached block    alloc, free
 *                           of class c (0 = empty)
 *  7+n .. 7+2n-1 counts[c]  under lock: blocks in heads[c]    free (keep limit)
 *  .. record end            unused (0)
 * ```
 * Record length: `7 + 2n` words rounded up to 16 words (one box slot): 3 slots for the
 * 16 default classes, at most 5 slots (32 classes). Shard `s` starts at word
 * `(slotOffset >>> 2) + s * recordWords`. All-zero memory is a valid empty pool.
 *
 * Per block, in the page descriptor of its head page (contracts' PD_REGION_*):
 * state (`L25BlockState`), pages, next (the class list link while cached, 0 while live).
 */
import { GH_BOX_SLOT_BYTES } from '@hakmem/contracts';

export const L25_LOCK = 0;
export const L25_LOCK_CONTENDED = 1;
export const L25_BITMAP = 2;
export const L25_CACHED_PAGES = 4;
export const L25_LIVE_BLOCKS = 5;
export const L25_LIVE_PAGES = 6;
/** Word of heads[0]; counts[0] follows heads[numClasses - 1]. */
export const L25_HEADS = 7;

/** Int32 words of one shard record: `7 + 2 × numClasses` rounded up to whole box slots. */
export function l25ShardWords(numClasses: number): number {
  const slotWords = GH_BOX_SLOT_BYTES >>> 2;
  return Math.ceil((L25_HEADS + 2 * numClasses) / slotWords) * slotWords;
}

/**
 * Bytes of box state the composition root reserves at `ctx.slotOffset` for `shards`
 * shards of `numClasses` classes: a multiple of 64 (whole box slots).
 */
export function l25PoolStateBytes(shards: number, numClasses: number): number {
  return shards * l25ShardWords(numClasses) * 4;
}
