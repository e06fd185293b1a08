import {
  BATCH_COUNT_MASK, BATCH_FREE, BATCH_POOL, BATCH_PROGRESS_SHIFT, ErrorCode, FREE_KEY_WORD, GH_FREE_KEY, HakmemError, MAX_THREADS, PAGE_SHIFT,
  PAGE_SIZE, PD_BLOCK_SIZE, PD_CAPACITY, PD_CARVE, PD_FREE_HEAD, PD_SLAB_NEXT, PD_SLAB_PREV, PD_USED, PageKind, REG_CLASS_MASK,
  REG_CLASS_SHIFT, REG_KIND_MASK, REG_THREAD_MASK, REG_THREAD_SHIFT, TR_BATCH_AT, TR_BATCH_STATE, TR_TINY_DRAIN,
  TR_TINY_REMOTE_HEAD, threadWord,
  type BoxContext, type HeapViews, type MemoryBackend, type PageBox, type PageBoxOptions, type PageBoxStats, type Ptr,
  type Recovery, type SlabSink, type SlabSource,
} from '@hakmem/contracts';
import { blockChainHolds, descListPush, descListRemove } from '@hakmem/primitives';
import { DEFAULT_PAGES_PER_CLASS } from './api.js';

/**
 * Per class, a queue of the slabs this thread holds that still have a free or uncarved
 * block (doubly linked through PD_SLAB_NEXT/PREV; the head is the slab refills come
 * from). A slab leaves the queue when it is full and comes back when one of its blocks
 * is freed; when its last block comes back it returns to the warm pool, unless it is
 * among the `pagesPerClass` empty slabs a class keeps to avoid thrashing.
 *
 * Free blocks of a slab form an intrusive list: the first word of a free block holds
 * the address of the next (0 ends it).
 *
 * Remote frees: `freeBatch` sends a block of another thread's slab to that thread's
 * remote-free list in its thread record — the batch's blocks of one owner linked into a
 * chain, pushed with one CAS — and the owner drains its list (one exchange) before it
 * refills, so the slab words are only ever written by their owner.
 */
class PageBoxBox implements PageBox {
  readonly name = 'page-box';
  private readonly v: HeapViews;
  private readonly pd: number;
  private readonly reg: number;
  private readonly tid: number;
  private readonly slabs: SlabSource & SlabSink;
  private readonly sizes: Int32Array;
  private readonly firstPage: number;
  private readonly maxPages: number;
  private readonly heads: Int32Array;
  private readonly empties: Int32Array;
  private readonly keepEmpty: Int32Array;
  private readonly backend: MemoryBackend;
  private readonly shared: boolean;
  /** Int32 index of this thread's TR_TINY_REMOTE_HEAD. */
  private readonly remote: number;
  /** Int32 indexes of this thread's TR_TINY_DRAIN, TR_BATCH_AT, TR_BATCH_STATE (shared heaps: kill safety). */
  private readonly drain: number;
  private readonly batchAt: number;
  private readonly batchState: number;
  private drainsFinished = 0;
  /** Per owner thread id, the chain of its blocks being built by one freeBatch (head, tail), and which owners have one. */
  private readonly chainHead: Int32Array;
  private readonly chainTail: Int32Array;
  private readonly chainOwners: Int32Array;
  private remoteFreed = 0;
  private remotePushes = 0;
  private remoteDrained = 0;
  private fromFreeList = 0;
  private carved = 0;
  private slabsAcquired = 0;
  private slabsReleased = 0;
  private freed = 0;

  constructor(ctx: BoxContext, options: PageBoxOptions, keepEmpty: Int32Array) {
    this.v = ctx.backend.views;
    this.pd = ctx.layout.pageTableOffset >>> 2;
    this.reg = ctx.layout.registryOffset >>> 2;
    this.tid = ctx.tid;
    this.slabs = options.slabs;
    this.sizes = options.classSizes;
    this.firstPage = ctx.layout.heapStart >>> PAGE_SHIFT;
    this.maxPages = ctx.layout.maxPages;
    this.heads = new Int32Array(options.classSizes.length);
    this.empties = new Int32Array(options.classSizes.length);
    this.keepEmpty = keepEmpty;
    this.backend = ctx.backend;
    this.shared = ctx.shared;
    this.remote = threadWord(ctx.tid, TR_TINY_REMOTE_HEAD);
    this.drain = threadWord(ctx.tid, TR_TINY_DRAIN);
    this.batchAt = threadWord(ctx.tid, TR_BATCH_AT);
    this.batchState = threadWord(ctx.tid, TR_BATCH_STATE);
    this.chainHead = new Int32Array(MAX_THREADS + 1);
    this.chainTail = new Int32Array(MAX_THREADS + 1);
    this.chainOwners = new Int32Array(MAX_THREADS + 1);
  }

