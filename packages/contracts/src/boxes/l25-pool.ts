import type { Ptr } from '../pointer.js';
import type { RegionSource } from './os-boundary.js';
import type { Box } from './common.js';

export interface L25PoolOptions {
  /** Class sizes in bytes, multiples of 64 KiB, ascending, from above poolMax to l25Max. Default: the built-in table. */
  readonly classSizes?: readonly number[];
  /** Number of shards (threads map to shards by thread id). Default 8. */
  readonly shards?: number;
  /** Free blocks kept per class and shard before unmapping. Default per class. */
  readonly keepPerClass?: number;
  /** Where bundles come from (os-boundary). */
  readonly regions: RegionSource & { unmap(addr: Ptr, bytes: number): void };
}

export interface L25PoolStats {
  hits: number;
  misses: number;
  /** Blocks mapped from os-boundary. */
  mapped: number;
  /** Blocks unmapped (over the keep limit, or trim). */
  unmapped: number;
  /** Free blocks cached now, and their bytes. */
  cachedBlocks: number;
  cachedBytes: number;
  lockContended: number;
}

/**
 * 64 KiB – 1 MiB in page-granular classes, sharded so threads rarely meet; each shard
 * keeps a non-empty bitmap so an empty class is skipped in O(1).
 */
export interface L25Pool extends Box<L25PoolStats> {
  readonly numClasses: number;
  readonly classSizes: Int32Array;
  /** Pre: `size` within this box's range. Post: its class. */
  classOf(size: number): number;
  /** A block of class `cls`; 0 on exhaustion. */
  alloc(cls: number): Ptr;
  /** Takes back a validated block. */
  free(ptr: Ptr): void;
  /** Usable bytes of a live block. */
  usableSize(ptr: Ptr): number;
  /** Unmaps every cached free block; returns bytes unmapped. */
  trim(): number;
}
