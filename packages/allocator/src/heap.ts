import {
  ErrorCode, HakmemError, PAGE_SHIFT, PAGE_SIZE, PD_BLOCK_SIZE, PD_CAPACITY, PD_CARVE, PD_FREE_HEAD, PD_REGION_MASK,
  PD_REGION_STATE, PD_USED, PageKind, REG_AUX_MASK, REG_AUX_SHIFT, REG_KIND_MASK, SUPERSLAB_SIZE, SuperSlabState,
  REG_CLASS_MASK, REG_CLASS_SHIFT, MAX_THREADS, TR_HOST_ID, TR_POOL_REMOTE_HEAD, TR_TINY_REMOTE_HEAD, threadWord,
  BigBlockState, PD_REGION_PAGES, ThreadState,
  type BigCache, type Gatekeeper, type HeapLayout, type HeapViews, type L25Pool, type MemoryBackend, type OsBoundary, type PageBox,
  type PoolRefill, type PoolTls, type Ptr, type SharedPool, type SuperSlabTier, type TinyRoute, type UnifiedCache,
  type WarmPool,
} from '@hakmem/contracts';
import type { BigUsage, HeapStats, ReclaimReport, SharedHeapHandle, TierUsage, TinyUsage } from './api.js';
import type { ThreadSpec } from './compose.js';
import { closedGatekeeper, heapClosed } from './closed.js';
import { checkWatch } from './options.js';
import { takeSnapshot, type HeapSnapshot } from './snapshot.js';
import {
  abandonedThreads, breakThreadLock, claimThread, hostThreadId, pendingRemote, releaseThread, threadRecords, threadState, type ThreadRecord,
} from './threads.js';

/** Which thread of the heap an instance serves, and how to build another thread's instance (reclaim, trim). */
export interface HeapThread {
  readonly tid: number;
  readonly spec: ThreadSpec;
  /**
   * Builds thread `tid`'s boxes over the same memory (attached), adopting what it owns when
   * `adopt`, and — given `onRecovered` — repairing what the thread left half-done when it
   * died (see ThreadSpec.recover).
   */
  readonly rebuild: (tid: number, adopt: boolean, onRecovered?: (report: ReclaimReport) => void) => Heap;
}

/**
 * What `heap.watch` needs of a worker: worker_threads' Worker has it. `threadId` is the
 * host id the worker's `attachHeap` recorded (an integer >= 1); `once('exit', fn)` calls
 * `fn` once the worker's thread is gone for good — the proof `watch` reclaims it on.
 */