  private desc(addr: Ptr): number {
    return this.pd + ((addr >>> PAGE_SHIFT) << 4);
  }

  /**
   * Slow path: the block's slab free list, then every thread's remote-free list and drain
   * (a block freed from another thread waits on its owner's; after an adoption, on any).
   * Each walk stops after as many links as a slab (or the heap) has blocks.
   */
  holds(ptr: Ptr): boolean {
    if (this.shared) this.backend.refresh();
    const i32 = this.v.i32;
    if (blockChainHolds(i32, i32[this.desc(ptr) + PD_FREE_HEAD] ?? 0, ptr, PAGE_SIZE >>> 3)) return true;
    const limit = this.maxPages << 13;
    for (let t = 1; t <= MAX_THREADS; t++) {
      if (blockChainHolds(i32, i32[threadWord(t, TR_TINY_REMOTE_HEAD)]!, ptr, limit)) return true;
      if (blockChainHolds(i32, i32[threadWord(t, TR_TINY_DRAIN)]!, ptr, limit)) return true;
    }
    return false;
  }

  allocBatch(cls: number, out: Int32Array, offset: number, max: number): number {
    if (this.shared) return this.allocBatchShared(cls, out, offset, max);
    if (this.v.i32[this.remote] !== 0) this.drainRemote();
    let i32 = this.v.i32;
    let n = 0;
    while (n < max) {
      let slab = this.heads[cls]!;
      if (slab === 0) {
        slab = this.slabs.acquireSlab(cls, this.tid);
        if (slab === 0) break;
        this.slabsAcquired++;
        i32 = this.v.i32; // acquiring may have grown the memory (wasm replaces the buffer)
        // Counted as one of the class's empty slabs only when it is: a slab source may
        // hand out a partly used slab (SlabSource), whose PD_USED is then > 0.
        if (i32[this.desc(slab) + PD_USED] === 0) this.empties[cls]!++;
        this.pushFront(cls, slab);
      }
      const d = this.desc(slab);
      let used = i32[d + PD_USED]!;
      if (used === 0) this.empties[cls]!--;
      // 1. The slab's free list.
      let f = i32[d + PD_FREE_HEAD]!;
      const before = n;
      while (f !== 0 && n < max) {
        out[offset + n++] = f;
        f = i32[f >>> 2]!;
      }
      i32[d + PD_FREE_HEAD] = f;
      this.fromFreeList += n - before;
      // 2. Carve fresh blocks.
      const cap = i32[d + PD_CAPACITY]!;
      const size = i32[d + PD_BLOCK_SIZE]!;
      let carve = i32[d + PD_CARVE]!;
      const end = cap * size;
      const carvedBefore = n;
      const key = i32[GH_FREE_KEY]!;
      while (n < max && carve < end) {
        out[offset + n++] = slab + carve;
        i32[((slab + carve) >>> 2) + FREE_KEY_WORD] = key; // free from birth: only malloc clears it
        carve += size;
      }
      i32[d + PD_CARVE] = carve;
      this.carved += n - carvedBefore;
      used += n - before;
      i32[d + PD_USED] = used;
      if (used === cap) this.unlink(cls, slab);
    }
    return n;
  }

