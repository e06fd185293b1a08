import type { MemoryBackend } from '../backend.js';
import type { Ptr } from '../pointer.js';
import type { Box, RecoverableBox } from './common.js';

/**
 * A source of page-aligned regions: what every box that needs whole pages is given.
 * The default implementation is {@link OsBoundary}; a test may pass a fake.
 */
export interface RegionSource {
  /**
   * Maps `bytes` (rounded up to whole 64 KiB pages) at an address that is a multiple of
   * `align` (a power of two; values below 64 KiB mean 64 KiB).
   *
   * Pre: `bytes > 0`, `align` a power of two `<= 2^30`.
   * Post: returns the address of a range no other mapped range overlaps; the range is
   * reused from unmapped ranges before the memory grows. Returns 0 when neither a free
   * range nor growth can satisfy the request; nothing changes then. Never throws for
   * exhaustion.
   * Throws `HakmemError(E_INVALID_SIZE | E_INVALID_ALIGNMENT)` for bad arguments, with
   * nothing changed.
   */
  map(bytes: number, align: number): Ptr;

  /**
   * True when every byte of the range returned by the last successful `map` in this
   * thread reads as zero (it came from growth and was never handed out, or was
   * zeroed). `calloc` uses it to skip zeroing fresh memory.
   */
  lastMapZeroed(): boolean;

  /**
   * Returns a range to the free-range map (the range is kept for reuse and coalesced with
   * its free neighbours; the memory shrinks only by {@link OsBoundary.releaseTop}).
   *
   * Pre: `[addr, addr + bytes)` (bytes rounded up to pages) lies wholly inside ranges
   * handed out by `map` and not yet unmapped. Partial unmaps of a mapped range are
   * allowed (e.g. trimming alignment slack).
   * Throws `HakmemError(E_INVALID_RANGE)` when the range is not page-aligned, lies
   * outside the managed area, or overlaps a free range (double unmap); nothing changes.
   * Throws `HakmemError(E_INVALID_SIZE)` when `bytes` is not an integer in
   * `[1, MAX_HEAP_BYTES]`; nothing changes.
   */
  unmap(addr: Ptr, bytes: number): void;
}

/** Counters of the OS boundary: our `strace -c`. All are exact, never sampled. */
export interface OsBoundaryStats {
  /** Successful `map` calls. */
  maps: number;
  /** `map` calls that returned 0. */
  mapFailures: number;
  /** Successful `unmap` calls. */
  unmaps: number;
  /** `decommit` calls. */
  decommits: number;
  /** Calls to `backend.grow` that succeeded. */
  grows: number;
  /** Bytes handed out by `map` (cumulative). */
  bytesMapped: number;
  /** Bytes returned by `unmap` (cumulative). */
  bytesUnmapped: number;
  /** Bytes passed to `decommit` (cumulative). */
  bytesDecommitted: number;
  /** Bytes currently mapped (handed out and not unmapped). */
  bytesInUse: number;
  /** Bytes currently in the free-range map (unmapped, ready for reuse). */
  bytesFree: number;
  /** Number of ranges in the free-range map. */
  freeRanges: number;
  /**
   * High-water mark of the managed area's end (the most ever taken from the backend).
   * The current end is `end()`; the two differ once `releaseTop` gave memory back.
   */
  highWater: number;
  /** Times the lock was found held by another thread (shared heaps only). */
  lockContended: number;
  /** `releaseTop` calls that gave memory back to the backend. */
  releases: number;
  /** Bytes `releaseTop` gave back to the backend (cumulative). */
  bytesReleased: number;
}

/** Options of an {@link OsBoundary}. */
export interface OsBoundaryOptions {
  readonly backend: MemoryBackend;
  /**
   * Byte offset of the box's own state in the linear memory: a header followed by the
   * free-range table. Must be 8-byte aligned and lie below `heapStart`.
   */
  readonly stateOffset: number;
  /** Bytes available at `stateOffset`; must hold `osBoundaryStateBytes(maxPages)`. */
  readonly stateBytes: number;
  /** First address the boundary may hand out; a multiple of 64 KiB. */
  readonly heapStart: number;
  /**
   * True when another worker may call the same boundary (the memory is shared): take an
   * Atomics-based lock around every operation. False: no atomics at all.
   */
  readonly shared: boolean;
  /**
   * Attach to state an earlier instance (another worker) already initialised, instead of
   * initialising it. Default false.
   */
  readonly attach?: boolean;
  /**
   * Byte offset of the page registry (`HeapLayout.registryOffset`). Given, in a shared
   * heap, the boundary keeps the registry in step with its free ranges under its lock:
   * `map` stamps the range `PageKind.MAPPED | (tid << REG_THREAD_SHIFT)` (mapped for thread
   * `tid`, not yet owned by a box) and `unmap` clears it to `PageKind.NONE` — so a range a
   * dead thread was given and had not stamped yet is found by `heap.reclaim` (registry
   * MAPPED with its id) and given back. Boxes over such a boundary restamp a range
   * MAPPED with their thread id (not NONE) before they unmap it.
   */
  readonly registryOffset?: number;
  /** Thread id of the instance's thread (1..MAX_THREADS): the lock holder and the id `map` stamps. Default 1. */
  readonly tid?: number;
}

/**
 * The only code that grows the memory. It hands out page-aligned regions, keeps
 * unmapped ones in an address-ordered, coalescing free-range map in the linear memory,
 * and counts everything.
 */
export interface OsBoundary extends RegionSource, Box<OsBoundaryStats>, Partial<RecoverableBox> {
  /**
   * Tells the boundary that the contents of a mapped range are no longer needed. The
   * built-in backends cannot release memory, so this only counts (and forgets that the
   * range is zero). Pre: as for `unmap`, but the range stays mapped. Never throws for a
   * valid range.
   */
  decommit(addr: Ptr, bytes: number): void;
  /**
   * Maps exactly `[addr, addr + bytes)` (bytes rounded up to pages) when every page of it
   * is free: inside one free range, or at the end of the managed area (starting at the
   * end, or in the free range that touches it), the memory grown as needed. Returns true
   * then (`lastMapZeroed` says whether the range reads as zero); false with nothing
   * changed when a page is mapped or the memory cannot grow. What lets a big block grow
   * in place. Throws `HakmemError(E_INVALID_RANGE)` when `addr` is not a page address
   * above 0, `E_INVALID_SIZE` for a bad `bytes`.
   */
  mapAt(addr: Ptr, bytes: number): boolean;
  /**
   * Gives the free top of the memory back to the host: when the backend can shrink
   * (`capabilities.canShrink`: the growable native backend, not shared) and the last free
   * range ends at the end of the managed area, the end falls to that range's start, the
   * range leaves the free-range map and the backend shrinks to the new end. Never below
   * `heapStart` (the metadata prefix stays), never below a mapped page. Slow path:
   * `heap.trim()` calls it after every box has given back what it caches.
   *
   * Post: returns the bytes the backend shrank by (0 when nothing changed: a shared
   * boundary, a backend that cannot shrink or refused to, or a mapped page at the top).
   * `bytesInUse` and the cumulative map/unmap counters are unchanged; `bytesFree` and
   * `freeRanges` drop by the range; `releases` / `bytesReleased` count it; `highWater`
   * keeps the old end. Memory later grown over the released pages reads as zero
   * (`lastMapZeroed`). Never throws.
   */
  releaseTop(): number;
  /** End of the managed area: everything in `[heapStart, end)` is mapped or free. */
  end(): number;
  /** Free ranges in address order, `[start, bytes]` pairs (a fresh array: debugging). */
  freeRanges(): Array<[Ptr, number]>;
}
