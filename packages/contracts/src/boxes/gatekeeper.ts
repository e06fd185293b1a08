import type { Ptr } from '../pointer.js';
import type { BigCache } from './bigcache.js';
import type { Box, FlushableBox, RecoverableBox } from './common.js';
import type { L25Pool } from './l25-pool.js';
import type { PoolTls } from './pool-tls.js';
import type { TinyRoute } from './tiny-route.js';
import type { UnifiedCache } from './unified-cache.js';

export interface GatekeeperStats {
  /** calloc calls. */
  callocs: number;
  /** realloc calls that stayed in place. */
  reallocsInPlace: number;
  /** realloc calls that moved the block. */
  reallocsMoved: number;
  /** memalign calls. */
  memaligns: number;
  /** Allocation calls that returned 0 (out of memory). */
  failed: number;
  /** Bad-input calls rejected with a HakmemError. */
  rejected: number;
  /** Debug level 2: blocks freed but held in this thread's quarantine, and their usable bytes in their tiers. */
  quarantined: number;
  quarantinedBytes: number;
  /**
   * Debug level 2: bytes of live blocks beyond what was asked (canary and size word, and
   * the tier's rounding), net of this thread's mallocs and frees (a block freed by another
   * thread is counted there).
   */
  guardBytes: number;
}

/** Options of a gatekeeper: the boxes it routes to. */
export interface GatekeeperOptions {
  readonly route: TinyRoute;
  readonly cache: UnifiedCache;
  /**
   * The mid tier: sizes the route sends to `Route.POOL` (above `tinyMax`, up to
   * `poolMax`). Its last class must hold `poolMax`. Without it those sizes throw
   * `E_NO_ROUTE`.
   */
  readonly pool?: PoolTls;
  /**
   * The L2.5 tier: sizes the route sends to `Route.L25` (above `poolMax`, up to
   * `l25Max`). Its last class must hold `l25Max`. Without it those sizes throw `E_NO_ROUTE`.
   */
  readonly l25?: L25Pool;
  /**
   * The big tier: sizes the route sends to `Route.BIG` (above `l25Max`), and memalign
   * with alignments above 64 KiB. Without it those throw `E_NO_ROUTE`.
   */
  readonly big?: BigCache;
  /** Throw `E_OUT_OF_MEMORY` instead of returning 0. Default false. */
  readonly throwOnOutOfMemory?: boolean;
  /**
   * Called when an allocation finds the memory exhausted, before it gives up: free what
   * you can (your own caches, the heap's `trim()`) and return true to have it retried,
   * false to fail now. Called at most 3 times per allocation; an allocation made inside
   * the hook that finds the memory exhausted fails at once (no nested call).
   */
  readonly onOutOfMemory?: (size: number) => boolean;
  /**
   * The exact answer to "is this block start of a tiny or pool page free?" beyond this
   * thread's own caches (which the gatekeeper asks itself): the slab's or span's free
   * list, remote-free lists, other threads' caches. Slow path: called only when a freed
   * block's key word matches (a double free, or user data that happens to equal the key),
   * and by `isAllocated`. The composition root passes one; without it only this thread's
   * caches are asked.
   */
  readonly freed?: (ptr: Ptr, kind: number, cls: number) => boolean;
  /**
   * Debug level ≥ 1: the bitmap of live blocks (one bit per 8-byte granule of the address
   * space, `(maxBytes >>> 6) + 1` bytes). In a shared heap the composition root passes one
   * in the linear memory, so that every thread sees the same bits (updated with Atomics).
   * Default: a JS-side one of this thread.
   */
  readonly liveBitmap?: Uint8Array;
  /**
   * Debug level 2: freed blocks wait in this thread's quarantine before they are really
   * freed, up to this many blocks (default 1024) or `quarantineBytes` (default 8 MiB).
   */
  readonly quarantineBlocks?: number;
  readonly quarantineBytes?: number;
}

/**
 * The entry: C's allocation functions over the composed boxes. malloc and free are
 * counted by no one on the hot path (a counter there costs more than it tells); the
 * tiers' stats say what is in use. Validates input, routes
 * sizes through tiny-route, resolves a pointer's owner in O(1) through the page
 * registry, converts user ↔ base pointers where a tier needs it.
 *
 * Common failure contract: bad input throws `HakmemError` (E_INVALID_SIZE,
 * E_INVALID_ALIGNMENT, E_INVALID_POINTER, E_INTERIOR_POINTER, E_DOUBLE_FREE, E_NO_ROUTE)
 * and leaves the heap exactly as it was; exhaustion returns 0 (or throws
 * E_OUT_OF_MEMORY when the heap was created with `throwOnOutOfMemory`).
 */
export interface Gatekeeper extends Box<GatekeeperStats>, FlushableBox, Partial<RecoverableBox> {
  /**
   * `size` a non-negative integer (else E_INVALID_SIZE). `malloc(0)` returns a unique
   * minimum-size block, as glibc does.
   * Post: a pointer to at least `size` usable bytes, 8-byte aligned, 16-byte aligned
   * when `size >= 16`; 0 on exhaustion — also for a size above what the heap can ever
   * hold, as C's malloc returns NULL (or E_OUT_OF_MEMORY with `throwOnOutOfMemory`).
   */
  malloc(size: number): Ptr;
  /**
   * `free(0)` is a no-op. Pre: `ptr` was returned by this heap and not freed since.
   * Throws for pointers the heap never returned, interior pointers and double frees
   * (E_DOUBLE_FREE, at every debug level, before anything changes: a freed block's key
   * word, then an exact check of the tier's free lists and caches), leaving the heap as
   * it was.
   */
  free(ptr: Ptr): void;
  /**
   * Slow, exact: true when `ptr` is the start of a block this heap handed out and nobody
   * has freed since; false for a freed block, a block never handed out, or any other
   * address. In a shared heap the answer is exact when no other thread is inside a heap
   * call that moves that block (e.g. after a reclaim: whether a killed worker's free
   * happened). Never throws.
   */
  isAllocated(ptr: Ptr): boolean;
  /**
   * C's calloc: `n * size` bytes, zeroed. Throws E_INVALID_SIZE when `n * size`
   * overflows the maximum. Zeroes only memory that may be dirty.
   */
  calloc(n: number, size: number): Ptr;
  /**
   * C's realloc: `realloc(0, n)` is `malloc(n)`; `realloc(p, 0)` frees p and returns 0.
   * Stays in place when the usable size allows; otherwise moves, copying
   * `min(old usable, size)` bytes and freeing the old block. On exhaustion returns 0 and
   * the old block is intact.
   */
  realloc(ptr: Ptr, size: number): Ptr;
  /**
   * A block of `size` bytes aligned to `align` (a power of two). Throws
   * E_INVALID_ALIGNMENT otherwise. The result is freed by `free`.
   */
  memalign(align: number, size: number): Ptr;
  /** Usable bytes of a live block (>= the size requested). `usableSize(0)` is 0. */
  usableSize(ptr: Ptr): number;
}
