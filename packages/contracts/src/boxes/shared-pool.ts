import type { SlabSink, SuperSlabLender, SuperSlabSink, SuperSlabSource } from '../chain.js';
import type { Box, RecoverableBox } from './common.js';

export interface SharedPoolOptions {
  /** Where new SuperSlabs come from and empty ones go back (superslab-tier). */
  readonly superSlabs: SuperSlabSource & SuperSlabSink;
}

export interface SharedPoolStats {
  /** SuperSlabs lent to threads (cumulative). */
  lent: number;
  /** SuperSlabs given back by threads (cumulative). */
  returned: number;
  /** SuperSlabs taken from the superslab tier (cumulative). */
  fromTier: number;
  /** SuperSlabs given back to the superslab tier (cumulative). */
  toTier: number;
  /** SuperSlabs held now, unowned (some of their slabs may be in use). */
  held: number;
  /** Lock acquisitions that found the lock held (shared heaps). */
  lockContended: number;
}

/**
 * The global pool of slabs, kept as SuperSlabs that no thread owns. Several classes
 * share one SuperSlab: a thread that borrows it assigns its free slabs to classes at run
 * time (HAKMEM phase 12), and a SuperSlab given back with live slabs keeps serving any
 * class for the next borrower, instead of a fresh SuperSlab per class.
 *
 * State lives in the linear memory (list head and counters in its box slot, links in
 * the page descriptors' PD_REGION_NEXT/PREV) under one lock when the heap is shared.
 * Invariants: intrusive lists, so it never runs dry of bookkeeping (no node pools); no
 * method calls out to another box while holding its lock except the superslab tier's
 * own locked calls, which never call back (no re-entrant locking — both were HAKMEM
 * crash bugs); every held SuperSlab has owner 0; a SuperSlab marked DRAINING is never lent
 * (it stays held until its last slab comes back, then goes to the tier).
 */
export interface SharedPool extends Box<SharedPoolStats>, SuperSlabLender, SlabSink, Partial<RecoverableBox> {}
