import {
  ErrorCode, GH_BOX_SLOT_BYTES, GH_BOX_SLOTS_END, GH_BOX_SLOTS_OFFSET, HakmemError, L25BlockState, MAX_HEAP_BYTES, PAGE_MASK,
  PAGE_SHIFT, PAGE_SIZE, PD_REGION_NEXT, PD_REGION_PAGES, PD_REGION_STATE, PageKind, REG_AUX_MASK, REG_AUX_SHIFT,
  REG_CLASS_MASK, REG_CLASS_SHIFT, REG_KIND_MASK, REG_THREAD_MASK, REG_THREAD_SHIFT, L25_INFLIGHT_MISS, TR_L25_INFLIGHT, retiredEntry,
  threadWord,
  type BoxContext, type HeapViews, type L25Pool, type L25PoolOptions, type L25PoolStats, type Ptr, type Recovery,
} from '@hakmem/contracts';
import { canBlockHere, lockAcquire, lockHolder, lockRelease } from '@hakmem/primitives';
import {
  DEFAULT_KEEP_PER_CLASS, DEFAULT_L25_BUDGET, DEFAULT_L25_BUDGET_FLOOR, DEFAULT_L25_CLASS_SIZES, DEFAULT_L25_LIVE_SHARE, DEFAULT_SPLIT_SPAN,
  DEFAULT_SHARDS, L25_MAX_CLASSES, L25_MAX_SHARDS,
} from './api.js';
import {
  L25_BITMAP, L25_CACHED_PAGES, L25_HEADS, L25_LIVE_BLOCKS, L25_LIVE_PAGES, L25_LOCK, L25_LOCK_CONTENDED,
  l25PoolStateBytes, l25ShardWords,
} from './layout.js';

const BOX = 'l25-pool';
/** First word of the head descriptor's region words (PD_REGION_STATE … PD_REGION_AUX). */
const PD_REGION_FIRST = PD_REGION_STATE;
const PD_REGION_END = 16;

/**
 * The L2.5 pool. Shared state (shard records, registry entries, head descriptors) lives
 * in the linear memory; this object holds one thread's view of it: the class tables,
 * its shard's word index and its own counters. Lock order: shard → os-boundary (the
 * region source never calls back).
 */
class L25PoolBox implements L25Pool {
  readonly name = BOX;
  readonly numClasses: number;
  readonly classSizes: Int32Array;
  private readonly v: HeapViews;
  private readonly regions: L25PoolOptions['regions'];
  private readonly reg: number;
  private readonly pd: number;
  private readonly heapStart: number;
  private readonly shared: boolean;
  private readonly canBlock: boolean;
  private readonly keep: number;
  /** Cached pages a shard may hold at most (the byte budget in pages). */
  private readonly budgetPages: number;
  /** Cached pages a shard may hold whatever its live pages (the floor in pages, at most `budgetPages`). */
  private readonly floorPages: number;
  /** Cached pages a shard may hold per live page, in 1/256ths (`liveShare × 256`). */
  private readonly shareQ8: number;
  private readonly numShards: number;
  /** Word index of shard 0's record. */
  private readonly state: number;
  /** Words of one shard record. */
  private readonly shardWords: number;
  /** Word index of this thread's shard record. */
  private readonly shard: number;
  /** counts[c] is at `shard + counts + c`. */
  private readonly counts: number;
  /** Pages of each class. */
  private readonly classPages: Int32Array;
  /** By page count p (0..maxPages): the smallest class of at least p pages. */
  private readonly ceilClass: Int32Array;
  /** By page count p: the largest class of at most p pages (-1: none). */
  private readonly floorClass: Int32Array;
  /** By class c: the bitmap bits of the classes an alloc of c may take a block from (up to `splitSpan` × its pages). */
  private readonly spanMask: Int32Array;
  /** Registry entry of a head page of class c for this thread (aux 0). */
  private readonly headEntry: Int32Array;
  private readonly maxPages: number;
  private zeroed: boolean;
  private readonly tid: number;
  private readonly backend: BoxContext['backend'];
  /** Int32 index of this thread's TR_L25_INFLIGHT. */
  private readonly inflight: number;
  /** The registry entry a range gets before it is unmapped (MAPPED with this thread when shared, else NONE). */
  private readonly retiredEntry: number;
  private hits: number;
  private misses: number;
  private splits: number;
  private mapped: number;
  private unmapped: number;

