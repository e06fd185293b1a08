import {
  ErrorCode, HakmemError, PageKind, PAGE_SHIFT, PAGE_SIZE, PD_BLOCK_SIZE, PD_CAPACITY, PD_CARVE, PD_FREE_HEAD,
  PD_REGION_MASK, PD_REGION_OWNER, PD_REGION_STATE, PD_REMOTE_HEAD, PD_SLAB_NEXT, PD_SLAB_PREV, PD_USED, REG_AUX_SHIFT,
  REG_CLASS_SHIFT, REG_KIND_MASK, REG_THREAD_SHIFT, SUPERSLAB_ALL_FREE, SUPERSLAB_SIZE, SuperSlabState,
  type BoxContext, type HeapViews, type Ptr, type Recovery, type SlabSink, type SuperSlabLender, type WarmPool, type WarmPoolOptions,
  type WarmPoolStats,
} from '@hakmem/contracts';
import { DEFAULT_WARM_CAPACITY, KEEP_EMPTY } from './api.js';

/** What `take` returns for a SuperSlab marked DRAINING: no slab may be taken from it; give it back. */
const DRAINING = -1;

/**
 * A thread's HOT SuperSlabs in a small JS-side array. The free-slab mask of a SuperSlab
 * this thread owns is written by this thread only; in a shared heap it is still updated
 * with Atomics, because a thread that gave a SuperSlab back may release one of its old
 * slabs into it (through the shared pool) while a new owner assigns another.
 */
class WarmPoolBox implements WarmPool {
  readonly name = 'warm-pool';
  private readonly v: HeapViews;
  private readonly reg: number;
  private readonly pd: number;
  private readonly tid: number;
  private readonly shared: boolean;
  private readonly sizes: Int32Array;
  private readonly lender: SuperSlabLender & SlabSink;
  private readonly held: Int32Array;
  private readonly maxBytes: number;
  private readonly firstSuperSlab: number;
  private n = 0;
  private hits = 0;
  private misses = 0;
  private prefilled = 0;
  private returned = 0;
  private assigned = 0;
  private released = 0;
  private halfTaken = 0;

  constructor(ctx: BoxContext, options: WarmPoolOptions, capacity: number) {
    this.v = ctx.backend.views;
    this.reg = ctx.layout.registryOffset >>> 2;
    this.pd = ctx.layout.pageTableOffset >>> 2;
    this.tid = ctx.tid;
    this.shared = ctx.shared;
    this.sizes = options.classSizes;
    this.lender = options.lender;
    this.held = new Int32Array(capacity);
    this.maxBytes = ctx.layout.maxBytes;
    this.firstSuperSlab = Math.ceil(ctx.layout.heapStart / SUPERSLAB_SIZE) * SUPERSLAB_SIZE;
  }

  private desc(addr: Ptr): number {
    return this.pd + ((addr >>> PAGE_SHIFT) << 4);
  }

  acquireSlab(cls: number, tid: number): Ptr {
    for (let i = 0; i < this.n; ) {
      const slab = this.take(this.held[i]!, cls, tid);
      if (slab > 0) {
        this.hits++;
        return slab;
      }
      if (slab === 0) i++;
      else this.giveBack(i); // DRAINING: held[i] is now the next SuperSlab
    }
    return this.acquireCold(cls, tid);
  }

  /**
   * Cold path: borrow a SuperSlab (prefill), making room first if the pool is full. One
   * marked DRAINING between the lend and the take goes straight back, and we borrow again
   * (the lender does not lend DRAINING SuperSlabs, so this ends).
   */
  private acquireCold(cls: number, tid: number): Ptr {
    this.misses++;
    for (;;) {
      if (this.n === this.held.length) this.giveBack(0);
      const base = this.lender.acquireSuperSlab(tid);
      if (base === 0) return 0;
      this.held[this.n++] = base;
      this.prefilled++;
      const slab = this.take(base, cls, tid);
      if (slab !== DRAINING) return slab;
      this.giveBack(this.n - 1);
    }
  }

