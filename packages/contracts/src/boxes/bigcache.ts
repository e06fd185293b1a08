import type { Ptr } from '../pointer.js';
import type { RegionSource } from './os-boundary.js';
import type { AdoptableBox, Box, RecoverableBox } from './common.js';

export interface BigCacheOptions {
  /** Where big blocks come from and go back to (os-boundary). */
  readonly regions: RegionSource & { end(): number; mapAt?(addr: Ptr, bytes: number): boolean };
  /**
   * Upper bound on the bytes of freed big blocks kept for reuse (a non-negative integer;
   * 0 caches nothing). Default 64 MiB. Within it the cache keeps at most
   * `max(budgetFloor, liveShare × the live big bytes)`: a free that would take the cache
   * above that limit unmaps blocks instead (see the box's README for the eviction order).
   */
  readonly budget?: number;
  /** Cached bytes kept whatever the live bytes (a non-negative integer). Default 8 MiB. */
  readonly budgetFloor?: number;
  /** Cached bytes kept per live big byte (a number in 0..64). Default 1/4. */
  readonly liveShare?: number;
}

export interface BigCacheStats {
  /** `alloc` calls served from the cache. */
  hits: number;
  /** `alloc` calls that went to `regions.map` (successful or not). */
  misses: number;
  /** Successful `regions.map` calls. */
  mapped: number;
  /** Blocks (or shrunk tails) given back through `regions.unmap`. */
  unmapped: number;
  /** Reallocs served in place (grow into the next free range, or shrink). */
  resizedInPlace: number;
  /** Cached blocks right now, and their bytes (whole pages). */
  cachedBlocks: number;
  cachedBytes: number;
  /** Live (handed out) blocks right now, and their usable bytes (whole pages). */
  liveBlocks: number;
  liveBytes: number;
}

/**
 * Blocks above L2.5: mapped through os-boundary, kept in a size-classed cache on free
 * within a byte budget instead of unmapped, reused for later requests.
 *
 * Every page of a live block is stamped `PageKind.BIG` in the page registry (aux = the
 * page's index in the block, saturating; 0 = the head page) and the head page's
 * descriptor holds the block's length (`PD_REGION_PAGES`) and state
 * (`PD_REGION_STATE` = `BigBlockState`); see `layout.ts`.
 *
 * Common failure contract: exhaustion returns 0 (or false) with nothing changed; bad
 * pointers are the caller's (the gatekeeper's) to reject, so the methods that take a
 * pointer have the precondition that it is the head of a live block.
 */
export interface BigCache extends Box<BigCacheStats>, AdoptableBox, Partial<RecoverableBox> {
  /**
   * Pre: `size` an integer in `1..maxBytes` (the gatekeeper validated it); `align` a
   * power of two `<= 2^30` (default and minimum 64 KiB).
   * Post: the head of a live block of at least `size` usable bytes, aligned to `align`,
   * taken from the cache first (a cached block whose head is so aligned), else mapped; its registry entries are BIG. When
   * `regions.map` returns 0 while blocks are cached, the cache is emptied (its blocks
   * unmapped, so that os-boundary can coalesce them) and the map retried once. Returns 0
   * when that fails too (exhaustion): live blocks are untouched and nothing else changes
   * but `misses` (and the emptied cache). Never throws for exhaustion.
   */
  alloc(size: number, align?: number): Ptr;
  /**
   * True when every byte of the block returned by the last successful `alloc` reads as
   * zero (fresh memory that `regions.lastMapZeroed()` vouched for; a block from the
   * cache is never zeroed). `calloc` uses it to skip zeroing.
   */
  lastAllocZeroed(): boolean;
  /**
   * Takes back a live block. Pre: `ptr` is the head of a live block (registry BIG, aux
   * 0). Post: the block is cached (registry still BIG, state CACHED) while the cached bytes stay within
   * the limit, `min(budget, max(budgetFloor, liveShare × the live bytes after this free))`,
   * else blocks are unmapped (registry cleared to NONE first) until they are. Never throws.
   */
  free(ptr: Ptr): void;
  /**
   * Resizes in place: shrinks (the tail pages go back to `regions.unmap`), or grows into
   * the free range that follows (`regions.mapAt` of the pages right after the block,
   * when the region source has it). Pre: `ptr` is the head of a live block, `size` an
   * integer in `1..maxBytes`. Returns true when the block now holds `size` bytes
   * (`usableSize(ptr) >= size`); false with nothing changed otherwise. A shrink lowers the
   * live bytes, so cached blocks beyond the limit (see `free`) are unmapped as a free would. Never throws.
   */
  resizeInPlace(ptr: Ptr, size: number): boolean;
  /** Pre: `ptr` is the head of a live block. Post: its usable bytes (whole pages). */
  usableSize(ptr: Ptr): number;
  /** Unmaps every cached block; returns bytes unmapped. Never throws. */
  trim(): number;
}