  constructor(
    ctx: BoxContext, options: L25PoolOptions, sizes: readonly number[], shards: number, keep: number, budget: number, floor: number,
    share: number, span: number,
  ) {
    const n = sizes.length;
    this.numClasses = n;
    this.classSizes = Int32Array.from(sizes);
    this.v = ctx.backend.views;
    this.regions = options.regions;
    this.reg = ctx.layout.registryOffset >>> 2;
    this.pd = ctx.layout.pageTableOffset >>> 2;
    this.heapStart = ctx.layout.heapStart;
    this.shared = ctx.shared;
    this.canBlock = ctx.shared && canBlockHere();
    this.keep = keep;
    this.budgetPages = Math.floor(budget / PAGE_SIZE);
    this.floorPages = Math.min(this.budgetPages, Math.floor(floor / PAGE_SIZE));
    this.shareQ8 = Math.round(share * 256);
    this.numShards = shards;
    this.state = ctx.slotOffset >>> 2;
    this.shardWords = l25ShardWords(n);
    this.shard = this.state + ((ctx.tid - 1) % shards) * this.shardWords;
    this.counts = L25_HEADS + n;
    this.classPages = new Int32Array(n);
    this.headEntry = new Int32Array(n);
    for (let c = 0; c < n; c++) {
      this.classPages[c] = sizes[c]! >>> PAGE_SHIFT;
      this.headEntry[c] = PageKind.L25 | (c << REG_CLASS_SHIFT) | ((ctx.tid & REG_THREAD_MASK) << REG_THREAD_SHIFT);
    }
    this.maxPages = this.classPages[n - 1]!;
    this.ceilClass = new Int32Array(this.maxPages + 1);
    this.floorClass = new Int32Array(this.maxPages + 1);
    for (let p = 0, c = 0, f = -1; p <= this.maxPages; p++) {
      while (this.classPages[c]! < p) c++;
      while (f + 1 < n && this.classPages[f + 1]! <= p) f++;
      this.ceilClass[p] = c;
      this.floorClass[p] = f;
    }
    this.spanMask = new Int32Array(n);
    for (let c = 0; c < n; c++) {
      const top = this.floorClass[Math.min(this.maxPages, this.classPages[c]! * span)]!;
      this.spanMask[c] = top >= 31 ? -1 : (1 << (top + 1)) - 1;
    }
    this.zeroed = false;
    this.tid = ctx.tid;
    this.backend = ctx.backend;
    this.inflight = threadWord(ctx.tid, TR_L25_INFLIGHT);
    this.retiredEntry = retiredEntry(ctx.shared, ctx.tid);
    this.hits = 0;
    this.misses = 0;
    this.splits = 0;
    this.mapped = 0;
    this.unmapped = 0;
  }

  /** Word index of the descriptor of the page at `addr`. */
  private desc(addr: Ptr): number {
    return this.pd + ((addr >>> PAGE_SHIFT) << 4);
  }

  private lock(s: number): void {
    if (this.shared && lockAcquire(this.v.i32, s + L25_LOCK, this.canBlock, this.tid) !== 0) this.v.i32[s + L25_LOCK_CONTENDED]!++;
  }

  private unlock(s: number): void {
    if (this.shared) lockRelease(this.v.i32, s + L25_LOCK);
  }

  classOf(size: number): number {
    return this.ceilClass[(size + PAGE_MASK) >>> PAGE_SHIFT]!;
  }

  /**
   * Hot path (a cache hit): the bitmap, a pop, the head descriptor. Word offsets are
   * literals — an imported or module-level const costs V8 a context load and a hole check
   * per use (`test/l25-pool.test.ts` checks each against its name): shard record 2 =
   * L25_BITMAP, 4 = L25_CACHED_PAGES, 5 / 6 = L25_LIVE_BLOCKS / _PAGES,
   * 7 = L25_HEADS; descriptor 8 = PD_REGION_STATE, 12 = PD_REGION_NEXT, 14 =
   * PD_REGION_PAGES; state 1 = LIVE; 16 = PAGE_SHIFT, 4 = log2 of the descriptor words.
   */
  alloc(cls: number): Ptr {
    if (this.shared) return this.allocShared(cls);
    const s = this.shard;
    const i32 = this.v.i32;
    // Its own class first (the smallest non-empty class when it has a block): no bitmap
    // arithmetic on an exact hit; else the bitmap finds the smallest within the span.
    let k = cls;
    let base = i32[s + 7 + cls]!;
    if (base === 0) {
      const avail = ((i32[s + 2]! >>> cls) << cls) & this.spanMask[cls]!;
      if (avail === 0) return this.allocMiss(s, cls);
      k = 31 - Math.clz32(avail & -avail);
      base = i32[s + 7 + k]!;
    }
    const d = this.pd + ((base >>> 16) << 4);
    const next = i32[d + 12]!;
    i32[s + 7 + k] = next;
    if (next === 0) i32[s + 2] = i32[s + 2]! & ~(1 << k);
    i32[s + this.counts + k]!--;
    i32[d + 12] = 0;
    i32[d + 8] = 1;
    const want = this.classPages[cls]!;
    i32[s + 5]!++;
    i32[s + 6]! += want;
    this.hits++;
    this.zeroed = false;
    if (k === cls) {
      i32[s + 4]! -= want;
    } else {
      const pages = this.classPages[k]!;
      i32[s + 4]! -= pages;
      i32[d + 14] = want;
      this.splitTail(s, base, pages, want);
      this.splits++;
    }
    // Every page of a block carries the same class and thread: one compare tells
    // whether the block must be restamped (another class, or last allocated by another thread).
    const head = this.headEntry[cls]!;
    if (i32[this.reg + (base >>> 16)] !== head) this.stamp(base, want, head);
    return base;
  }

