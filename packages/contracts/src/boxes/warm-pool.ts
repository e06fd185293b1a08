import type { SlabSink, SlabSource, SuperSlabLender } from '../chain.js';
import type { AdoptableBox, Box, FlushableBox, RecoverableBox } from './common.js';

export interface WarmPoolOptions {
  /** HOT SuperSlabs kept per thread. Default 16. */
  readonly capacity?: number;
  /** Block size of each tiny class (from tiny-route): written into a slab's descriptor when it is assigned. */
  readonly classSizes: Int32Array;
  /**
   * Where SuperSlabs come from and go back (shared-pool). Also takes slabs released into
   * a SuperSlab this thread no longer owns.
   */
  readonly lender: SuperSlabLender & SlabSink;
}

export interface WarmPoolStats {
  /** acquireSlab served from a SuperSlab already held. */
  hits: number;
  /** acquireSlab that had to borrow a SuperSlab from the shared pool (prefill). */
  misses: number;
  /** SuperSlabs borrowed on the cold path. */
  prefilled: number;
  /** SuperSlabs given back to the shared pool. */
  returned: number;
  /** SuperSlabs held now. */
  held: number;
  /** Slabs assigned to a class (cumulative). */
  slabsAssigned: number;
  /** Slabs taken back (cumulative). */
  slabsReleased: number;
}

/**
 * Per-thread list of HOT SuperSlabs (~16). Takes a free slab from one of them and
 * assigns it a class (page descriptor + registry entry) without any lock; on a miss it
 * borrows a SuperSlab from the shared pool. A slab released into a SuperSlab it holds
 * becomes free for any class; an entirely free SuperSlab beyond the first few goes
 * back. No slab is taken from a SuperSlab marked DRAINING: it goes back to the lender.
 * Bounded (Contract C): at most `capacity` SuperSlabs.
 */
export interface WarmPool extends Box<WarmPoolStats>, SlabSource, SlabSink, FlushableBox, AdoptableBox, Partial<RecoverableBox> {}
