import {
  ErrorCode, HakmemError, SUPERSLAB_ALL_FREE, PageKind, PAGE_SHIFT, PD_REGION_GUARD, PD_REGION_MASK, PD_REGION_NEXT, PD_REGION_OWNER,
  PD_REGION_PAGES, PD_REGION_PREV, PD_REGION_STATE, REG_AUX_SHIFT, REG_KIND_MASK, SUPERSLAB_SIZE, SUPERSLAB_SLABS, SuperSlabState,
  type BoxContext, type HeapViews, type Ptr, type RegionSource, type SuperSlabTier, type SuperSlabTierOptions,
  type SuperSlabTierStats,
} from '@hakmem/contracts';
import { canBlockHere, lockAcquire, lockRelease } from '@hakmem/primitives';
import { DEFAULT_RETAIN } from './api.js';
import {
  SS_DESC_RELEASE_DEFERRED, SS_DRAINING, SS_GUARD_DEFERRED, SS_HOT, SS_LOCK, SS_LOCK_CONTENDED, SS_MAPPED, SS_RETAINED,
  SS_RETAINED_HEAD, SS_REUSED, SS_UNMAPPED,
} from './layout.js';

/**
 * SuperSlab lifecycle. Every call here is a cold path (a thread's warm pool missed),
 * so it takes the tier's lock when the heap is shared. The lock order is
 * tier → os-boundary; os-boundary never calls back, so there is no re-entrancy.
 */
class SuperSlabTierBox implements SuperSlabTier {
  readonly name = 'superslab-tier';
  private readonly v: HeapViews;
  private readonly slot: number;
  private readonly reg: number;
  private readonly pd: number;
  private readonly shared: boolean;
  private readonly canBlock: boolean;
  private readonly retain: number;
  private readonly regions: RegionSource;

  constructor(ctx: BoxContext, options: SuperSlabTierOptions) {
    this.v = ctx.backend.views;
    this.slot = ctx.slotOffset >>> 2;
    this.reg = ctx.layout.registryOffset >>> 2;
    this.pd = ctx.layout.pageTableOffset >>> 2;
    this.shared = ctx.shared;
    this.canBlock = ctx.shared && canBlockHere();
    this.retain = options.retain ?? DEFAULT_RETAIN;
    this.regions = options.regions;
  }

  /** Word index of a SuperSlab's first page descriptor. */
  private desc(base: Ptr): number {
    return this.pd + ((base >>> PAGE_SHIFT) << 4);
  }

  private lock(): void {
    if (this.shared && lockAcquire(this.v.i32, this.slot + SS_LOCK, this.canBlock) !== 0) this.v.i32[this.slot + SS_LOCK_CONTENDED]!++;
  }

  private unlock(): void {
    if (this.shared) lockRelease(this.v.i32, this.slot + SS_LOCK);
  }

  acquireSuperSlab(): Ptr {
    this.lock();
    let i32 = this.v.i32;
    let base = i32[this.slot + SS_RETAINED_HEAD]!;
    if (base !== 0) {
      i32[this.slot + SS_RETAINED_HEAD] = i32[this.desc(base) + PD_REGION_NEXT]!;
      i32[this.slot + SS_RETAINED]!--;
      i32[this.slot + SS_REUSED]!++;
    } else {
      base = this.regions.map(SUPERSLAB_SIZE, SUPERSLAB_SIZE);
      if (base === 0) {
        this.unlock();
        return 0;
      }
      i32 = this.v.i32; // map may have grown the memory (wasm replaces the buffer)
      i32[this.slot + SS_MAPPED]!++;
    }
    this.initHot(base);
    i32[this.slot + SS_HOT]!++;
    this.unlock();
    return base;
  }

  /** Header of a HOT SuperSlab with every slab free; registry entries MAPPED. */
  private initHot(base: Ptr): void {
    const i32 = this.v.i32;
    const d = this.desc(base);
    i32[d + PD_REGION_OWNER] = 0;
    i32[d + PD_REGION_MASK] = SUPERSLAB_ALL_FREE;
    i32[d + PD_REGION_GUARD] = 0;
    i32[d + PD_REGION_NEXT] = 0;
    i32[d + PD_REGION_PREV] = 0;
    i32[d + PD_REGION_PAGES] = SUPERSLAB_SLABS;
    i32[d + SS_DESC_RELEASE_DEFERRED] = 0;
    this.setState(d, SuperSlabState.HOT);
    this.stamp(base, PageKind.MAPPED);
  }

  private stamp(base: Ptr, kind: number): void {
    const r = this.reg + (base >>> PAGE_SHIFT);
    for (let i = 0; i < SUPERSLAB_SLABS; i++) this.v.i32[r + i] = kind === PageKind.NONE ? 0 : kind | (i << REG_AUX_SHIFT);
  }