  /**
   * alloc of a shared heap, under the shard's lock: the pop, the counters and the
   * thread's in-flight record (TR_L25_INFLIGHT: the block, the class asked for, the class
   * taken) are one run of stores; the split and the restamp follow; the record is cleared
   * by the first store after the lock's release, which the caller's next store follows
   * without a call — so a thread stopped anywhere leaves its reclaim the block it had not
   * returned yet (recover() gives it back, with its tail).
   */
  private allocShared(cls: number): Ptr {
    const s = this.shard;
    this.backend.refresh(); // a cached block another thread mapped may lie past this thread's views (growable, wasm)
    this.lock(s);
    const i32 = this.v.i32;
    const avail = ((i32[s + L25_BITMAP]! >>> cls) << cls) & this.spanMask[cls]!;
    if (avail === 0) return this.allocMiss(s, cls);
    const k = 31 - Math.clz32(avail & -avail);
    const base = i32[s + L25_HEADS + k]!;
    const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
    const pages = this.classPages[k]!;
    const want = this.classPages[cls]!;
    const next = i32[d + PD_REGION_NEXT]!;
    i32[s + L25_HEADS + k] = next;
    if (next === 0) i32[s + L25_BITMAP] = i32[s + L25_BITMAP]! & ~(1 << k);
    i32[s + this.counts + k]!--;
    i32[d + PD_REGION_NEXT] = 0;
    i32[d + PD_REGION_STATE] = L25BlockState.LIVE;
    i32[d + PD_REGION_PAGES] = want;
    i32[s + L25_CACHED_PAGES]! -= pages;
    i32[s + L25_LIVE_BLOCKS]!++;
    i32[s + L25_LIVE_PAGES]! += want;
    i32[this.inflight] = base | (cls + 1) | ((k + 1) << 6);
    this.hits++;
    this.zeroed = false;
    if (k !== cls) {
      this.splitTailShared(s, base, pages, want);
      this.splits++;
    }
    const head = this.headEntry[cls]!;
    if (this.v.i32[this.reg + (base >>> PAGE_SHIFT)] !== head) this.stamp(base, want, head);
    this.unlock(s);
    this.v.i32[this.inflight] = 0;
    return base;
  }

  /**
   * splitTail of a shared heap: the tail's entries are stamped from its last page to its
   * first (its head entry last, so until then its first page still reads as a page of the
   * block it was cut from), then filed in one run; or restamped MAPPED with this thread
   * (one fill) and unmapped.
   */
  private splitTailShared(s: number, base: Ptr, pages: number, want: number): void {
    const tail = pages - want;
    const at = base + (want << PAGE_SHIFT);
    const f = this.floorClass[tail]!;
    const r = this.reg + (at >>> PAGE_SHIFT);
    if (f >= 0 && this.classPages[f] === tail && this.fits(s, f, tail)) {
      const head = this.headEntry[f]!;
      for (let i = tail - 1; i >= 0; i--) this.v.i32[r + i] = head | ((i < REG_AUX_MASK ? i : REG_AUX_MASK) << REG_AUX_SHIFT);
      this.push(s, at, f, tail);
    } else {
      this.v.i32.fill(this.retiredEntry, r, r + tail);
      this.regions.unmap(at, tail << PAGE_SHIFT);
      this.unmapped++;
    }
  }

  /**
   * No cached block of the class (or within the split span): map one; 0 on exhaustion.
   * In a shared heap (under the shard's lock) the mapped block is in the thread's
   * in-flight record from map's return on — MISS until it is counted live —, and the
   * record is cleared by the first store after the lock's release.
   */
  private allocMiss(s: number, cls: number): Ptr {
    this.misses++;
    const want = this.classPages[cls]!;
    let base = this.regions.map(want << PAGE_SHIFT, PAGE_SIZE);
    if (base === 0 && this.v.i32[s + L25_CACHED_PAGES] !== 0) {
      // Exhausted while this shard holds blocks too small to serve: give them back
      // (os-boundary coalesces adjacent ranges) and retry once.
      this.drainShard(s);
      base = this.regions.map(want << PAGE_SHIFT, PAGE_SIZE);
    }
    if (base === 0) {
      this.unlock(s);
      return 0;
    }
    const record = base | (cls + 1) | ((cls + 1) << 6);
    // map may have grown the memory (wasm replaces the buffer): the views are read after it.
    if (this.shared) this.v.i32[this.inflight] = record | L25_INFLIGHT_MISS;
    this.zeroed = this.regions.lastMapZeroed();
    this.mapped++;
    const i32 = this.v.i32;
    const d = this.desc(base);
    i32[d + PD_REGION_STATE] = L25BlockState.LIVE;
    i32[d + PD_REGION_PAGES] = want;
    i32[d + PD_REGION_NEXT] = 0;
    this.stamp(base, want, this.headEntry[cls]!);
    i32[s + L25_LIVE_BLOCKS]!++;
    i32[s + L25_LIVE_PAGES]! += want;
    if (!this.shared) return base;
    i32[this.inflight] = record;
    this.unlock(s);
    this.v.i32[this.inflight] = 0;
    return base;
  }

