import {
  BigBlockState, ErrorCode, HakmemError, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PD_REGION_NEXT, PD_REGION_OWNER, PD_REGION_PAGES, PD_REGION_PREV,
  PD_REGION_STATE, PageKind, REG_AUX_MASK, REG_AUX_SHIFT, REG_KIND_MASK,
  type BigCache, type BigCacheOptions, type BigCacheStats, type BoxContext, type HeapViews, type Ptr,
} from '@hakmem/contracts';
import { BIG_CLASSES, bigClassCeil, bigClassFloor, bigClassPages, DEFAULT_BUDGET } from './api.js';

const BOX = 'bigcache';
/** How many classes above the request's a cache lookup may take a block from (then trimmed): up to 2×. */
const LOOKUP_SPAN = 4;

/**
 * Big blocks over a region source. Every call is a slow path (a big block is at least
 * a MiB of user data), so the cost that matters is the number of os-boundary calls and
 * registry writes, not instructions.
 *
 * Shared metadata (registry entries, the head page's descriptor words) lives in the
 * linear memory; the cache index (per class, the head of a list linked through the
 * cached blocks' descriptors) and the counters are this thread's, JS-side.
 */
class BigCacheBox implements BigCache {
  readonly name = BOX;
  private readonly v: HeapViews;
  private readonly reg: number;
  private readonly pd: number;
  private readonly heapStart: number;
  private readonly maxPages: number;
  private readonly budget: number;
  private readonly regions: BigCacheOptions['regions'];
  /** Per class, the most recently cached block (0 = empty); the list runs through PD_REGION_NEXT. */
  private readonly heads: Int32Array;
  private readonly tid: number;
  private readonly shared: boolean;
  private readonly backend: BoxContext['backend'];
  private zeroed = false;
  private hits = 0;
  private misses = 0;
  private mapped = 0;
  private unmapped = 0;
  private resized = 0;
  private cachedBlocks = 0;
  private cachedBytes = 0;
  private liveBlocks = 0;
  private liveBytes = 0;

  constructor(ctx: BoxContext, options: BigCacheOptions, budget: number) {
    this.v = ctx.backend.views;
    this.reg = ctx.layout.registryOffset >>> 2;
    this.pd = ctx.layout.pageTableOffset >>> 2;
    this.heapStart = ctx.layout.heapStart;
    this.maxPages = ctx.layout.maxPages;
    this.budget = budget;
    this.regions = options.regions;
    this.heads = new Int32Array(BIG_CLASSES);
    this.tid = ctx.tid;
    this.shared = ctx.shared;
    this.backend = ctx.backend;
  }

  /** Word index of the descriptor of the page at `addr`. */
  private desc(addr: Ptr): number {
    return this.pd + ((addr >>> PAGE_SHIFT) << 4);
  }

  alloc(size: number, align: number = PAGE_SIZE): Ptr {
    if (this.shared) this.backend.refresh(); // a cached block freed by us may lie past views grown elsewhere
    const need = size <= 0 ? 1 : ((size + PAGE_MASK) >>> PAGE_SHIFT);
    const c = bigClassCeil(need);
    const top = Math.min(BIG_CLASSES - 1, c + LOOKUP_SPAN);
    const misaligned = align > PAGE_SIZE ? align - 1 : 0;
    for (let k = c; k <= top; k++) {
      const base = this.heads[k]!;
      if (base === 0 || (base & misaligned) !== 0) continue;
      const d = this.desc(base);
      const i32 = this.v.i32;
      this.heads[k] = i32[d + PD_REGION_NEXT]!;
      i32[d + PD_REGION_NEXT] = 0;
      let pages = i32[d + PD_REGION_PAGES]!;
      this.cachedBlocks--;
      this.cachedBytes -= pages * PAGE_SIZE;
      // From a larger class: give the part beyond the request's class back.
      const want = bigClassPages(c);
      if (k > c && pages > want) {
        this.unmapTail(base, pages, want);
        pages = want;
        i32[d + PD_REGION_PAGES] = pages;
      }
      this.hits++;
      this.zeroed = false;
      this.makeLive(base, pages, false); // its registry entries stayed BIG while cached
      return base;
    }
    this.misses++;
    let pages = bigClassPages(c);
    if (pages > this.maxPages) pages = need;
    const at = align > PAGE_SIZE ? align : PAGE_SIZE;
    let base = this.regions.map(pages * PAGE_SIZE, at);
    if (base === 0 && this.cachedBlocks > 0) {
      // Exhausted while holding freed blocks: give them back (os-boundary coalesces them) and retry.
      this.trim();
      base = this.regions.map(pages * PAGE_SIZE, at);
    }
    if (base === 0) return 0;
    this.mapped++;
    this.zeroed = this.regions.lastMapZeroed();
    this.makeLive(base, pages, true); // views re-read there: map may have grown (wasm replaces the buffer)
    return base;
  }