  releaseSuperSlab(base: Ptr): void {
    this.lock();
    const i32 = this.v.i32;
    const d = this.desc(base);
    this.checkReleasable(base, d);
    // Record the release before reading the guard (both seq-cst in a shared heap): a
    // guardExit that drops the last pin after our read sees the flag and completes the
    // release (it waits for our lock), one that dropped it before our read is seen here as
    // guard 0 and we complete it now (it then finds the flag cleared under the lock).
    this.store(d + SS_DESC_RELEASE_DEFERRED, 1);
    if (this.load(d + PD_REGION_GUARD) > 0) {
      if (i32[d + PD_REGION_STATE] === SuperSlabState.HOT) this.toDraining(d);
      i32[this.slot + SS_GUARD_DEFERRED]!++;
    } else {
      this.toFree(base, d);
    }
    this.unlock();
  }

  /** Under the lock: throws (unlocking first) unless `base` is a SuperSlab that may be released now. */
  private checkReleasable(base: Ptr, d: number): void {
    const i32 = this.v.i32;
    const state = i32[d + PD_REGION_STATE];
    const mask = this.load(d + PD_REGION_MASK); // the owner's warm pool changes it with Atomics, outside this lock
    let why = '';
    if ((base & (SUPERSLAB_SIZE - 1)) !== 0) why = 'not a SuperSlab base';
    else if (state === SuperSlabState.FREE) why = 'already FREE';
    else if (mask !== SUPERSLAB_ALL_FREE) why = 'slabs in use';
    else if (this.load(d + SS_DESC_RELEASE_DEFERRED) !== 0) why = 'its release is already deferred by the guard';
    if (why !== '') {
      this.unlock();
      throw new HakmemError(ErrorCode.INVALID_RANGE, `SuperSlab 0x${base.toString(16)} cannot be released: ${why} (state ${state}, free-slab mask 0x${(mask >>> 0).toString(16)})`, { box: this.name, ptr: base });
    }
  }

  private toDraining(d: number): void {
    this.setState(d, SuperSlabState.DRAINING);
    this.v.i32[this.slot + SS_HOT]!--;
    this.v.i32[this.slot + SS_DRAINING]!++;
  }

  /**
   * PD_REGION_STATE is read without this box's lock by the boxes above (a DRAINING
   * SuperSlab is not lent, no slab is taken from it), so it is stored atomically in a
   * shared heap; it is written only under the lock.
   */
  private setState(d: number, state: number): void {
    if (this.shared) Atomics.store(this.v.i32, d + PD_REGION_STATE, state);
    else this.v.i32[d + PD_REGION_STATE] = state;
  }

  private load(idx: number): number {
    return this.shared ? Atomics.load(this.v.i32, idx) : this.v.i32[idx]!;
  }

  private store(idx: number, value: number): void {
    if (this.shared) Atomics.store(this.v.i32, idx, value);
    else this.v.i32[idx] = value;
  }

  /** HOT or DRAINING → FREE: retained, or unmapped beyond the retention limit. Under the lock. */
  private toFree(base: Ptr, d: number): void {
    const i32 = this.v.i32;
    i32[this.slot + (i32[d + PD_REGION_STATE] === SuperSlabState.DRAINING ? SS_DRAINING : SS_HOT)]!--;
    this.setState(d, SuperSlabState.FREE);
    this.store(d + SS_DESC_RELEASE_DEFERRED, 0);
    i32[d + PD_REGION_OWNER] = 0;
    if (i32[this.slot + SS_RETAINED]! < this.retain) {
      i32[d + PD_REGION_NEXT] = i32[this.slot + SS_RETAINED_HEAD]!;
      i32[this.slot + SS_RETAINED_HEAD] = base;
      i32[this.slot + SS_RETAINED]!++;
    } else {
      this.unmapOne(base);
    }
  }

  private unmapOne(base: Ptr): void {
    this.stamp(base, PageKind.NONE);
    this.regions.unmap(base, SUPERSLAB_SIZE);
    this.v.i32[this.slot + SS_UNMAPPED]!++;
  }

  guardEnter(base: Ptr): void {
    const idx = this.desc(base) + PD_REGION_GUARD;
    if (this.shared) Atomics.add(this.v.i32, idx, 1);
    else this.v.i32[idx]!++;
  }

  guardExit(base: Ptr): void {
    const d = this.desc(base);
    const left = this.shared ? Atomics.sub(this.v.i32, d + PD_REGION_GUARD, 1) - 1 : --this.v.i32[d + PD_REGION_GUARD]!;
    // Only a release that was asked for and deferred completes here: a SuperSlab merely
    // marked DRAINING still has its holder (it is released by that holder, later).
    if (left === 0 && this.load(d + SS_DESC_RELEASE_DEFERRED) !== 0) {
      this.lock();
      // Re-check under the lock: a new pin may have been taken, or another thread (the
      // releaser itself, or another last guardExit) may have completed the release.
      if (this.load(d + PD_REGION_GUARD) === 0 && this.load(d + SS_DESC_RELEASE_DEFERRED) !== 0) this.toFree(base, d);
      this.unlock();
    }
  }