  /**
   * Under the lock: pages `want..pages-1` of the block at `base` become a cached block of
   * the class of exactly that many pages, unless there is no such class or that class
   * is at the keep limit in this shard: then they are unmapped.
   */
  private splitTail(s: number, base: Ptr, pages: number, want: number): void {
    const tail = pages - want;
    const at = base + (want << PAGE_SHIFT);
    const f = this.floorClass[tail]!;
    if (f >= 0 && this.classPages[f] === tail && this.fits(s, f, tail)) {
      this.stamp(at, tail, this.headEntry[f]!);
      this.push(s, at, f, tail);
    } else {
      this.v.i32.fill(0, this.reg + (at >>> PAGE_SHIFT), this.reg + (at >>> PAGE_SHIFT) + tail);
      this.regions.unmap(at, tail << PAGE_SHIFT);
      this.unmapped++;
    }
  }

  /** Under the lock: whether shard `s` may cache one more block of class `c` (`pages` pages): the keep limit and the shard's limit (4 = L25_CACHED_PAGES). */
  private fits(s: number, c: number, pages: number): boolean {
    return this.v.i32[s + this.counts + c]! < this.keep && this.v.i32[s + 4]! + pages <= this.limit(s);
  }

  /**
   * The cached pages shard `s` may hold now: `min(budget, max(floor, liveShare × its live
   * pages))`. Its live pages may be negative (blocks allocated in another shard and freed
   * into this one): the floor then. (6 = L25_LIVE_PAGES.)
   */
  private limit(s: number): number {
    const byLive = (this.v.i32[s + 6]! * this.shareQ8) >> 8;
    const lim = byLive > this.floorPages ? byLive : this.floorPages;
    return lim < this.budgetPages ? lim : this.budgetPages;
  }

  /**
   * Under the lock, after a free over the limit: when shard `s` is still above its limit,
   * unmaps one cached block, the most recently cached of its largest non-empty class (the
   * most bytes per unmap). One block per such free: the cache follows the live bytes down
   * gradually, so a live set drained and refilled at once (a loop's teardown) keeps most
   * of its cache, while a shard whose live set stays small is back within its limit after
   * as many frees as it holds blocks. The block leaves as in `drainShard`: one run of
   * stores, then the unmap.
   */
  private shed(s: number): void {
    const i32 = this.v.i32;
    if (i32[s + L25_CACHED_PAGES]! <= this.limit(s)) return;
    const bitmap = i32[s + L25_BITMAP]!;
    const c = 31 - Math.clz32(bitmap);
    const p = this.classPages[c]!;
    const base = i32[s + L25_HEADS + c]!;
    const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
    const r = this.reg + (base >>> PAGE_SHIFT);
    const next = i32[d + PD_REGION_NEXT]!;
    i32[s + L25_HEADS + c] = next;
    i32[s + this.counts + c]!--;
    if (next === 0) i32[s + L25_BITMAP] = bitmap & ~(1 << c);
    i32[s + L25_CACHED_PAGES]! -= p;
    i32.fill(0, d + PD_REGION_FIRST, d + PD_REGION_END);
    i32.fill(this.retiredEntry, r, r + p);
    this.regions.unmap(base, p << PAGE_SHIFT);
    this.unmapped++;
  }

  /** Under the lock: files the block at `base` (`pages` pages, class `c`) in shard `s`'s list (literal offsets as in `alloc`; 2 = CACHED). */
  private push(s: number, base: Ptr, c: number, pages: number): void {
    const i32 = this.v.i32;
    const d = this.pd + ((base >>> 16) << 4);
    i32[d + 8] = 2;
    i32[d + 14] = pages;
    const head = i32[s + 7 + c]!;
    i32[d + 12] = head;
    i32[s + 7 + c] = base;
    i32[s + this.counts + c]!++;
    if (head === 0) i32[s + 2] = i32[s + 2]! | (1 << c);
    i32[s + 4]! += pages;
  }

  /** Registry entries of the `pages` pages from `base`: `head` with the page index as aux (saturating). */
  private stamp(base: Ptr, pages: number, head: number): void {
    const i32 = this.v.i32;
    const r = this.reg + (base >>> PAGE_SHIFT);
    for (let i = 0; i < pages; i++) i32[r + i] = head | ((i < REG_AUX_MASK ? i : REG_AUX_MASK) << REG_AUX_SHIFT);
  }

  /** Clears the block's registry entries (to the retired entry) and head descriptor words in one run, then unmaps it. */
  private unmapBlock(base: Ptr, pages: number): void {
    const i32 = this.v.i32;
    const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
    const r = this.reg + (base >>> PAGE_SHIFT);
    i32.fill(0, d + PD_REGION_FIRST, d + PD_REGION_END);
    i32.fill(this.retiredEntry, r, r + pages);
    this.regions.unmap(base, pages << PAGE_SHIFT);
    this.unmapped++;
  }

