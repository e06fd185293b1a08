import type { Ptr } from '../pointer.js';
import type { SlabSink, SlabSource, SuperSlabSink, SuperSlabSource } from '../chain.js';
import type { Box } from './common.js';

export interface SharedPoolOptions {
  /** Where new SuperSlabs come from (superslab-tier). */
  readonly superSlabs: SuperSlabSource & SuperSlabSink;
}

export interface SharedPoolStats {
  /** Slabs handed out (cumulative). */
  slabsAcquired: number;
  /** Slabs taken back (cumulative). */
  slabsReleased: number;
  /** SuperSlabs taken from the superslab tier (cumulative). */
  superSlabsAcquired: number;
  /** SuperSlabs given back to the superslab tier (cumulative). */
  superSlabsReleased: number;
  /** SuperSlabs currently on the pool's list (they have at least one free slab). */
  superSlabsListed: number;
  /** Lock acquisitions that found the lock held (shared heaps). */
  lockContended: number;
}

/**
 * The global pool of slabs: several classes share one SuperSlab, and a slab gets its
 * class when it is handed out (HAKMEM phase 12).
 *
 * State lives in the linear memory (list heads in its box slot, links in page
 * descriptors) and is guarded by one lock when the heap is shared. Invariants: the pool
 * never runs dry of bookkeeping (intrusive lists, no node pools); no method calls back
 * into a caller while holding the lock (no re-entrant locking — both were HAKMEM crash
 * bugs); a listed SuperSlab has a free slab; an empty SuperSlab goes back to the tier.
 */
export interface SharedPool extends Box<SharedPoolStats>, SlabSource, SlabSink {
  /**
   * Takes a whole SuperSlab for a thread's warm pool (the thread then assigns its slabs
   * itself without the lock). Returns 0 when memory is exhausted.
   */
  acquireSuperSlab(tid: number): Ptr;
  /** Gives back a SuperSlab a thread no longer wants (it may still hold used slabs). */
  releaseSuperSlab(base: Ptr): void;
}
