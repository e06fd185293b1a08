import type { Ptr } from '../pointer.js';
import type { BlockSink, BlockSource, SlabSink, SlabSource } from '../chain.js';
import type { AdoptableBox, Box, FlushableBox, RecoverableBox } from './common.js';

export interface PageBoxOptions {
  /** Block size of each tiny class (from tiny-route). */
  readonly classSizes: Int32Array;
  /** Where slabs come from and go back to (warm-pool). */
  readonly slabs: SlabSource & SlabSink;
  /**
   * Classes that keep empty pages instead of returning them to the warm pool at once
   * (so a class that oscillates around a page boundary does not thrash). Default: all.
   */
  readonly pooledClasses?: readonly number[];
  /** Empty pages kept per pooled class. Default 1. */
  readonly pagesPerClass?: number;
}

export interface PageBoxStats {
  /** Blocks handed out from slab free lists. */
  fromFreeList: number;
  /** Blocks handed out by carving fresh slab space. */
  carved: number;
  /** Slabs taken from the slab source. */
  slabsAcquired: number;
  /** Empty slabs given back. */
  slabsReleased: number;
  /** Blocks freed into slabs (local). */
  freed: number;
  /** Blocks of another thread's slabs sent to that thread's remote-free list. */
  remoteFreed: number;
  /** Chains of such blocks pushed (one CAS each; one chain per owner per freeBatch). */
  remotePushes: number;
  /** Remote frees drained into local free lists. */
  remoteDrained: number;
}

/**
 * Per-thread page pool: refills the unified cache from the slabs this thread already
 * holds (drain remote frees, then the slab's free list, then carve) before asking the
 * warm pool for another slab; takes freed blocks back into their slabs and returns
 * slabs that become empty.
 *
 * A block whose slab belongs to another thread (the registry entry's thread field) is
 * never put on a local list: `freeBatch` links the batch's blocks of each owner into one
 * chain (through the blocks' first words) and pushes the chain onto the owner's remote-free
 * list (thread record word TR_TINY_REMOTE_HEAD) with one lock-free CAS. The owner drains
 * its list at the start of its next `allocBatch` and in `flush()`.
 */
export interface PageBox extends Box<PageBoxStats>, BlockSource, BlockSink, FlushableBox, AdoptableBox, Partial<RecoverableBox> {
  /** Drains this thread's remote-free list into its slabs now; returns the blocks drained. Never throws. */
  drainRemote(): number;
  /**
   * Slow path (the exact double-free check, `heap.isAllocated`): true when the block
   * start `ptr` of a tiny slab is free in the lists this box keeps in the linear memory —
   * its slab's free list, or any thread's remote-free list or drain. (Blocks cached
   * upstream are the caches' to tell.) Pre: `ptr` is a carved block start of a tiny slab.
   * Walks are bounded; never throws.
   */
  holds(ptr: Ptr): boolean;
}
