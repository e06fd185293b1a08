import type { Ptr } from '../pointer.js';
import type { SlabSink, SlabSource } from '../chain.js';
import type { Box, FlushableBox } from './common.js';

export interface WarmPoolOptions {
  /** HOT SuperSlabs kept per thread. Default 16. */
  readonly capacity?: number;
  /** Where SuperSlabs and slabs come from and go back to (shared-pool). */
  readonly shared: SlabSource & SlabSink & {
    acquireSuperSlab(tid: number): Ptr;
    releaseSuperSlab(base: Ptr): void;
  };
}

export interface WarmPoolStats {
  /** acquireSlab served from a SuperSlab already in the warm pool. */
  hits: number;
  /** acquireSlab that had to go to the shared pool. */
  misses: number;
  /** SuperSlabs brought in on the cold path. */
  prefilled: number;
  /** SuperSlabs handed back to the shared pool. */
  returned: number;
  /** SuperSlabs held now. */
  held: number;
}

/**
 * Per-thread list of HOT SuperSlabs (~16): slabs are taken from them without the
 * shared pool's lock; a miss goes to the shared pool, which hands over a whole
 * SuperSlab (prefill). Bounded (Contract C): at most `capacity` SuperSlabs.
 */
export interface WarmPool extends Box<WarmPoolStats>, SlabSource, SlabSink, FlushableBox {}
