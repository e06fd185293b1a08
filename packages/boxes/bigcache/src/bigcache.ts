import {
  BIG_INFLIGHT_RANGE, BigBlockState, ErrorCode, HakmemError, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PD_REGION_NEXT, PD_REGION_OWNER,
  PD_REGION_PAGES, PD_REGION_PREV, PD_REGION_STATE, PageKind, REG_AUX_MASK, REG_AUX_SHIFT, REG_KIND_MASK, TR_BIG_INFLIGHT,
  retiredEntry, threadWord,
  type BigCache, type BigCacheOptions, type BigCacheStats, type BoxContext, type HeapViews, type Ptr, type Recovery,
} from '@hakmem/contracts';
import { canBlockHere, lockAcquire, lockHolder, lockRelease } from '@hakmem/primitives';
import { BIG_CLASSES, bigClassCeil, bigClassFloor, bigClassPages, DEFAULT_BUDGET, DEFAULT_BUDGET_FLOOR, DEFAULT_LIVE_SHARE } from './api.js';

const BOX = 'bigcache';
/** How many classes above the request's a cache lookup may take a block from (then trimmed): up to 2×. */
const LOOKUP_SPAN = 4;
const S_LOCK = BIG_CLASSES;
const S_CONTENDED = BIG_CLASSES + 1;
const S_CACHED_BLOCKS = BIG_CLASSES + 2;
const S_CACHED_PAGES = BIG_CLASSES + 3;
const S_LIVE_BLOCKS = BIG_CLASSES + 4;
const S_LIVE_PAGES = BIG_CLASSES + 5;
/** Int32 words of bigcache's state (heads, lock, counters). */
export const BIG_STATE_WORDS = BIG_CLASSES + 6;

/**
 * Big blocks over a region source. Every call is a slow path (a big block is at least
 * a MiB of user data), so the cost that matters is the number of os-boundary calls and
 * registry writes, not instructions.
 *
 * Shared metadata (registry entries, the head page's descriptor words) lives in the
 * linear memory, and so does the cache index when the box has a state slot (the
 * composition root gives it one): per class the head of a list linked through the cached
 * blocks' descriptors, and the cached / live counters — one cache for every thread of a
 * shared heap, under a lock, so a block freed by one thread serves another's next request
 * and any thread's `trim()` (on exhaustion too) gives back every cached block. Without a
 * slot the index is a JS-side array of this instance. The call counters (hits, misses,
 * maps, unmaps, resizes) are this thread's.
 *
 * State words (Int32, from the slot): 0..55 heads | 56 lock | 57 lock contended |
 * 58 cached blocks | 59 cached pages | 60 live blocks | 61 live pages.
 */
class BigCacheBox implements BigCache {
  readonly name = BOX;
  private readonly v: HeapViews;
  private readonly reg: number;
  private readonly pd: number;
  private readonly heapStart: number;
  private readonly maxPages: number;
  private readonly budget: number;
  /** The budget in whole pages (cached blocks are whole pages). */
  private readonly budgetPages: number;
  /** Cached pages kept whatever the live pages (the floor in pages, at most `budgetPages`). */
  private readonly floorPages: number;
  /** Cached pages kept per live page, in 1/256ths (`liveShare × 256`). */
  private readonly shareQ8: number;
  private readonly regions: BigCacheOptions['regions'];
  /** The state (see above) when the box has no slot: this instance's own. */
  private readonly own: Int32Array | null;
  /** Index of state word 0 in `st()`. */
  private readonly sb: number;
  private readonly canBlock: boolean;
  private readonly tid: number;
  private readonly shared: boolean;
  private readonly backend: BoxContext['backend'];
  /** True when the state is in the memory of a shared heap: its counters change with Atomics, its lock is taken. */
  private readonly atomic: boolean;
  /** Int32 index of this thread's TR_BIG_INFLIGHT (a scratch word of this instance when not shared). */
  private readonly inflight: number;
  /** The registry entry a range gets before it is unmapped (MAPPED with this thread when shared, else NONE). */
  private readonly retiredEntry: number;
  private zeroed = false;
  private hits = 0;
  private misses = 0;
  private mapped = 0;
  private unmapped = 0;
  private resized = 0;

