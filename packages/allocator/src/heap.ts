import {
  ErrorCode, HakmemError, PAGE_SHIFT, PAGE_SIZE, PD_BLOCK_SIZE, PD_CAPACITY, PD_CARVE, PD_FREE_HEAD, PD_REGION_MASK,
  PD_REGION_STATE, PD_USED, PageKind, REG_AUX_MASK, REG_AUX_SHIFT, REG_KIND_MASK, SUPERSLAB_SIZE, SuperSlabState,
  REG_CLASS_MASK, REG_CLASS_SHIFT, THREAD_RECORD_BYTES, THREAD_TABLE_OFFSET, TR_POOL_REMOTE_HEAD,
  type BigCache, type Gatekeeper, type HeapLayout, type HeapViews, type L25Pool, type MemoryBackend, type OsBoundary, type PageBox,
  type PoolRefill, type PoolTls, type Ptr, type SharedPool, type SuperSlabTier, type TinyRoute, type UnifiedCache,
  type WarmPool,
} from '@hakmem/contracts';
import type { BigUsage, HeapStats, TierUsage, TinyUsage } from './api.js';

/** The boxes of one composed heap (one thread's instances). */
export interface HeapBoxes {
  readonly osBoundary: OsBoundary;
  readonly superslabTier: SuperSlabTier;
  readonly sharedPool: SharedPool;
  readonly warmPool: WarmPool;
  readonly pageBox: PageBox;
  readonly unifiedCache: UnifiedCache;
  readonly tinyRoute: TinyRoute;
  readonly gatekeeper: Gatekeeper;
  readonly poolTls: PoolTls;
  readonly poolRefill: PoolRefill;
  readonly l25Pool: L25Pool;
  readonly bigCache: BigCache;
}

/**
 * A heap: C's allocation functions over one linear memory, plus stats, validation and
 * typed-array helpers. The allocation methods forward to the gatekeeper (a monomorphic
 * call V8 inlines); see each method's contract in `@hakmem/contracts`' `Gatekeeper`.
 */
export class Heap {
  readonly backend: MemoryBackend;
  readonly layout: HeapLayout;
  readonly boxes: HeapBoxes;
  /** Typed-array views over the whole memory (identity stable; fields refreshed on wasm growth). */
  readonly views: HeapViews;
  /** Debug level the heap was composed with (0 release … 3 validate after every call). */
  readonly debug: number;
  protected readonly gk: Gatekeeper;

  constructor(backend: MemoryBackend, layout: HeapLayout, boxes: HeapBoxes, debug: number) {
    this.backend = backend;
    this.layout = layout;
    this.boxes = boxes;
    this.views = backend.views;
    this.gk = boxes.gatekeeper;
    this.debug = debug;
  }

  /** See `Gatekeeper.malloc`: at least `size` bytes, 16-byte aligned from 16 up; 0 on exhaustion. */
  malloc(size: number): Ptr {
    return this.gk.malloc(size);
  }

  /** See `Gatekeeper.free`: `free(0)` is a no-op; bad pointers throw a typed error. */
  free(ptr: Ptr): void {
    this.gk.free(ptr);
  }

  /** See `Gatekeeper.calloc`: zeroed; throws `E_INVALID_SIZE` when `n * size` overflows. */
  calloc(n: number, size: number): Ptr {
    return this.gk.calloc(n, size);
  }

  /** See `Gatekeeper.realloc`: C semantics; on exhaustion returns 0 and the old block is intact. */
  realloc(ptr: Ptr, size: number): Ptr {
    return this.gk.realloc(ptr, size);
  }

  /** See `Gatekeeper.memalign`. */
  memalign(align: number, size: number): Ptr {
    return this.gk.memalign(align, size);
  }

  /** Usable bytes of a live block (`>=` the size asked for). */
  usableSize(ptr: Ptr): number {
    return this.gk.usableSize(ptr);
  }

  /** A Uint8Array over `[ptr, ptr + n)` (a new view object: not for hot loops). */
  u8(ptr: Ptr, n: number): Uint8Array {
    return new Uint8Array(this.backend.buffer(), ptr, n);
  }

  /** An Int32Array of `n` elements at `ptr` (4-byte aligned). */
  i32(ptr: Ptr, n: number): Int32Array {
    return new Int32Array(this.backend.buffer(), ptr, n);
  }

  /** A Uint32Array of `n` elements at `ptr` (4-byte aligned). */
  u32(ptr: Ptr, n: number): Uint32Array {
    return new Uint32Array(this.backend.buffer(), ptr, n);
  }

  /** A Float32Array of `n` elements at `ptr` (4-byte aligned). */
  f32(ptr: Ptr, n: number): Float32Array {
    return new Float32Array(this.backend.buffer(), ptr, n);
  }

  /** A Float64Array of `n` elements at `ptr` (8-byte aligned: every block is). */
  f64(ptr: Ptr, n: number): Float64Array {
    return new Float64Array(this.backend.buffer(), ptr, n);
  }

