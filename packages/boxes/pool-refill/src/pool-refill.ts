import {
  ErrorCode, FREE_KEY_WORD, GH_FREE_KEY, HakmemError, MAX_THREADS, PAGE_SHIFT, PAGE_SIZE, PD_BLOCK_SIZE, PD_CAPACITY, PD_CARVE, PD_FREE_HEAD, PD_REGION_OWNER,
  PD_REGION_PAGES, PD_REMOTE_HEAD, PD_SLAB_NEXT, PD_SLAB_PREV, PD_USED, PageKind, POOL_SPAN_MAX_PAGES, REG_AUX_MASK,
  REG_AUX_SHIFT, REG_CLASS_MASK, REG_CLASS_SHIFT, REG_KIND_MASK, REG_THREAD_MASK, REG_THREAD_SHIFT, THREAD_RECORD_BYTES,
  THREAD_TABLE_OFFSET, TR_BATCH_AT, TR_BATCH_STATE, TR_POOL_DRAIN, TR_POOL_REMOTE_HEAD, BATCH_COUNT_MASK, BATCH_FREE, BATCH_POOL,
  BATCH_PROGRESS_SHIFT, retiredEntry, threadWord,
  type BoxContext, type HeapViews, type PoolRefill, type PoolRefillOptions, type PoolRefillStats, type Ptr, type Recovery,
} from '@hakmem/contracts';
import { blockChainHolds, descListPush, descListRemove } from '@hakmem/primitives';
import { DEFAULT_ARENA_INITIAL, DEFAULT_ARENA_MAX, EMPTY_SPAN_BUDGET, spanPagesFor } from './api.js';

const BOX = 'pool-refill';

/**
 * One thread's mid-size carving. Every method is a slow path of pool-tls (a miss or an
 * overflow moves a batch), so the cost that matters is per block: a free-list pop or a
 * bump of the carve offset, and on free one registry load and a push.
 *
 * Shared metadata lives in the linear memory: registry entries, span descriptors, span
 * free lists (through the blocks' first words), the remote-free list head in the thread
 * record. The span queues, the empty-span pool, the arena window and the counters are
 * this thread's, JS-side.
 */
class PoolRefillBox implements PoolRefill {
  readonly name = BOX;
  private readonly v: HeapViews;
  private readonly reg: number;
  private readonly pd: number;
  private readonly tid: number;
  private readonly shared: boolean;
  private readonly heapStart: number;
  /** Links a remote-free chain can have at most (every 512-byte granule of the heap): `holds`' walks stop there. */
  private readonly chainLimit: number;
  private readonly sizes: Int32Array;
  private readonly pages: Int32Array;
  private readonly caps: Int32Array;
  private readonly regions: PoolRefillOptions['regions'];
  private readonly arenaInitial: number;
  private readonly arenaMax: number;
  /** Word index of this thread's remote-free list head. */
  private readonly remote: number;
  /** Word indexes of this thread's TR_POOL_DRAIN, TR_BATCH_AT, TR_BATCH_STATE (shared heaps: kill safety). */
  private readonly drain: number;
  private readonly batchAt: number;
  private readonly batchState: number;
  /** The registry entry a range gets before it is unmapped (MAPPED with this thread when shared, else NONE). */
  private readonly retiredEntry: number;
  /** What adopt() found half-done (orphan pages, a drain), for recover()'s report. */
  private found = 0;
  /**
   * Registry entry of a page this thread has mapped but not cut into a span (arena rest,
   * pooled empty spans): MAPPED with the thread id, so that an adopter finds them.
   */
  private readonly mappedEntry: number;
  private readonly backend: BoxContext['backend'];
  /** Per class, the first span with a free or uncarved block (0 = none); linked through PD_SLAB_NEXT / PD_SLAB_PREV. */
  private readonly heads: Int32Array;
  /**
   * Per class, the empty span kept because it was the class's only span with room (0 =
   * none). JS-side: when another span of the class regains room, the kept one is no longer
   * needed and is retired, so an emptied class leaves no span pinned at a low address.
   */
  private readonly kept: Int32Array;
  /** Empty spans kept for reuse: per page count p, a list at `empty[(p - 1) * EMPTY_STACK ...]`, sizes in `emptyCount`. */
  private readonly empty: Int32Array;
  private readonly emptyCount: Int32Array;
  private emptyBytes = 0;
  private arenaNext = 0;
  private arenaEnd = 0;
  private chunks = 0;
  private arenaBytes = 0;
  private spansCreated = 0;
  private spansReleased = 0;
  private spans = 0;
  private carved = 0;
  private reused = 0;
  private remoteFreed = 0;
  private remoteDrained = 0;
  private usedBlocks = 0;
  private usedBytes = 0;
  private spanBytes = 0;
  /** Bytes given back to os-boundary (cumulative): trim() returns what it moved. */
  private unmappedBytes = 0;
  /** True while createPoolRefill pre-warms: emptied spans then stay with their class. */
  prewarming = false;

