import type { Ptr } from '../pointer.js';
import type { SuperSlabSink, SuperSlabSource } from '../chain.js';
import type { Box, RecoverableBox } from './common.js';
import type { RegionSource } from './os-boundary.js';

export interface SuperSlabTierOptions {
  /** Where SuperSlabs are mapped from and unmapped to (os-boundary). */
  readonly regions: RegionSource;
  /**
   * FREE SuperSlabs kept for reuse instead of being unmapped (retention policy).
   * Default 4. A retained SuperSlab is handed out again before a new one is mapped.
   */
  readonly retain?: number;
}

export interface SuperSlabTierStats {
  /** SuperSlabs mapped from os-boundary (cumulative). */
  mapped: number;
  /** SuperSlabs unmapped back to os-boundary (cumulative). */
  unmapped: number;
  /** acquireSuperSlab calls served from the retained FREE list. */
  reused: number;
  /** SuperSlabs currently HOT. */
  hot: number;
  /** SuperSlabs currently DRAINING (waiting for the guard or their last blocks). */
  draining: number;
  /** SuperSlabs currently FREE and retained. */
  free: number;
  /** Releases deferred because the release guard was held. */
  guardDeferred: number;
}

/**
 * SuperSlab geometry and lifecycle: HOT → DRAINING → FREE, with a release guard.
 *
 * A SuperSlab is SUPERSLAB_SIZE bytes aligned to its size, mapped through the region
 * source (os-boundary). Its state lives in the page descriptor of its first page
 * (PD_REGION_*), so every thread sees it. Invariants: a FREE SuperSlab has every slab
 * free and no registry entry of kind TINY; a SuperSlab is unmapped only when FREE and
 * its guard is 0; the retained FREE list holds at most `retain` SuperSlabs.
 */
export interface SuperSlabTier extends Box<SuperSlabTierStats>, SuperSlabSource, SuperSlabSink, Partial<RecoverableBox> {
  /**
   * Pins a SuperSlab so that it cannot be released while the caller may still touch it
   * (e.g. a thread that is about to push a remote free). Pre: `base` is HOT or DRAINING.
   */
  guardEnter(base: Ptr): void;
  /**
   * Drops a pin taken by `guardEnter`; a release deferred by the guard happens now if it
   * was the last pin. A SuperSlab merely marked DRAINING (nobody released it) stays DRAINING.
   */
  guardExit(base: Ptr): void;
  /**
   * Marks a HOT SuperSlab DRAINING: no slab may be taken from it any more (the boxes
   * above read PD_REGION_STATE: it is not lent, and a holder gives it back). Its holder
   * still releases it once every slab is free.
   */
  markDraining(base: Ptr): void;
  /** Unmaps every retained FREE SuperSlab (heap.trim()). Returns the bytes unmapped. */
  trim(): number;
}