  /**
   * Gives back to os-boundary what the heap caches but does not use: this thread's
   * cached blocks go back to their slabs and spans, empty slabs to their SuperSlabs,
   * empty SuperSlabs to the tier; the tier's retained SuperSlabs, pool-refill's empty
   * spans and unused arena, l25-pool's and bigcache's cached blocks are unmapped.
   * Returns the bytes unmapped.
   */
  trim(): number {
    const b = this.boxes;
    const before = b.osBoundary.stats().bytesInUse;
    b.unifiedCache.flush();
    b.pageBox.flush();
    b.warmPool.flush();
    b.superslabTier.trim();
    b.poolTls.flush();
    b.poolRefill.trim();
    b.l25Pool.trim();
    b.bigCache.trim();
    return before - b.osBoundary.stats().bytesInUse;
  }

  /**
   * Usable bytes of every live block, from the tiers' metadata (blocks cached for reuse
   * are not live). A model test compares it with its own sum to catch leaks.
   */
  liveBytes(): number {
    return this.tinyUsage().bytesInUse + this.poolUsage().bytesInUse + this.boxes.l25Pool.stats().liveBytes + this.boxes.bigCache.stats().liveBytes;
  }

  /** Footprint, per-tier usage and every box's counters (allocates: not for hot paths). */
  stats(): HeapStats {
    const b = this.boxes;
    return {
      footprint: b.osBoundary.stats().highWater,
      metadataBytes: this.layout.heapStart,
      tiny: this.tinyUsage(),
      pool: this.poolUsage(),
      l25: this.l25Usage(),
      big: this.bigUsage(),
      boxes: {
        osBoundary: b.osBoundary.stats(),
        superslabTier: b.superslabTier.stats(),
        sharedPool: b.sharedPool.stats(),
        warmPool: b.warmPool.stats(),
        pageBox: b.pageBox.stats(),
        unifiedCache: b.unifiedCache.stats(),
        tinyRoute: b.tinyRoute.stats(),
        gatekeeper: b.gatekeeper.stats(),
        poolTls: b.poolTls.stats(),
        poolRefill: b.poolRefill.stats(),
        l25Pool: b.l25Pool.stats(),
        bigCache: b.bigCache.stats(),
      },
    };
  }

  /**
   * What the mid tier holds: pool-refill's used blocks (handed out by its spans) minus
   * those in pool-tls's cache and those waiting on this thread's remote-free list.
   */
  private poolUsage(): TierUsage {
    const r = this.boxes.poolRefill.stats();
    const t = this.boxes.poolTls.stats();
    const i32 = this.views.i32;
    const reg = this.layout.registryOffset >>> 2;
    let pending = 0;
    let pendingBytes = 0;
    for (let p = i32[((THREAD_TABLE_OFFSET + THREAD_RECORD_BYTES) >>> 2) + TR_POOL_REMOTE_HEAD]!; p !== 0; p = i32[p >>> 2]!) {
      pending++;
      pendingBytes += this.boxes.poolTls.classSizes[(i32[reg + (p >>> PAGE_SHIFT)]! >>> REG_CLASS_SHIFT) & REG_CLASS_MASK]!;
    }
    return {
      blocksInUse: r.usedBlocks - t.cached - pending, bytesInUse: r.usedBytes - t.cachedBytes - pendingBytes,
      blocksCached: t.cached, bytesCached: t.cachedBytes,
      bytesFree: r.spanBytes - r.usedBytes + r.emptySpanBytes + r.arenaFree,
    };
  }

  /** What l25-pool holds (its shard records in the linear memory). */
  private l25Usage(): TierUsage {
    const s = this.boxes.l25Pool.stats();
    return { blocksInUse: s.liveBlocks, bytesInUse: s.liveBytes, blocksCached: s.cachedBlocks, bytesCached: s.cachedBytes, bytesFree: 0 };
  }

  /** What bigcache holds right now (its counters; `validate()` checks them against the registry). */
  private bigUsage(): BigUsage {
    const s = this.boxes.bigCache.stats();
    return { blocksInUse: s.liveBlocks, bytesInUse: s.liveBytes, blocksCached: s.cachedBlocks, bytesCached: s.cachedBytes };
  }

  /** Walks the registry and slab descriptors: what tiny slabs hold right now. */
  private tinyUsage(): TinyUsage {
    const i32 = this.views.i32;
    const route = this.boxes.tinyRoute;
    const cache = this.boxes.unifiedCache;
    let slabs = 0;
    let blocks = 0;
    let bytes = 0;
    let assigned = 0;
    this.forEachTinySlab((d) => {
      slabs++;
      blocks += i32[d + PD_USED]!;
      bytes += i32[d + PD_USED]! * i32[d + PD_BLOCK_SIZE]!;
      assigned += PAGE_SIZE;
    });
    let blocksCached = 0;
    let bytesCached = 0;
    for (let c = 0; c < route.numClasses; c++) {
      blocksCached += cache.count(c);
      bytesCached += cache.count(c) * route.classSize(c);
    }
    return {
      slabs, blocksInUse: blocks - blocksCached, bytesInUse: bytes - bytesCached, blocksCached, bytesCached,
      bytesFree: assigned - bytes,
    };
  }