  lastAllocZeroed(): boolean {
    return this.zeroed;
  }

  /** Hot path: literal word offsets as in `alloc` (14 = PD_REGION_PAGES, 5 / 6 = the live gauges). */
  free(ptr: Ptr): void {
    if (this.shared) {
      this.freeShared(ptr);
      return;
    }
    const s = this.shard;
    const i32 = this.v.i32;
    const d = this.pd + ((ptr >>> 16) << 4);
    const pages = i32[d + 14]!;
    // Blocks are always exactly class-sized: the floor class is the block's class.
    const c = this.floorClass[pages]!;
    i32[s + 5]!--;
    const live = i32[s + 6]! - pages;
    i32[s + 6] = live;
    // Within the keep limit and the shard's limit (limit() written out: min(budget,
    // max(floor, share × live))); the floor test first, as most frees of a small cache pass it.
    const cached = i32[s + 4]! + pages;
    if (i32[s + this.counts + c]! < this.keep && cached <= this.budgetPages && (cached <= this.floorPages || cached <= (live * this.shareQ8) >> 8)) {
      // push() without its pages store: a freed block keeps its PD_REGION_PAGES. Written out
      // rather than called: `fits()` plus a `file()` without the pages store (push then
      // storing pages itself) measured 174.4 → 188.1 M instructions on the bench's `large`
      // band (callgrind), because the calls left the gatekeeper's `freeLarge` out of the loop.
      i32[d + 8] = 2;
      const head = i32[s + 7 + c]!;
      i32[d + 12] = head;
      i32[s + 7 + c] = ptr;
      i32[s + this.counts + c]!++;
      if (head === 0) i32[s + 2] = i32[s + 2]! | (1 << c);
      i32[s + 4] = cached;
    } else {
      this.unmapBlock(ptr, pages);
      this.shed(s);
    }
  }

  /**
   * free of a shared heap: under the shard's lock, the live counters and the filing of the
   * block (or, over the keep limit or budget, its cleared descriptor and retired registry
   * entries) are one run of stores; an unfiled block is unmapped after the lock.
   */
  private freeShared(ptr: Ptr): void {
    const s = this.shard;
    this.lock(s);
    const i32 = this.v.i32;
    const d = this.pd + ((ptr >>> PAGE_SHIFT) << 4);
    const pages = i32[d + PD_REGION_PAGES]!;
    const c = this.floorClass[pages]!;
    const lim = this.limitAfterFree(s, pages);
    const keep = i32[s + this.counts + c]! < this.keep && i32[s + L25_CACHED_PAGES]! + pages <= lim;
    const r = this.reg + (ptr >>> PAGE_SHIFT);
    i32[s + L25_LIVE_BLOCKS]!--;
    i32[s + L25_LIVE_PAGES]! -= pages;
    if (keep) {
      i32[d + PD_REGION_STATE] = L25BlockState.CACHED;
      const head = i32[s + L25_HEADS + c]!;
      i32[d + PD_REGION_NEXT] = head;
      i32[s + L25_HEADS + c] = ptr;
      i32[s + this.counts + c]!++;
      if (head === 0) i32[s + L25_BITMAP] = i32[s + L25_BITMAP]! | (1 << c);
      i32[s + L25_CACHED_PAGES]! += pages;
    } else {
      i32.fill(0, d + PD_REGION_FIRST, d + PD_REGION_END);
      i32.fill(this.retiredEntry, r, r + pages);
      this.shed(s);
    }
    this.unlock(s);
    if (!keep) {
      this.regions.unmap(ptr, pages << PAGE_SHIFT);
      this.unmapped++;
    }
  }

  /** The limit of shard `s` once a free of `pages` pages has taken them off its live pages (computed before the commit run). */
  private limitAfterFree(s: number, pages: number): number {
    const byLive = ((this.v.i32[s + L25_LIVE_PAGES]! - pages) * this.shareQ8) >> 8;
    const lim = byLive > this.floorPages ? byLive : this.floorPages;
    return lim < this.budgetPages ? lim : this.budgetPages;
  }

  usableSize(ptr: Ptr): number {
    return this.v.i32[this.desc(ptr) + PD_REGION_PAGES]! << PAGE_SHIFT;
  }

  /**
   * Under shard `s`'s lock: unmaps every block cached there; returns the bytes. Each block
   * leaves its list (with the counters, the bitmap, its cleared descriptor and retired
   * registry entries) in one run of stores before it is unmapped.
   */
  private drainShard(s: number): number {
    let pages = 0;
    for (let c = 0; c < this.numClasses; c++) {
      const p = this.classPages[c]!;
      for (let base = this.v.i32[s + L25_HEADS + c]!; base !== 0; base = this.v.i32[s + L25_HEADS + c]!) {
        const i32 = this.v.i32;
        const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
        const r = this.reg + (base >>> PAGE_SHIFT);
        const next = i32[d + PD_REGION_NEXT]!;
        i32[s + L25_HEADS + c] = next;
        i32[s + this.counts + c]!--;
        if (next === 0) i32[s + L25_BITMAP] = i32[s + L25_BITMAP]! & ~(1 << c);
        i32[s + L25_CACHED_PAGES]! -= p;
        i32.fill(0, d + PD_REGION_FIRST, d + PD_REGION_END);
        i32.fill(this.retiredEntry, r, r + p);
        this.regions.unmap(base, p << PAGE_SHIFT);
        this.unmapped++;
        pages += p;
      }
    }
    return pages * PAGE_SIZE;
  }