  constructor(ctx: BoxContext, options: PoolRefillOptions, arenaInitial: number, arenaMax: number) {
    this.v = ctx.backend.views;
    this.reg = ctx.layout.registryOffset >>> 2;
    this.pd = ctx.layout.pageTableOffset >>> 2;
    this.tid = ctx.tid;
    this.shared = ctx.shared;
    this.heapStart = ctx.layout.heapStart;
    this.chainLimit = ctx.layout.maxPages << 7;
    this.sizes = options.classSizes;
    this.regions = options.regions;
    this.arenaInitial = arenaInitial;
    this.arenaMax = arenaMax;
    this.remote = ((THREAD_TABLE_OFFSET + ctx.tid * THREAD_RECORD_BYTES) >>> 2) + TR_POOL_REMOTE_HEAD;
    this.mappedEntry = PageKind.MAPPED | (ctx.tid << REG_THREAD_SHIFT);
    this.drain = threadWord(ctx.tid, TR_POOL_DRAIN);
    this.batchAt = threadWord(ctx.tid, TR_BATCH_AT);
    this.batchState = threadWord(ctx.tid, TR_BATCH_STATE);
    this.retiredEntry = retiredEntry(ctx.shared, ctx.tid);
    this.backend = ctx.backend;
    const n = this.sizes.length;
    this.pages = new Int32Array(n);
    this.caps = new Int32Array(n);
    for (let c = 0; c < n; c++) {
      this.pages[c] = spanPagesFor(this.sizes[c]!);
      this.caps[c] = Math.floor((this.pages[c]! * PAGE_SIZE) / this.sizes[c]!);
    }
    this.heads = new Int32Array(n);
    this.kept = new Int32Array(n);
    this.empty = new Int32Array(POOL_SPAN_MAX_PAGES * EMPTY_STACK);
    this.emptyCount = new Int32Array(POOL_SPAN_MAX_PAGES);
  }

  spanPages(cls: number): number {
    return this.pages[cls]!;
  }

  private desc(addr: Ptr): number {
    return this.pd + ((addr >>> PAGE_SHIFT) << 4);
  }
  /**
   * Slow path: the free list of the block's span (its head page from the registry's aux),
   * then every thread's remote-free list and drain. Each walk stops after as many links
   * as the span (or the heap) has blocks.
   */
  holds(ptr: Ptr): boolean {
    if (this.shared) this.backend.refresh();
    const i32 = this.v.i32;
    const head = (ptr >>> PAGE_SHIFT) - (((i32[this.reg + (ptr >>> PAGE_SHIFT)] ?? 0) >>> REG_AUX_SHIFT) & REG_AUX_MASK);
    if (blockChainHolds(i32, i32[this.desc(head << PAGE_SHIFT) + PD_FREE_HEAD] ?? 0, ptr, (POOL_SPAN_MAX_PAGES * PAGE_SIZE) >>> 9)) return true;
    const limit = this.chainLimit;
    for (let t = 1; t <= MAX_THREADS; t++) {
      if (blockChainHolds(i32, i32[threadWord(t, TR_POOL_REMOTE_HEAD)]!, ptr, limit)) return true;
      if (blockChainHolds(i32, i32[threadWord(t, TR_POOL_DRAIN)]!, ptr, limit)) return true;
    }
    return false;
  }


  allocBatch(cls: number, out: Int32Array, offset: number, max: number): number {
    if (this.shared) return this.allocBatchShared(cls, out, offset, max);
    if (this.v.i32[this.remote] !== 0) this.drainRemote();
    const size = this.sizes[cls]!;
    let n = 0;
    while (n < max) {
      let s = this.heads[cls]!;
      if (s === 0) {
        // A new span only for a batch that has nothing yet: the cache above is not filled
        // out of a span that nothing live needs, which would raise the top of the heap.
        if (n > 0) break;
        s = this.newSpan(cls);
        if (s === 0) break;
      }
      const i32 = this.v.i32;
      const d = this.desc(s);
      const before = n;
      let f = i32[d + PD_FREE_HEAD]!;
      while (f !== 0 && n < max) {
        out[offset + n++] = f;
        f = i32[f >>> 2]!;
      }
      i32[d + PD_FREE_HEAD] = f;
      this.reused += n - before;
      const fromList = n;
      let carve = i32[d + PD_CARVE]!;
      const limit = this.caps[cls]! * size;
      const key = i32[GH_FREE_KEY]!;
      while (n < max && carve < limit) {
        out[offset + n++] = s + carve;
        i32[((s + carve) >>> 2) + FREE_KEY_WORD] = key; // free from birth: only malloc clears it
        carve += size;
      }
      i32[d + PD_CARVE] = carve;
      this.carved += n - fromList;
      const used = i32[d + PD_USED]! + (n - before);
      i32[d + PD_USED] = used;
      if (used === this.caps[cls]) this.dequeue(cls, s);
    }
    this.usedBlocks += n;
    this.usedBytes += n * size;
    return n;
  }