  constructor(ctx: BoxContext, options: BigCacheOptions, budget: number, floor: number, share: number) {
    this.v = ctx.backend.views;
    this.reg = ctx.layout.registryOffset >>> 2;
    this.pd = ctx.layout.pageTableOffset >>> 2;
    this.heapStart = ctx.layout.heapStart;
    this.maxPages = ctx.layout.maxPages;
    this.budget = budget;
    this.budgetPages = Math.floor(budget / PAGE_SIZE);
    this.floorPages = Math.min(this.budgetPages, Math.floor(floor / PAGE_SIZE));
    this.shareQ8 = Math.round(share * 256);
    this.regions = options.regions;
    this.own = ctx.slotOffset < 0 ? new Int32Array(BIG_STATE_WORDS) : null;
    this.sb = ctx.slotOffset < 0 ? 0 : ctx.slotOffset >>> 2;
    this.canBlock = ctx.shared && canBlockHere();
    this.tid = ctx.tid;
    this.shared = ctx.shared;
    this.backend = ctx.backend;
    this.atomic = ctx.shared && this.own === null;
    this.inflight = threadWord(ctx.tid, TR_BIG_INFLIGHT);
    this.retiredEntry = retiredEntry(ctx.shared, ctx.tid);
  }

  /** Word index of the descriptor of the page at `addr`. */
  private desc(addr: Ptr): number {
    return this.pd + ((addr >>> PAGE_SHIFT) << 4);
  }

  /** The array holding the state: this instance's own, or the memory (re-read: wasm growth replaces the views). */
  private st(): Int32Array {
    return this.own ?? this.v.i32;
  }

  private head(k: number): Ptr {
    return this.st()[this.sb + k]!;
  }

  /** Adds to a state counter (atomically in a shared heap: the live counters change outside the lock). */
  private add(word: number, delta: number): void {
    if (this.shared && this.own === null) Atomics.add(this.st(), this.sb + word, delta);
    else this.st()[this.sb + word]! += delta;
  }

  private word(w: number): number {
    return this.st()[this.sb + w]!;
  }

  private lock(): void {
    if (this.atomic && lockAcquire(this.st(), this.sb + S_LOCK, this.canBlock, this.tid) !== 0) this.add(S_CONTENDED, 1);
  }

  private unlock(): void {
    if (this.shared && this.own === null) lockRelease(this.st(), this.sb + S_LOCK);
  }

  alloc(size: number, align: number = PAGE_SIZE): Ptr {
    if (this.shared) this.backend.refresh(); // a cached block freed by us may lie past views grown elsewhere
    const need = size <= 0 ? 1 : ((size + PAGE_MASK) >>> PAGE_SHIFT);
    const c = bigClassCeil(need);
    const top = Math.min(BIG_CLASSES - 1, c + LOOKUP_SPAN);
    const misaligned = align > PAGE_SIZE ? align - 1 : 0;
    const hit = this.takeCached(c, top, misaligned);
    if (hit !== 0) {
      const i32 = this.v.i32;
      const d = this.pd + ((hit >>> PAGE_SHIFT) << 4);
      let pages = i32[d + PD_REGION_PAGES]!;
      // From a larger class: give the part beyond the request's class back.
      const want = bigClassPages(c);
      if (bigClassFloor(pages) > c && pages > want) {
        // One run: the block's new length, its in-flight record, the tail's retired entries; then the tail is unmapped.
        const r = this.reg + (hit >>> PAGE_SHIFT);
        i32[d + PD_REGION_PAGES] = want;
        i32[this.inflight] = hit | want;
        i32.fill(this.retiredEntry, r + want, r + pages);
        this.regions.unmap(hit + want * PAGE_SIZE, (pages - want) * PAGE_SIZE);
        this.unmapped++;
        pages = want;
      }
      this.hits++;
      this.zeroed = false;
      this.makeLive(hit, pages, false); // its registry entries stayed BIG while cached
      this.v.i32[this.inflight] = 0;
      return hit;
    }
    this.misses++;
    let pages = bigClassPages(c);
    if (pages > this.maxPages) pages = need;
    const at = align > PAGE_SIZE ? align : PAGE_SIZE;
    let base = this.regions.map(pages * PAGE_SIZE, at);
    if (base === 0 && this.word(S_CACHED_BLOCKS) > 0) {
      // Exhausted while holding freed blocks: give them back (os-boundary coalesces them) and retry.
      this.trim();
      base = this.regions.map(pages * PAGE_SIZE, at);
    }
    if (base === 0) return 0;
    // In flight from map's return on (one run): not LIVE, not counted, until makeLive's commit.
    const i32 = this.v.i32; // map may have grown the memory (wasm replaces the buffer)
    i32[this.inflight] = base | pages;
    i32[this.pd + ((base >>> PAGE_SHIFT) << 4) + PD_REGION_STATE] = BigBlockState.NONE;
    this.mapped++;
    this.zeroed = this.regions.lastMapZeroed();
    this.makeLive(base, pages, true);
    this.v.i32[this.inflight] = 0;
    return base;
  }

