import type {
  BigCache, BigCacheOptions, BigCacheStats, BoxContext, L25Pool, L25PoolOptions, L25PoolStats, PoolRefill, PoolRefillOptions,
  PoolRefillStats, PoolTls, PoolTlsOptions, PoolTlsStats, Gatekeeper, GatekeeperOptions, GatekeeperStats, MemoryBackend, OsBoundary, OsBoundaryOptions,
  OsBoundaryStats, PageBox, PageBoxOptions, SharedBackendHandle, PageBoxStats, SharedPool, SharedPoolOptions, SharedPoolStats,
  SuperSlabTier, SuperSlabTierOptions, SuperSlabTierStats, TinyRoute, TinyRouteOptions, TinyRouteStats, UnifiedCache,
  UnifiedCacheOptions, UnifiedCacheStats, WarmPool, WarmPoolOptions, WarmPoolStats,
} from '@hakmem/contracts';

/**
 * The factories `compose()` wires together. Pass your own implementation of any box
 * contract to swap it; the others stay the defaults.
 */
export interface BoxFactories {
  osBoundary(options: OsBoundaryOptions): OsBoundary;
  superslabTier(ctx: BoxContext, options: SuperSlabTierOptions): SuperSlabTier;
  sharedPool(ctx: BoxContext, options: SharedPoolOptions): SharedPool;
  warmPool(ctx: BoxContext, options: WarmPoolOptions): WarmPool;
  pageBox(ctx: BoxContext, options: PageBoxOptions): PageBox;
  unifiedCache(options: UnifiedCacheOptions): UnifiedCache;
  tinyRoute(options: TinyRouteOptions): TinyRoute;
  gatekeeper(ctx: BoxContext, options: GatekeeperOptions): Gatekeeper;
  poolTls(options: PoolTlsOptions): PoolTls;
  poolRefill(ctx: BoxContext, options: PoolRefillOptions): PoolRefill;
  l25Pool(ctx: BoxContext, options: L25PoolOptions): L25Pool;
  bigCache(ctx: BoxContext, options: BigCacheOptions): BigCache;
}

/** Tuning of the default boxes (each box's README documents its options). */
export interface BoxTuning {
  readonly tinyRoute?: TinyRouteOptions;
  readonly unifiedCache?: Pick<UnifiedCacheOptions, 'capacity' | 'batch'>;
  readonly pageBox?: Pick<PageBoxOptions, 'pooledClasses' | 'pagesPerClass'>;
  readonly warmPool?: Pick<WarmPoolOptions, 'capacity'>;
  readonly superslabTier?: Pick<SuperSlabTierOptions, 'retain'>;
  readonly poolTls?: Pick<PoolTlsOptions, 'classSizes' | 'capacity' | 'budget'>;
  readonly poolRefill?: Pick<PoolRefillOptions, 'arenaInitial' | 'arenaMax' | 'prewarm'>;
  readonly l25Pool?: Pick<L25PoolOptions, 'classSizes' | 'shards' | 'keepPerClass' | 'budget' | 'budgetFloor' | 'liveShare' | 'splitSpan'>;
  readonly bigCache?: Pick<BigCacheOptions, 'budget' | 'budgetFloor' | 'liveShare'>;
}

/** Options of `compose()`: an explicit backend and any box you want to swap. */
export interface ComposeOptions {
  readonly backend: MemoryBackend;
  readonly boxes?: Partial<BoxFactories>;
  readonly tuning?: BoxTuning;
  /** Throw `E_OUT_OF_MEMORY` instead of returning 0. Default false. */
  readonly throwOnOutOfMemory?: boolean;
  /**
   * Called when an allocation finds the memory at its maximum, after the heap has given
   * back what it caches itself (`trim()`) and retried if that made memory reusable: free
   * your own caches (e.g. `heap.free` of blocks you can rebuild) and return true to have
   * the allocation retried, false to let it fail (0, or E_OUT_OF_MEMORY). At most 3
   * retries per allocation, the heap's own included. An allocation made inside the hook
   * that finds the memory exhausted fails at once.
   */
  readonly onOutOfMemory?: (size: number) => boolean;
  /** 0 release (default) … 3 validate after every call (see docs/debug.md). */
  readonly debug?: number;
}

/** Options of `createHeap()`: the embedded default composition. */
export interface HeapOptions extends Omit<ComposeOptions, 'backend'> {
  /** `'native'` (default: one reserved ArrayBuffer, a SharedArrayBuffer when shared), `'wasm'`, or your own backend. */
  readonly backend?: 'native' | 'wasm' | MemoryBackend;
  /** Maximum heap size in bytes (default 256 MiB; at most 2 GiB − 64 KiB). */
  readonly maxBytes?: number;
  /** Build on shared memory (several workers; see the workers issue). Default false. */
  readonly shared?: boolean;
  /**
   * Native backend only: a resizable / growable buffer instead of one reserved plain
   * buffer of `maxBytes` (see `BackendOptions.growable`). Default false.
   */
  readonly growable?: boolean;
}

/**
 * What `heap.share()` returns and `attachHeap` takes: plain data plus the shared memory,
 * so `postMessage` can carry it to a worker.
 */