  /**
   * allocBatch of a shared heap: the same work, with the batch recorded in the thread
   * record (TR_BATCH_AT / TR_BATCH_STATE with BATCH_POOL) as page-box does: each span's
   * commit (its free list or carve offset, its used count, the progress) is one run of
   * stores, and the record is cleared by the last store before the return.
   */
  private allocBatchShared(cls: number, out: Int32Array, offset: number, max: number): number {
    this.backend.refresh(); // another thread may have grown the memory
    if (this.v.i32[this.remote] !== 0 || this.v.i32[this.drain] !== 0) this.drainRemote();
    const size = this.sizes[cls]!;
    const cap = this.caps[cls]!;
    let i32 = this.v.i32;
    i32[this.batchAt] = out.buffer instanceof SharedArrayBuffer ? (out.byteOffset >>> 2) + offset : 0;
    i32[this.batchState] = max | BATCH_POOL;
    let n = 0;
    while (n < max) {
      let s = this.heads[cls]!;
      if (s === 0) {
        // A new span only for a batch that has nothing yet: the cache above is not filled
        // out of a span that nothing live needs, which would raise the top of the heap.
        if (n > 0) break;
        s = this.newSpan(cls);
        if (s === 0) break;
      }
      i32 = this.v.i32;
      const d = this.pd + ((s >>> PAGE_SHIFT) << 4);
      const before = n;
      let f = i32[d + PD_FREE_HEAD]!;
      while (f !== 0 && n < max) {
        out[offset + n++] = f;
        f = i32[f >>> 2]!;
      }
      let used = i32[d + PD_USED]! + (n - before);
      i32[d + PD_FREE_HEAD] = f;
      i32[d + PD_USED] = used;
      i32[this.batchState] = max | BATCH_POOL | (n << BATCH_PROGRESS_SHIFT);
      this.reused += n - before;
      const fromList = n;
      let carve = i32[d + PD_CARVE]!;
      const limit = cap * size;
      const key = i32[GH_FREE_KEY]!;
      while (n < max && carve < limit) {
        out[offset + n++] = s + carve;
        i32[((s + carve) >>> 2) + FREE_KEY_WORD] = key; // free from birth: only malloc clears it
        carve += size;
      }
      used += n - fromList;
      i32[d + PD_CARVE] = carve;
      i32[d + PD_USED] = used;
      i32[this.batchState] = max | BATCH_POOL | (n << BATCH_PROGRESS_SHIFT);
      this.carved += n - fromList;
      if (used === cap) this.dequeue(cls, s);
    }
    this.usedBlocks += n;
    this.usedBytes += n * size;
    this.v.i32[this.batchAt] = 0;
    return n;
  }

  /**
   * A span for class `cls`: the lowest-addressed pooled empty span at least as long (the
   * rest of a longer one stays pooled), else carved from the arena; 0 when exhausted.
   */
  private newSpan(cls: number): Ptr {
    const pages = this.pages[cls]!;
    let s: Ptr = 0;
    if (this.emptyBytes > 0) s = this.takePooled(pages);
    if (s === 0) {
      const bytes = pages * PAGE_SIZE;
      if (this.arenaEnd - this.arenaNext < bytes && !this.newChunk(bytes)) return 0;
      s = this.arenaNext;
      this.arenaNext += bytes;
    }
    const i32 = this.v.i32;
    const r = this.reg + (s >>> PAGE_SHIFT);
    const e = PageKind.POOL | (cls << REG_CLASS_SHIFT) | (this.tid << REG_THREAD_SHIFT);
    const d = this.desc(s);
    // The descriptor first, then the registry from the last page to the first: the head
    // entry (aux 0) is the commit, so a thread stopped in between leaves no span, only
    // continuation entries without a head, which adopt() gives back.
    i32[d + PD_FREE_HEAD] = 0;
    i32[d + PD_CARVE] = 0;
    i32[d + PD_USED] = 0;
    i32[d + PD_CAPACITY] = this.caps[cls]!;
    i32[d + PD_BLOCK_SIZE] = this.sizes[cls]!;
    i32[d + PD_REMOTE_HEAD] = 0;
    i32[d + PD_REGION_PAGES] = pages;
    i32[d + PD_REGION_OWNER] = this.tid;
    for (let i = pages - 1; i >= 0; i--) i32[r + i] = e | (i << REG_AUX_SHIFT);
    this.enqueue(cls, s);
    this.spans++;
    this.spanBytes += pages * PAGE_SIZE;
    this.spansCreated++;
    return s;
  }

  /**
   * Takes the lowest-addressed pooled empty span of at least `pages` pages out of the
   * pool (keeping the top of the heap low); a longer one is split and its rest pooled
   * (its pages stay MAPPED with this thread). 0 when none fits.
   */
  private takePooled(pages: number): Ptr {
    let best = 0;
    let bestLen = 0;
    let bestAt = 0;
    for (let p = pages; p <= POOL_SPAN_MAX_PAGES; p++) {
      for (let k = 0, at = (p - 1) * EMPTY_STACK; k < this.emptyCount[p - 1]!; k++, at++) {
        const s = this.empty[at]!;
        if (best === 0 || s < best) {
          best = s;
          bestLen = p;
          bestAt = at;
        }
      }
    }
    if (best === 0) return 0;
    const k = --this.emptyCount[bestLen - 1]!;
    this.empty[bestAt] = this.empty[(bestLen - 1) * EMPTY_STACK + k]!;
    this.emptyBytes -= bestLen * PAGE_SIZE;
    if (bestLen > pages) this.pool(best + pages * PAGE_SIZE, bestLen - pages);
    return best;
  }

  /** Puts `pages` empty MAPPED pages at `s` into the pool (false when its stack is full). */
  private pool(s: Ptr, pages: number): boolean {
    const k = this.emptyCount[pages - 1]!;
    if (k >= EMPTY_STACK) {
      const r = this.reg + (s >>> PAGE_SHIFT);
      this.v.i32.fill(this.retiredEntry, r, r + pages);
      this.regions.unmap(s, pages * PAGE_SIZE);
      this.unmappedBytes += pages * PAGE_SIZE;
      this.spansReleased++;
      return false;
    }
    this.empty[(pages - 1) * EMPTY_STACK + k] = s;
    this.emptyCount[pages - 1] = k + 1;
    this.emptyBytes += pages * PAGE_SIZE;
    return true;
  }

