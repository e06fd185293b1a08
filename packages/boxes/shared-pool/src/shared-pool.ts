import {
  ErrorCode, HakmemError, SUPERSLAB_ALL_FREE, PageKind, PAGE_SHIFT, PD_REGION_MASK, PD_REGION_NEXT, PD_REGION_OWNER, PD_REGION_PREV,
  PD_REGION_STATE, REG_AUX_SHIFT, SUPERSLAB_SHIFT, SUPERSLAB_SIZE, SuperSlabState,
  type BoxContext, type HeapViews, type Ptr, type Recovery, type SharedPool, type SharedPoolOptions, type SharedPoolStats,
  type SuperSlabSink, type SuperSlabSource,
} from '@hakmem/contracts';
import { canBlockHere, lockAcquire, lockHolder, lockRelease } from '@hakmem/primitives';
import {
  SP_FROM_TIER, SP_HEAD, SP_HELD, SP_JOURNAL, SP_LENT, SP_LOCK, SP_LOCK_CONTENDED, SP_RETURNED, SP_TO_TIER,
} from './layout.js';

/**
 * Lends SuperSlabs to threads' warm pools and takes them back. Every call is a cold
 * path. Lock discipline: the pool's lock is never held while calling the superslab tier
 * (which takes its own), so the two locks never nest in either order.
 */
class SharedPoolBox implements SharedPool {
  readonly name = 'shared-pool';
  private readonly v: HeapViews;
  private readonly slot: number;
  private readonly reg: number;
  private readonly pd: number;
  private readonly shared: boolean;
  private readonly canBlock: boolean;
  private readonly tier: SuperSlabSource & SuperSlabSink;
  private readonly tid: number;

  constructor(ctx: BoxContext, options: SharedPoolOptions) {
    this.v = ctx.backend.views;
    this.slot = ctx.slotOffset >>> 2;
    this.reg = ctx.layout.registryOffset >>> 2;
    this.pd = ctx.layout.pageTableOffset >>> 2;
    this.shared = ctx.shared;
    this.canBlock = ctx.shared && canBlockHere();
    this.tier = options.superSlabs;
    this.tid = ctx.tid;
  }

  private desc(base: Ptr): number {
    return this.pd + ((base >>> PAGE_SHIFT) << 4);
  }

  /** Takes the lock (when shared); the journal word is the holder's from here, cleared in the same run of stores as the acquisition. */
  private lock(): void {
    if (this.shared && lockAcquire(this.v.i32, this.slot + SP_LOCK, this.canBlock, this.tid) !== 0) this.v.i32[this.slot + SP_LOCK_CONTENDED]!++;
    this.v.i32[this.slot + SP_JOURNAL] = 0;
  }

  private unlock(): void {
    if (this.shared) lockRelease(this.v.i32, this.slot + SP_LOCK);
  }

  acquireSuperSlab(tid: number): Ptr {
    let i32 = this.v.i32;
    this.lock();
    let base = i32[this.slot + SP_HEAD]!;
    while (base !== 0 && !this.lendable(this.desc(base))) base = i32[this.desc(base) + PD_REGION_NEXT]!;
    if (base !== 0) this.commitLend(base, tid);
    this.unlock();
    if (base === 0) {
      base = this.tier.acquireSuperSlab();
      if (base === 0) return 0;
      // Owned by the borrower in the same run of stores as the tier's return: a thread
      // stopped anywhere leaves the SuperSlab with an owner (adopted by its reclaim).
      i32 = this.v.i32; // the tier may have grown the memory (wasm replaces the buffer)
      i32[this.pd + ((base >>> PAGE_SHIFT) << 4) + PD_REGION_OWNER] = tid;
      this.count(SP_FROM_TIER);
      this.count(SP_LENT);
    }
    return base;
  }

  /** Under the lock, one run of stores: a held SuperSlab leaves the list, owned by `tid`. */
  private commitLend(base: Ptr, tid: number): void {
    const i32 = this.v.i32;
    const s = this.slot;
    const pd = this.pd;
    const d = pd + ((base >>> PAGE_SHIFT) << 4);
    const next = i32[d + PD_REGION_NEXT]!;
    const prev = i32[d + PD_REGION_PREV]!;
    if (prev !== 0) i32[pd + ((prev >>> PAGE_SHIFT) << 4) + PD_REGION_NEXT] = next;
    else i32[s + SP_HEAD] = next;
    if (next !== 0) i32[pd + ((next >>> PAGE_SHIFT) << 4) + PD_REGION_PREV] = prev;
    i32[d + PD_REGION_NEXT] = 0;
    i32[d + PD_REGION_PREV] = 0;
    i32[s + SP_HELD]!--;
    i32[d + PD_REGION_OWNER] = tid;
    if (this.shared) Atomics.add(i32, s + SP_LENT, 1);
    else i32[s + SP_LENT]!++;
  }

