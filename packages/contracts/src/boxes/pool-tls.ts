import type { Ptr } from '../pointer.js';
import type { BlockSink, BlockSource } from '../chain.js';
import type { Box, FlushableBox } from './common.js';

export interface PoolTlsOptions {
  /**
   * Block sizes of the mid classes, ascending multiples of 512 up to 65536; the first
   * above the route's tinyMax, the last at least its poolMax. Default: the built-in table
   * (four classes per doubling, 2560 … 65536).
   */
  readonly classSizes?: readonly number[];
  /** Blocks kept per class before spilling to the refill box: one number or one per class, 1..4096. Default per class (see the box's README). */
  readonly capacity?: number | readonly number[];
  /**
   * The cache budget that follows the live set. A class `c` caches at most
   * `limit(c) = min(capacity(c), max(1, floor((minBytes + share × live(c)) / size(c))))`
   * blocks, where `live(c)` is the bytes of class `c` this cache took from its source,
   * net of what it gave back, less what it caches now (what the thread holds live). A
   * free beyond the limit spills down to half of it; a refill brings at most half of it.
   * The limit is recomputed on those slow paths only. `false`: fixed counts (the limit
   * is the capacity). Default `{ minBytes: 131072, share: 0.25 }`.
   */
  readonly budget?: false | { readonly minBytes: number; readonly share: number };
  /** Where blocks come from and overflow goes (pool-refill). */
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

export interface PoolTlsStats {
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
  /** Bytes of the blocks cached now. */
  cachedBytes: number;
  /** Bytes the classes may cache now (Σ limit × size): the budget. */
  budgetBytes: number;
}

/**
 * Per-thread free lists for every size between the tiny range and the L2.5 range: the
 * mid tier's HOT layer. Thread-local JS typed arrays, no locks or atomics. Bounded per
 * class (Contract C: refill and spill batches never exceed MAX_BATCH), by a budget that
 * follows what the thread holds live (`options.budget`).
 *
 * Invariants: `0 <= count(c) <= limit(c) <= capacity(c)`; every cached block is free, of class c,
 * and in no other list.
 */
export interface PoolTls extends Box<PoolTlsStats>, FlushableBox {
  readonly numClasses: number;
  /** Block size of each class (index = class). */
  readonly classSizes: Int32Array;
  /** Pre: `0 <= size <= classSizes[numClasses - 1]`, an integer. Post: the smallest class that holds it. One table read. */
  classOf(size: number): number;
  /** Hot path: a free block of class `cls`, refilling one bounded batch from the source on a miss; 0 on exhaustion. Never throws. */
  alloc(cls: number): Ptr;
  /** Hot path: takes back a validated block of class `cls`, spilling down to half its limit on overflow. Never throws. */
  free(cls: number, ptr: Ptr): void;
  /**
   * Slow path (the exact double-free check, `heap.isAllocated`): true when `ptr` sits in
   * this cache's class `cls` now. A scan of the class; never throws.
   */
  holds(cls: number, ptr: Ptr): boolean;
  /** Blocks cached in class `cls` now. */
  count(cls: number): number;
  /** Capacity of class `cls`. */
  capacity(cls: number): number;
  /** Blocks class `cls` may cache now (the budget, `1..capacity(cls)`); a free beyond it spills. */
  limit(cls: number): number;
}