  /**
   * Takes the lowest free slab of a SuperSlab and assigns it to `cls`; 0 if none is free;
   * {@link DRAINING} if the SuperSlab is marked DRAINING (superslab-tier's markDraining:
   * no slab may be taken from it any more). The state is looked at only when there is a
   * slab to take (the tier writes it under its own lock: read atomically in a shared heap).
   */
  private take(base: Ptr, cls: number, tid: number): Ptr {
    const i32 = this.v.i32;
    const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
    const m = d + PD_REGION_MASK;
    let mask = i32[m]!;
    if (mask === 0) return 0;
    if ((this.shared ? Atomics.load(i32, d + PD_REGION_STATE) : i32[d + PD_REGION_STATE]) !== SuperSlabState.HOT) return DRAINING;
    let idx: number;
    for (;;) {
      if (mask === 0) return 0;
      idx = 31 - Math.clz32(mask & -mask);
      if (!this.shared) {
        i32[m] = mask & ~(1 << idx);
        break;
      }
      const seen = Atomics.compareExchange(i32, m, mask, mask & ~(1 << idx));
      if (seen === mask) break;
      mask = seen;
    }
    const slab = base + (idx << PAGE_SHIFT);
    this.initSlab(slab, cls, tid, idx);
    this.assigned++;
    return slab;
  }

  private initSlab(slab: Ptr, cls: number, tid: number, idx: number): void {
    const i32 = this.v.i32;
    const d = this.desc(slab);
    const size = this.sizes[cls]!;
    i32[d + PD_FREE_HEAD] = 0;
    i32[d + PD_CARVE] = 0;
    i32[d + PD_USED] = 0;
    i32[d + PD_CAPACITY] = (PAGE_SIZE / size) | 0;
    i32[d + PD_BLOCK_SIZE] = size;
    i32[d + PD_REMOTE_HEAD] = 0;
    i32[d + PD_SLAB_NEXT] = 0;
    i32[d + PD_SLAB_PREV] = 0;
    i32[this.reg + (slab >>> PAGE_SHIFT)] = PageKind.TINY | (cls << REG_CLASS_SHIFT) | (tid << REG_THREAD_SHIFT) | (idx << REG_AUX_SHIFT);
  }

  releaseSlab(slab: Ptr): void {
    const base = slab & ~(SUPERSLAB_SIZE - 1);
    const i = this.indexOf(base);
    if (i < 0 || this.v.i32[this.desc(base) + PD_REGION_OWNER] !== this.tid) {
      this.lender.releaseSlab(slab);
      return;
    }
    const i32 = this.v.i32;
    const idx = (slab >>> PAGE_SHIFT) & 15;
    const m = this.desc(base) + PD_REGION_MASK;
    // One run: the registry and the mask bit together (a slab is in use iff its bit is clear and its entry TINY).
    i32[this.reg + (slab >>> PAGE_SHIFT)] = PageKind.MAPPED | (idx << REG_AUX_SHIFT);
    const mask = this.shared ? Atomics.or(i32, m, 1 << idx) | (1 << idx) : (i32[m]! |= 1 << idx);
    this.released++;
    if (this.draining(base) || (mask === SUPERSLAB_ALL_FREE && this.emptyCount() > KEEP_EMPTY)) this.giveBack(i);
  }

  /**
   * True when a held SuperSlab was marked DRAINING: no slab may be taken from it, so it
   * goes back to the lender (which keeps it unlent until its last slab comes back).
   */
  private draining(base: Ptr): boolean {
    const s = this.desc(base) + PD_REGION_STATE;
    return (this.shared ? Atomics.load(this.v.i32, s) : this.v.i32[s]) === SuperSlabState.DRAINING;
  }

  private indexOf(base: Ptr): number {
    for (let i = 0; i < this.n; i++) if (this.held[i] === base) return i;
    return -1;
  }

  private emptyCount(): number {
    let k = 0;
    for (let i = 0; i < this.n; i++) if (this.v.i32[this.desc(this.held[i]!) + PD_REGION_MASK] === SUPERSLAB_ALL_FREE) k++;
    return k;
  }

  /** Gives held[i] back to the lender and closes the gap. */
  private giveBack(i: number): void {
    const base = this.held[i]!;
    this.held.copyWithin(i, i + 1, this.n);
    this.n--;
    this.returned++;
    this.lender.releaseSuperSlab(base);
  }

  flush(): void {
    while (this.n > 0) this.giveBack(this.n - 1);
  }