  lastAllocZeroed(): boolean {
    return this.zeroed;
  }

  /** Marks a block LIVE in its head descriptor; a `fresh` one also gets its registry entries (BIG, aux = page index, saturating). */
  private makeLive(base: Ptr, pages: number, fresh: boolean): void {
    const i32 = this.v.i32;
    const d = this.desc(base);
    i32[d + PD_REGION_STATE] = BigBlockState.LIVE;
    i32[d + PD_REGION_OWNER] = 0;
    i32[d + PD_REGION_PAGES] = pages;
    i32[d + PD_REGION_NEXT] = 0;
    i32[d + PD_REGION_PREV] = 0;
    if (fresh) this.stamp(base, 0, pages, PageKind.BIG);
    this.liveBlocks++;
    this.liveBytes += pages * PAGE_SIZE;
  }

  /** Registry entries of pages `from..to-1` of the block at `base`: `kind` with the page index as aux (0 clears). */
  private stamp(base: Ptr, from: number, to: number, kind: number): void {
    const i32 = this.v.i32;
    const r = this.reg + (base >>> PAGE_SHIFT);
    if (kind === PageKind.NONE) {
      i32.fill(0, r + from, r + to);
      return;
    }
    for (let i = from; i < to; i++) i32[r + i] = kind | ((i < REG_AUX_MASK ? i : REG_AUX_MASK) << REG_AUX_SHIFT);
  }

  free(ptr: Ptr): void {
    const i32 = this.v.i32;
    const d = this.desc(ptr);
    const pages = i32[d + PD_REGION_PAGES]!;
    const bytes = pages * PAGE_SIZE;
    this.liveBlocks--;
    this.liveBytes -= bytes;
    if (bytes > this.budget) {
      this.unmapBlock(ptr, pages);
      return;
    }
    const c = bigClassFloor(pages);
    i32[d + PD_REGION_STATE] = BigBlockState.CACHED;
    i32[d + PD_REGION_OWNER] = this.tid; // whose cache list holds it (adopt, checkInvariants)
    i32[d + PD_REGION_NEXT] = this.heads[c]!;
    this.heads[c] = ptr;
    this.cachedBlocks++;
    this.cachedBytes += bytes;
    // Over budget: evict largest-first (the fewest unmaps to get back within it).
    for (let k = BIG_CLASSES - 1; this.cachedBytes > this.budget && k >= 0; k--) {
      while (this.heads[k] !== 0 && this.cachedBytes > this.budget) this.evictHead(k);
    }
  }

  /** Unmaps the most recently cached block of class `k`. */
  private evictHead(k: number): number {
    const base = this.heads[k]!;
    const d = this.desc(base);
    const pages = this.v.i32[d + PD_REGION_PAGES]!;
    this.heads[k] = this.v.i32[d + PD_REGION_NEXT]!;
    this.cachedBlocks--;
    this.cachedBytes -= pages * PAGE_SIZE;
    this.unmapBlock(base, pages);
    return pages * PAGE_SIZE;
  }

  /** Clears the block's registry entries and descriptor, then unmaps it. */
  private unmapBlock(base: Ptr, pages: number): void {
    const i32 = this.v.i32;
    const d = this.desc(base);
    i32[d + PD_REGION_STATE] = BigBlockState.NONE;
    i32[d + PD_REGION_OWNER] = 0;
    i32[d + PD_REGION_PAGES] = 0;
    i32[d + PD_REGION_NEXT] = 0;
    i32[d + PD_REGION_PREV] = 0;
    this.stamp(base, 0, pages, PageKind.NONE);
    this.regions.unmap(base, pages * PAGE_SIZE);
    this.unmapped++;
  }

