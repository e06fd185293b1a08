import type { Ptr } from '../pointer.js';
import type { BlockSink, BlockSource } from '../chain.js';
import type { Box, FlushableBox } from './common.js';

/** The largest refill or spill batch any cache may request (Contract C; HAKMEM's out[256] bug). */
export const MAX_BATCH = 256;

export interface UnifiedCacheOptions {
  /** Number of tiny classes. */
  readonly numClasses: number;
  /** Capacity per class (blocks); one number for all, or one per class. Default 128. */
  readonly capacity?: number | readonly number[];
  /** Refill batch per class, clamped to `[1, min(capacity, MAX_BATCH)]`. Default capacity / 2. */
  readonly batch?: number | readonly number[];
  /** Where refills come from and spills go (page-box). */
  readonly source: BlockSource & BlockSink;
  /**
   * Where to keep the stacks: called once with the number of Int32 words needed, returns
   * an Int32Array of exactly that length. The composition root of a shared heap passes
   * the thread's local region in the linear memory, so that another thread can collect
   * the blocks cached here if this thread dies (`heap.reclaim`). When the array already
   * holds this cache's layout (same classes and capacities: an adopted thread id's
   * region), its contents are kept. Default: a new JS-side Int32Array.
   */
  readonly storage?: (words: number) => Int32Array;
}

export interface UnifiedCacheStats {
  /** Misses that called the source (cumulative). */
  refills: number;
  /** Blocks received from refills. */
  refillBlocks: number;
  /** Overflows that spilled to the sink. */
  spills: number;
  /** Blocks spilled. */
  spillBlocks: number;
  /** Blocks cached now, all classes. */
  cached: number;
}

/**
 * Per-thread, per-class array of free blocks: the HOT layer.
 *
 * Thread-local: its arrays are JS typed arrays of the owning thread (no atomics).
 * Invariants: `0 <= count(c) <= capacity(c)`; every cached block is free, of class c,
 * and in no other list; refill batches never exceed MAX_BATCH.
 */
export interface UnifiedCache extends Box<UnifiedCacheStats>, FlushableBox {
  /**
   * Hot path. Post: a free block of class `cls`, or 0 when the class's array is empty.
   * Cost: two typed-array reads and one write. Never throws.
   */
  pop(cls: number): Ptr;
  /**
   * Hot path. Pre: `ptr` is a validated free block of class `cls`.
   * Post: true when cached; false when the class is full (the caller calls `spill`).
   */
  push(cls: number, ptr: Ptr): boolean;
  /**
   * Slow path after `pop` returned 0: refills class `cls` with one bounded batch from
   * the source and returns one block of it, or 0 when the source is exhausted.
   */
  refill(cls: number): Ptr;
  /**
   * Slow path after `push` returned false: spills half the class to the sink, then
   * caches `ptr`. Never throws.
   */
  spill(cls: number, ptr: Ptr): void;
  /**
   * Slow path (the exact double-free check, `heap.isAllocated`): true when `ptr` sits in
   * this cache's class `cls` now. A scan of the class; never throws.
   */
  holds(cls: number, ptr: Ptr): boolean;
  /** Blocks cached in class `cls` now. */
  count(cls: number): number;
  /** Capacity of class `cls`. */
  capacity(cls: number): number;
}
