import {
  ErrorCode, HakmemError, SUPERSLAB_ALL_FREE, PageKind, PAGE_SHIFT, PD_REGION_GUARD, PD_REGION_MASK, PD_REGION_NEXT, PD_REGION_OWNER,
  PD_REGION_PAGES, PD_REGION_PREV, PD_REGION_STATE, REG_AUX_SHIFT, REG_KIND_MASK, SUPERSLAB_SIZE, SUPERSLAB_SLABS, SuperSlabState,
  REG_THREAD_SHIFT, type BoxContext, type HeapViews, type Ptr, type Recovery, type RegionSource, type SuperSlabTier,
  type SuperSlabTierOptions, type SuperSlabTierStats,
} from '@hakmem/contracts';
import { canBlockHere, lockAcquire, lockHolder, lockRelease } from '@hakmem/primitives';
import { DEFAULT_RETAIN } from './api.js';
import {
  SS_DESC_RELEASE_DEFERRED, SS_DRAINING, SS_GUARD_DEFERRED, SS_HOT, SS_JOURNAL, SS_JOURNAL_FRESH, SS_JOURNAL_RELEASE, SS_LOCK,
  SS_LOCK_CONTENDED,
  SS_MAPPED, SS_RETAINED, SS_RETAINED_HEAD, SS_REUSED, SS_UNMAPPED,
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
  private readonly tid: number;
  /** The registry entry a range gets before it is unmapped: MAPPED with this thread in a shared heap (os-boundary clears it), NONE otherwise. */
  private readonly retiredEntry: number;

  constructor(ctx: BoxContext, options: SuperSlabTierOptions) {
    this.v = ctx.backend.views;
    this.slot = ctx.slotOffset >>> 2;
    this.reg = ctx.layout.registryOffset >>> 2;
    this.pd = ctx.layout.pageTableOffset >>> 2;
    this.shared = ctx.shared;
    this.canBlock = ctx.shared && canBlockHere();
    this.retain = options.retain ?? DEFAULT_RETAIN;
    this.regions = options.regions;
    this.tid = ctx.tid;
    this.retiredEntry = ctx.shared ? PageKind.MAPPED | (ctx.tid << REG_THREAD_SHIFT) : PageKind.NONE;
  }

  /** Word index of a SuperSlab's first page descriptor. */
  private desc(base: Ptr): number {
    return this.pd + ((base >>> PAGE_SHIFT) << 4);
  }

  /**
   * Takes the lock (when shared) for this thread; the journal word belongs to the holder
   * from here, so it is cleared in the same run of stores as the acquisition (a call
   * returning is no point where V8 stops a thread: see "Kill safety" in the README).
   */
  private lock(): void {
    const i32 = this.v.i32;
    if (this.shared && lockAcquire(i32, this.slot + SS_LOCK, this.canBlock, this.tid) !== 0) i32[this.slot + SS_LOCK_CONTENDED]!++;
    i32[this.slot + SS_JOURNAL] = 0;
  }

  private unlock(): void {
    if (this.shared) lockRelease(this.v.i32, this.slot + SS_LOCK);
  }

  acquireSuperSlab(): Ptr {
    this.lock();
    let base = this.v.i32[this.slot + SS_RETAINED_HEAD]!;
    if (base !== 0) {
      this.stamp(base); // the same entries a retained SuperSlab has: a thread stopped here leaves it retained
      this.commitAcquire(base, true);
    } else {
      base = this.regions.map(SUPERSLAB_SIZE, SUPERSLAB_SIZE);
      if (base === 0) {
        this.unlock();
        return 0;
      }
      // Mapped, not yet a SuperSlab of the tier: journaled, so that a thread stopped before
      // the commit leaves it to recover() (which unmaps it), one run with map's return.
      const i32 = this.v.i32; // map may have grown the memory (wasm replaces the buffer)
      i32[this.pd + ((base >>> PAGE_SHIFT) << 4) + PD_REGION_STATE] = SuperSlabState.FREE;
      i32[this.slot + SS_JOURNAL] = base | SS_JOURNAL_FRESH;
      this.stamp(base);
      this.commitAcquire(base, false);
    }
    this.unlock();
    return base;
  }

  /**
   * The commit of acquireSuperSlab: the state store (Atomics in a shared heap: V8 may stop a
   * thread at the entry of that call, so it comes first, before anything else changes),
   * then one run of plain stores: off the retained list (or counted mapped), the header of
   * a HOT SuperSlab with every slab free owned by the taking thread (so that it is never
   * without an owner on its way to the lender: a taker stopped before it got it leaves it to
   * its reclaim), counted hot, the journal cleared.
   */
  private commitAcquire(base: Ptr, reused: boolean): void {
    const i32 = this.v.i32;
    const s = this.slot;
    const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
    if (this.shared) Atomics.store(i32, d + PD_REGION_STATE, SuperSlabState.HOT);
    else i32[d + PD_REGION_STATE] = SuperSlabState.HOT;
    if (reused) {
      i32[s + SS_RETAINED_HEAD] = i32[d + PD_REGION_NEXT]!;
      i32[s + SS_RETAINED]!--;
      i32[s + SS_REUSED]!++;
    } else {
      i32[s + SS_MAPPED]!++;
    }
    i32[d + PD_REGION_OWNER] = this.tid;
    i32[d + PD_REGION_MASK] = SUPERSLAB_ALL_FREE;
    i32[d + PD_REGION_GUARD] = 0;
    i32[d + PD_REGION_NEXT] = 0;
    i32[d + PD_REGION_PREV] = 0;
    i32[d + PD_REGION_PAGES] = SUPERSLAB_SLABS;
    i32[d + SS_DESC_RELEASE_DEFERRED] = 0;
    i32[s + SS_HOT]!++;
    i32[s + SS_JOURNAL] = 0;
  }

  /** Registry entries of a SuperSlab's slabs while none is assigned: MAPPED, aux = slab index. */
  private stamp(base: Ptr): void {
    const r = this.reg + (base >>> PAGE_SHIFT);
    for (let i = 0; i < SUPERSLAB_SLABS; i++) this.v.i32[r + i] = PageKind.MAPPED | (i << REG_AUX_SHIFT);
  }

  releaseSuperSlab(base: Ptr): void {
    this.lock();
    const d = this.desc(base);
    this.checkReleasable(base, d);
    if (this.commitRelease(base, d, this.v.i32[d + PD_REGION_STATE]!)) this.regions.unmap(base, SUPERSLAB_SIZE);
    this.unlock();
  }

  /**
   * The commit of releaseSuperSlab, one run of stores and Atomics: the release is recorded
   * before the guard is read (both seq-cst in a shared heap): a guardExit that drops the
   * last pin after our read sees the flag and completes the release (it waits for our
   * lock), one that dropped it before our read is seen here as guard 0 and we complete it
   * now (it then finds the flag cleared under the lock). Pinned: DRAINING (the release
   * deferred). Else FREE: retained, or — returning true — to be unmapped by the caller,
   * its registry entries already restamped.
   */
  private commitRelease(base: Ptr, d: number, state: number): boolean {
    const i32 = this.v.i32;
    const s = this.slot;
    // Journaled first (the Atomics calls below are points where V8 may stop the thread):
    // recover() finishes the release from the state it had before.
    i32[s + SS_JOURNAL] = base | SS_JOURNAL_RELEASE | (state << 2);
    let guard: number;
    if (this.shared) {
      Atomics.store(i32, d + SS_DESC_RELEASE_DEFERRED, 1);
      guard = Atomics.load(i32, d + PD_REGION_GUARD);
    } else {
      i32[d + SS_DESC_RELEASE_DEFERRED] = 1;
      guard = i32[d + PD_REGION_GUARD]!;
    }
    if (guard > 0) {
      if (state === SuperSlabState.HOT) {
        if (this.shared) Atomics.store(i32, d + PD_REGION_STATE, SuperSlabState.DRAINING);
        else i32[d + PD_REGION_STATE] = SuperSlabState.DRAINING;
        i32[s + SS_HOT]!--;
        i32[s + SS_DRAINING]!++;
      }
      i32[s + SS_GUARD_DEFERRED]!++;
      i32[s + SS_JOURNAL] = 0;
      return false;
    }
    if (this.shared) {
      Atomics.store(i32, d + PD_REGION_STATE, SuperSlabState.FREE);
      Atomics.store(i32, d + SS_DESC_RELEASE_DEFERRED, 0);
    } else {
      i32[d + PD_REGION_STATE] = SuperSlabState.FREE;
      i32[d + SS_DESC_RELEASE_DEFERRED] = 0;
    }
    // From here one run of plain stores.
    i32[s + (state === SuperSlabState.DRAINING ? SS_DRAINING : SS_HOT)]!--;
    i32[d + PD_REGION_OWNER] = 0;
    i32[s + SS_JOURNAL] = 0;
    if (i32[s + SS_RETAINED]! < this.retain) {
      i32[d + PD_REGION_NEXT] = i32[s + SS_RETAINED_HEAD]!;
      i32[s + SS_RETAINED_HEAD] = base;
      i32[s + SS_RETAINED]!++;
      return false;
    }
    const r = this.reg + (base >>> PAGE_SHIFT);
    i32.fill(this.retiredEntry, r, r + SUPERSLAB_SLABS);
    i32[s + SS_UNMAPPED]!++;
    return true;
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

  private load(idx: number): number {
    return this.shared ? Atomics.load(this.v.i32, idx) : this.v.i32[idx]!;
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
      if (this.load(d + PD_REGION_GUARD) === 0 && this.load(d + SS_DESC_RELEASE_DEFERRED) !== 0 && this.commitRelease(base, d, this.v.i32[d + PD_REGION_STATE]!)) {
        this.regions.unmap(base, SUPERSLAB_SIZE);
      }
      this.unlock();
    }
  }

  markDraining(base: Ptr): void {
    this.lock();
    // DRAINING without a deferred release: the guard never frees it; its holder releases it.
    const i32 = this.v.i32;
    const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
    if (i32[d + PD_REGION_STATE] === SuperSlabState.HOT) {
      // The Atomics store first (a point where V8 may stop the thread), then the counters in one run.
      if (this.shared) Atomics.store(i32, d + PD_REGION_STATE, SuperSlabState.DRAINING);
      else i32[d + PD_REGION_STATE] = SuperSlabState.DRAINING;
      i32[this.slot + SS_HOT]!--;
      i32[this.slot + SS_DRAINING]!++;
    }
    this.unlock();
  }

  trim(): number {
    this.lock();
    let bytes = 0;
    for (let base = this.v.i32[this.slot + SS_RETAINED_HEAD]!; base !== 0; base = this.v.i32[this.slot + SS_RETAINED_HEAD]!) {
      // One run per SuperSlab: off the list, counted, restamped; then unmapped.
      const i32 = this.v.i32;
      const r = this.reg + (base >>> PAGE_SHIFT);
      i32[this.slot + SS_RETAINED_HEAD] = i32[this.pd + ((base >>> PAGE_SHIFT) << 4) + PD_REGION_NEXT]!;
      i32[this.slot + SS_RETAINED]!--;
      i32[this.slot + SS_UNMAPPED]!++;
      i32.fill(this.retiredEntry, r, r + SUPERSLAB_SLABS);
      this.regions.unmap(base, SUPERSLAB_SIZE);
      bytes += SUPERSLAB_SIZE;
    }
    this.unlock();
    return bytes;
  }

  /**
   * Run by `heap.reclaim` on the dead thread's instance. Every operation commits in one
   * run of stores, its Atomics calls first (see "Kill safety" in the README); what spans a
   * call or an Atomics call is journaled in the slot's journal word, valid while the lock
   * word names the dead thread: a SuperSlab mapped and not yet committed is unmapped; a
   * release in progress is finished from the state it started from.
   */
  recover(): Recovery {
    const i32 = this.v.i32;
    if (!this.shared || lockHolder(i32, this.slot + SS_LOCK) !== this.tid) return { locks: 0, repaired: 0 };
    const j = i32[this.slot + SS_JOURNAL]!;
    let repaired = 0;
    if (j !== 0) {
      const base = j & ~(SUPERSLAB_SIZE - 1);
      const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
      if ((j & SS_JOURNAL_FRESH) !== 0) {
        i32[this.slot + SS_JOURNAL] = 0;
        this.regions.unmap(base, SUPERSLAB_SIZE); // not counted, in no list: os-boundary takes it back (and clears its registry)
      } else if ((j & SS_JOURNAL_RELEASE) !== 0 && this.commitRelease(base, d, (j >>> 2) & 3)) {
        this.regions.unmap(base, SUPERSLAB_SIZE);
      }
      repaired = 1;
    }
    i32[this.slot + SS_JOURNAL] = 0;
    lockRelease(i32, this.slot + SS_LOCK);
    return { locks: 1, repaired };
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
