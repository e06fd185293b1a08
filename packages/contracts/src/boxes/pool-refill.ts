import type { BlockSink, BlockSource } from '../chain.js';
import type { RegionSource } from './os-boundary.js';
import type { Box } from './common.js';

export interface PoolRefillOptions {
  /** Block size of each mid class (from pool-tls). */
  readonly classSizes: Int32Array;
  /** Where arena chunks come from (os-boundary). */
  readonly regions: RegionSource;
  /** First arena chunk in bytes. Default 1 MiB. */
  readonly arenaInitial?: number;
  /** Largest arena chunk in bytes (growth 1 → 2 → 4 → 8 MiB). Default 8 MiB. */
  readonly arenaMax?: number;
  /** Blocks carved per class at start (pre-warm), or none. Default none (decided by measurement). */
  readonly prewarm?: readonly number[];
}

export interface PoolRefillStats {
  /** Arena chunks mapped. */
  chunks: number;
  /** Bytes of arena mapped. */
  arenaBytes: number;
  /** Blocks carved. */
  carved: number;
  /** Blocks reused from the per-class free lists. */
  reused: number;
  /** Remote frees drained. */
  remoteDrained: number;
}

/**
 * Batch carving for pool-tls from a per-thread arena that grows 1 → 2 → 4 → 8 MiB, plus
 * per-class free lists for what pool-tls spills. Stamps registry entries (kind POOL,
 * class, owner thread) for the pages it carves from.
 */
export interface PoolRefill extends Box<PoolRefillStats>, BlockSource, BlockSink {}