  /**
   * Under the lock: unlinks the first cached block of classes c..top whose head is aligned
   * (`misaligned` mask 0); 0 if none. The unlink, the counters and the thread's in-flight
   * record are one run of stores.
   */
  private takeCached(c: number, top: number, misaligned: number): Ptr {
    if (this.word(S_CACHED_BLOCKS) === 0) return 0;
    this.lock();
    try {
      const st = this.st();
      const sb = this.sb;
      for (let k = c; k <= top; k++) {
        const base = st[sb + k]!;
        if (base === 0 || (base & misaligned) !== 0) continue;
        const i32 = this.v.i32;
        const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
        const pages = i32[d + PD_REGION_PAGES]!;
        st[sb + k] = i32[d + PD_REGION_NEXT]!;
        i32[d + PD_REGION_NEXT] = 0;
        st[sb + S_CACHED_BLOCKS]!--;
        st[sb + S_CACHED_PAGES]! -= pages;
        i32[this.inflight] = base | pages;
        return base;
      }
      return 0;
    } finally {
      this.unlock();
    }
  }

  lastAllocZeroed(): boolean {
    return this.zeroed;
  }

  /**
   * Marks a block LIVE in its head descriptor; a `fresh` one first gets its registry
   * entries (BIG, aux = page index, saturating). The descriptor and the live counters are
   * one run of plain stores under the lock (LIVE means counted).
   */
  private makeLive(base: Ptr, pages: number, fresh: boolean): void {
    if (fresh) this.stamp(base, 0, pages, PageKind.BIG); // views re-read there: map may have grown (wasm replaces the buffer)
    this.lock();
    const i32 = this.v.i32;
    const st = this.st();
    const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
    i32[d + PD_REGION_STATE] = BigBlockState.LIVE;
    i32[d + PD_REGION_OWNER] = 0;
    i32[d + PD_REGION_PAGES] = pages;
    i32[d + PD_REGION_NEXT] = 0;
    i32[d + PD_REGION_PREV] = 0;
    st[this.sb + S_LIVE_BLOCKS]!++;
    st[this.sb + S_LIVE_PAGES]! += pages;
    this.unlock();
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

  /**
   * The live counters drop and the block is filed in its class's list (evicting largest
   * first while over budget) — or, above the budget, retired and unmapped. In a shared heap
   * all of it under the lock, the counters and the filing (or the retiring) one run of
   * plain stores: a thread stopped anywhere left the block live, or freed.
   */
  free(ptr: Ptr): void {
    if (this.shared) this.backend.refresh();
    this.lock();
    const i32 = this.v.i32;
    const st = this.st();
    const sb = this.sb;
    const d = this.pd + ((ptr >>> PAGE_SHIFT) << 4);
    const pages = i32[d + PD_REGION_PAGES]!;
    const lim = this.limit(st[sb + S_LIVE_PAGES]! - pages); // computed before the run: the limit once this block is not live
    const over = pages > lim;
    const r = this.reg + (ptr >>> PAGE_SHIFT);
    const c = over ? 0 : bigClassFloor(pages);
    st[sb + S_LIVE_BLOCKS]!--;
    st[sb + S_LIVE_PAGES]! -= pages;
    if (over) {
      i32[d + PD_REGION_STATE] = BigBlockState.NONE;
      i32[d + PD_REGION_OWNER] = 0;
      i32[d + PD_REGION_PAGES] = 0;
      i32[d + PD_REGION_NEXT] = 0;
      i32[d + PD_REGION_PREV] = 0;
      i32.fill(this.retiredEntry, r, r + pages);
    } else {
      i32[d + PD_REGION_STATE] = BigBlockState.CACHED;
      i32[d + PD_REGION_OWNER] = this.tid; // the thread that cached it (stats of who frees what)
      i32[d + PD_REGION_NEXT] = st[sb + c]!;
      st[sb + c] = ptr;
      st[sb + S_CACHED_BLOCKS]!++;
      st[sb + S_CACHED_PAGES]! += pages;
    }
    try {
      this.shed(lim);
    } finally {
      this.unlock();
    }
    if (over) {
      this.regions.unmap(ptr, pages * PAGE_SIZE);
      this.unmapped++;
    }
  }

  /**
   * The cached pages allowed while `livePages` pages are live: `min(budget, max(floor,
   * liveShare × live))`. A slotless instance of a shared heap counts only its own calls, so
   * its live pages may be negative (blocks it freed that others allocated): the floor then.
   */
  private limit(livePages: number): number {
    const byLive = (livePages * this.shareQ8) >> 8;
    const lim = byLive > this.floorPages ? byLive : this.floorPages;
    return lim < this.budgetPages ? lim : this.budgetPages;
  }

  /** Under the lock: evicts largest-first (the fewest unmaps) until the cached pages are within `lim`. */
  private shed(lim: number): void {
    for (let k = BIG_CLASSES - 1; this.word(S_CACHED_PAGES) > lim && k >= 0; k--) {
      while (this.head(k) !== 0 && this.word(S_CACHED_PAGES) > lim) this.evictHead(k);
    }
  }

  /** Under the lock: unmaps the most recently cached block of class `k` (unlinked, counted and retired in one run first). */
  private evictHead(k: number): number {
    const s = this.st();
    const i32 = this.v.i32;
    const base = s[this.sb + k]!;
    const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
    const pages = i32[d + PD_REGION_PAGES]!;
    const r = this.reg + (base >>> PAGE_SHIFT);
    s[this.sb + k] = i32[d + PD_REGION_NEXT]!;
    s[this.sb + S_CACHED_BLOCKS]!--;
    s[this.sb + S_CACHED_PAGES]! -= pages;
    i32[d + PD_REGION_STATE] = BigBlockState.NONE;
    i32[d + PD_REGION_OWNER] = 0;
    i32[d + PD_REGION_PAGES] = 0;
    i32[d + PD_REGION_NEXT] = 0;
    i32[d + PD_REGION_PREV] = 0;
    i32.fill(this.retiredEntry, r, r + pages);
    this.regions.unmap(base, pages * PAGE_SIZE);
    this.unmapped++;
    return pages * PAGE_SIZE;
  }

  /** One run of stores: the block's descriptor cleared, its registry entries retired (the caller unmaps it). */
  private retire(base: Ptr, pages: number): void {
    const i32 = this.v.i32;
    const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
    const r = this.reg + (base >>> PAGE_SHIFT);
    i32[d + PD_REGION_STATE] = BigBlockState.NONE;
    i32[d + PD_REGION_OWNER] = 0;
    i32[d + PD_REGION_PAGES] = 0;
    i32[d + PD_REGION_NEXT] = 0;
    i32[d + PD_REGION_PREV] = 0;
    i32.fill(this.retiredEntry, r, r + pages);
  }

  /** Clears the block's registry entries and descriptor, then unmaps it. */
  private unmapBlock(base: Ptr, pages: number): void {
    this.retire(base, pages);
    this.regions.unmap(base, pages * PAGE_SIZE);
    this.unmapped++;
  }

  resizeInPlace(ptr: Ptr, size: number): boolean {
    const need = size <= 0 ? 1 : ((size + PAGE_MASK) >>> PAGE_SHIFT);
    const i32 = this.v.i32;
    const d = this.pd + ((ptr >>> PAGE_SHIFT) << 4);
    const pages = i32[d + PD_REGION_PAGES]!;
    if (need > pages) return this.growInPlace(ptr, pages, need);
    // Shrunk to the request's class, so that the block stays class-sized for the cache.
    const keep = Math.min(pages, bigClassPages(bigClassCeil(need)));
    if (keep < pages) {
      // One run under the lock: the new length, the live count, the tail's retired entries; then the tail is unmapped.
      this.lock();
      const v = this.v.i32;
      const st = this.st();
      const r = this.reg + (ptr >>> PAGE_SHIFT);
      const lim = this.limit(st[this.sb + S_LIVE_PAGES]! - (pages - keep));
      v[d + PD_REGION_PAGES] = keep;
      st[this.sb + S_LIVE_PAGES]! -= pages - keep;
      v.fill(this.retiredEntry, r + keep, r + pages);
      try {
        this.shed(lim); // fewer live pages: the cache follows them down
      } finally {
        this.unlock();
      }
      this.regions.unmap(ptr + keep * PAGE_SIZE, (pages - keep) * PAGE_SIZE);
      this.unmapped++;
    }
    this.resized++;
    return true;
  }

  /**
   * Maps the pages right after the block (to the request's class, else just what it
   * needs) and stamps them into it; false with nothing changed when they are not free.
   * The mapped pages are in the thread's in-flight record (to be given back as they are)
   * from mapAt's return to the commit (the new length and live count, one run).
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
    this.v.i32[this.inflight] = after | (want - pages) | BIG_INFLIGHT_RANGE;
    this.stamp(ptr, pages, want, PageKind.BIG); // views re-read there: mapAt may have grown the memory
    this.lock();
    const i32 = this.v.i32;
    const st = this.st();
    i32[this.pd + ((ptr >>> PAGE_SHIFT) << 4) + PD_REGION_PAGES] = want;
    st[this.sb + S_LIVE_PAGES]! += want - pages;
    i32[this.inflight] = 0;
    this.unlock();
    this.resized++;
    return true;
  }

  usableSize(ptr: Ptr): number {
    return this.v.i32[this.desc(ptr) + PD_REGION_PAGES]! * PAGE_SIZE;
  }

  /**
   * Run by `heap.reclaim` on the dead thread's instance. Every change under the lock is
   * one run of stores, so the lock, if the dead thread held it, is only released. What
   * spans calls is the thread's in-flight record (TR_BIG_INFLIGHT): a range to give back
   * as it is (a block being freed, the pages of an in-place growth), or a block an alloc
   * had not returned (its live count undone when it was counted): unmapped.
   */
  recover(): Recovery {
    if (!this.atomic) return { locks: 0, repaired: 0 };
    const i32 = this.v.i32;
    const locks = lockHolder(i32, this.sb + S_LOCK) === this.tid ? 1 : 0;
    let repaired = 0;
    const rec = i32[this.inflight]!;
    if (rec !== 0) {
      if (locks === 0) this.lock();
      const base = rec & ~PAGE_MASK;
      const pages = rec & 0x7fff;
      const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
      if ((rec & BIG_INFLIGHT_RANGE) === 0) {
        // An alloc not returned: LIVE means counted (one run with the counters).
        if (i32[d + PD_REGION_STATE] === BigBlockState.LIVE) {
          i32[this.sb + S_LIVE_BLOCKS]!--;
          i32[this.sb + S_LIVE_PAGES]! -= pages;
        }
        this.retire(base, pages);
      } else {
        i32.fill(this.retiredEntry, this.reg + (base >>> PAGE_SHIFT), this.reg + (base >>> PAGE_SHIFT) + pages); // a growth's pages: no descriptor of their own
      }
      i32[this.inflight] = 0;
      this.unlock();
      this.regions.unmap(base, pages * PAGE_SIZE);
      repaired = 1;
    } else if (locks !== 0) {
      lockRelease(i32, this.sb + S_LOCK);
    }
    return { locks, repaired };
  }

  trim(): number {
    let bytes = 0;
    this.lock();
    try {
      for (let k = 0; k < BIG_CLASSES; k++) {
        while (this.head(k) !== 0) bytes += this.evictHead(k);
      }
    } finally {
      this.unlock();
    }
    return bytes;
  }

  /**
   * Nothing to rebuild with a state slot (the cache is shared). Without one, a thread
   * that died left blocks CACHED in its lost JS-side lists (their descriptors name it as
   * owner): they are unmapped. Live blocks need nothing (anyone may free them).
   */
  adopt(): void {
    if (this.own === null) return;
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
      cachedBlocks: this.word(S_CACHED_BLOCKS), cachedBytes: this.word(S_CACHED_PAGES) * PAGE_SIZE,
      liveBlocks: this.word(S_LIVE_BLOCKS), liveBytes: this.word(S_LIVE_PAGES) * PAGE_SIZE,
    };
  }