  /**
   * allocBatch of a shared heap: the same work, with the batch recorded in the thread
   * record (TR_BATCH_AT / TR_BATCH_STATE: where the blocks go, how many are committed) so
   * that a thread stopped in the middle leaves its reclaim the blocks it had taken off its
   * slabs and not yet handed to the cache. Each slab's commit (its free list or carve
   * offset, its used count and the progress) is one run of stores; the record is cleared
   * by the last store before the return, which the cache's own commit follows without a
   * call between them.
   */
  private allocBatchShared(cls: number, out: Int32Array, offset: number, max: number): number {
    this.backend.refresh(); // another thread may have grown the memory
    if (this.v.i32[this.remote] !== 0 || this.v.i32[this.drain] !== 0) this.drainRemote();
    let i32 = this.v.i32;
    const pd = this.pd;
    i32[this.batchAt] = out.buffer instanceof SharedArrayBuffer ? (out.byteOffset >>> 2) + offset : 0;
    i32[this.batchState] = max;
    let n = 0;
    while (n < max) {
      let slab = this.heads[cls]!;
      if (slab === 0) {
        slab = this.slabs.acquireSlab(cls, this.tid);
        if (slab === 0) break;
        this.slabsAcquired++;
        i32 = this.v.i32; // acquiring may have grown the memory (wasm replaces the buffer)
        if (i32[pd + ((slab >>> PAGE_SHIFT) << 4) + PD_USED] === 0) this.empties[cls]!++;
        this.pushFront(cls, slab);
      }
      const d = pd + ((slab >>> PAGE_SHIFT) << 4);
      let used = i32[d + PD_USED]!;
      if (used === 0) this.empties[cls]!--;
      let f = i32[d + PD_FREE_HEAD]!;
      const before = n;
      while (f !== 0 && n < max) {
        out[offset + n++] = f;
        f = i32[f >>> 2]!;
      }
      used += n - before;
      i32[d + PD_FREE_HEAD] = f;
      i32[d + PD_USED] = used;
      i32[this.batchState] = max | (n << BATCH_PROGRESS_SHIFT);
      this.fromFreeList += n - before;
      const cap = i32[d + PD_CAPACITY]!;
      const size = i32[d + PD_BLOCK_SIZE]!;
      let carve = i32[d + PD_CARVE]!;
      const end = cap * size;
      const carvedBefore = n;
      const key = i32[GH_FREE_KEY]!;
      while (n < max && carve < end) {
        out[offset + n++] = slab + carve;
        i32[((slab + carve) >>> 2) + FREE_KEY_WORD] = key; // free from birth: only malloc clears it
        carve += size;
      }
      used += n - carvedBefore;
      i32[d + PD_CARVE] = carve;
      i32[d + PD_USED] = used;
      i32[this.batchState] = max | (n << BATCH_PROGRESS_SHIFT);
      this.carved += n - carvedBefore;
      if (used === cap) this.unlink(cls, slab);
    }
    this.v.i32[this.batchAt] = 0;
    return n;
  }

  freeBatch(cls: number, blocks: Int32Array, offset: number, n: number): void {
    if (this.shared) {
      this.freeBatchShared(cls, blocks, offset, n);
      return;
    }
    const i32 = this.v.i32;
    const reg = this.reg;
    const tid = this.tid;
    let owners = 0;
    let remote = 0;
    for (let i = offset; i < offset + n; i++) {
      const b = blocks[i]!;
      const owner = (i32[reg + (b >>> PAGE_SHIFT)]! >>> REG_THREAD_SHIFT) & REG_THREAD_MASK;
      if (owner === tid) {
        this.freeLocal(cls, b);
        continue;
      }
      // Another thread's slab: onto the chain of that owner's blocks (head insertion).
      remote++;
      const h = this.chainHead[owner]!;
      i32[b >>> 2] = h;
      if (h === 0) {
        this.chainTail[owner] = b;
        this.chainOwners[owners++] = owner;
      }
      this.chainHead[owner] = b;
    }
    for (let k = 0; k < owners; k++) this.pushChain(this.chainOwners[k]!);
    this.freed += n - remote;
    this.remoteFreed += remote;
  }

