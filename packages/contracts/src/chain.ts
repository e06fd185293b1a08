import type { Ptr } from './pointer.js';

/**
 * The interfaces through which boxes are chained without importing each other
 * (Contract D). The composition root passes each box the next one in the refill
 * order as one of these: `unified-cache → page-box → warm-pool → shared-pool →
 * superslab-tier → os-boundary` for tiny classes, `pool-tls → pool-refill` for mid sizes.
 *
 * All of these are slow paths: they are called on a cache miss or overflow, never on a
 * hit, and may take a lock.
 */

/** Hands out blocks of one size class in batches. */
export interface BlockSource {
  /**
   * Writes up to `max` free blocks of class `cls` into `out[offset ... offset + n)`.
   *
   * Pre: `0 < max <= 256` (Contract C: batches are bounded) and `out` has room.
   * Post: returns `n` with `0 <= n <= max`; every block written is owned by the caller
   * and not in any other cache or list. Returns 0 only when memory is exhausted.
   * Never throws.
   */
  allocBatch(cls: number, out: Int32Array, offset: number, max: number): number;
}

/** Takes blocks of one size class back in batches. */
export interface BlockSink {
  /**
   * Takes ownership of `blocks[offset ... offset + n)`, all of class `cls` and all
   * allocated by this heap (the caller has validated them).
   * Post: the blocks are free for reuse; never throws; never blocks the caller's hot
   * path (Contract A: a full queue spills or drops by rule, it does not wait).
   */
  freeBatch(cls: number, blocks: Int32Array, offset: number, n: number): void;
}

/** Hands out whole slabs (64 KiB pages) for a size class. */
export interface SlabSource {
  /**
   * Returns the address of a slab assigned to class `cls` and owned by thread `tid`,
   * with its descriptor initialised (see `SLAB_*` in layout). The slab may be partly
   * used (it has free or uncarved blocks). Returns 0 when memory is exhausted.
   * Never throws.
   */
  acquireSlab(cls: number, tid: number): Ptr;
}

/** Takes slabs back when they hold no live block. */
export interface SlabSink {
  /**
   * Takes back an empty slab (every block free). The slab's class assignment ends: it
   * may next serve any class. Pre: no block of it is cached anywhere. Never throws.
   */
  releaseSlab(slab: Ptr): void;
}

/** Hands out SuperSlabs: aligned regions of slabs. */
export interface SuperSlabSource {
  /**
   * Returns the base address of a HOT SuperSlab whose slabs are all free, with its
   * header initialised and owned by the calling thread (PD_REGION_OWNER = its `ctx.tid`:
   * a SuperSlab is never without an owner on its way to the lender, so that a thread that
   * dies with it in hand leaves it to its reclaim). Returns 0 when memory is exhausted.
   * Never throws.
   */
  acquireSuperSlab(): Ptr;
}

/** Takes SuperSlabs back. */
export interface SuperSlabSink {
  /**
   * Takes back a SuperSlab whose slabs are all free. The receiver decides, by its
   * retention policy, whether to keep it for reuse or unmap it. Never throws.
   */
  releaseSuperSlab(base: Ptr): void;
}

/** Lends whole SuperSlabs to threads (shared-pool → warm-pool). */
export interface SuperSlabLender {
  /**
   * Returns the base of a SuperSlab with at least one free slab, now owned by thread
   * `tid` (PD_REGION_OWNER = tid): one the lender already holds, else a fresh one from
   * the superslab tier. The caller then assigns its free slabs to classes without any
   * lock. Returns 0 when memory is exhausted. Never throws.
   */
  acquireSuperSlab(tid: number): Ptr;
  /**
   * The owning thread gives a SuperSlab back (it holds too many, or it detaches). Its
   * slabs may still hold live blocks. Post: owner 0; if every slab is free it goes back to
   * the superslab tier, otherwise the lender keeps it for the next `acquireSuperSlab`.
   */
  releaseSuperSlab(base: Ptr): void;
}
