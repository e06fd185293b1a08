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
 * Default bytes of free blocks one shard keeps cached: 32 MiB. A free beyond it (or
 * beyond `keepPerClass` in the block's class) unmaps the block, and os-boundary
 * coalesces it with its free neighbours for later maps. Measured on the bench's `large`
 * band (README): 16 MiB → 76 MiB footprint and 9× the misses of 32 MiB (94 MiB).
 */
export const DEFAULT_L25_BUDGET = 32 << 20;

/**
 * Default split span: an alloc takes a cached block of at most 2× its pages when its own
 * class is empty (the tail is cached in its class). Unbounded splitting cut large blocks
 * for small requests with no gain in hits on the `large` band (README).
 */
export const DEFAULT_SPLIT_SPAN = 2;