  /**
   * freeBatch of a shared heap: the same work, recorded in the thread record like
   * allocBatchShared. Pass 1 puts this thread's blocks back on their slabs, each with its
   * progress (the batch index after it) in one run of stores, and builds the chains of the
   * other owners; pass 2 pushes the chains in the order their owners first appear, each
   * push followed in the same run by the progress `n + k + 1`. A 0 entry is a hole a
   * repaired batch left in the cache: skipped.
   */
  private freeBatchShared(cls: number, blocks: Int32Array, offset: number, n: number): void {
    this.backend.refresh(); // a block from another thread may lie past our views
    const i32 = this.v.i32;
    const reg = this.reg;
    const pd = this.pd;
    const tid = this.tid;
    i32[this.batchAt] = blocks.buffer instanceof SharedArrayBuffer ? (blocks.byteOffset >>> 2) + offset : 0;
    i32[this.batchState] = n | BATCH_FREE;
    let owners = 0;
    let remote = 0;
    let freed = 0;
    for (let i = 0; i < n; i++) {
      const b = blocks[offset + i]!;
      if (b === 0) continue;
      const owner = (i32[reg + (b >>> PAGE_SHIFT)]! >>> REG_THREAD_SHIFT) & REG_THREAD_MASK;
      if (owner === tid) {
        const d = pd + ((b >>> PAGE_SHIFT) << 4);
        i32[b >>> 2] = i32[d + PD_FREE_HEAD]!;
        i32[d + PD_FREE_HEAD] = b;
        const used = i32[d + PD_USED]! - 1;
        i32[d + PD_USED] = used;
        i32[this.batchState] = n | BATCH_FREE | ((i + 1) << BATCH_PROGRESS_SHIFT);
        freed++;
        if (used === i32[d + PD_CAPACITY]! - 1) this.pushFront(cls, b & ~0xffff);
        if (used === 0) this.onEmpty(cls, b & ~0xffff);
        continue;
      }
      remote++;
      const h = this.chainHead[owner]!;
      i32[b >>> 2] = h;
      if (h === 0) {
        this.chainTail[owner] = b;
        this.chainOwners[owners++] = owner;
      }
      this.chainHead[owner] = b;
    }
    for (let k = 0; k < owners; k++) {
      const owner = this.chainOwners[k]!;
      const head = this.chainHead[owner]!;
      const tail = this.chainTail[owner]!;
      const w = threadWord(owner, TR_TINY_REMOTE_HEAD);
      let old: number;
      do {
        old = Atomics.load(i32, w);
        i32[tail >>> 2] = old;
      } while (Atomics.compareExchange(i32, w, old, head) !== old);
      i32[this.batchState] = n | BATCH_FREE | ((n + k + 1) << BATCH_PROGRESS_SHIFT);
      this.chainHead[owner] = 0;
      this.chainTail[owner] = 0;
      this.remotePushes++;
    }
    this.freed += freed;
    this.remoteFreed += remote;
    i32[this.batchAt] = 0;
  }

  /** A block of one of this thread's slabs back onto its slab's free list. */
  private freeLocal(cls: number, b: Ptr): void {
    const i32 = this.v.i32;
    const slab = b & ~0xffff;
    const d = this.desc(slab);
    i32[b >>> 2] = i32[d + PD_FREE_HEAD]!;
    i32[d + PD_FREE_HEAD] = b;
    const used = i32[d + PD_USED]! - 1;
    i32[d + PD_USED] = used;
    if (used === i32[d + PD_CAPACITY]! - 1) this.pushFront(cls, slab);
    if (used === 0) this.onEmpty(cls, slab);
  }

  /** Pushes the chain built for `owner` onto its remote-free list: one CAS (a plain store when not shared). */
  private pushChain(owner: number): void {
    const i32 = this.v.i32;
    const head = this.chainHead[owner]!;
    const tail = this.chainTail[owner]!;
    const w = threadWord(owner, TR_TINY_REMOTE_HEAD);
    if (this.shared) {
      let old: number;
      do {
        old = Atomics.load(i32, w);
        i32[tail >>> 2] = old;
      } while (Atomics.compareExchange(i32, w, old, head) !== old);
    } else {
      i32[tail >>> 2] = i32[w]!;
      i32[w] = head;
    }
    this.chainHead[owner] = 0;
    this.chainTail[owner] = 0;
    this.remotePushes++;
  }

  drainRemote(): number {
    if (this.shared) return this.drainShared();
    const i32 = this.v.i32;
    let b = i32[this.remote]!;
    i32[this.remote] = 0;
    let n = 0;
    while (b !== 0) {
      const next = i32[b >>> 2]!;
      this.freeLocal((i32[this.reg + (b >>> PAGE_SHIFT)]! >>> REG_CLASS_SHIFT) & REG_CLASS_MASK, b);
      b = next;
      n++;
    }
    this.remoteDrained += n;
    return n;
  }

  /**
   * drainRemote of a shared heap: the chain taken off the remote list is recorded in the
   * thread record (TR_TINY_DRAIN, in one run with the exchange), and each block goes back
   * on its slab's free list in one run with the record advancing past it — a thread
   * stopped anywhere leaves exactly the blocks still to put back in the record. A chain a
   * dead thread left there (reclaim) is finished first.
   */
  private drainShared(): number {
    let n = this.drainChain(this.v.i32[this.drain]!);
    const i32 = this.v.i32;
    const b = Atomics.exchange(i32, this.remote, 0);
    i32[this.drain] = b;
    n += this.drainChain(b);
    return n;
  }