  /**
   * Run by `heap.reclaim` on the dead thread's instance. Every change under a shard's lock
   * is one run of stores, so a shard whose lock names the dead thread is consistent and is
   * released. What spans calls is the thread's in-flight record (TR_L25_INFLIGHT, in its
   * own shard): the block it had not returned goes back to os-boundary — uncounted when it
   * was mapped fresh (MISS), else its live count undone — and so does the tail of the
   * block it was cut from when that tail is in no list yet.
   */
  recover(): Recovery {
    if (!this.shared) return { locks: 0, repaired: 0 };
    const i32 = this.v.i32;
    const held: number[] = [];
    for (let k = 0; k < this.numShards; k++) {
      const s = this.state + k * this.shardWords;
      if (lockHolder(i32, s + L25_LOCK) === this.tid) held.push(s);
    }
    let repaired = 0;
    const rec = i32[this.inflight]!;
    if (rec !== 0) {
      const s = this.shard;
      const mine = held.includes(s);
      if (!mine) this.lock(s);
      this.undoAlloc(s, rec);
      if (!mine) this.unlock(s);
      this.v.i32[this.inflight] = 0;
      repaired = 1;
    }
    for (const s of held) lockRelease(this.v.i32, s + L25_LOCK);
    return { locks: held.length, repaired };
  }