  releaseSuperSlab(base: Ptr): void {
    this.lock();
    const toTier = this.commitGiveBack(base);
    this.unlock();
    if (toTier) this.toTier(base);
  }

  /**
   * Under the lock, one run of stores: a SuperSlab its owner gives back is held (owner 0,
   * linked) unless every slab is free; then it stays owned by the giver until the tier
   * takes it (a thread stopped before that leaves it to its reclaim) and true is returned.
   * The mask is read under the lock: a slab released into it concurrently (releaseSlab,
   * also under the lock) is either seen here or sees the SuperSlab held.
   */
  private commitGiveBack(base: Ptr): boolean {
    const i32 = this.v.i32;
    const s = this.slot;
    const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
    if (this.shared) Atomics.add(i32, s + SP_RETURNED, 1);
    else i32[s + SP_RETURNED]!++;
    if ((this.shared ? Atomics.load(i32, d + PD_REGION_MASK) : i32[d + PD_REGION_MASK]) === SUPERSLAB_ALL_FREE) return true;
    i32[d + PD_REGION_OWNER] = 0;
    const head = i32[s + SP_HEAD]!;
    i32[d + PD_REGION_NEXT] = head;
    i32[d + PD_REGION_PREV] = 0;
    if (head !== 0) i32[this.pd + ((head >>> PAGE_SHIFT) << 4) + PD_REGION_PREV] = base;
    i32[s + SP_HEAD] = base;
    i32[s + SP_HELD]!++;
    return false;
  }

  /** A slab of a SuperSlab no thread owns (its owner gave the SuperSlab back) became empty. */
  releaseSlab(slab: Ptr): void {
    this.lock();
    const empty = this.commitSlabFree(slab);
    this.unlock();
    if (empty) this.toTier(slab & ~(SUPERSLAB_SIZE - 1));
  }

  /**
   * Under the lock, one run of stores: the slab is free again (registry MAPPED, its mask
   * bit set); when that empties a held SuperSlab, it leaves the list owned by this thread
   * (on its way to the tier: a thread stopped before the tier takes it leaves it to its
   * reclaim) and true is returned.
   */
  private commitSlabFree(slab: Ptr): boolean {
    const i32 = this.v.i32;
    const s = this.slot;
    const pd = this.pd;
    const base = slab & ~(SUPERSLAB_SIZE - 1);
    const idx = (slab >>> PAGE_SHIFT) & 15;
    const d = pd + ((base >>> PAGE_SHIFT) << 4);
    // The registry entry before the mask bit (a bit set is a slab another thread may take at
    // once); the Atomics call between them is a point where V8 may stop the thread, so the
    // slab is journaled with them: recover() sets the bit.
    i32[s + SP_JOURNAL] = slab;
    i32[this.reg + (slab >>> PAGE_SHIFT)] = PageKind.MAPPED | (idx << REG_AUX_SHIFT);
    return this.afterSlabFree(d, this.shared ? Atomics.or(i32, d + PD_REGION_MASK, 1 << idx) | (1 << idx) : (i32[d + PD_REGION_MASK]! |= 1 << idx));
  }

  /** The rest of commitSlabFree, one run of plain stores (the mask is `mask` now). */
  private afterSlabFree(d: number, mask: number): boolean {
    const i32 = this.v.i32;
    const s = this.slot;
    const pd = this.pd;
    i32[s + SP_JOURNAL] = 0;
    if (mask !== SUPERSLAB_ALL_FREE || i32[d + PD_REGION_OWNER] !== 0) return false;
    const next = i32[d + PD_REGION_NEXT]!;
    const prev = i32[d + PD_REGION_PREV]!;
    if (prev !== 0) i32[pd + ((prev >>> PAGE_SHIFT) << 4) + PD_REGION_NEXT] = next;
    else i32[s + SP_HEAD] = next;
    if (next !== 0) i32[pd + ((next >>> PAGE_SHIFT) << 4) + PD_REGION_PREV] = prev;
    i32[d + PD_REGION_NEXT] = 0;
    i32[d + PD_REGION_PREV] = 0;
    i32[s + SP_HELD]!--;
    i32[d + PD_REGION_OWNER] = this.tid;
    return true;
  }