  private drainChain(first: number): number {
    const i32 = this.v.i32;
    const pd = this.pd;
    let n = 0;
    for (let b = first; b !== 0; n++) {
      const next = i32[b >>> 2]!;
      const d = pd + ((b >>> PAGE_SHIFT) << 4);
      i32[b >>> 2] = i32[d + PD_FREE_HEAD]!;
      i32[d + PD_FREE_HEAD] = b;
      const used = i32[d + PD_USED]! - 1;
      i32[d + PD_USED] = used;
      i32[this.drain] = next;
      const cls = (i32[this.reg + (b >>> PAGE_SHIFT)]! >>> REG_CLASS_SHIFT) & REG_CLASS_MASK;
      if (used === i32[d + PD_CAPACITY]! - 1) this.pushFront(cls, b & ~0xffff);
      if (used === 0) this.onEmpty(cls, b & ~0xffff);
      b = next;
    }
    this.remoteDrained += n;
    return n;
  }

  /**
   * Run by `heap.reclaim` after adopt(): finishes the batch the dead thread was moving
   * (TR_BATCH_*, a tiny one): an allocation batch's committed blocks never reached the
   * cache, so they go back on their slabs; a free batch is completed — its own blocks
   * from the recorded progress on, the chains of the owners not yet pushed — and its
   * entries in the cache are zeroed (holes the cache's flush skips), since they are free
   * now. (A drain it was in, adopt()'s drainRemote finished first.)
   */
  recover(): Recovery {
    const i32 = this.v.i32;
    const at = i32[this.batchAt]!;
    const state = i32[this.batchState]!;
    const repaired = this.drainsFinished;
    this.drainsFinished = 0;
    if (!this.shared || at === 0 || (state & BATCH_POOL) !== 0) return { locks: 0, repaired };
    const n = state & BATCH_COUNT_MASK;
    const progress = state >>> BATCH_PROGRESS_SHIFT;
    const reg = this.reg;
    const classOf = (b: number): number => (i32[reg + (b >>> PAGE_SHIFT)]! >>> REG_CLASS_SHIFT) & REG_CLASS_MASK;
    if ((state & BATCH_FREE) === 0) {
      for (let i = 0; i < progress; i++) this.freeLocal(classOf(i32[at + i]!), i32[at + i]!);
    } else {
      const owners: number[] = [];
      for (let i = 0; i < n; i++) {
        const b = i32[at + i]!;
        if (b === 0) continue;
        const owner = (i32[reg + (b >>> PAGE_SHIFT)]! >>> REG_THREAD_SHIFT) & REG_THREAD_MASK;
        if (owner === this.tid) {
          if (i >= progress) this.freeLocal(classOf(b), b);
        } else if (!owners.includes(owner)) {
          owners.push(owner);
        }
      }
      const pushed = progress > n ? progress - n : 0;
      for (let k = pushed; k < owners.length; k++) {
        const owner = owners[k]!;
        let head = 0;
        let tail = 0;
        for (let i = 0; i < n; i++) {
          const b = i32[at + i]!;
          if (b === 0 || ((i32[reg + (b >>> PAGE_SHIFT)]! >>> REG_THREAD_SHIFT) & REG_THREAD_MASK) !== owner) continue;
          i32[b >>> 2] = head;
          if (head === 0) tail = b;
          head = b;
        }
        const w = threadWord(owner, TR_TINY_REMOTE_HEAD);
        let old: number;
        do {
          old = Atomics.load(i32, w);
          i32[tail >>> 2] = old;
        } while (Atomics.compareExchange(i32, w, old, head) !== old);
      }
      i32.fill(0, at, at + n);
    }
    i32[this.batchAt] = 0;
    i32[this.batchState] = 0;
    return { locks: 0, repaired: repaired + 1 };
  }