  /**
   * The pool's budget follows the spans in use: at most an eighth of them (and
   * EMPTY_SPAN_BUDGET); the highest-addressed pooled spans beyond it go back to
   * os-boundary, where every tier can reuse them.
   */
  private emptyBudget(): number {
    const b = this.spanBytes >>> 3;
    return b < EMPTY_SPAN_BUDGET ? b : EMPTY_SPAN_BUDGET;
  }

  private trimPool(): void {
    const budget = this.emptyBudget();
    while (this.emptyBytes > budget) {
      let top = 0;
      let topLen = 0;
      let topAt = 0;
      for (let p = 1; p <= POOL_SPAN_MAX_PAGES; p++) {
        for (let k = 0, at = (p - 1) * EMPTY_STACK; k < this.emptyCount[p - 1]!; k++, at++) {
          if (this.empty[at]! > top) {
            top = this.empty[at]!;
            topLen = p;
            topAt = at;
          }
        }
      }
      const k = --this.emptyCount[topLen - 1]!;
      this.empty[topAt] = this.empty[(topLen - 1) * EMPTY_STACK + k]!;
      this.emptyBytes -= topLen * PAGE_SIZE;
      const r = this.reg + (top >>> PAGE_SHIFT);
      this.v.i32.fill(this.retiredEntry, r, r + topLen);
      this.regions.unmap(top, topLen * PAGE_SIZE);
      this.unmappedBytes += topLen * PAGE_SIZE;
      this.spansReleased++;
    }
  }

