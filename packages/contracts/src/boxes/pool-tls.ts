import type { Ptr } from '../pointer.js';
import type { BlockSink, BlockSource } from '../chain.js';
import type { Box, FlushableBox } from './common.js';

export interface PoolTlsOptions {
  /** Block sizes of the mid classes, ascending. Default: the built-in table covering tinyMax+1 .. poolMax. */
  readonly classSizes?: readonly number[];
  /** Blocks kept per class before spilling to the refill box. Default per class. */
  readonly capacity?: number | readonly number[];
  /** Where blocks come from and overflow goes (pool-refill). */
  readonly source: BlockSource & BlockSink;
}

export interface PoolTlsStats {
  refills: number;
  refillBlocks: number;
  spills: number;
  spillBlocks: number;
  cached: number;
}

/**
 * Per-thread free lists for every size between the tiny range and the L2.5 range.
 * No locks or atomics on the hot path. Bounded per class (Contract C).
 */
export interface PoolTls extends Box<PoolTlsStats>, FlushableBox {
  readonly numClasses: number;
  /** Block size of each class (index = class). */
  readonly classSizes: Int32Array;
  /** Pre: `size` within this box's range. Post: the smallest class that holds it. */
  classOf(size: number): number;
  /** Hot path: a free block of class `cls`, refilling from the source on a miss; 0 on exhaustion. */
  alloc(cls: number): Ptr;
  /** Hot path: takes back a validated block of class `cls`, spilling on overflow. */
  free(cls: number, ptr: Ptr): void;
}
