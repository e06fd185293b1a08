import {
  ErrorCode, HakmemError, SUPERSLAB_ALL_FREE, PageKind, PAGE_SHIFT, PD_REGION_MASK, PD_REGION_NEXT, PD_REGION_OWNER, PD_REGION_PREV,
  PD_REGION_STATE, REG_AUX_SHIFT, SUPERSLAB_SHIFT, SUPERSLAB_SIZE, SuperSlabState,
  type BoxContext, type HeapViews, type Ptr, type SharedPool, type SharedPoolOptions, type SharedPoolStats,
  type SuperSlabSink, type SuperSlabSource,
} from '@hakmem/contracts';
import { canBlockHere, lockAcquire, lockRelease } from '@hakmem/primitives';
import {
  SP_FROM_TIER, SP_HEAD, SP_HELD, SP_LENT, SP_LOCK, SP_LOCK_CONTENDED, SP_RETURNED, SP_TO_TIER,
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

  constructor(ctx: BoxContext, options: SharedPoolOptions) {
    this.v = ctx.backend.views;
    this.slot = ctx.slotOffset >>> 2;
    this.reg = ctx.layout.registryOffset >>> 2;
    this.pd = ctx.layout.pageTableOffset >>> 2;
    this.shared = ctx.shared;
    this.canBlock = ctx.shared && canBlockHere();
    this.tier = options.superSlabs;
  }

  private desc(base: Ptr): number {
    return this.pd + ((base >>> PAGE_SHIFT) << 4);
  }

  private lock(): void {
    if (this.shared && lockAcquire(this.v.i32, this.slot + SP_LOCK, this.canBlock) !== 0) this.v.i32[this.slot + SP_LOCK_CONTENDED]!++;
  }

  private unlock(): void {
    if (this.shared) lockRelease(this.v.i32, this.slot + SP_LOCK);
  }

  acquireSuperSlab(tid: number): Ptr {
    let i32 = this.v.i32;
    this.lock();
    let base = i32[this.slot + SP_HEAD]!;
    while (base !== 0 && !this.lendable(this.desc(base))) base = i32[this.desc(base) + PD_REGION_NEXT]!;
    if (base !== 0) this.unlink(base);
    this.unlock();
    if (base === 0) {
      base = this.tier.acquireSuperSlab();
      if (base === 0) return 0;
      this.count(SP_FROM_TIER);
      i32 = this.v.i32; // the tier may have grown the memory (wasm replaces the buffer)
    }
    i32[this.desc(base) + PD_REGION_OWNER] = tid;
    this.count(SP_LENT);
    return base;
  }

  releaseSuperSlab(base: Ptr): void {
    const i32 = this.v.i32;
    const d = this.desc(base);
    i32[d + PD_REGION_OWNER] = 0;
    this.count(SP_RETURNED);
    if (this.maskOf(d) === SUPERSLAB_ALL_FREE) {
      this.toTier(base);
      return;
    }
    this.lock();
    this.link(base);
    this.unlock();
  }

  /** A slab of a SuperSlab no thread owns (its owner gave the SuperSlab back) became empty. */
  releaseSlab(slab: Ptr): void {
    const base = slab & ~(SUPERSLAB_SIZE - 1);
    const idx = (slab >>> PAGE_SHIFT) & 15;
    const d = this.desc(base);
    this.v.i32[this.reg + (slab >>> PAGE_SHIFT)] = PageKind.MAPPED | (idx << REG_AUX_SHIFT);
    this.lock();
    const mask = this.shared ? Atomics.or(this.v.i32, d + PD_REGION_MASK, 1 << idx) | (1 << idx) : (this.v.i32[d + PD_REGION_MASK]! |= 1 << idx);
    const empty = mask === SUPERSLAB_ALL_FREE && this.v.i32[d + PD_REGION_OWNER] === 0;
    if (empty) this.unlink(base);
    this.unlock();
    if (empty) this.toTier(base);
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

  private maskOf(d: number): number {
    return this.shared ? Atomics.load(this.v.i32, d + PD_REGION_MASK) : this.v.i32[d + PD_REGION_MASK]!;
  }

  private toTier(base: Ptr): void {
    this.tier.releaseSuperSlab(base);
    this.count(SP_TO_TIER);
  }

  /** Under the lock: push at the head of the held list. */
  private link(base: Ptr): void {
    const i32 = this.v.i32;
    const d = this.desc(base);
    const head = i32[this.slot + SP_HEAD]!;
    i32[d + PD_REGION_NEXT] = head;
    i32[d + PD_REGION_PREV] = 0;
    if (head !== 0) i32[this.desc(head) + PD_REGION_PREV] = base;
    i32[this.slot + SP_HEAD] = base;
    i32[this.slot + SP_HELD]!++;
  }

  /** Under the lock: remove from the held list. */
  private unlink(base: Ptr): void {
    const i32 = this.v.i32;
    const d = this.desc(base);
    const next = i32[d + PD_REGION_NEXT]!;
    const prev = i32[d + PD_REGION_PREV]!;
    if (prev !== 0) i32[this.desc(prev) + PD_REGION_NEXT] = next;
    else i32[this.slot + SP_HEAD] = next;
    if (next !== 0) i32[this.desc(next) + PD_REGION_PREV] = prev;
    i32[d + PD_REGION_NEXT] = 0;
    i32[d + PD_REGION_PREV] = 0;
    i32[this.slot + SP_HELD]!--;
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