  markDraining(base: Ptr): void {
    this.lock();
    // DRAINING without a deferred release: the guard never frees it; its holder releases it.
    if (this.v.i32[this.desc(base) + PD_REGION_STATE] === SuperSlabState.HOT) this.toDraining(this.desc(base));
    this.unlock();
  }

  trim(): number {
    this.lock();
    const i32 = this.v.i32;
    let bytes = 0;
    for (let base = i32[this.slot + SS_RETAINED_HEAD]!; base !== 0; ) {
      const next = i32[this.desc(base) + PD_REGION_NEXT]!;
      this.unmapOne(base);
      bytes += SUPERSLAB_SIZE;
      base = next;
    }
    i32[this.slot + SS_RETAINED_HEAD] = 0;
    i32[this.slot + SS_RETAINED] = 0;
    this.unlock();
    return bytes;
  }

  stats(): SuperSlabTierStats {
    const i32 = this.v.i32;
    const s = this.slot;
    return {
      mapped: i32[s + SS_MAPPED]!, unmapped: i32[s + SS_UNMAPPED]!, reused: i32[s + SS_REUSED]!,
      hot: i32[s + SS_HOT]!, draining: i32[s + SS_DRAINING]!, free: i32[s + SS_RETAINED]!,
      guardDeferred: i32[s + SS_GUARD_DEFERRED]!,
    };
  }

  checkInvariants(): void {
    const i32 = this.v.i32;
    let n = 0;
    for (let base = i32[this.slot + SS_RETAINED_HEAD]!; base !== 0; base = i32[this.desc(base) + PD_REGION_NEXT]!) {
      const d = this.desc(base);
      if (i32[d + PD_REGION_STATE] !== SuperSlabState.FREE) this.corrupt(`retained SuperSlab 0x${base.toString(16)} is not FREE`);
      if (i32[d + PD_REGION_MASK] !== SUPERSLAB_ALL_FREE) this.corrupt(`retained SuperSlab 0x${base.toString(16)} has slabs in use`);
      if (i32[d + PD_REGION_GUARD] !== 0) this.corrupt(`retained SuperSlab 0x${base.toString(16)} is pinned (guard ${i32[d + PD_REGION_GUARD]})`);
      if (i32[d + SS_DESC_RELEASE_DEFERRED] !== 0) this.corrupt(`retained SuperSlab 0x${base.toString(16)} still has a deferred release`);
      this.checkNoTiny(base);
      if (++n > this.retain) this.corrupt(`more than ${this.retain} SuperSlabs retained (or a cycle)`);
    }
    if (n !== i32[this.slot + SS_RETAINED]) this.corrupt(`retained list holds ${n}, counter says ${i32[this.slot + SS_RETAINED]}`);
    const live = i32[this.slot + SS_MAPPED]! - i32[this.slot + SS_UNMAPPED]!;
    if (live !== n + i32[this.slot + SS_HOT]! + i32[this.slot + SS_DRAINING]!) {
      this.corrupt(`mapped − unmapped (${live}) ≠ retained + hot + draining`);
    }
  }

  /** A FREE SuperSlab has no registry entry of kind TINY (no slab of it is assigned to a class). */
  private checkNoTiny(base: Ptr): void {
    const r = this.reg + (base >>> PAGE_SHIFT);
    for (let i = 0; i < SUPERSLAB_SLABS; i++) {
      const e = this.v.i32[r + i]!;
      if ((e & REG_KIND_MASK) === PageKind.TINY) this.corrupt(`FREE SuperSlab 0x${base.toString(16)}: slab ${i} has a TINY registry entry 0x${(e >>> 0).toString(16)}`);
    }
  }

  private corrupt(message: string): never {
    throw new HakmemError(ErrorCode.CORRUPTION, message, { box: this.name });
  }
}

/**
 * Creates one thread's handle on the superslab tier. Its state lives in the box slot at
 * `ctx.slotOffset`; all-zero state (fresh memory) is the empty tier, so no initialisation
 * is needed and every thread may create its handle at any time.
 */
export function createSuperSlabTier(ctx: BoxContext, options: SuperSlabTierOptions): SuperSlabTier {
  if (ctx.slotOffset < 0) throw new HakmemError(ErrorCode.INVALID_OPTION, 'superslab-tier needs a box state slot', { box: 'superslab-tier' });
  const retain = options.retain ?? DEFAULT_RETAIN;
  if (!Number.isInteger(retain) || retain < 0) throw new HakmemError(ErrorCode.INVALID_OPTION, `retain must be a non-negative integer, got ${retain}`, { box: 'superslab-tier' });
  return new SuperSlabTierBox(ctx, options);
}