  /**
   * Under the lock: a held SuperSlab may be lent when it has a free slab and is HOT. A
   * DRAINING one (superslab-tier's markDraining: no slab may be taken from it any more)
   * stays held, unlent, until its last slab comes back through releaseSlab, which sends
   * it to the tier. Its state is written by the tier under the tier's lock, so it is read
   * atomically in a shared heap.
   */
  private lendable(d: number): boolean {
    if (this.v.i32[d + PD_REGION_MASK] === 0) return false;
    const state = this.shared ? Atomics.load(this.v.i32, d + PD_REGION_STATE) : this.v.i32[d + PD_REGION_STATE];
    return state === SuperSlabState.HOT;
  }

  private toTier(base: Ptr): void {
    this.tier.releaseSuperSlab(base);
    this.count(SP_TO_TIER);
  }

  /**
   * Run by `heap.reclaim` on the dead thread's instance: every change under the lock is
   * one run of stores (a SuperSlab between the pool and a thread or the tier always has an
   * owner, or is listed), so the lock is only released.
   */
  recover(): Recovery {
    const i32 = this.v.i32;
    if (!this.shared || lockHolder(i32, this.slot + SP_LOCK) !== this.tid) return { locks: 0, repaired: 0 };
    let repaired = 0;
    const slab = i32[this.slot + SP_JOURNAL]!;
    if (slab !== 0) {
      // A releaseSlab stopped at its mask update: finished; a SuperSlab it empties leaves the
      // list owned by the dead thread (its reclaim's warm pool takes it, and gives it back).
      const base = slab & ~(SUPERSLAB_SIZE - 1);
      const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
      const idx = (slab >>> PAGE_SHIFT) & 15;
      this.afterSlabFree(d, Atomics.or(i32, d + PD_REGION_MASK, 1 << idx) | (1 << idx));
      repaired = 1;
    }
    i32[this.slot + SP_JOURNAL] = 0;
    lockRelease(i32, this.slot + SP_LOCK);
    return { locks: 1, repaired };
  }

  private count(word: number): void {
    if (this.shared) Atomics.add(this.v.i32, this.slot + word, 1);
    else this.v.i32[this.slot + word]!++;
  }

  stats(): SharedPoolStats {
    const i32 = this.v.i32;
    const s = this.slot;
    return {
      lent: i32[s + SP_LENT]!, returned: i32[s + SP_RETURNED]!, fromTier: i32[s + SP_FROM_TIER]!,
      toTier: i32[s + SP_TO_TIER]!, held: i32[s + SP_HELD]!, lockContended: i32[s + SP_LOCK_CONTENDED]!,
    };
  }

  checkInvariants(): void {
    const i32 = this.v.i32;
    let n = 0;
    let prev = 0;
    for (let base = i32[this.slot + SP_HEAD]!; base !== 0; base = i32[this.desc(base) + PD_REGION_NEXT]!) {
      const d = this.desc(base);
      if ((base & (SUPERSLAB_SIZE - 1)) !== 0) this.corrupt(`held entry 0x${base.toString(16)} is not a SuperSlab base`);
      if (i32[d + PD_REGION_PREV] !== prev) this.corrupt(`broken back link at SuperSlab 0x${base.toString(16)}`);
      if (i32[d + PD_REGION_OWNER] !== 0) this.corrupt(`held SuperSlab 0x${base.toString(16)} has owner ${i32[d + PD_REGION_OWNER]}`);
      const state = i32[d + PD_REGION_STATE];
      if (state !== SuperSlabState.HOT && state !== SuperSlabState.DRAINING) this.corrupt(`held SuperSlab 0x${base.toString(16)} is in state ${state}, want HOT or DRAINING`);
      if (++n > 1 << (31 - SUPERSLAB_SHIFT)) this.corrupt('cycle in the held list');
      prev = base;
    }
    if (n !== i32[this.slot + SP_HELD]) this.corrupt(`held list has ${n} SuperSlabs, counter says ${i32[this.slot + SP_HELD]}`);
  }

  private corrupt(message: string): never {
    throw new HakmemError(ErrorCode.CORRUPTION, message, { box: this.name });
  }
}

/**
 * Creates one thread's handle on the shared pool. State lives in the box slot at
 * `ctx.slotOffset`; all-zero state (fresh memory) is the empty pool.
 */
export function createSharedPool(ctx: BoxContext, options: SharedPoolOptions): SharedPool {
  if (ctx.slotOffset < 0) throw new HakmemError(ErrorCode.INVALID_OPTION, 'shared-pool needs a box state slot', { box: 'shared-pool' });
  return new SharedPoolBox(ctx, options);
}