export interface SharedHeapHandle {
  readonly kind: 'hakmem-heap';
  /** The backend's handle (the SharedArrayBuffer or shared WebAssembly.Memory). */
  readonly backend: SharedBackendHandle;
  /** The creator's tuning, debug level and out-of-memory mode: every thread builds its boxes with them. */
  readonly options: Pick<ComposeOptions, 'tuning' | 'debug' | 'throwOnOutOfMemory'>;
}

/** Options of `attachHeap` that cannot travel in a handle. */
export interface AttachOptions {
  /** Box factories to use in this thread instead of the defaults (the same as the creator's, normally). */
  readonly boxes?: Partial<BoxFactories>;
  /** This thread's out-of-memory hook (see ComposeOptions). */
  readonly onOutOfMemory?: (size: number) => boolean;
  /**
   * The host's id of this thread, recorded for `heap.watch` (default: worker_threads'
   * `threadId` under Node). Elsewhere (a browser), give each worker an integer >= 1 of
   * your own and pass `watch` the same as `threadId`.
   */
  readonly hostThreadId?: number;
}

/** What the tiny tier holds right now, from the slab descriptors (not from counters). */
export interface TinyUsage {
  /** Slabs assigned to a class. */
  slabs: number;
  /** Blocks handed out by slabs, minus those sitting in the unified cache: live blocks. */
  blocksInUse: number;
  /** Usable bytes of the live blocks. */
  bytesInUse: number;
  /** Blocks in this thread's unified cache (freed, not yet back in their slab). */
  blocksCached: number;
  bytesCached: number;
  /** Bytes of assigned slabs not in use and not cached (free or uncarved blocks, tail waste). */
  bytesFree: number;
}

/** `heap.stats()`: footprint, per-tier usage, and every box's own counters. */
export interface HeapStats {
  /**
   * Bytes taken from the backend (os-boundary's high-water mark): the footprint. It never
   * falls; see `byteLength` for what the heap holds now.
   */
  footprint: number;
  /**
   * The backend's length now (`backend.byteLength()`): the metadata prefix and every page
   * mapped or free in os-boundary. Below `footprint` once `trim()` gave the free top of
   * the memory back (`growable: true`, not shared: the only backend that can shrink);
   * equal to it on every other backend.
   */
  byteLength: number;
  /** Bytes of the reserved metadata prefix (header, registry, page table, os state). */
  metadataBytes: number;
  tiny: TinyUsage;
  /** What the mid tier (pool-tls over pool-refill) holds right now. */
  pool: TierUsage;
  /** What the L2.5 tier holds right now. */
  l25: TierUsage;
  /** What the big tier holds right now: live blocks and bytes, cached (freed) blocks and bytes. */
  big: BigUsage;
  boxes: {
    osBoundary: OsBoundaryStats;
    superslabTier: SuperSlabTierStats;
    sharedPool: SharedPoolStats;
    warmPool: WarmPoolStats;
    pageBox: PageBoxStats;
    unifiedCache: UnifiedCacheStats;
    tinyRoute: TinyRouteStats;
    gatekeeper: GatekeeperStats;
    poolTls: PoolTlsStats;
    poolRefill: PoolRefillStats;
    l25Pool: L25PoolStats;
    bigCache: BigCacheStats;
  };
}

/**
 * What a tier holds right now. `bytesCached` is "freed but not yet returned": blocks the
 * tier keeps for reuse; `trim()` gives back what is not in use.
 */
export interface TierUsage {
  /** Blocks handed out and not freed. */
  blocksInUse: number;
  /** Their usable bytes. */
  bytesInUse: number;
  /** Freed blocks kept for reuse (per-thread caches, pools). */
  blocksCached: number;
  bytesCached: number;
  /**
   * Bytes the tier holds that are neither in use nor cached blocks: the mid tier's free
   * and uncarved span space, pooled empty spans and unsplit arena (0 for L2.5 and big,
   * whose free blocks are all cached).
   */
  bytesFree: number;
}

/** What the big tier holds right now (whole pages). */
export interface BigUsage {
  blocksInUse: number;
  bytesInUse: number;
  /** Freed blocks kept for reuse (within the bigcache budget). */
  blocksCached: number;
  bytesCached: number;
}

/**
 * What `heap.watch`'s reclaim of a worker that exited (or `heap.reclaim(tid)` of an
 * abandoned id) found the thread in the middle of, and repaired: see docs/debug.md,
 * "Killed threads".
 */
export interface ReclaimReport {
  /** The thread id reclaimed. */
  readonly tid: number;
  /** The boxes whose lock the thread held when it died (each repaired and released); `'thread registry'` for the thread lock. */
  readonly locks: readonly string[];
  /** One box name per operation the thread was in the middle of that was finished or undone (a batch, a drain, an alloc not returned...). */
  readonly repaired: readonly string[];
  /**
   * Bytes the thread had mapped from os-boundary that no box owned — a range in flight
   * between os-boundary and a box (mapped and not yet stamped, or on its way back), and its
   * pool arena's uncut rest and pooled empty spans — given back to os-boundary.
   */
  readonly strayBytes: number;
}