  checkInvariants(): void {
    const i32 = this.v.i32;
    const seen = new Set<number>();
    let blocks = 0;
    let bytes = 0;
    for (let k = 0; k < BIG_CLASSES; k++) {
      for (let base = this.head(k); base !== 0; base = i32[this.desc(base) + PD_REGION_NEXT]!) {
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
    if (blocks !== this.word(S_CACHED_BLOCKS) || bytes !== this.word(S_CACHED_PAGES) * PAGE_SIZE) {
      this.corrupt(`the cache lists hold ${blocks} blocks / ${bytes} bytes, the counters say ${this.word(S_CACHED_BLOCKS)} / ${this.word(S_CACHED_PAGES) * PAGE_SIZE}`);
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
      if (state === BigBlockState.CACHED && !seen.has(base) && (this.own === null || !this.shared)) this.corrupt(`${at} is CACHED but in no cache list`);
      if (state !== BigBlockState.LIVE && state !== BigBlockState.CACHED) this.corrupt(`${at} has state ${state}, neither LIVE nor CACHED`);
      if (pages < 1 || p + pages > end) this.corrupt(`${at} has ${pages} pages, beyond the managed area`);
      this.checkEntries(base, pages, PageKind.BIG, at);
      if (state === BigBlockState.LIVE) {
        live++;
        liveBytes += pages * PAGE_SIZE;
      }
      p += pages;
    }
    // A slotless instance in a shared heap counts only its own calls: it says nothing about the registry.
    const sayBlocks = this.word(S_LIVE_BLOCKS);
    const sayBytes = this.word(S_LIVE_PAGES) * PAGE_SIZE;
    if ((this.own === null || !this.shared) && (live !== sayBlocks || liveBytes !== sayBytes)) {
      this.corrupt(`the registry holds ${live} live big blocks / ${liveBytes} bytes, the counters say ${sayBlocks} / ${sayBytes}`);
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
 * when `budget` or `budgetFloor` is not a non-negative integer, or `liveShare` not a
 * number in 0..64.
 */
export function createBigCache(ctx: BoxContext, options: BigCacheOptions): BigCache {
  const budget = options.budget ?? DEFAULT_BUDGET;
  const floor = options.budgetFloor ?? DEFAULT_BUDGET_FLOOR;
  const share = options.liveShare ?? DEFAULT_LIVE_SHARE;
  if (!Number.isInteger(budget) || budget < 0) throw new HakmemError(ErrorCode.INVALID_OPTION, `budget must be a non-negative integer, got ${budget}`, { box: BOX });
  if (!Number.isInteger(floor) || floor < 0) throw new HakmemError(ErrorCode.INVALID_OPTION, `budgetFloor must be a non-negative integer, got ${floor}`, { box: BOX });
  if (typeof share !== 'number' || !(share >= 0 && share <= 64)) {
    throw new HakmemError(ErrorCode.INVALID_OPTION, `liveShare must be a number in 0..64, got ${String(share)}`, { box: BOX });
  }
  return new BigCacheBox(ctx, options, budget, floor, share);
}