  /**
   * Maps the next arena chunk; the rest of the current one goes into the empty-span pool.
   * The chunk follows the spans in use: a sixty-fourth of them rounded up to 64 KiB,
   * within arenaInitial..arenaMax, at least `min` bytes (the defaults map each span on
   * its own). False when os-boundary is exhausted (the current chunk is kept then).
   */
  private newChunk(min: number): boolean {
    let want = ((this.spanBytes >>> 6) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    want = want < this.arenaInitial ? this.arenaInitial : want > this.arenaMax ? this.arenaMax : want;
    let bytes = want > min ? want : min;
    let base = this.regions.map(bytes, PAGE_SIZE);
    if (base === 0 && bytes > min) {
      bytes = min;
      base = this.regions.map(bytes, PAGE_SIZE);
    }
    if (base === 0) return false;
    // The rest of the window (shorter than the span wanted) serves shorter spans later.
    const rest = (this.arenaEnd - this.arenaNext) >>> PAGE_SHIFT;
    if (rest > 0) this.pool(this.arenaNext, rest);
    const r = this.reg + (base >>> PAGE_SHIFT);
    this.v.i32.fill(this.mappedEntry, r, r + (bytes >>> PAGE_SHIFT));
    this.arenaNext = base;
    this.arenaEnd = base + bytes;
    this.chunks++;
    this.arenaBytes += bytes;
    return true;
  }

  /** Unmaps the uncarved rest of the current chunk; returns its bytes. */
  private releaseArenaRest(): number {
    const bytes = this.arenaEnd - this.arenaNext;
    if (bytes > 0) {
      const r = this.reg + (this.arenaNext >>> PAGE_SHIFT);
      this.v.i32.fill(this.retiredEntry, r, r + (bytes >>> PAGE_SHIFT));
      this.regions.unmap(this.arenaNext, bytes);
      this.unmappedBytes += bytes;
    }
    this.arenaNext = 0;
    this.arenaEnd = 0;
    return bytes;
  }

  /**
   * Queues a span with room in its class's queue, in address order (links in its
   * descriptor's PD_SLAB_NEXT / PD_SLAB_PREV): batches fill the lowest spans first, so the
   * highest ones empty and go back, and the top of the heap stays low.
   */
  private enqueue(cls: number, s: Ptr): void {
    const i32 = this.v.i32;
    let prev = 0;
    let cur = this.heads[cls]!;
    while (cur !== 0 && cur < s) {
      prev = cur;
      cur = i32[this.desc(cur) + PD_SLAB_NEXT]!;
    }
    if (prev === 0) {
      descListPush(i32, this.pd, this.heads, cls, s, PD_SLAB_NEXT, PD_SLAB_PREV);
      return;
    }
    const d = this.desc(s);
    i32[d + PD_SLAB_NEXT] = cur;
    i32[d + PD_SLAB_PREV] = prev;
    i32[this.desc(prev) + PD_SLAB_NEXT] = s;
    if (cur !== 0) i32[this.desc(cur) + PD_SLAB_PREV] = s;
  }

  private dequeue(cls: number, s: Ptr): void {
    descListRemove(this.v.i32, this.pd, this.heads, cls, s, PD_SLAB_NEXT, PD_SLAB_PREV);
  }


  freeBatch(cls: number, blocks: Int32Array, offset: number, n: number): void {
    if (this.shared) {
      this.freeBatchShared(blocks, offset, n);
      return;
    }
    const i32 = this.v.i32;
    for (let i = 0; i < n; i++) {
      const p = blocks[offset + i]!;
      const e = i32[this.reg + (p >>> PAGE_SHIFT)]!;
      if (((e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK) === this.tid) this.freeLocal(p, e);
      else this.pushRemote(p, (e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK);
    }
    void cls;
  }

  /**
   * freeBatch of a shared heap, recorded like allocBatchShared: each block — back on its
   * span's free list, or pushed onto its owner's remote list (a successful compareExchange
   * ends the push loop) — is followed in the same run of stores by the progress (the batch
   * index after it). A 0 entry is a hole a repaired batch left in the cache: skipped.
   */
  private freeBatchShared(blocks: Int32Array, offset: number, n: number): void {
    this.backend.refresh(); // a block from another thread may lie past our views
    const i32 = this.v.i32;
    i32[this.batchAt] = blocks.buffer instanceof SharedArrayBuffer ? (blocks.byteOffset >>> 2) + offset : 0;
    i32[this.batchState] = n | BATCH_FREE | BATCH_POOL;
    for (let i = 0; i < n; i++) {
      const p = blocks[offset + i]!;
      if (p === 0) continue;
      const e = i32[this.reg + (p >>> PAGE_SHIFT)]!;
      const owner = (e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK;
      if (owner === this.tid) {
        const head = (p >>> PAGE_SHIFT) - ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK);
        const d = this.pd + (head << 4);
        i32[p >>> 2] = i32[d + PD_FREE_HEAD]!;
        i32[d + PD_FREE_HEAD] = p;
        const used = i32[d + PD_USED]! - 1;
        i32[d + PD_USED] = used;
        i32[this.batchState] = n | BATCH_FREE | BATCH_POOL | ((i + 1) << BATCH_PROGRESS_SHIFT);
        this.afterLocalFree(head << PAGE_SHIFT, (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK, used);
        continue;
      }
      const h = threadWord(owner, TR_POOL_REMOTE_HEAD);
      let old: number;
      do {
        old = Atomics.load(i32, h);
        i32[p >>> 2] = old;
      } while (Atomics.compareExchange(i32, h, old, p) !== old);
      i32[this.batchState] = n | BATCH_FREE | BATCH_POOL | ((i + 1) << BATCH_PROGRESS_SHIFT);
      this.remoteFreed++;
    }
    i32[this.batchAt] = 0;
  }

  /** After a block of span `s` (class `cls`) went back on its free list, `used` now: counters, queue, emptied span. */
  private afterLocalFree(s: Ptr, cls: number, used: number): void {
    this.usedBlocks--;
    this.usedBytes -= this.sizes[cls]!;
    if (used === this.caps[cls]! - 1) this.rejoin(cls, s);
    if (used === 0) this.spanEmptied(cls, s);
  }

  /** A block of one of this thread's spans (`e` its registry entry) back onto its span's free list. */
  private freeLocal(p: Ptr, e: number): void {
    const i32 = this.v.i32;
    const head = (p >>> PAGE_SHIFT) - ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK);
    const s = head << PAGE_SHIFT;
    const d = this.pd + (head << 4);
    const cls = (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK;
    i32[p >>> 2] = i32[d + PD_FREE_HEAD]!;
    i32[d + PD_FREE_HEAD] = p;
    const used = i32[d + PD_USED]! - 1;
    i32[d + PD_USED] = used;
    this.usedBlocks--;
    this.usedBytes -= this.sizes[cls]!;
    if (used === this.caps[cls]! - 1) this.rejoin(cls, s);
    if (used === 0) this.spanEmptied(cls, s);
  }

  /**
   * A span whose last block came back: kept when it is its class's only span with room
   * (a class oscillating around one span does not thrash; rejoin() retires it once
   * another span of the class has room), else pooled for reuse by any class, or unmapped
   * beyond the pool's budget.
   */
  private spanEmptied(cls: number, s: Ptr): void {
    const i32 = this.v.i32;
    if (this.prewarming) return;
    if (this.heads[cls] === s && i32[this.desc(s) + PD_SLAB_NEXT] === 0) {
      this.kept[cls] = s;
      return;
    }
    this.retireSpan(cls, s, true);
    if (this.emptyBytes > this.emptyBudget()) this.trimPool();
  }

  /**
   * A full span `s` got a block back and rejoins its class's queue. A span the class kept
   * empty (its only span with room then) is not the only one any more: it is retired like
   * any emptied span (pooled, lowest addresses first, or given back), so a class whose
   * blocks all come back does not pin its first span while its last ones are still held.
   */
  private rejoin(cls: number, s: Ptr): void {
    this.enqueue(cls, s);
    const k = this.kept[cls]!;
    if (k === 0) return;
    this.kept[cls] = 0;
    if (k !== s && this.v.i32[this.desc(k) + PD_USED] === 0) {
      this.retireSpan(cls, k, true);
      if (this.emptyBytes > this.emptyBudget()) this.trimPool();
    }
  }

  /**
   * Takes an empty span out of its class: into the empty pool (registry MAPPED with this
   * thread) or back to os-boundary. The registry entries and the cleared descriptor are
   * one run of stores (in a shared heap MAPPED with this thread either way: a thread
   * stopped before the pool or os-boundary has it leaves it to its reclaim).
   */
  private retireSpan(cls: number, s: Ptr, pool: boolean): number {
    if (this.kept[cls] === s) this.kept[cls] = 0;
    this.dequeue(cls, s);
    const i32 = this.v.i32;
    const pages = this.pages[cls]!;
    const d = this.desc(s);
    const r = this.reg + (s >>> PAGE_SHIFT);
    const keep = pool && this.emptyCount[pages - 1]! < EMPTY_STACK;
    i32.fill(keep ? this.mappedEntry : this.retiredEntry, r, r + pages);
    i32.fill(0, d, d + 16);
    this.spans--;
    this.spanBytes -= pages * PAGE_SIZE;
    if (keep) {
      this.pool(s, pages);
      return 0;
    }
    this.regions.unmap(s, pages * PAGE_SIZE);
    this.unmappedBytes += pages * PAGE_SIZE;
    this.spansReleased++;
    return pages * PAGE_SIZE;
  }

  /** A block of thread `owner`'s span onto that thread's remote-free list (lock-free push in a shared heap). */
  private pushRemote(p: Ptr, owner: number): void {
    const i32 = this.v.i32;
    const h = ((THREAD_TABLE_OFFSET + owner * THREAD_RECORD_BYTES) >>> 2) + TR_POOL_REMOTE_HEAD;
    if (this.shared) {
      let old: number;
      do {
        old = Atomics.load(i32, h);
        i32[p >>> 2] = old;
      } while (Atomics.compareExchange(i32, h, old, p) !== old);
    } else {
      i32[p >>> 2] = i32[h]!;
      i32[h] = p;
    }
    this.remoteFreed++;
  }

  drainRemote(): number {
    if (this.shared) return this.drainShared();
    const i32 = this.v.i32;
    let p = i32[this.remote]!;
    i32[this.remote] = 0;
    let n = 0;
    while (p !== 0) {
      const next = i32[p >>> 2]!;
      this.freeLocal(p, i32[this.reg + (p >>> PAGE_SHIFT)]!);
      p = next;
      n++;
    }
    this.remoteDrained += n;
    return n;
  }

  /**
   * drainRemote of a shared heap, recorded as page-box's: the chain taken off the remote
   * list goes into TR_POOL_DRAIN in one run with the exchange, and each block back on its
   * span's free list in one run with the record advancing past it. A chain a dead thread
   * left there (reclaim) is finished first.
   */
  private drainShared(): number {
    let n = this.drainChain(this.v.i32[this.drain]!);
    const i32 = this.v.i32;
    const p = Atomics.exchange(i32, this.remote, 0);
    i32[this.drain] = p;
    n += this.drainChain(p);
    return n;
  }

  private drainChain(first: number): number {
    const i32 = this.v.i32;
    let n = 0;
    for (let p = first; p !== 0; n++) {
      const next = i32[p >>> 2]!;
      const e = i32[this.reg + (p >>> PAGE_SHIFT)]!;
      const head = (p >>> PAGE_SHIFT) - ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK);
      const d = this.pd + (head << 4);
      i32[p >>> 2] = i32[d + PD_FREE_HEAD]!;
      i32[d + PD_FREE_HEAD] = p;
      const used = i32[d + PD_USED]! - 1;
      i32[d + PD_USED] = used;
      i32[this.drain] = next;
      this.afterLocalFree(head << PAGE_SHIFT, (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK, used);
      p = next;
    }
    this.remoteDrained += n;
    return n;
  }

  /**
   * Run by `heap.reclaim` after adopt(): finishes the pool batch the dead thread was moving
   * (TR_BATCH_* with BATCH_POOL): an allocation batch's committed blocks never reached the
   * cache and go back on their spans; a free batch is completed from its recorded
   * progress and its entries in the cache are zeroed (holes the cache's flush skips).
   */
  recover(): Recovery {
    const i32 = this.v.i32;
    const at = i32[this.batchAt]!;
    const state = i32[this.batchState]!;
    const repaired = this.found;
    this.found = 0;
    if (!this.shared || at === 0 || (state & BATCH_POOL) === 0) return { locks: 0, repaired };
    const n = state & BATCH_COUNT_MASK;
    const progress = state >>> BATCH_PROGRESS_SHIFT;
    if ((state & BATCH_FREE) === 0) {
      for (let i = 0; i < progress; i++) {
        const p = i32[at + i]!;
        this.freeLocal(p, i32[this.reg + (p >>> PAGE_SHIFT)]!); // counted used by adopt(), as its descriptor says
      }
    } else {
      for (let i = progress; i < n; i++) {
        const p = i32[at + i]!;
        if (p === 0) continue;
        const e = i32[this.reg + (p >>> PAGE_SHIFT)]!;
        const owner = (e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK;
        if (owner === this.tid) {
          this.freeLocal(p, e);
        } else {
          this.pushRemote(p, owner);
        }
      }
      i32.fill(0, at, at + n);
    }
    i32[this.batchAt] = 0;
    i32[this.batchState] = 0;
    return { locks: 0, repaired: repaired + 1 };
  }

  trim(): number {
    const before = this.unmappedBytes;
    this.drainRemote();
    const i32 = this.v.i32;
    for (let c = 0; c < this.sizes.length; c++) {
      for (let s = this.heads[c]!; s !== 0; ) {
        const next = i32[this.desc(s) + PD_SLAB_NEXT]!;
        if (i32[this.desc(s) + PD_USED] === 0) this.retireSpan(c, s, false);
        s = next;
      }
    }
    for (let p = 1; p <= POOL_SPAN_MAX_PAGES; p++) {
      for (let k = this.emptyCount[p - 1]!; k > 0; k--) {
        const s = this.empty[(p - 1) * EMPTY_STACK + k - 1]!;
        const r = this.reg + (s >>> PAGE_SHIFT);
        i32.fill(this.retiredEntry, r, r + p);
        this.regions.unmap(s, p * PAGE_SIZE);
        this.unmappedBytes += p * PAGE_SIZE;
        this.spansReleased++;
      }
      this.emptyCount[p - 1] = 0;
    }
    this.emptyBytes = 0;
    this.releaseArenaRest();
    return this.unmappedBytes - before;
  }

  /**
   * Rebuilds the span queues and counters from the registry (POOL spans with this
   * thread's id), gives back the pages it had mapped but not cut (MAPPED with its id:
   * arena rest, pooled empty spans), then drains the remote list.
   */
  adopt(): void {
    if (this.shared) this.backend.refresh();
    const i32 = this.v.i32;
    const end = Math.min(this.regions.end(), i32.byteLength) >>> PAGE_SHIFT;
    this.orphanPages(end);
    for (let page = this.heapStart >>> PAGE_SHIFT; page < end; page++) {
      const e = i32[this.reg + page]!;
      if (e === this.mappedEntry) {
        let run = 1;
        while (page + run < end && i32[this.reg + page + run] === this.mappedEntry) run++;
        i32.fill(this.retiredEntry, this.reg + page, this.reg + page + run);
        this.regions.unmap(page << PAGE_SHIFT, run << PAGE_SHIFT);
        page += run - 1;
        continue;
      }
      if ((e & REG_KIND_MASK) !== PageKind.POOL || ((e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK) !== this.tid || ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) !== 0) continue;
      const s = page << PAGE_SHIFT;
      const c = (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK;
      const d = this.desc(s);
      const used = i32[d + PD_USED]!;
      i32[d + PD_SLAB_NEXT] = 0;
      i32[d + PD_SLAB_PREV] = 0;
      if (used < this.caps[c]!) this.enqueue(c, s);
      this.spans++;
      this.spanBytes += this.pages[c]! * PAGE_SIZE;
      this.usedBlocks += used;
      this.usedBytes += used * this.sizes[c]!;
      page += this.pages[c]! - 1;
    }
    if (this.shared && i32[this.drain] !== 0) this.found++;
    this.drainRemote();
  }

  /**
   * A thread stopped while stamping a new span (newSpan stamps from the last page to the
   * head) left POOL entries of its id that no head covers: they become MAPPED with its id,
   * pages it mapped and does not use (given back with the rest by adopt()).
   */
  private orphanPages(end: number): void {
    const i32 = this.v.i32;
    for (let page = this.heapStart >>> PAGE_SHIFT; page < end; page++) {
      const e = i32[this.reg + page]!;
      if ((e & REG_KIND_MASK) !== PageKind.POOL || ((e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK) !== this.tid) continue;
      if (((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) === 0) {
        page += this.pages[(e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK]! - 1;
        continue;
      }
      i32[this.reg + page] = this.mappedEntry;
      this.found++;
    }
  }

  stats(): PoolRefillStats {
    return {
      chunks: this.chunks, arenaBytes: this.arenaBytes, spansCreated: this.spansCreated, spansReleased: this.spansReleased,
      spans: this.spans, carved: this.carved, reused: this.reused, remoteFreed: this.remoteFreed, remoteDrained: this.remoteDrained,
      usedBlocks: this.usedBlocks, usedBytes: this.usedBytes, spanBytes: this.spanBytes, emptySpanBytes: this.emptyBytes,
      arenaFree: this.arenaEnd - this.arenaNext,
    };
  }

  checkInvariants(): void {
    const i32 = this.v.i32;
    const queued = new Set<number>();
    for (let c = 0; c < this.sizes.length; c++) {
      let prev = 0;
      for (let s = this.heads[c]!; s !== 0; s = i32[this.desc(s) + PD_SLAB_NEXT]!) {
        if (queued.has(s)) this.corrupt(`span 0x${s.toString(16)} is queued twice (or class ${c}'s queue has a cycle)`);
        queued.add(s);
        const e = i32[this.reg + (s >>> PAGE_SHIFT)]!;
        if ((e & REG_KIND_MASK) !== PageKind.POOL || ((e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK) !== c) this.corrupt(`span 0x${s.toString(16)} in class ${c}'s queue has registry entry 0x${(e >>> 0).toString(16)}`);
        if (i32[this.desc(s) + PD_SLAB_PREV] !== prev) this.corrupt(`span 0x${s.toString(16)}: its prev link is not the span before it`);
        prev = s;
      }
      const k = this.kept[c]!;
      if (k !== 0) {
        const e = i32[this.reg + (k >>> PAGE_SHIFT)]!;
        if ((e & REG_KIND_MASK) !== PageKind.POOL || ((e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK) !== c || ((e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK) !== this.tid || ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) !== 0) {
          this.corrupt(`class ${c}'s kept span 0x${k.toString(16)} is not a span of the class (registry entry 0x${(e >>> 0).toString(16)})`);
        }
      }
    }
    let spans = 0;
    let spanBytes = 0;
    let used = 0;
    let usedBytes = 0;
    const end = this.regions.end() >>> PAGE_SHIFT;
    for (let page = this.heapStart >>> PAGE_SHIFT; page < end; page++) {
      const e = i32[this.reg + page]!;
      if ((e & REG_KIND_MASK) !== PageKind.POOL || ((e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK) !== this.tid) continue;
      const s = page << PAGE_SHIFT;
      const at = `span 0x${s.toString(16)}`;
      if (((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) !== 0) this.corrupt(`page 0x${s.toString(16)} continues a span that does not start before it`);
      const c = (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK;
      if (c >= this.sizes.length) this.corrupt(`${at} has class ${c}, beyond the ${this.sizes.length} classes`);
      const d = this.desc(s);
      const size = this.sizes[c]!;
      const pages = this.pages[c]!;
      const cap = this.caps[c]!;
      if (i32[d + PD_BLOCK_SIZE] !== size || i32[d + PD_CAPACITY] !== cap || i32[d + PD_REGION_PAGES] !== pages || i32[d + PD_REGION_OWNER] !== this.tid) {
        this.corrupt(`${at}: descriptor says size ${i32[d + PD_BLOCK_SIZE]}, capacity ${i32[d + PD_CAPACITY]}, ${i32[d + PD_REGION_PAGES]} pages, owner ${i32[d + PD_REGION_OWNER]}; class ${c} wants ${size}, ${cap}, ${pages}, ${this.tid}`);
      }
      for (let i = 1; i < pages; i++) {
        if (i32[this.reg + page + i] !== (e | (i << REG_AUX_SHIFT))) this.corrupt(`${at}: registry entry of its page ${i} is wrong`);
      }
      const carve = i32[d + PD_CARVE]!;
      const u = i32[d + PD_USED]!;
      if (carve % size !== 0 || carve > cap * size || u < 0 || u > carve / size) this.corrupt(`${at}: carved ${carve}, used ${u} are inconsistent with ${cap} blocks of ${size}`);
      let free = 0;
      for (let f = i32[d + PD_FREE_HEAD]!; f !== 0; f = i32[f >>> 2]!) {
        if (f < s || f >= s + carve || (f - s) % size !== 0) this.corrupt(`${at}: free-list entry 0x${f.toString(16)} is not one of its carved blocks`);
        if (++free > cap) this.corrupt(`${at}: cycle in the free list`);
      }
      if (free + u !== carve / size) this.corrupt(`${at}: ${free} free + ${u} used ≠ ${carve / size} carved`);
      if ((u < cap) !== queued.has(s)) this.corrupt(`${at}: ${u < cap ? 'has room but is not queued' : 'is full but queued'}`);
      spans++;
      spanBytes += pages * PAGE_SIZE;
      used += u;
      usedBytes += u * size;
      page += pages - 1;
    }
    if (spans !== this.spans || used !== this.usedBlocks || usedBytes !== this.usedBytes || spanBytes !== this.spanBytes) {
      this.corrupt(`the registry holds ${spans} spans with ${used} used blocks (${usedBytes} B); the counters say ${this.spans}, ${this.usedBlocks} (${this.usedBytes} B)`);
    }
    let emptyBytes = 0;
    for (let p = 1; p <= POOL_SPAN_MAX_PAGES; p++) {
      for (let k = 0; k < this.emptyCount[p - 1]!; k++) {
        const s = this.empty[(p - 1) * EMPTY_STACK + k]!;
        for (let i = 0; i < p; i++) {
          if (i32[this.reg + (s >>> PAGE_SHIFT) + i] !== this.mappedEntry) this.corrupt(`pooled empty span 0x${s.toString(16)}: page ${i} is not MAPPED by this thread`);
        }
        emptyBytes += p * PAGE_SIZE;
      }
    }
    if (emptyBytes !== this.emptyBytes) this.corrupt(`the empty-span pool holds ${emptyBytes} bytes, the counter says ${this.emptyBytes}`);
  }

  private corrupt(message: string): never {
    throw new HakmemError(ErrorCode.CORRUPTION, message, { box: BOX });
  }
}

/** Empty spans kept per span length (bounded also by EMPTY_SPAN_BUDGET). */
const EMPTY_STACK = 64;

function invalid(message: string): HakmemError {
  return new HakmemError(ErrorCode.INVALID_OPTION, message, { box: BOX });
}

/**
 * Creates one thread's mid-size carving over `options.regions`. Throws
 * `HakmemError(E_INVALID_OPTION)` when a class size is not a multiple of 512 in
 * 512..65536, when `arenaInitial` / `arenaMax` are not positive multiples of 64 KiB with
 * `arenaInitial <= arenaMax`, or when `prewarm` has a count that is not a non-negative
 * integer (at most 4096).
 */
export function createPoolRefill(ctx: BoxContext, options: PoolRefillOptions): PoolRefill {
  const initial = options.arenaInitial ?? DEFAULT_ARENA_INITIAL;
  const max = options.arenaMax ?? DEFAULT_ARENA_MAX;
  const pageMultiple = (x: number): boolean => Number.isInteger(x) && x > 0 && x % PAGE_SIZE === 0 && x <= 1 << 30;
  if (!pageMultiple(initial) || !pageMultiple(max) || initial > max) {
    throw invalid(`arenaInitial (${initial}) and arenaMax (${max}) must be multiples of 64 KiB up to 1 GiB with arenaInitial <= arenaMax`);
  }
  for (const s of options.classSizes) {
    if (!Number.isInteger(s) || s < 512 || s % 512 !== 0 || s > 65536) throw invalid(`class size ${s} must be a multiple of 512 in 512..65536`);
  }
  const box = new PoolRefillBox(ctx, options, initial, max);
  const prewarm = options.prewarm;
  if (prewarm !== undefined) {
    for (let c = 0; c < prewarm.length; c++) {
      const k = prewarm[c]!;
      if (!Number.isInteger(k) || k < 0 || k > 4096) throw invalid(`prewarm count of class ${c} must be an integer in 0..4096, got ${k}`);
    }
    // All blocks of a class are carved first and then freed, so they end on span free
    // lists, and their spans stay with the class (not retired as they empty).
    box.prewarming = true;
    for (let c = 0; c < Math.min(prewarm.length, options.classSizes.length); c++) {
      const tmp = new Int32Array(prewarm[c]!);
      let got = 0;
      while (got < tmp.length) {
        const n = box.allocBatch(c, tmp, got, Math.min(tmp.length - got, 256));
        if (n === 0) break;
        got += n;
      }
      for (let i = 0; i < got; i += 256) box.freeBatch(c, tmp, i, Math.min(256, got - i));
    }
    box.prewarming = false;
  }
  return box;
}
