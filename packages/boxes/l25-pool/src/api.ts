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
 * Default bytes of free blocks one shard keeps cached: 64 MiB. A free beyond it (or
 * beyond `keepPerClass` in the block's class) unmaps the block, and os-boundary
 * coalesces it with its free neighbours for later maps. Measured on the bench's `large`
 * band with no splitting (README): 32 MiB → 73 MiB footprint, 64 MiB → 85 MiB and
 * 1.3–1.6× the band's speed (the misses, splits and unmaps all but gone).
 */
export const DEFAULT_L25_BUDGET = 64 << 20;

/**
 * Default split span: 1, an alloc never cuts a larger cached block (its class is empty:
 * it maps). With the 64 MiB budget splitting bought no hits on the `large` band and cost
 * footprint (splitSpan 2: 103 MiB, 1: 85 MiB) and time (every split restamps the block and
 * files or unmaps a tail); `splitSpan` > 1 turns it on (README).
 */
export const DEFAULT_SPLIT_SPAN = 1;