  /** Gives pages `keep..pages-1` of the block back (registry cleared first); the caller updates the length. */
  private unmapTail(base: Ptr, pages: number, keep: number): void {
    this.stamp(base, keep, pages, PageKind.NONE);
    this.regions.unmap(base + keep * PAGE_SIZE, (pages - keep) * PAGE_SIZE);
    this.unmapped++;
  }

  resizeInPlace(ptr: Ptr, size: number): boolean {
    const need = size <= 0 ? 1 : ((size + PAGE_MASK) >>> PAGE_SHIFT);
    const d = this.desc(ptr);
    const pages = this.v.i32[d + PD_REGION_PAGES]!;
    if (need > pages) return this.growInPlace(ptr, pages, need);
    // Shrunk to the request's class, so that the block stays class-sized for the cache.
    const keep = Math.min(pages, bigClassPages(bigClassCeil(need)));
    if (keep < pages) {
      this.unmapTail(ptr, pages, keep);
      this.v.i32[d + PD_REGION_PAGES] = keep;
      this.liveBytes -= (pages - keep) * PAGE_SIZE;
    }
    this.resized++;
    return true;
  }

  /**
   * Maps the pages right after the block (to the request's class, else just what it
   * needs) and stamps them into it; false with nothing changed when they are not free.
   */
  private growInPlace(ptr: Ptr, pages: number, need: number): boolean {
    const mapAt = this.regions.mapAt;
    if (mapAt === undefined) return false;
    let want = bigClassPages(bigClassCeil(need));
    if (want > this.maxPages) want = need;
    const after = ptr + pages * PAGE_SIZE;
    if (!mapAt.call(this.regions, after, (want - pages) * PAGE_SIZE)) {
      if (want === need || !mapAt.call(this.regions, after, (need - pages) * PAGE_SIZE)) return false;
      want = need;
    }
    this.stamp(ptr, pages, want, PageKind.BIG); // views re-read there: mapAt may have grown the memory
    this.v.i32[this.desc(ptr) + PD_REGION_PAGES] = want;
    this.liveBytes += (want - pages) * PAGE_SIZE;
    this.resized++;
    return true;
  }

  usableSize(ptr: Ptr): number {
    return this.v.i32[this.desc(ptr) + PD_REGION_PAGES]! * PAGE_SIZE;
  }

  trim(): number {
    let bytes = 0;
    for (let k = 0; k < BIG_CLASSES; k++) {
      while (this.heads[k] !== 0) bytes += this.evictHead(k);
    }
    return bytes;
  }