export interface WatchedWorker {
  readonly threadId: number;
  once(event: 'exit', listener: () => void): unknown;
}

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
  /**
   * Typed-array views over the whole memory as this thread last saw it: the object's
   * identity is stable, its fields are replaced when the memory grows (growable and wasm
   * backends). Read `heap.views.u8` where you use it, after your last call that may
   * allocate — a field kept in a variable across one may cover the old length, or be
   * detached (README, "Views").
   */
  readonly views: HeapViews;
  /** Debug level the heap was composed with (0 release … 3 validate after every call). */
  readonly debug: number;
  /** This thread's id in the heap's thread registry (1 for the creator). */
  readonly tid: number;
  protected gk: Gatekeeper;
  private readonly thread: HeapThread;
  private detached = false;
  private reclaimed: ReclaimReport | undefined;

  constructor(backend: MemoryBackend, layout: HeapLayout, boxes: HeapBoxes, debug: number, thread: HeapThread) {
    this.backend = backend;
    this.layout = layout;
    this.boxes = boxes;
    this.views = backend.views;
    this.gk = boxes.gatekeeper;
    this.debug = debug;
    this.tid = thread.tid;
    this.thread = thread;
  }

  /**
   * See `Gatekeeper.malloc`: at least `size` bytes, 16-byte aligned from 16 up; 0 on exhaustion.
   *
   * @example
   * ```ts
   * import { createHeap } from '@hakmem/allocator';
   *
   * const heap = createHeap({ maxBytes: 32 << 20 });
   * const p = heap.malloc(24);                  // tiny: a 32-byte class
   * if (p === 0 || p % 16 !== 0 || heap.usableSize(p) < 24) throw new Error('malloc(24)');
   * heap.u8(p, 24).fill(0xab);                  // a view of the block's bytes
   * const big = heap.malloc(24 << 20);          // big: whole pages
   * if (big === 0) throw new Error('malloc(24 MiB)');
   * if (heap.malloc(24 << 20) !== 0) throw new Error('exhaustion returns 0 (throwOnOutOfMemory: false)');
   * heap.free(p);
   * heap.free(big);
   * ```
   */
  malloc(size: number): Ptr {
    return this.gk.malloc(size);
  }

  /**
   * See `Gatekeeper.free`: `free(0)` is a no-op; bad pointers throw a typed error.
   *
   * @example
   * ```ts
   * import { createHeap } from '@hakmem/allocator';
   * import { ErrorCode, isHakmemError } from '@hakmem/contracts';
   *
   * const heap = createHeap({ maxBytes: 32 << 20 });
   * heap.free(0);                               // a no-op, as in C
   * const p = heap.malloc(64);
   * try {
   *   heap.free(p + 8);                         // not the start of a block
   *   throw new Error('free(p + 8) did not throw');
   * } catch (e) {
   *   if (!isHakmemError(e) || e.code !== ErrorCode.INTERIOR_POINTER) throw e;
   * }
   * heap.free(p);
   * if (heap.liveBytes() !== 0) throw new Error('p is still live');
   * ```
   */
  free(ptr: Ptr): void {
    this.gk.free(ptr);
  }

  /**
   * See `Gatekeeper.calloc`: zeroed; `n * size` above the heap's maximum is out of memory
   * (0, as C's calloc on overflow; `E_OUT_OF_MEMORY` with `throwOnOutOfMemory`).
   *
   * @example
   * ```ts
   * import { createHeap } from '@hakmem/allocator';
   * import { ErrorCode, isHakmemError } from '@hakmem/contracts';
   *
   * const heap = createHeap({ maxBytes: 32 << 20 });
   * const dirty = heap.malloc(800);
   * heap.u8(dirty, 800).fill(0xff);
   * heap.free(dirty);
   * const p = heap.calloc(100, 8);              // 800 zeroed bytes, even where a freed block was
   * if (heap.f64(p, 100).some((x) => x !== 0)) throw new Error('calloc: not zeroed');
   * if (heap.calloc(1 << 20, 1 << 20) !== 0) throw new Error('2^40 bytes: out of memory');
   * try {
   *   heap.calloc(-1, 8);                       // not a size
   *   throw new Error('calloc(-1, 8) did not throw');
   * } catch (e) {
   *   if (!isHakmemError(e) || e.code !== ErrorCode.INVALID_SIZE) throw e;
   * }
   * heap.free(p);
   * ```
   */
  calloc(n: number, size: number): Ptr {
    return this.gk.calloc(n, size);
  }

  /**
   * See `Gatekeeper.realloc`: C semantics; on exhaustion returns 0 and the old block is intact.
   *
   * @example
   * ```ts
   * import { createHeap } from '@hakmem/allocator';
   *
   * const heap = createHeap({ maxBytes: 32 << 20 });
   * let p = heap.realloc(0, 16);                // realloc(0, n) is malloc(n)
   * heap.i32(p, 4).set([1, 2, 3, 4]);
   * p = heap.realloc(p, 100_000);               // grows across tiers (tiny → L2.5), contents kept
   * if (heap.i32(p, 4).join() !== '1,2,3,4') throw new Error('realloc lost the contents');
   * p = heap.realloc(p, 8);                     // shrinks: the first 8 bytes are kept
   * if (heap.i32(p, 2).join() !== '1,2') throw new Error('realloc (shrink) lost the contents');
   * if (heap.realloc(p, 0) !== 0) throw new Error('realloc(p, 0) frees p and returns 0');
   * if (heap.liveBytes() !== 0) throw new Error('leak');
   * ```
   */
  realloc(ptr: Ptr, size: number): Ptr {
    return this.gk.realloc(ptr, size);
  }

  /**
   * See `Gatekeeper.memalign`.
   *
   * @example
   * ```ts
   * import { createHeap } from '@hakmem/allocator';
   *
   * const heap = createHeap({ maxBytes: 32 << 20 });
   * for (const align of [16, 256, 4096, 1 << 16]) {
   *   const p = heap.memalign(align, 100);
   *   if (p === 0 || p % align !== 0 || heap.usableSize(p) < 100) throw new Error(`memalign(${align}, 100)`);
   *   heap.free(p);                             // an aligned block is freed like any other
   * }
   * ```
   */
  memalign(align: number, size: number): Ptr {
    return this.gk.memalign(align, size);
  }

  /** Usable bytes of a live block (`>=` the size asked for). */
  usableSize(ptr: Ptr): number {
    return this.gk.usableSize(ptr);
  }

  /**
   * Slow and exact (see `Gatekeeper.isAllocated`): true when `ptr` is a block this heap
   * handed out and nobody has freed since; never throws. After `reclaim` of a worker
   * killed inside `free(p)`, it tells whether that free happened.
   *
   * @example
   * ```ts
   * import { createHeap } from '@hakmem/allocator';
   *
   * const heap = createHeap({ maxBytes: 32 << 20 });
   * const p = heap.malloc(64);
   * if (!heap.isAllocated(p)) throw new Error('p is live');
   * heap.free(p);
   * if (heap.isAllocated(p) || heap.isAllocated(p + 8)) throw new Error('freed, and not a block start');
   * ```
   */
  isAllocated(ptr: Ptr): boolean {
    return this.gk.isAllocated(ptr);
  }

  /**
   * A Uint8Array over the block at `ptr`: its first `n` bytes, or all its usable bytes when
   * `n` is left out. A new view object over the memory as it is now (not for hot loops):
   * get it after your last call that may allocate (README, "Views"). At debug level ≥ 1
   * `ptr` must be a live block (E_INVALID_POINTER, E_INTERIOR_POINTER) and the view must
   * fit in its usable size (E_INVALID_SIZE); level 0 checks `n` against nothing.
   *
   * @example
   * ```ts
   * import { createHeap } from '@hakmem/allocator';
   *
   * const heap = createHeap({ maxBytes: 32 << 20, debug: 1 });
   * const p = heap.malloc(100);
   * const bytes = heap.u8(p);                   // the whole block: usableSize(p) bytes
   * if (bytes.length !== heap.usableSize(p)) throw new Error('u8(p) covers the block');
   * try {
   *   heap.f64(p, 1000);                        // 8000 bytes do not fit: refused at debug >= 1
   *   throw new Error('f64(p, 1000) did not throw');
   * } catch (e) {
   *   if ((e as { code?: string }).code !== 'E_INVALID_SIZE') throw e;
   * }
   * heap.free(p);
   * ```
   */
  u8(ptr: Ptr, n?: number): Uint8Array {
    return new Uint8Array(this.backend.buffer(), ptr, this.viewLength('u8', ptr, n, 1));
  }

  /** An Int32Array of `n` elements (all that fit when left out) over the block at `ptr`; checked as `u8`. */
  i32(ptr: Ptr, n?: number): Int32Array {
    return new Int32Array(this.backend.buffer(), ptr, this.viewLength('i32', ptr, n, 4));
  }

  /** A Uint32Array of `n` elements (all that fit when left out) over the block at `ptr`; checked as `u8`. */
  u32(ptr: Ptr, n?: number): Uint32Array {
    return new Uint32Array(this.backend.buffer(), ptr, this.viewLength('u32', ptr, n, 4));
  }

  /** A Float32Array of `n` elements (all that fit when left out) over the block at `ptr`; checked as `u8`. */
  f32(ptr: Ptr, n?: number): Float32Array {
    return new Float32Array(this.backend.buffer(), ptr, this.viewLength('f32', ptr, n, 4));
  }

  /** A Float64Array of `n` elements (all that fit when left out) over the block at `ptr` (8-byte aligned: every block is); checked as `u8`. */
  f64(ptr: Ptr, n?: number): Float64Array {
    return new Float64Array(this.backend.buffer(), ptr, this.viewLength('f64', ptr, n, 8));
  }

  /**
   * The element count of a typed-array helper's view: `n` as given at level 0; checked
   * against the block's usable size at level ≥ 1, or taken from it when left out.
   */
  private viewLength(op: string, ptr: Ptr, n: number | undefined, size: number): number {
    this.checkOpen(op);
    if (n !== undefined && this.debug === 0) return n;
    if (ptr === 0) throw new HakmemError(ErrorCode.INVALID_POINTER, `${op}(0): a view of NULL`, { box: 'allocator', ptr });
    const usable = this.gk.usableSize(ptr); // a live block start, or its typed error (level >= 1: a freed block too)
    if (n === undefined) return Math.floor(usable / size);
    if (!Number.isInteger(n) || n < 0 || n * size > usable) {
      throw new HakmemError(ErrorCode.INVALID_SIZE, `${op}(0x${ptr.toString(16)}, ${n}): ${n * size} bytes do not fit in the block's ${usable} usable bytes`, { box: 'allocator', ptr });
    }
    return n;
  }

  /** Throws E_HEAP_CLOSED for a call `op` after `detach()`. */
  private checkOpen(op: string): void {
    if (this.detached) throw heapClosed(op, this.tid);
  }

  /**
   * What a worker needs to attach to this heap (`attachHeap(handle)`): plain data and the
   * shared memory, for `postMessage`. Throws `E_INVALID_OPTION` unless the heap was
   * created with `shared: true`.
   *
   * @example
   * ```ts
   * import { attachHeap, createHeap } from '@hakmem/allocator';
   *
   * const heap = createHeap({ shared: true, maxBytes: 32 << 20 });
   * const handle = heap.share();                // plain data + the SharedArrayBuffer: postMessage it,
   * // e.g. new Worker(url, { workerData: handle }); here the "worker" is this thread:
   * const other = attachHeap(handle);           // in the worker: attachHeap(workerData)
   * const p = other.malloc(64);
   * heap.free(p);                               // any thread may free any block (a remote free)
   * other.detach();
   * if (other.tid === heap.tid) throw new Error('each attached instance has its own thread id');
   * ```
   */
  share(): SharedHeapHandle {
    this.checkOpen('share');
    if (!this.backend.shared) throw invalid('share() needs a heap created with shared: true');
    const o = this.thread.spec.options;
    return {
      kind: 'hakmem-heap', backend: this.backend.share(),
      options: {
        ...(o.tuning === undefined ? {} : { tuning: o.tuning }), ...(o.debug === undefined ? {} : { debug: o.debug }),
        ...(o.throwOnOutOfMemory === undefined ? {} : { throwOnOutOfMemory: o.throwOnOutOfMemory }),
      },
    };
  }

  /**
   * This thread leaves the heap: its caches are flushed, empty slabs, spans and
   * SuperSlabs go back, cached big blocks are unmapped, and its thread id is given back —
   * FREE, or ABANDONED while blocks of its slabs or spans are still live (other threads may
   * free them: the frees queue on its remote lists until a new thread adopts the id or
   * `trim()` collects it). Every later call on this instance — the allocation functions,
   * `trim`, `stats`, `validate`, the typed-array helpers, all of them — throws
   * `E_HEAP_CLOSED` and changes nothing; a second `detach()` does nothing. (A `watch` it
   * set up still reclaims its worker on exit.) The creator's heap may detach too (the memory stays usable by
   * the threads still attached).
   *
   * @example
   * ```ts
   * import { attachHeap, createHeap } from '@hakmem/allocator';
   * import { ErrorCode, isHakmemError } from '@hakmem/contracts';
   *
   * const heap = createHeap({ shared: true, maxBytes: 32 << 20 });
   * const worker = attachHeap(heap.share());    // as a worker would
   * const kept = worker.malloc(100);            // outlives the worker's detach
   * worker.detach();
   * if (!worker.isDetached) throw new Error('detached');
   * try {
   *   worker.malloc(1);
   *   throw new Error('malloc after detach did not throw');
   * } catch (e) {
   *   if (!isHakmemError(e) || e.code !== ErrorCode.HEAP_CLOSED) throw e;
   * }
   * heap.free(kept);                            // the creator frees it (queued for the abandoned id)
   * heap.trim();                                // collects what the detached thread left behind
   * ```
   */
  detach(): void {
    if (this.detached) return;
    const error = this.flushThread();
    this.detached = true;
    this.gk = closedGatekeeper(this.tid);
    releaseThread(this.backend, this.layout, this.boxes.osBoundary, this.tid);
    if (error !== undefined) throw error; // debug level 2 found a use after free: reported once all is given back
  }

  /** True after `detach()`. */
  get isDetached(): boolean {
    return this.detached;
  }

  /** Everything this thread's boxes hold goes back down the chain (detach, collection); returns what the quarantine's check threw. */
  private flushThread(): unknown {
    const b = this.boxes;
    let error: unknown;
    try {
      b.gatekeeper.flush();
    } catch (e) {
      error = e;
    }
    b.unifiedCache.flush();
    b.pageBox.flush();
    b.warmPool.flush();
    b.poolTls.flush();
    b.poolRefill.trim();
    b.bigCache.trim();
    return error;
  }

  /**
   * Collects thread id `tid` now when no thread holds it: an ABANDONED id (its thread
   * detached while blocks of its slabs or spans were live) is drained and what became free
   * goes back, as `trim()` does for every such id; returns true. Returns false for an id
   * not in use (FREE) or being collected by another thread (BUSY).
   *
   * A LIVE id is refused: nothing the heap can read tells an idle thread from a dead one,
   * and taking back a live thread's caches and slabs hands its blocks out twice. A worker
   * that dies without `detach()` is reclaimed by `watch(worker)`, on its 'exit' event (the
   * proof that its thread is gone) — also one killed in the middle of a heap call
   * (docs/debug.md, "Killed threads").
   * Throws `E_INVALID_OPTION` for an id outside 1..255, this thread's own, or a LIVE one.
   */
  reclaim(tid: number): boolean {
    this.checkOpen('reclaim');
    if (!Number.isInteger(tid) || tid < 1 || tid > MAX_THREADS) throw invalid(`thread id must be an integer in 1..${MAX_THREADS}, got ${tid}`);
    if (tid === this.tid) throw invalid(`thread ${tid} is this heap's own thread: use detach()`);
    if (this.reclaimThread(tid)) return true;
    if (threadState(this.backend, tid) === ThreadState.LIVE) {
      const host = this.backend.views.i32[threadWord(tid, TR_HOST_ID)]!;
      throw invalid(
        `thread ${tid} is live (host thread ${host}): nothing proves it is gone, and reclaiming a live thread hands its blocks out twice; ` +
        'heap.watch(worker) reclaims a worker\'s thread when the worker exits',
      );
    }
    return false;
  }

  /**
   * Claims thread `tid` — ABANDONED, or LIVE with host thread `deadHost`, which the caller
   * saw exit — and collects it as its own `detach()` would have. In a shared heap what the
   * thread was in the middle of is repaired first (`lastReclaim`).
   */
  private reclaimThread(tid: number, deadHost?: number): boolean {
    if (!claimThread(this.backend, tid, deadHost)) return false;
    let report: ReclaimReport | undefined;
    const heap = this.backend.shared ? this.thread.rebuild(tid, true, (r) => { report = r; }) : this.thread.rebuild(tid, true);
    heap.detach();
    this.reclaimed = report;
    return true;
  }

  /**
   * What the last `reclaim` of this heap instance (or `watch`'s) found the dead thread in
   * the middle of and repaired: the locks it held, the operations finished or undone, the
   * stray pages given back (shared heaps). Undefined before any.
   */
  get lastReclaim(): ReclaimReport | undefined {
    return this.reclaimed;
  }

  /**
   * Reclaims a worker's thread id when the worker exits without having detached
   * (worker_threads: the 'exit' event; the worker's `threadId`, recorded here and by its
   * `attachHeap`, names its thread record) — also a worker terminated in the middle of a
   * heap call: the locks it held are released after what they protect is repaired, and
   * what it was moving is finished or given back (docs/debug.md, "Killed threads").
   * `onReclaim` gets each reclaim's report. Call it right after creating the worker: its
   * `threadId` is -1 once it exited. Another host (a browser's Web Worker) passes an object
   * with the host id it gave `attachHeap` (`hostThreadId`) and a `once('exit', fn)` that
   * calls `fn` once that thread is gone for good.
   * Pre: this thread gets to run its event loop after the worker's exit (a thread blocked
   * on a lock the dead worker held waits until the reclaim releases it).
   * Throws `E_INVALID_OPTION` for a worker without `once`, whose `threadId` is not a host
   * thread id (an integer >= 1: -1 once exited, 0 the main thread) or is this thread's own,
   * or an `onReclaim` that is not a function.
   */
  watch(worker: WatchedWorker, onReclaim?: (report: ReclaimReport) => void): void {
    this.checkOpen('watch');
    checkWatch(worker, onReclaim, hostThreadId());
    const host = worker.threadId;
    worker.once('exit', () => {
      // Killed inside attach (before its record names it) or detach: only the host id says it held the thread lock.
      const broke = this.backend.shared && breakThreadLock(this.backend, host);
      let reported = false;
      for (const r of threadRecords(this.backend)) {
        if (r.state !== 'live' || r.hostId !== host || (r.tid === this.tid && !this.detached) || !this.reclaimThread(r.tid, host)) continue;
        const report = this.reclaimed!;
        const full = broke && !report.locks.includes('thread registry') ? { ...report, locks: ['thread registry', ...report.locks] } : report;
        this.reclaimed = full;
        reported = true;
        onReclaim?.(full);
      }
      if (!reported && broke) {
        this.reclaimed = { tid: 0, locks: ['thread registry'], repaired: [], strayBytes: 0 };
        onReclaim?.(this.reclaimed);
      }
    });
  }

  /** The heap's thread records in use (live, abandoned, busy). */
  threads(): ThreadRecord[] {
    this.checkOpen('threads');
    return threadRecords(this.backend);
  }

  /**
   * Re-covers the views when another thread grew the memory (growable or wasm backends;
   * the default reserved backend never needs it). Call it before touching, through
   * `heap.views`, a block another thread handed you. Returns true when the views changed.
   */
  refresh(): boolean {
    this.checkOpen('refresh');
    return this.backend.refresh();
  }

  /**
   * Gives back to os-boundary what the heap caches but does not use: this thread's
   * cached blocks go back to their slabs and spans, empty slabs to their SuperSlabs,
   * empty SuperSlabs to the tier; the tier's retained SuperSlabs, pool-refill's empty
   * spans and unused arena, l25-pool's and bigcache's cached blocks are unmapped. In a
   * shared heap it also collects the ABANDONED thread ids (their remote frees drained,
   * what became empty given back). Last, os-boundary's `releaseTop` gives the free top of
   * the memory back to the host when the backend can shrink (`growable: true`, not
   * shared): `stats().byteLength` falls, and so does the process's RSS.
   *
   * Returns the bytes unmapped (mapped by a tier before, free in os-boundary after). The
   * bytes given back to the host are not in it (they were free already, or are counted
   * once as unmapped): they are `stats().boxes.osBoundary.bytesReleased`, and show as the
   * drop of `stats().byteLength`.
   */
  trim(): number {
    this.checkOpen('trim');
    const b = this.boxes;
    const before = b.osBoundary.stats().bytesInUse;
    b.gatekeeper.flush(); // debug level 2: the quarantine (checked for writes after free)
    b.unifiedCache.flush();
    b.pageBox.flush();
    b.warmPool.flush();
    b.poolTls.flush();
    b.poolRefill.trim();
    // Abandoned ids after this thread's caches went back (their blocks' frees are on the ids'
    // remote lists now), and before the shared tiers are trimmed (what they give back is there).
    if (this.backend.shared) this.collectAbandoned();
    b.superslabTier.trim();
    b.l25Pool.trim();
    b.bigCache.trim();
    const unmapped = before - b.osBoundary.stats().bytesInUse;
    // After every box gave back: the top is free only when nothing above it is mapped.
    b.osBoundary.releaseTop();
    return unmapped;
  }

  /** Collects each ABANDONED thread id: drains its remote lists and gives back what became free. */
  private collectAbandoned(): void {
    for (const tid of abandonedThreads(this.backend)) {
      if (tid !== this.tid && claimThread(this.backend, tid)) this.thread.rebuild(tid, true).detach();
    }
  }

  /**
   * Usable bytes of every live block, from the tiers' metadata (blocks cached for reuse
   * are not live). A model test compares it with its own sum to catch leaks.
   */
  liveBytes(): number {
    this.checkOpen('liveBytes');
    const tiers = this.tinyUsage().bytesInUse + this.poolUsage().bytesInUse + this.boxes.l25Pool.stats().liveBytes + this.bigUsage().bytesInUse;
    if (this.debug < 2) return tiers;
    // Level 2: blocks in the quarantine are freed; a live block's usable size is what was asked.
    const g = this.boxes.gatekeeper.stats();
    return tiers - g.quarantinedBytes - g.guardBytes;
  }

  /**
   * A picture of the heap for the heap viewer and for debugging, read from the metadata
   * in the linear memory (registry, page descriptors, free ranges, thread records): per
   * 64 KiB page its owner kind, class, thread and occupancy; the SuperSlabs, pool spans,
   * L2.5 and big blocks and free ranges; and `stats()`. JSON-serialisable (the per-page
   * columns are base64 typed arrays: `decodeSnapshotPages`). A slow path (one pass over
   * the registry): not for hot loops. Format: the package README, "Snapshots".
   */
  snapshot(): HeapSnapshot {
    this.checkOpen('snapshot');
    return takeSnapshot(this);
  }

  /** Footprint, per-tier usage and every box's counters (allocates: not for hot paths). */
  stats(): HeapStats {
    this.checkOpen('stats');
    const b = this.boxes;
    return {
      footprint: b.osBoundary.stats().highWater,
      byteLength: this.backend.byteLength(),
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
    const t = this.boxes.poolTls.stats();
    const sizes = this.boxes.poolTls.classSizes;
    const i32 = this.views.i32;
    const reg = this.layout.registryOffset >>> 2;
    const pending = pendingRemote(this.backend, TR_POOL_REMOTE_HEAD, (p) => sizes[(i32[reg + (p >>> PAGE_SHIFT)]! >>> REG_CLASS_SHIFT) & REG_CLASS_MASK]!);
    let usedBlocks: number;
    let usedBytes: number;
    let free: number;
    if (this.backend.shared) {
      // Every thread's spans, from the registry and their descriptors.
      usedBlocks = 0;
      usedBytes = 0;
      free = 0;
      const pd = this.layout.pageTableOffset >>> 2;
      const end = this.boxes.osBoundary.end() >>> PAGE_SHIFT;
      for (let p = this.layout.heapStart >>> PAGE_SHIFT; p < end; p++) {
        const e = i32[reg + p]!;
        if ((e & REG_KIND_MASK) !== PageKind.POOL || ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) !== 0) continue;
        const d = pd + (p << 4);
        const used = i32[d + PD_USED]!;
        usedBlocks += used;
        usedBytes += used * i32[d + PD_BLOCK_SIZE]!;
        free += i32[d + PD_REGION_PAGES]! * PAGE_SIZE - used * i32[d + PD_BLOCK_SIZE]!;
      }
    } else {
      const r = this.boxes.poolRefill.stats();
      usedBlocks = r.usedBlocks;
      usedBytes = r.usedBytes;
      free = r.spanBytes - r.usedBytes + r.emptySpanBytes + r.arenaFree;
    }
    return {
      blocksInUse: usedBlocks - t.cached - pending.blocks, bytesInUse: usedBytes - t.cachedBytes - pending.bytes,
      blocksCached: t.cached, bytesCached: t.cachedBytes, bytesFree: free,
    };
  }

  /** What l25-pool holds (its shard records in the linear memory). */
  private l25Usage(): TierUsage {
    const s = this.boxes.l25Pool.stats();
    return { blocksInUse: s.liveBlocks, bytesInUse: s.liveBytes, blocksCached: s.cachedBlocks, bytesCached: s.cachedBytes, bytesFree: 0 };
  }

  /**
   * What bigcache holds right now: its counters (`validate()` checks them against the
   * registry), or in a shared heap, where each thread counts only its own calls, the
   * registry itself.
   */
  private bigUsage(): BigUsage {
    if (!this.backend.shared) {
      const s = this.boxes.bigCache.stats();
      return { blocksInUse: s.liveBlocks, bytesInUse: s.liveBytes, blocksCached: s.cachedBlocks, bytesCached: s.cachedBytes };
    }
    const u = { blocksInUse: 0, bytesInUse: 0, blocksCached: 0, bytesCached: 0 };
    const i32 = this.views.i32;
    const reg = this.layout.registryOffset >>> 2;
    const pd = this.layout.pageTableOffset >>> 2;
    const end = this.boxes.osBoundary.end() >>> PAGE_SHIFT;
    for (let p = this.layout.heapStart >>> PAGE_SHIFT; p < end; p++) {
      const e = i32[reg + p]!;
      if ((e & REG_KIND_MASK) !== PageKind.BIG || ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) !== 0) continue;
      const bytes = i32[pd + (p << 4) + PD_REGION_PAGES]! * PAGE_SIZE;
      const state = i32[pd + (p << 4) + PD_REGION_STATE];
      if (state === BigBlockState.LIVE) {
        u.blocksInUse++;
        u.bytesInUse += bytes;
      } else if (state === BigBlockState.CACHED) {
        u.blocksCached++;
        u.bytesCached += bytes;
      }
    }
    return u;
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
    // Blocks waiting on a remote-free list are free, not yet back in their slab.
    const reg = this.layout.registryOffset >>> 2;
    const pending = pendingRemote(this.backend, TR_TINY_REMOTE_HEAD, (p) => route.classSize((i32[reg + (p >>> PAGE_SHIFT)]! >>> REG_CLASS_SHIFT) & REG_CLASS_MASK));
    blocks -= pending.blocks;
    bytes -= pending.bytes;
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
    this.checkOpen('validate');
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

function invalid(message: string): HakmemError {
  return new HakmemError(ErrorCode.INVALID_OPTION, message, { box: 'allocator' });
}

function corrupt(message: string): never {
  throw new HakmemError(ErrorCode.CORRUPTION, message, { box: 'allocator' });
}
