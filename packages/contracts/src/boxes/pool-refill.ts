import type { Ptr } from '../pointer.js';
import type { BlockSink, BlockSource } from '../chain.js';
import type { RegionSource } from './os-boundary.js';
import type { AdoptableBox, Box, RecoverableBox } from './common.js';

export interface PoolRefillOptions {
  /** Block size of each mid class (from pool-tls): multiples of 512 up to 65536. */
  readonly classSizes: Int32Array;
  /** Where arena chunks come from and empty spans go back to (os-boundary). */
  readonly regions: RegionSource & { unmap(addr: Ptr, bytes: number): void; end(): number };
  /**
   * Smallest arena chunk in bytes: a multiple of 64 KiB. A chunk follows the spans in
   * use — a sixty-fourth of their bytes rounded up to 64 KiB, within
   * arenaInitial..arenaMax, at least the span wanted. Default 64 KiB.
   */
  readonly arenaInitial?: number;
  /** Largest arena chunk in bytes: a multiple of 64 KiB, ≥ arenaInitial. Default 64 KiB (each span mapped on its own). */
  readonly arenaMax?: number;
  /** Blocks carved per class when the box is created (pre-warm), or none. Default none (see the README's measurement). */
  readonly prewarm?: readonly number[];
}

export interface PoolRefillStats {
  /** Arena chunks mapped (cumulative). */
  chunks: number;
  /** Bytes of arena chunks mapped (cumulative). */
  arenaBytes: number;
  /** Spans assigned to a class (cumulative). */
  spansCreated: number;
  /** Empty spans given back to os-boundary (cumulative). */
  spansReleased: number;
  /** Spans this thread owns now. */
  spans: number;
  /** Blocks handed out by carving fresh span space (cumulative). */
  carved: number;
  /** Blocks handed out from span free lists (cumulative). */
  reused: number;
  /** Blocks of another thread's spans pushed onto that thread's remote-free list (cumulative). */
  remoteFreed: number;
  /** Remote frees drained into this thread's spans (cumulative). */
  remoteDrained: number;
  /** Blocks of this thread's spans not in a span free list now (handed out, cached upstream, or pending as remote frees). */
  usedBlocks: number;
  /** Their bytes (class sizes). */
  usedBytes: number;
  /** Bytes of this thread's spans now (whole pages). */
  spanBytes: number;
  /** Bytes of empty spans pooled for reuse now. */
  emptySpanBytes: number;
  /** Bytes of the current arena chunk not yet cut into spans (the rest of an older one is pooled). */
  arenaFree: number;
}

/**
 * Batch carving for pool-tls. A thread's arena is a sequence of chunks mapped from
 * os-boundary, sized by the spans in use (by default each span is mapped on its own); it
 * is cut into **spans** of 1..16 pages, each assigned to one class, whose blocks are
 * carved from the span start at multiples of the class size (so a block's class and
 * start are found from the registry in O(1); see "Pool spans" in layout). Freed blocks
 * go onto their span's free list (in the linear memory, linked through the block's first
 * word); batches take blocks from a class's lowest-addressed span with room (a new span
 * only for a batch that has nothing yet). A span that becomes empty stays when it is its
 * class's only span with room, until another of its spans regains room, else goes into a pool
 * of empty spans (at most an eighth of the spans in use; the lowest-addressed pooled span
 * serves the next new span of any class, split when longer) or back to os-boundary.
 *
 * A block whose span another thread owns is pushed onto the owner's remote-free list
 * (thread record word TR_POOL_REMOTE_HEAD, lock-free CAS in a shared heap); the owner
 * drains it at the start of its next `allocBatch`, and in `trim()`.
 */
export interface PoolRefill extends Box<PoolRefillStats>, BlockSource, BlockSink, AdoptableBox, Partial<RecoverableBox> {
  /** Pages of a span of class `cls` (chosen so the span's tail waste is at most 1/32). */
  spanPages(cls: number): number;
  /** Drains this thread's remote-free list into its spans now; returns the blocks drained. Never throws. */
  drainRemote(): number;
  /**
   * Slow path (the exact double-free check, `heap.isAllocated`): true when the block
   * start `ptr` of a pool span is free in the lists this box keeps in the linear memory —
   * its span's free list, or any thread's remote-free list or drain. (Blocks cached in
   * pool-tls are its to tell.) Pre: `ptr` is a carved block start of a span. Walks are
   * bounded; never throws.
   */
  holds(ptr: Ptr): boolean;
  /**
   * Drains remote frees, gives every empty span back to os-boundary and unmaps the
   * unused rest of the current arena chunk; returns bytes unmapped. Never throws.
   */
  trim(): number;
}