  /**
   * A thread that died left blocks CACHED in lists nobody has any more (their descriptors
   * name it as owner): they are unmapped. Live blocks need nothing (anyone may free them).
   */
  adopt(): void {
    if (this.shared) this.backend.refresh();
    const i32 = this.v.i32;
    const end = Math.min(this.regions.end(), i32.byteLength) >>> PAGE_SHIFT;
    for (let p = this.heapStart >>> PAGE_SHIFT; p < end; p++) {
      const e = i32[this.reg + p]!;
      if ((e & REG_KIND_MASK) !== PageKind.BIG || ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) !== 0) continue;
      const d = this.desc(p << PAGE_SHIFT);
      const pages = i32[d + PD_REGION_PAGES]!;
      if (i32[d + PD_REGION_STATE] === BigBlockState.CACHED && i32[d + PD_REGION_OWNER] === this.tid) this.unmapBlock(p << PAGE_SHIFT, pages);
      p += Math.max(1, pages) - 1;
    }
  }

  stats(): BigCacheStats {
    return {
      hits: this.hits, misses: this.misses, mapped: this.mapped, unmapped: this.unmapped, resizedInPlace: this.resized,
      cachedBlocks: this.cachedBlocks, cachedBytes: this.cachedBytes, liveBlocks: this.liveBlocks, liveBytes: this.liveBytes,
    };
  }

  checkInvariants(): void {
    const i32 = this.v.i32;
    const seen = new Set<number>();
    let blocks = 0;
    let bytes = 0;
    for (let k = 0; k < BIG_CLASSES; k++) {
      for (let base = this.heads[k]!; base !== 0; base = i32[this.desc(base) + PD_REGION_NEXT]!) {
        const at = `cached block 0x${base.toString(16)} (class ${k})`;
        if (seen.has(base)) this.corrupt(`${at} is cached twice (or its class list has a cycle)`);
        seen.add(base);
        if ((base & PAGE_MASK) !== 0 || base < this.heapStart) this.corrupt(`${at} is not a page of the heap`);
        const d = this.desc(base);
        const pages = i32[d + PD_REGION_PAGES]!;
        if (i32[d + PD_REGION_STATE] !== BigBlockState.CACHED) this.corrupt(`${at} has state ${i32[d + PD_REGION_STATE]}, not CACHED`);
        if (pages < 1 || bigClassFloor(pages) !== k) this.corrupt(`${at} has ${pages} pages, which do not belong to class ${k}`);
        this.checkEntries(base, pages, PageKind.BIG, at);
        blocks++;
        bytes += pages * PAGE_SIZE;
      }
    }
    if (blocks !== this.cachedBlocks || bytes !== this.cachedBytes) {
      this.corrupt(`the cache lists hold ${blocks} blocks / ${bytes} bytes, the counters say ${this.cachedBlocks} / ${this.cachedBytes}`);
    }
    if (bytes > this.budget) this.corrupt(`${bytes} cached bytes exceed the budget of ${this.budget}`);
    // Blocks, from the registry: every BIG run starts at a head (aux 0) whose descriptor
    // is LIVE (counted here) or CACHED (listed above) and covers the run.
    let live = 0;
    let liveBytes = 0;
    const end = this.regions.end() >>> PAGE_SHIFT;
    for (let p = this.heapStart >>> PAGE_SHIFT; p < end; ) {
      const e = i32[this.reg + p]!;
      if ((e & REG_KIND_MASK) !== PageKind.BIG) {
        p++;
        continue;
      }
      const base = p << PAGE_SHIFT;
      const at = `block 0x${base.toString(16)}`;
      if (((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) !== 0) this.corrupt(`page 0x${base.toString(16)} is a BIG continuation page with no block head before it`);
      const d = this.desc(base);
      const pages = i32[d + PD_REGION_PAGES]!;
      const state = i32[d + PD_REGION_STATE];
      if (state === BigBlockState.CACHED && !seen.has(base) && (!this.shared || i32[d + PD_REGION_OWNER] === this.tid)) this.corrupt(`${at} is CACHED but in no cache list of this thread`);
      if (state !== BigBlockState.LIVE && state !== BigBlockState.CACHED) this.corrupt(`${at} has state ${state}, neither LIVE nor CACHED`);
      if (pages < 1 || p + pages > end) this.corrupt(`${at} has ${pages} pages, beyond the managed area`);
      this.checkEntries(base, pages, PageKind.BIG, at);
      if (state === BigBlockState.LIVE) {
        live++;
        liveBytes += pages * PAGE_SIZE;
      }
      p += pages;
    }
    // The live counters are this thread's: with other threads they say nothing about the registry.
    if (!this.shared && (live !== this.liveBlocks || liveBytes !== this.liveBytes)) {
      this.corrupt(`the registry holds ${live} live big blocks / ${liveBytes} bytes, the counters say ${this.liveBlocks} / ${this.liveBytes}`);
    }
  }

  private checkEntries(base: Ptr, pages: number, kind: number, at: string): void {
    const r = this.reg + (base >>> PAGE_SHIFT);
    for (let i = 0; i < pages; i++) {
      const want = kind | ((i < REG_AUX_MASK ? i : REG_AUX_MASK) << REG_AUX_SHIFT);
      const e = this.v.i32[r + i]!;
      if (e !== want) this.corrupt(`${at}: registry entry of page ${i} is 0x${(e >>> 0).toString(16)}, want 0x${(want >>> 0).toString(16)}`);
    }
  }

  private corrupt(message: string): never {
    throw new HakmemError(ErrorCode.CORRUPTION, message, { box: BOX });
  }
}

/**
 * Creates one thread's big-block cache over `options.regions`. Throws `E_INVALID_OPTION`
 * when `budget` is not a non-negative integer.
 */
export function createBigCache(ctx: BoxContext, options: BigCacheOptions): BigCache {
  const budget = options.budget ?? DEFAULT_BUDGET;
  if (!Number.isInteger(budget) || budget < 0) throw new HakmemError(ErrorCode.INVALID_OPTION, `budget must be a non-negative integer, got ${budget}`, { box: BOX });
  return new BigCacheBox(ctx, options, budget);
}