  /**
   * Holds again every SuperSlab whose descriptor says this thread owns it (HOT or
   * DRAINING, lent to `tid`): the 1 MiB-aligned regions whose first page is a tiny slab
   * or a free slab. Beyond the capacity, they go back to the lender.
   */
  adopt(): void {
    const i32 = this.v.i32;
    const end = Math.min(i32.byteLength, this.maxBytes);
    for (let base = this.firstSuperSlab; base + SUPERSLAB_SIZE <= end; base += SUPERSLAB_SIZE) {
      const d = this.desc(base);
      const e = i32[this.reg + (base >>> PAGE_SHIFT)]!;
      const kind = e & REG_KIND_MASK;
      // A SuperSlab's first page is a tiny slab or a free slab (MAPPED, thread 0): not a range os-boundary mapped for a thread.
      if ((kind !== PageKind.TINY && (kind !== PageKind.MAPPED || ((e >>> REG_THREAD_SHIFT) & 0xff) !== 0)) || i32[d + PD_REGION_OWNER] !== this.tid) continue;
      const state = i32[d + PD_REGION_STATE];
      if (state !== SuperSlabState.HOT && state !== SuperSlabState.DRAINING) continue;
      if (this.indexOf(base) >= 0) continue;
      this.freeHalfTaken(base, d);
      if (this.n === this.held.length) this.lender.releaseSuperSlab(base);
      else this.held[this.n++] = base;
    }
  }

  /**
   * A thread stopped between taking a slab's mask bit and stamping the slab TINY (take →
   * initSlab) left a slab marked in use that no class has: its bit is set again. Only the
   * owner takes bits, and a slab's release writes its entry and its bit in one run, so a
   * clear bit with an entry that is not TINY is exactly that.
   */
  private freeHalfTaken(base: Ptr, d: number): void {
    const i32 = this.v.i32;
    const mask = this.shared ? Atomics.load(i32, d + PD_REGION_MASK) : i32[d + PD_REGION_MASK]!;
    if (mask === SUPERSLAB_ALL_FREE) return;
    const r = this.reg + (base >>> PAGE_SHIFT);
    for (let idx = 0; idx < 16; idx++) {
      if ((mask & (1 << idx)) !== 0 || (i32[r + idx]! & REG_KIND_MASK) === PageKind.TINY) continue;
      i32[r + idx] = PageKind.MAPPED | (idx << REG_AUX_SHIFT);
      if (this.shared) Atomics.or(i32, d + PD_REGION_MASK, 1 << idx);
      else i32[d + PD_REGION_MASK]! |= 1 << idx;
      this.halfTaken++;
    }
  }

  /** What adopt() found half-done: slabs a dead thread was taking (reclaim's report). */
  recover(): Recovery {
    const repaired = this.halfTaken;
    this.halfTaken = 0;
    return { locks: 0, repaired };
  }

  stats(): WarmPoolStats {
    return {
      hits: this.hits, misses: this.misses, prefilled: this.prefilled, returned: this.returned, held: this.n,
      slabsAssigned: this.assigned, slabsReleased: this.released,
    };
  }

  checkInvariants(): void {
    for (let i = 0; i < this.n; i++) {
      const base = this.held[i]!;
      if ((base & (SUPERSLAB_SIZE - 1)) !== 0) this.corrupt(`held entry 0x${base.toString(16)} is not a SuperSlab base`);
      if (this.v.i32[this.desc(base) + PD_REGION_OWNER] !== this.tid) this.corrupt(`held SuperSlab 0x${base.toString(16)} is owned by thread ${this.v.i32[this.desc(base) + PD_REGION_OWNER]}`);
      if (this.indexOf(base) !== i) this.corrupt(`SuperSlab 0x${base.toString(16)} held twice`);
      const state = this.v.i32[this.desc(base) + PD_REGION_STATE];
      if (state !== SuperSlabState.HOT && state !== SuperSlabState.DRAINING) this.corrupt(`held SuperSlab 0x${base.toString(16)} is in state ${state}, want HOT or DRAINING`);
    }
  }

  private corrupt(message: string): never {
    throw new HakmemError(ErrorCode.CORRUPTION, message, { box: this.name });
  }
}

/** Creates one thread's warm pool. Throws `E_INVALID_OPTION` for a capacity outside 1..1024. */
export function createWarmPool(ctx: BoxContext, options: WarmPoolOptions): WarmPool {
  const capacity = options.capacity ?? DEFAULT_WARM_CAPACITY;
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1024) {
    throw new HakmemError(ErrorCode.INVALID_OPTION, `capacity must be an integer in 1..1024, got ${capacity}`, { box: 'warm-pool' });
  }
  return new WarmPoolBox(ctx, options, capacity);
}
