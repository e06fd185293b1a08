import type { Ptr } from '../pointer.js';
import type { RegionSource } from './os-boundary.js';
import type { Box } from './common.js';

export interface BigCacheOptions {
  /** Where big blocks come from and go back to (os-boundary). */
  readonly regions: RegionSource & { unmap(addr: Ptr, bytes: number): void; end(): number };
  /** Bytes of freed big blocks kept for reuse. Default 64 MiB. */
  readonly budget?: number;
}

export interface BigCacheStats {
  hits: number;
  misses: number;
  mapped: number;
  unmapped: number;
  /** Reallocs served in place (grow into the next free range, or shrink). */
  resizedInPlace: number;
  cachedBlocks: number;
  cachedBytes: number;
  liveBlocks: number;
  liveBytes: number;
}

/**
 * Blocks above L2.5: mapped through os-boundary, kept in a size-classed cache on free
 * within a byte budget instead of unmapped, reused for later requests.
 */
export interface BigCache extends Box<BigCacheStats> {
  /** A block of at least `size` bytes, page aligned; 0 on exhaustion. */
  alloc(size: number): Ptr;
  /** Takes back a validated block. */
  free(ptr: Ptr): void;
  /**
   * Resizes in place: shrinks, or grows into the free range that follows. Returns true
   * when the block now holds `size` bytes; false (nothing changed) otherwise.
   */
  resizeInPlace(ptr: Ptr, size: number): boolean;
  usableSize(ptr: Ptr): number;
  /** Unmaps every cached block; returns bytes unmapped. */
  trim(): number;
}