  private forEachTinySlab(fn: (desc: number, page: number, entry: number) => void): void {
    const i32 = this.views.i32;
    const reg = this.layout.registryOffset >>> 2;
    const pd = this.layout.pageTableOffset >>> 2;
    const end = this.boxes.osBoundary.end() >>> PAGE_SHIFT;
    for (let p = this.layout.heapStart >>> PAGE_SHIFT; p < end; p++) {
      const e = i32[reg + p]!;
      if ((e & REG_KIND_MASK) === PageKind.TINY) fn(pd + (p << 4), p, e);
    }
  }

  /**
   * Checks every box's invariants and the tiny tier's cross-box ones: each tiny slab lies
   * in a HOT or DRAINING SuperSlab that marks it in use, and its free list, used count and
   * carve offset agree. Throws `HakmemError(E_CORRUPTION)` naming the first problem.
   */
  validate(): void {
    const b = this.boxes;
    b.osBoundary.checkInvariants();
    b.superslabTier.checkInvariants();
    b.sharedPool.checkInvariants();
    b.warmPool.checkInvariants();
    b.pageBox.checkInvariants();
    b.unifiedCache.checkInvariants();
    b.tinyRoute.checkInvariants();
    b.gatekeeper.checkInvariants();
    b.poolTls.checkInvariants();
    b.poolRefill.checkInvariants();
    b.l25Pool.checkInvariants();
    b.bigCache.checkInvariants();
    const i32 = this.views.i32;
    const pd = this.layout.pageTableOffset >>> 2;
    this.forEachTinySlab((d, p, e) => {
      const slab = p << PAGE_SHIFT;
      const base = slab & ~(SUPERSLAB_SIZE - 1);
      const sd = pd + ((base >>> PAGE_SHIFT) << 4);
      const idx = (e >>> REG_AUX_SHIFT) & REG_AUX_MASK;
      if (idx !== ((slab - base) >>> PAGE_SHIFT)) corrupt(`slab 0x${slab.toString(16)}: registry says slab ${idx} of its SuperSlab`);
      const state = i32[sd + PD_REGION_STATE];
      if (state !== SuperSlabState.HOT && state !== SuperSlabState.DRAINING) corrupt(`slab 0x${slab.toString(16)} is in a SuperSlab in state ${state}`);
      if ((i32[sd + PD_REGION_MASK]! & (1 << idx)) !== 0) corrupt(`slab 0x${slab.toString(16)} is in use but its SuperSlab marks it free`);
      const size = i32[d + PD_BLOCK_SIZE]!;
      const cap = i32[d + PD_CAPACITY]!;
      const carve = i32[d + PD_CARVE]!;
      const used = i32[d + PD_USED]!;
      if (size <= 0 || cap !== Math.floor(PAGE_SIZE / size) || carve % size !== 0 || carve > cap * size || used < 0 || used > carve / size) {
        corrupt(`slab 0x${slab.toString(16)}: size ${size}, capacity ${cap}, carved ${carve}, used ${used} are inconsistent`);
      }
      let free = 0;
      for (let f = i32[d + PD_FREE_HEAD]!; f !== 0; f = i32[f >>> 2]!) {
        if (f < slab || f >= slab + carve || (f - slab) % size !== 0) corrupt(`slab 0x${slab.toString(16)}: free-list entry 0x${f.toString(16)} is not one of its carved blocks`);
        if (++free > cap) corrupt(`slab 0x${slab.toString(16)}: cycle in the free list`);
      }
      if (free + used !== carve / size) corrupt(`slab 0x${slab.toString(16)}: ${free} free + ${used} used ≠ ${carve / size} carved`);
    });
  }
}

/**
 * Debug level 3: `validate()` after every allocation call. A separate class, so that a
 * release heap's methods carry no debug branch at all.
 */
export class ValidatingHeap extends Heap {
  override malloc(size: number): Ptr {
    const p = this.gk.malloc(size);
    this.validate();
    return p;
  }

  override free(ptr: Ptr): void {
    this.gk.free(ptr);
    this.validate();
  }

  override calloc(n: number, size: number): Ptr {
    const p = this.gk.calloc(n, size);
    this.validate();
    return p;
  }

  override realloc(ptr: Ptr, size: number): Ptr {
    const p = this.gk.realloc(ptr, size);
    this.validate();
    return p;
  }

  override memalign(align: number, size: number): Ptr {
    const p = this.gk.memalign(align, size);
    this.validate();
    return p;
  }
}

function corrupt(message: string): never {
  throw new HakmemError(ErrorCode.CORRUPTION, message, { box: 'allocator' });
}