  /**
   * Queues every slab the registry says this thread owns that has a free or uncarved
   * block (an empty one counts as one of its class's spares), then drains the remote list.
   */
  adopt(): void {
    if (this.shared) this.backend.refresh();
    const i32 = this.v.i32;
    const end = Math.min(this.maxPages, i32.byteLength >>> PAGE_SHIFT);
    for (let p = this.firstPage; p < end; p++) {
      const e = i32[this.reg + p]!;
      if ((e & REG_KIND_MASK) !== PageKind.TINY || ((e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK) !== this.tid) continue;
      const slab = p << PAGE_SHIFT;
      const d = this.desc(slab);
      const cls = (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK;
      i32[d + PD_SLAB_NEXT] = 0;
      i32[d + PD_SLAB_PREV] = 0;
      const used = i32[d + PD_USED]!;
      if (used >= i32[d + PD_CAPACITY]!) continue;
      this.pushFront(cls, slab);
      if (used === 0) this.empties[cls]!++;
    }
    if (i32[this.drain] !== 0) this.drainsFinished++;
    this.drainRemote();
  }

  /** A slab's last block came back: keep it as one of the class's spare empties, or release it. */
  private onEmpty(cls: number, slab: Ptr): void {
    if (this.empties[cls]! < this.keepEmpty[cls]!) {
      this.empties[cls]!++;
      return;
    }
    this.unlink(cls, slab);
    this.slabsReleased++;
    this.slabs.releaseSlab(slab);
  }

  /** Queues a slab with room at the front of its class's list (links in its descriptor's PD_SLAB_NEXT / PD_SLAB_PREV). */
  private pushFront(cls: number, slab: Ptr): void {
    descListPush(this.v.i32, this.pd, this.heads, cls, slab, PD_SLAB_NEXT, PD_SLAB_PREV);
  }

  private unlink(cls: number, slab: Ptr): void {
    descListRemove(this.v.i32, this.pd, this.heads, cls, slab, PD_SLAB_NEXT, PD_SLAB_PREV);
  }


  flush(): void {
    this.drainRemote();
    const i32 = this.v.i32;
    for (let cls = 0; cls < this.heads.length; cls++) {
      for (let slab = this.heads[cls]!; slab !== 0; ) {
        const next = i32[this.desc(slab) + PD_SLAB_NEXT]!;
        if (i32[this.desc(slab) + PD_USED] === 0) {
          this.unlink(cls, slab);
          this.slabsReleased++;
          this.slabs.releaseSlab(slab);
        }
        slab = next;
      }
      this.empties[cls] = 0;
    }
  }

  stats(): PageBoxStats {
    return {
      fromFreeList: this.fromFreeList, carved: this.carved, slabsAcquired: this.slabsAcquired,
      slabsReleased: this.slabsReleased, freed: this.freed, remoteFreed: this.remoteFreed, remotePushes: this.remotePushes,
      remoteDrained: this.remoteDrained,
    };
  }

  /**
   * Walks each class's queue (links, registry class, used < capacity, free lists, the
   * empty-slab counter), then every slab this thread holds — the registry's TINY entries
   * with this thread's id, so full slabs (not queued) are checked too: block size and
   * capacity of the class, 0 ≤ used ≤ capacity, free list, a full slab unlinked, and
   * every slab with a free or uncarved block queued. A debug check: O(mapped pages).
   */
  checkInvariants(): void {
    const i32 = this.v.i32;
    const n = this.heads.length;
    const queued = new Int32Array(n);
    for (let cls = 0; cls < n; cls++) {
      let prev = 0;
      let empties = 0;
      for (let slab = this.heads[cls]!, k = 0; slab !== 0; slab = i32[this.desc(slab) + PD_SLAB_NEXT]!, k++) {
        const d = this.desc(slab);
        const e = i32[this.reg + (slab >>> PAGE_SHIFT)]!;
        if ((e & REG_KIND_MASK) !== PageKind.TINY || ((e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK) !== cls) this.corrupt(`queued slab 0x${slab.toString(16)} is not a class-${cls} tiny slab (registry 0x${(e >>> 0).toString(16)})`);
        if (i32[d + PD_SLAB_PREV] !== prev) this.corrupt(`broken back link at slab 0x${slab.toString(16)}`);
        const used = i32[d + PD_USED]!;
        const cap = i32[d + PD_CAPACITY]!;
        if (used < 0 || used >= cap) this.corrupt(`queued slab 0x${slab.toString(16)} has used ${used} of ${cap}`);
        if (used === 0) empties++;
        this.checkFreeList(slab, d, used);
        if (k > 1 << 15) this.corrupt(`cycle in the class-${cls} queue`);
        queued[cls]!++;
        prev = slab;
      }
      if (empties !== this.empties[cls]) this.corrupt(`class ${cls} holds ${empties} empty slabs, counter says ${this.empties[cls]}`);
    }
    const open = new Int32Array(n);
    const end = Math.min(this.maxPages, i32.byteLength >>> PAGE_SHIFT);
    for (let p = this.firstPage; p < end; p++) {
      const e = i32[this.reg + p]!;
      if ((e & REG_KIND_MASK) !== PageKind.TINY || ((e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK) !== this.tid) continue;
      const slab = p << PAGE_SHIFT;
      const cls = (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK;
      if (cls >= n) this.corrupt(`slab 0x${slab.toString(16)} has class ${cls} in its registry entry, outside 0..${n - 1}`);
      const d = this.desc(slab);
      const size = this.sizes[cls]!;
      if (i32[d + PD_BLOCK_SIZE] !== size || i32[d + PD_CAPACITY] !== ((PAGE_SIZE / size) | 0)) this.corrupt(`slab 0x${slab.toString(16)} of class ${cls}: block size ${i32[d + PD_BLOCK_SIZE]} / capacity ${i32[d + PD_CAPACITY]}, want ${size} / ${(PAGE_SIZE / size) | 0}`);
      const used = i32[d + PD_USED]!;
      const cap = i32[d + PD_CAPACITY]!;
      if (used < 0 || used > cap) this.corrupt(`slab 0x${slab.toString(16)} has used ${used} of ${cap}`);
      if (used < cap) {
        open[cls]!++;
        continue; // queued: checked above
      }
      if (i32[d + PD_SLAB_NEXT] !== 0 || i32[d + PD_SLAB_PREV] !== 0 || this.heads[cls] === slab) this.corrupt(`full slab 0x${slab.toString(16)} is still linked in the class-${cls} queue`);
      this.checkFreeList(slab, d, used);
    }
    for (let cls = 0; cls < n; cls++) {
      if (open[cls] !== queued[cls]) this.corrupt(`class ${cls}: this thread holds ${open[cls]} slabs with a free or uncarved block, ${queued[cls]} are queued`);
    }
  }

  /** Free list + used == carved blocks; every free block lies on a block boundary inside the carved part. */
  private checkFreeList(slab: Ptr, d: number, used: number): void {
    const i32 = this.v.i32;
    const size = i32[d + PD_BLOCK_SIZE]!;
    const carve = i32[d + PD_CARVE]!;
    let free = 0;
    for (let f = i32[d + PD_FREE_HEAD]!; f !== 0; f = i32[f >>> 2]!) {
      const off = f - slab;
      if (off < 0 || off >= carve || off % size !== 0) this.corrupt(`slab 0x${slab.toString(16)}: free block 0x${f.toString(16)} is not a carved block`);
      if (++free > carve / size) this.corrupt(`slab 0x${slab.toString(16)}: cycle in the free list`);
    }
    if (free + used !== carve / size) this.corrupt(`slab 0x${slab.toString(16)}: ${free} free + ${used} used ≠ ${carve / size} carved`);
  }

  private corrupt(message: string): never {
    throw new HakmemError(ErrorCode.CORRUPTION, message, { box: this.name });
  }
}

/**
 * Creates one thread's page box. `pooledClasses` keep `pagesPerClass` empty slabs
 * (default 1 each for every class); other classes keep none.
 */
export function createPageBox(ctx: BoxContext, options: PageBoxOptions): PageBox {
  const n = options.classSizes.length;
  const per = options.pagesPerClass ?? DEFAULT_PAGES_PER_CLASS;
  if (!Number.isInteger(per) || per < 0 || per > 64) {
    throw new HakmemError(ErrorCode.INVALID_OPTION, `pagesPerClass must be an integer in 0..64, got ${per}`, { box: 'page-box' });
  }
  const keep = new Int32Array(n);
  for (const c of options.pooledClasses ?? Array.from({ length: n }, (_, i) => i)) {
    if (!Number.isInteger(c) || c < 0 || c >= n) throw new HakmemError(ErrorCode.INVALID_OPTION, `pooled class ${c} outside 0..${n - 1}`, { box: 'page-box' });
    keep[c] = per;
  }
  return new PageBoxBox(ctx, options, keep);
}
