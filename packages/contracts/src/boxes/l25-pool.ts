import type { Ptr } from '../pointer.js';
import type { RegionSource } from './os-boundary.js';
import type { Box, RecoverableBox } from './common.js';

export interface L25PoolOptions {
  /** Where blocks come from and go back to (os-boundary). */
  readonly regions: RegionSource & { unmap(addr: Ptr, bytes: number): void; end(): number };
  /**
   * Class sizes in bytes: multiples of 64 KiB, ascending, at most 32 classes; the last one
   * must hold the route's `l25Max`. Default: every page count 1..16 (64 KiB … 1 MiB).
   */
  readonly classSizes?: readonly number[];
  /** Number of shards, 1..64 (a thread uses shard `(tid - 1) % shards`). Default 8. */
  readonly shards?: number;
  /** Free blocks kept per class and shard before unmapping. Default 8. */
  readonly keepPerClass?: number;
  /**
   * Upper bound on the bytes of free blocks one shard keeps (a non-negative integer).
   * Default 64 MiB. Within it the shard's limit is `max(budgetFloor, liveShare × its live
   * bytes)`: a free that would take the shard's cached bytes above the limit unmaps the
   * block, and then one more cached block of the shard when it is still above the limit
   * (its live bytes fell), so that the cache follows the live bytes down.
   */
  readonly budget?: number;
  /** Cached bytes a shard may keep whatever its live bytes (a non-negative integer). Default 1 MiB. */
  readonly budgetFloor?: number;
  /**
   * Cached bytes a shard may keep per live byte (a number in 0..64, in steps of 1/256;
   * the shard's live bytes are what it handed out minus what was freed into it). Default 8.
   */
  readonly liveShare?: number;
  /**
   * When a class is empty, an alloc may split a cached block of up to `splitSpan` times
   * its pages (an integer ≥ 1; 1: never split). Default 1.
   */
  readonly splitSpan?: number;
}

export interface L25PoolStats {
  /** `alloc` calls served from a shard's cache (this thread's counter). */
  hits: number;
  /** `alloc` calls that went to `regions.map` (this thread's counter). */
  misses: number;
  /** Cached blocks split to serve a smaller class (this thread's counter). */
  splits: number;
  /** Successful `regions.map` calls (this thread's counter). */
  mapped: number;
  /** Blocks (or split tails) given back through `regions.unmap` (this thread's counter). */
  unmapped: number;
  /** Free blocks cached now in all shards, and their bytes (from the linear memory). */
  cachedBlocks: number;
  cachedBytes: number;
  /** Live blocks now in all shards, and their bytes (from the linear memory). */
  liveBlocks: number;
  liveBytes: number;
  /** Shard-lock acquisitions that found the lock held (shared heaps; all shards). */
  lockContended: number;
}

/**
 * 64 KiB – 1 MiB in page-granular classes, sharded so threads rarely meet; each shard
 * keeps a non-empty bitmap so an empty class is skipped in O(1).
 *
 * A block is a run of whole 64 KiB pages mapped through `regions`. Every page of a block
 * (live or cached) is stamped `PageKind.L25` in the registry (class = the block's class,
 * thread = the tid that last allocated it, aux = page index in the block, 0 = head);
 * the head page's descriptor holds `PD_REGION_STATE` (`L25BlockState`),
 * `PD_REGION_PAGES` and, while cached, `PD_REGION_NEXT` (the class list link). Shard
 * state (lock, bitmap, list heads and counts, counters) lives in the box's state slots
 * in page 0 (`ctx.slotOffset`, `l25PoolStateBytes(...)` bytes), so any thread can free
 * into its own shard under that shard's lock.
 *
 * Common failure contract: exhaustion returns 0 with nothing changed; the methods that
 * take a pointer have the precondition that the gatekeeper validated it.
 */
export interface L25Pool extends Box<L25PoolStats>, Partial<RecoverableBox> {
  readonly numClasses: number;
  /** Block size of each class in bytes (index = class). */
  readonly classSizes: Int32Array;
  /** Pre: `1 <= size <= classSizes[numClasses - 1]`. Post: the smallest class that holds it. */
  classOf(size: number): number;
  /**
   * A live block of class `cls` (64 KiB aligned): from this thread's shard, the class's
   * list first, else the smallest larger non-empty class within `splitSpan` (split: the tail pages are
   * cached in their own class, or unmapped over the keep limit), else mapped.
   * Returns 0 on exhaustion (after unmapping this shard's cached blocks and retrying the
   * map once); never throws.
   */
  alloc(cls: number): Ptr;
  /** True when every byte of the block returned by the last successful `alloc` reads as zero. */
  lastAllocZeroed(): boolean;
  /**
   * Pre: `ptr` is the head of a live block (the gatekeeper checked registry and state).
   * Post: cached in this thread's shard (state CACHED), or unmapped when its class there
   * already holds `keepPerClass` blocks or the shard's cached bytes would exceed its
   * limit, `min(budget, max(budgetFloor, liveShare × the shard's live bytes))` (registry
   * cleared first); in the latter case, when the shard's cached bytes are still above the
   * limit, one of its cached blocks is unmapped too. A free never takes them above it. Never throws.
   */
  free(ptr: Ptr): void;
  /** Pre: `ptr` is the head of a live block. Post: its usable bytes (its pages × 64 KiB). */
  usableSize(ptr: Ptr): number;
  /** Unmaps every cached block of every shard; returns bytes unmapped. Never throws. */
  trim(): number;
}