  /** Under shard `s`'s lock: gives back the block of in-flight record `rec` and, if it was split, its unfiled tail. */
  private undoAlloc(s: number, rec: number): void {
    const i32 = this.v.i32;
    const base = rec & ~PAGE_MASK;
    const cls = (rec & 0x3f) - 1;
    const k = ((rec >>> 6) & 0x3f) - 1;
    const want = this.classPages[cls]!;
    const d = this.pd + ((base >>> PAGE_SHIFT) << 4);
    if ((rec & L25_INFLIGHT_MISS) === 0) {
      i32[s + L25_LIVE_BLOCKS]!--;
      i32[s + L25_LIVE_PAGES]! -= want;
    }
    if (k !== cls) {
      const tail = this.classPages[k]! - want;
      const at = base + (want << PAGE_SHIFT);
      const r = this.reg + (at >>> PAGE_SHIFT);
      const e = i32[r]!;
      let give = false;
      if (e === this.retiredEntry) give = true; // retired, not yet unmapped
      else if ((e & REG_KIND_MASK) === PageKind.L25 && ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) === 0) {
        // A head page: ours only if it names this thread (else the tail was unmapped and is another thread's now).
        if (((e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK) !== this.tid) give = false;
        else {
        // Stamped as a block of its own: filed unless it is in no list of the shard.
        const f = (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK;
        let listed = false;
        for (let b = i32[s + L25_HEADS + f]!; b !== 0 && !listed; b = i32[this.pd + ((b >>> PAGE_SHIFT) << 4) + PD_REGION_NEXT]!) listed = b === at;
        give = !listed;
        }
      } else if ((e & REG_KIND_MASK) === PageKind.L25) give = true; // still a page of the block it was cut from
      if (give) {
        i32.fill(0, this.pd + ((at >>> PAGE_SHIFT) << 4) + PD_REGION_FIRST, this.pd + ((at >>> PAGE_SHIFT) << 4) + PD_REGION_END);
        i32.fill(this.retiredEntry, r, r + tail);
        this.regions.unmap(at, tail << PAGE_SHIFT);
      }
    }
    i32.fill(0, d + PD_REGION_FIRST, d + PD_REGION_END);
    i32.fill(this.retiredEntry, this.reg + (base >>> PAGE_SHIFT), this.reg + (base >>> PAGE_SHIFT) + want);
    this.regions.unmap(base, want << PAGE_SHIFT);
  }

  trim(): number {
    let bytes = 0;
    for (let k = 0; k < this.numShards; k++) {
      const s = this.state + k * this.shardWords;
      this.lock(s);
      bytes += this.drainShard(s);
      this.unlock(s);
    }
    return bytes;
  }

  stats(): L25PoolStats {
    const i32 = this.v.i32;
    let cachedBlocks = 0;
    let cachedPages = 0;
    let liveBlocks = 0;
    let livePages = 0;
    let lockContended = 0;
    for (let k = 0; k < this.numShards; k++) {
      const s = this.state + k * this.shardWords;
      for (let c = 0; c < this.numClasses; c++) cachedBlocks += i32[s + this.counts + c]!;
      cachedPages += i32[s + L25_CACHED_PAGES]!;
      liveBlocks += i32[s + L25_LIVE_BLOCKS]!;
      livePages += i32[s + L25_LIVE_PAGES]!;
      lockContended += i32[s + L25_LOCK_CONTENDED]!;
    }
    return {
      hits: this.hits, misses: this.misses, splits: this.splits, mapped: this.mapped, unmapped: this.unmapped,
      cachedBlocks, cachedBytes: cachedPages * PAGE_SIZE, liveBlocks, liveBytes: livePages * PAGE_SIZE, lockContended,
    };
  }

  checkInvariants(): void {
    const i32 = this.v.i32;
    const n = this.numClasses;
    const end = this.regions.end();
    const hex = (x: number): string => `0x${(x >>> 0).toString(16)}`;
    const seen = new Set<number>();
    let liveBlocksSaid = 0;
    let livePagesSaid = 0;
    for (let k = 0; k < this.numShards; k++) {
      const s = this.state + k * this.shardWords;
      const bitmap = i32[s + L25_BITMAP]!;
      if (n < 32 && (bitmap >>> n) !== 0) this.corrupt(`shard ${k}: bitmap ${hex(bitmap)} has bits beyond class ${n - 1}`);
      let blocks = 0;
      let pages = 0;
      for (let c = 0; c < n; c++) {
        const want = this.classPages[c]!;
        let count = 0;
        for (let base = i32[s + L25_HEADS + c]!; base !== 0; base = i32[this.desc(base) + PD_REGION_NEXT]!) {
          const at = `shard ${k}, class ${c}: cached block ${hex(base)}`;
          if (seen.has(base)) this.corrupt(`${at} is cached twice (or its class list has a cycle)`);
          seen.add(base);
          if ((base & PAGE_MASK) !== 0 || base < this.heapStart || base >= end) this.corrupt(`${at} is not a page of the heap`);
          const d = this.desc(base);
          if (i32[d + PD_REGION_STATE] !== L25BlockState.CACHED) this.corrupt(`${at} has state ${i32[d + PD_REGION_STATE]}, not CACHED`);
          if (i32[d + PD_REGION_PAGES] !== want) this.corrupt(`${at} has ${i32[d + PD_REGION_PAGES]} pages, class ${c} has ${want}`);
          if (base + want * PAGE_SIZE > end) this.corrupt(`${at} runs beyond the managed area`);
          this.checkEntries(base, want, c, at);
          count++;
        }
        if (count !== i32[s + this.counts + c]) this.corrupt(`shard ${k}, class ${c}: the list holds ${count} blocks, the count says ${i32[s + this.counts + c]}`);
        if (count > this.keep) this.corrupt(`shard ${k}, class ${c}: ${count} blocks cached, more than keepPerClass (${this.keep})`);
        if (((bitmap >>> c) & 1) !== (count > 0 ? 1 : 0)) this.corrupt(`shard ${k}, class ${c}: bitmap bit is ${(bitmap >>> c) & 1} but the list holds ${count} blocks`);
        blocks += count;
        pages += count * want;
      }
      if (pages !== i32[s + L25_CACHED_PAGES]) {
        this.corrupt(`shard ${k}: the lists hold ${blocks} blocks / ${pages} pages, the counter says ${i32[s + L25_CACHED_PAGES]} pages`);
      }
      liveBlocksSaid += i32[s + L25_LIVE_BLOCKS]!;
      livePagesSaid += i32[s + L25_LIVE_PAGES]!;
    }
    // Every L25 run in the registry starts at a head (aux 0) whose descriptor is LIVE or
    // CACHED (then listed) and covers exactly its pages.
    let live = 0;
    let livePages = 0;
    const last = end >>> PAGE_SHIFT;
    for (let p = this.heapStart >>> PAGE_SHIFT; p < last;) {
      const e = i32[this.reg + p]!;
      if ((e & REG_KIND_MASK) !== PageKind.L25) {
        p++;
        continue;
      }
      const base = p << PAGE_SHIFT;
      const at = `block ${hex(base)}`;
      if (((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) !== 0) this.corrupt(`page ${hex(base)} is an L25 continuation page with no block head before it`);
      const d = this.desc(base);
      const state = i32[d + PD_REGION_STATE]!;
      const pages = i32[d + PD_REGION_PAGES]!;
      const c = (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK;
      if (c >= n || this.classPages[c] !== pages) this.corrupt(`${at} has ${pages} pages, which is not the size of its registry class ${c}`);
      if (p + pages > last) this.corrupt(`${at} has ${pages} pages, beyond the managed area`);
      this.checkEntries(base, pages, c, at);
      if (state === L25BlockState.LIVE) {
        if (i32[d + PD_REGION_NEXT] !== 0) this.corrupt(`${at} is LIVE with a list link ${hex(i32[d + PD_REGION_NEXT]!)}`);
        live++;
        livePages += pages;
      } else if (state === L25BlockState.CACHED) {
        if (!seen.has(base)) this.corrupt(`${at} is CACHED but in no shard's list`);
      } else {
        this.corrupt(`${at} has state ${state}, neither LIVE nor CACHED`);
      }
      p += pages;
    }
    if (live !== liveBlocksSaid || livePages !== livePagesSaid) {
      this.corrupt(`the registry holds ${live} live blocks / ${livePages} pages, the shards' counters say ${liveBlocksSaid} / ${livePagesSaid}`);
    }
  }

  /** Every page of the block: kind L25, class `c`, aux = page index (saturating), the head's thread. */
  private checkEntries(base: Ptr, pages: number, c: number, at: string): void {
    const i32 = this.v.i32;
    const r = this.reg + (base >>> PAGE_SHIFT);
    const head = PageKind.L25 | (c << REG_CLASS_SHIFT) | (i32[r]! & (REG_THREAD_MASK << REG_THREAD_SHIFT));
    for (let i = 0; i < pages; i++) {
      const want = head | ((i < REG_AUX_MASK ? i : REG_AUX_MASK) << REG_AUX_SHIFT);
      const e = i32[r + i]!;
      if (e !== want) this.corrupt(`${at}: registry entry of page ${i} is 0x${(e >>> 0).toString(16)}, want 0x${(want >>> 0).toString(16)}`);
    }
  }

  private corrupt(message: string): never {
    throw new HakmemError(ErrorCode.CORRUPTION, message, { box: BOX });
  }
}

function invalid(message: string): never {
  throw new HakmemError(ErrorCode.INVALID_OPTION, message, { box: BOX });
}

/**
 * Creates one thread's handle on the L2.5 pool. Its state lives at `ctx.slotOffset`
 * (`l25PoolStateBytes(shards, classes)` bytes of box slots); all-zero state (fresh
 * memory) is the empty pool, so every thread may create its handle at any time.
 * Throws `E_INVALID_OPTION` for bad class sizes, shards, keepPerClass, budget, budgetFloor,
 * liveShare or splitSpan, or when the state does not fit the box slots.
 */
export function createL25Pool(ctx: BoxContext, options: L25PoolOptions): L25Pool {
  const sizes = options.classSizes ?? DEFAULT_L25_CLASS_SIZES;
  const shards = options.shards ?? DEFAULT_SHARDS;
  const keep = options.keepPerClass ?? DEFAULT_KEEP_PER_CLASS;
  const budget = options.budget ?? DEFAULT_L25_BUDGET;
  const floor = options.budgetFloor ?? DEFAULT_L25_BUDGET_FLOOR;
  const share = options.liveShare ?? DEFAULT_L25_LIVE_SHARE;
  const span = options.splitSpan ?? DEFAULT_SPLIT_SPAN;
  if (!Array.isArray(sizes) || sizes.length === 0 || sizes.length > L25_MAX_CLASSES) {
    invalid(`classSizes must hold 1..${L25_MAX_CLASSES} sizes, got ${Array.isArray(sizes) ? sizes.length : String(sizes)}`);
  }
  for (let c = 0; c < sizes.length; c++) {
    const size = sizes[c];
    if (typeof size !== 'number' || !Number.isInteger(size) || size <= 0 || size > MAX_HEAP_BYTES || (size & PAGE_MASK) !== 0) {
      invalid(`classSizes[${c}] must be a positive multiple of ${PAGE_SIZE} (at most ${MAX_HEAP_BYTES}), got ${String(size)}`);
    }
    if (c > 0 && size <= sizes[c - 1]!) invalid(`classSizes must be strictly ascending, got ${sizes[c - 1]} then ${size}`);
  }
  if (!Number.isInteger(shards) || shards < 1 || shards > L25_MAX_SHARDS) invalid(`shards must be an integer in 1..${L25_MAX_SHARDS}, got ${shards}`);
  if (!Number.isInteger(keep) || keep < 0) invalid(`keepPerClass must be a non-negative integer, got ${keep}`);
  if (!Number.isInteger(budget) || budget < 0) invalid(`budget must be a non-negative integer, got ${budget}`);
  if (!Number.isInteger(floor) || floor < 0) invalid(`budgetFloor must be a non-negative integer, got ${floor}`);
  if (typeof share !== 'number' || !(share >= 0 && share <= 64)) invalid(`liveShare must be a number in 0..64, got ${String(share)}`);
  if (!Number.isInteger(span) || span < 1 || span > 1 << 16) invalid(`splitSpan must be an integer in 1..65536, got ${span}`);
  const bytes = l25PoolStateBytes(shards, sizes.length);
  const at = ctx.slotOffset;
  if (at < GH_BOX_SLOTS_OFFSET || (at - GH_BOX_SLOTS_OFFSET) % GH_BOX_SLOT_BYTES !== 0 || at + bytes > GH_BOX_SLOTS_END) {
    invalid(`l25-pool needs ${bytes} bytes of box slots at a slot offset in [${GH_BOX_SLOTS_OFFSET}, ${GH_BOX_SLOTS_END - bytes}], got ${at}`);
  }
  return new L25PoolBox(ctx, options, sizes, shards, keep, budget, floor, share, span);
}
