import { PAGE_SIZE } from '@hakmem/contracts';

/** Default classes: every page count 1..16, i.e. 64 KiB, 128 KiB, … 1 MiB. */
export const DEFAULT_L25_CLASS_SIZES: readonly number[] = Object.freeze(Array.from({ length: 16 }, (_, i) => (i + 1) * PAGE_SIZE));

/** Default number of shards (a thread uses shard `(tid - 1) % shards`). */
export const DEFAULT_SHARDS = 8;

/** Default number of free blocks kept per class and shard before unmapping. */
export const DEFAULT_KEEP_PER_CLASS = 8;

/** The most classes a pool may have (the non-empty bitmap is one 32-bit word). */
export const L25_MAX_CLASSES = 32;

/** The most shards a pool may have. */
export const L25_MAX_SHARDS = 64;

/**
 * Default upper bound on the bytes of free blocks one shard keeps cached: 64 MiB. Below
 * it the live-proportional limit (`DEFAULT_L25_LIVE_SHARE`, `DEFAULT_L25_BUDGET_FLOOR`)
 * is what binds; a free beyond either (or beyond `keepPerClass` in the block's class)
 * unmaps the block, and os-boundary coalesces it with its free neighbours for later maps.
 */
export const DEFAULT_L25_BUDGET = 64 << 20;

/**
 * Default bytes a shard may keep cached whatever its live bytes: 1 MiB. A program whose
 * L2.5 blocks are few keeps about one block of each size it cycles through; a linear
 * memory never shrinks, so more sits idle while other tiers map fresh pages.
 */
export const DEFAULT_L25_BUDGET_FLOOR = 1 << 20;

/**
 * Default cached bytes per live byte of a shard: 8. The cache follows the live set down
 * (a program done with its L2.5 blocks keeps the floor, not its old peak) but stays large
 * enough for a high-churn live set: a miss costs a map, a registry stamp and, at the
 * next free over the limit, an unmap — metadata only, but some thousand instructions
 * with os-boundary's first fit, against a few dozen for a hit (README: the share against
 * misses and footprint on the `large` band).
 */
export const DEFAULT_L25_LIVE_SHARE = 8;

/**
 * Default split span: 1, an alloc never cuts a larger cached block (its class is empty:
 * it maps). With the 64 MiB budget splitting bought no hits on the `large` band and cost
 * footprint (splitSpan 2: 103 MiB, 1: 85 MiB) and time (every split restamps the block and
 * files or unmaps a tail); `splitSpan` > 1 turns it on (README).
 */
export const DEFAULT_SPLIT_SPAN = 1;
