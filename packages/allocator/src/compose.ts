import {
  ErrorCode, GH_DEBUG_BITMAP, GH_MAGIC, HakmemError, HEADER_MAGIC, PAGE_SHIFT, PAGE_SIZE, PageKind, TR_POOL_CACHE_BASE, TR_POOL_CACHE_BYTES, TR_TINY_CACHE_BASE, TR_TINY_CACHE_BYTES,
  type BoxContext, type HeapLayout, type MemoryBackend, type OsBoundary, type Recovery,
} from '@hakmem/contracts';
import { alignUp } from '@hakmem/primitives';
import { attachBackend, createNativeBackend, createWasmBackend } from '@hakmem/memory-backend';
import { createOsBoundary } from '@hakmem/os-boundary';
import { createSuperSlabTier } from '@hakmem/superslab-tier';
import { createSharedPool } from '@hakmem/shared-pool';
import { createWarmPool } from '@hakmem/warm-pool';
import { createPageBox } from '@hakmem/page-box';
import { createUnifiedCache } from '@hakmem/unified-cache';
import { createTinyRoute } from '@hakmem/tiny-route';
import { createGatekeeper } from '@hakmem/gatekeeper';
import { createPoolTls, DEFAULT_POOL_CLASS_SIZES } from '@hakmem/pool-tls';
import { createPoolRefill } from '@hakmem/pool-refill';
import { createL25Pool } from '@hakmem/l25-pool';
import { createBigCache } from '@hakmem/bigcache';
import type { AttachOptions, BoxFactories, ComposeOptions, HeapOptions, ReclaimReport, SharedHeapHandle } from './api.js';
import { Heap, ValidatingHeap, type HeapThread } from './heap.js';
import { initHeader, planLayout, readLayout, SLOT_BIGCACHE, SLOT_L25_POOL, SLOT_SHARED_POOL, SLOT_SUPERSLAB_TIER, slotOffset } from './layout.js';
import { abandonThread, cacheStorage, hostThreadId, sweepThread, takeThread } from './threads.js';
import { BOX_NAMES, checkAttach, checkBox, checkComposeOptions, checkHeapOptions } from './options.js';
import { freedTest } from './freed.js';

/**
 * The default implementation of every box. `@__PURE__`: a bundle that imports something
 * else from this package (a helper, a type guard) does not keep the twelve boxes for it.
 */
export const defaultBoxes: Readonly<BoxFactories> = /* @__PURE__ */ Object.freeze({
  osBoundary: createOsBoundary,
  superslabTier: createSuperSlabTier,
  sharedPool: createSharedPool,
  warmPool: createWarmPool,
  pageBox: createPageBox,
  unifiedCache: createUnifiedCache,
  tinyRoute: createTinyRoute,
  gatekeeper: createGatekeeper,
  poolTls: createPoolTls,
  poolRefill: createPoolRefill,
  l25Pool: createL25Pool,
  bigCache: createBigCache,
});

/**
 * Wires boxes into a heap over `options.backend`, explicitly, in the refill order
 * `unified-cache → page-box → warm-pool → shared-pool → superslab-tier → os-boundary`,
 * and beside it the mid tier (`pool-tls → pool-refill → os-boundary`, sizes up to
 * `poolMax`), the L2.5 tier (`l25-pool → os-boundary`, up to `l25Max`) and the big tier
 * (`bigcache → os-boundary`, above).
 * Any factory in `options.boxes` replaces the default for that box.
 *
 * Pre: the backend is fresh (no heap in it yet) and its maximum holds the metadata plus
 * one SuperSlab. Throws `E_INVALID_OPTION` otherwise, and for an unknown option, a value of
 * the wrong type, a box factory that is not a function or that returns an object without a
 * method the heap calls (each named in the message). A backend that a compose threw on
 * after its checks (a malformed box) holds part of a heap: use a new one.
 *
 * @example
 * ```ts
 * import { compose, defaultBoxes } from '@hakmem/allocator';
 * import { createNativeBackend } from '@hakmem/memory-backend';
 *
 * const backend = createNativeBackend({ maxBytes: 32 << 20 });
 * const heap = compose({
 *   backend,
 *   // a swapped box: here the default unified cache with 32 blocks per class
 *   boxes: { unifiedCache: (options) => defaultBoxes.unifiedCache({ ...options, capacity: 32 }) },
 * });
 * const p = heap.malloc(48);
 * if (heap.boxes.unifiedCache.capacity(heap.boxes.tinyRoute.classOf(48)) !== 32) throw new Error('not swapped');
 * heap.free(p);
 * heap.validate();
 * ```
 */
export function compose(options: ComposeOptions): Heap {
  checkComposeOptions(options);
  const { backend, ...rest } = options;
  if (backend.views.i32[GH_MAGIC] === HEADER_MAGIC) {
    throw invalid('compose(options).backend holds a heap already: compose needs a fresh backend (attachHeap joins a shared heap)');
  }
  const layout = planLayout(backend.maxBytes);
  initHeader(backend, layout);
  const { tid } = takeThread(backend, hostThreadId());
  return buildThread({ backend, layout, tid, attach: false, adopt: false, options: rest });
}

/** What one thread's instance of a heap is built from. */
export interface ThreadSpec {
  readonly backend: MemoryBackend;
  readonly layout: HeapLayout;
  readonly tid: number;
  /** True when the heap exists already (attachHeap, reclaim): shared state is not initialised. */
  readonly attach: boolean;
  /** True when the thread id was ABANDONED: the thread-local boxes adopt what it owns. */
  readonly adopt: boolean;
  readonly options: Omit<ComposeOptions, 'backend'>;
  /**
   * Set by `heap.reclaim` for a thread that may have died inside a heap call: each box's
   * `recover()` runs as the instance is built (shared boxes first, innermost lock first),
   * then the thread-local boxes' after they adopt, then the gatekeeper's; pages the thread
   * had mapped and no box owns go back to os-boundary. What was repaired is passed here.
   */
  readonly recover?: (report: ReclaimReport) => void;
}

/**
 * Builds one thread's boxes over a heap's memory. In a shared heap the two caches keep
 * their stacks in the thread's cache regions in the linear memory (so that another thread
 * can collect them: `heap.reclaim`); otherwise in JS-side typed arrays.
 */
export function buildThread(spec: ThreadSpec): Heap {
  const { backend, layout, tid, options } = spec;
  const f = factories(options.boxes);
  const t = options.tuning ?? {};
  const debug = options.debug ?? 0;
  const ctx = (slot: number): BoxContext => ({
    backend, layout, tid, shared: backend.shared, slotOffset: slot < 0 ? -1 : slotOffset(slot), debug,
  });
  const osBoundary = f.osBoundary({
    backend, stateOffset: layout.osStateOffset, stateBytes: layout.osStateBytes, heapStart: layout.heapStart, shared: backend.shared,
    registryOffset: layout.registryOffset, tid,
    ...(spec.attach ? { attach: true } : {}),
  });
  const report = spec.recover === undefined ? undefined : { tid, locks: [] as string[], repaired: [] as string[], strayBytes: 0 };
  const recover = (box: { readonly name: string; recover?: () => Recovery }): void => {
    if (report === undefined || box.recover === undefined) return;
    const r = box.recover();
    for (let k = 0; k < r.locks; k++) report.locks.push(box.name);
    for (let k = 0; k < r.repaired; k++) report.repaired.push(box.name);
  };
  recover(osBoundary); // the innermost lock: everything below may map or unmap
  const storage = (base: number, bytes: number): { storage?: (words: number) => Int32Array } =>
    (backend.shared ? { storage: cacheStorage(backend, layout, osBoundary, tid, base, bytes) } : {});
  const superslabTier = f.superslabTier(ctx(SLOT_SUPERSLAB_TIER), { regions: osBoundary, ...t.superslabTier });
  recover(superslabTier);
  const sharedPool = f.sharedPool(ctx(SLOT_SHARED_POOL), { superSlabs: superslabTier });
  const tinyRoute = f.tinyRoute(t.tinyRoute ?? {});
  const warmPool = f.warmPool(ctx(-1), { classSizes: tinyRoute.classSizes, lender: sharedPool, ...t.warmPool });
  const pageBox = f.pageBox(ctx(-1), { classSizes: tinyRoute.classSizes, slabs: warmPool, ...t.pageBox });
  const unifiedCache = f.unifiedCache({
    numClasses: tinyRoute.numClasses, source: pageBox, ...t.unifiedCache, ...storage(TR_TINY_CACHE_BASE, TR_TINY_CACHE_BYTES),
  });
  // One mid class table for both halves of the mid tier (pool-refill carves what pool-tls caches).
  const poolClasses = t.poolTls?.classSizes ?? DEFAULT_POOL_CLASS_SIZES;
  // A reclaim builds no prewarm: it would move batches through the dead thread's batch record before recover() reads it.
  const { prewarm: _p, ...refillTuning } = t.poolRefill ?? {};
  const poolRefill = f.poolRefill(ctx(-1), { classSizes: Int32Array.from(poolClasses), regions: osBoundary, ...(spec.recover === undefined ? t.poolRefill : refillTuning) });
  const poolTls = f.poolTls({ ...t.poolTls, classSizes: poolClasses, source: poolRefill, ...storage(TR_POOL_CACHE_BASE, TR_POOL_CACHE_BYTES) });
  // l25-pool's shard records take consecutive box slots from SLOT_L25_POOL (it checks they fit in page 0).
  const l25Pool = f.l25Pool(ctx(SLOT_L25_POOL), { regions: osBoundary, ...t.l25Pool });
  const bigCache = f.bigCache(ctx(SLOT_BIGCACHE), { regions: osBoundary, ...t.bigCache });
  recover(l25Pool);
  recover(bigCache);
  recover(sharedPool); // after the tier: its lock is never held while the tier's is taken
  // Pages the thread had mapped and no box owned (in flight between os-boundary and a box,
  // and its pool arena's uncut rest): back to os-boundary before anything is adopted.
  if (report !== undefined) report.strayBytes = sweepThread(backend, layout, osBoundary, tid);
  if (spec.adopt) {
    pageBox.adopt();
    warmPool.adopt();
    poolRefill.adopt();
    bigCache.adopt();
  }
  recover(warmPool);
  recover(pageBox);
  recover(poolRefill);
  // On exhaustion the heap first gives back what it caches itself (a block freed in one
  // tier and cached there cannot serve another tier until it is unmapped), then asks the
  // application's hook. `built.heap` is set before any allocation can reach this.
  const built: { heap?: Heap } = {};
  const userOom = options.onOutOfMemory;
  const onOutOfMemory = (size: number): boolean => {
    if (built.heap !== undefined && trimMadeReusable(built.heap)) return true;
    return userOom !== undefined && userOom(size);
  };
  const gatekeeper = f.gatekeeper(ctx(-1), {
    route: tinyRoute, cache: unifiedCache, pool: poolTls, l25: l25Pool, big: bigCache, onOutOfMemory,
    freed: freedTest(backend, tid, pageBox, poolRefill, { tiny: f.unifiedCache === createUnifiedCache, pool: f.poolTls === createPoolTls }),
    ...(debug >= 1 && backend.shared ? { liveBitmap: sharedLiveBitmap(backend, layout, osBoundary) } : {}),
    ...(options.throwOnOutOfMemory === undefined ? {} : { throwOnOutOfMemory: options.throwOnOutOfMemory }),
  });
  const boxes = { osBoundary, superslabTier, sharedPool, warmPool, pageBox, unifiedCache, tinyRoute, gatekeeper, poolTls, poolRefill, l25Pool, bigCache };
  const { recover: _r, ...plain } = spec;
  const thread: HeapThread = {
    tid, spec: plain,
    rebuild: (id, adopt, onRecovered) => buildThread({ ...plain, tid: id, attach: true, adopt, ...(onRecovered === undefined ? {} : { recover: onRecovered }) }),
  };
  const heap = debug >= 3 ? new ValidatingHeap(backend, layout, boxes, debug, thread) : new Heap(backend, layout, boxes, debug, thread);
  built.heap = heap;
  if (report !== undefined) {
    recover(gatekeeper); // frees a block the thread's calloc / realloc had not returned: through the boxes above, repaired
    spec.recover!(report);
  }
  return heap;
}

/**
 * Trims `heap` and tells whether that made memory reusable by a size it was not before:
 * os-boundary mapped less, or less was held for one class or tier only (cached blocks,
 * free space of slabs and spans: empty slabs go back to a SuperSlab that stays mapped, so
 * the bytes unmapped alone miss them), or the debug quarantine gave blocks back. A trim
 * that moved nothing asks for no retry, so the application's hook gets its turn (the
 * gatekeeper bounds the retries of one allocation).
 */
function trimMadeReusable(heap: Heap): boolean {
  const held = (): [number, number, number] => {
    const s = heap.stats();
    return [
      s.boxes.osBoundary.bytesInUse,
      s.tiny.bytesCached + s.tiny.bytesFree + s.pool.bytesCached + s.pool.bytesFree + s.l25.bytesCached + s.big.bytesCached,
      s.boxes.gatekeeper.quarantinedBytes,
    ];
  };
  const before = held();
  heap.trim();
  const after = held();
  return after[0]! < before[0]! || after[1]! < before[1]! || after[2]! < before[2]!;
}

/**
 * In a worker: attaches to the heap `handle` describes (from `heap.share()` in another
 * thread, carried by `postMessage`) and returns this thread's heap over the same memory,
 * with its own thread-local boxes and a thread id from the heap's registry. An id whose
 * thread left slabs or spans behind (ABANDONED) is taken first and its memory adopted.
 * `options` may swap box factories (functions cannot be posted) and set this thread's
 * out-of-memory hook; tuning and debug level come from the handle.
 * Throws `E_INVALID_OPTION` when the handle or the memory's header is not a shared hakmem
 * heap of this layout version, when every thread id is taken, and for an unknown key or a
 * bad value in `options` or in the handle's options (named in the message); when a box
 * refuses after the thread id was taken, the id goes back (ABANDONED, collected by the next
 * `trim()`).
 *
 * @example
 * ```ts
 * import { attachHeap, createHeap, type SharedHeapHandle } from '@hakmem/allocator';
 *
 * // main thread: const worker = new Worker(url, { workerData: heap.share() }); heap.watch(worker);
 * const heap = createHeap({ shared: true, maxBytes: 32 << 20 });
 * const workerData: SharedHeapHandle = heap.share();
 *
 * // in the worker (here: this thread, which works the same way):
 * const h = attachHeap(workerData);
 * const p = h.malloc(64);                     // the same memory: the creator sees the block
 * h.u8(p, 4).set([1, 2, 3, 4]);
 * if (heap.u8(p, 4).join() !== '1,2,3,4') throw new Error('not the same memory');
 * h.free(p);
 * h.detach();                                 // before the worker exits (else heap.watch reclaims it)
 * ```
 */
export function attachHeap(handle: SharedHeapHandle, options: AttachOptions = {}): Heap {
  checkAttach(handle, options);
  const backend = attachBackend(handle.backend);
  backend.refresh();
  const layout = readLayout(backend);
  const { tid, adopted } = takeThread(backend, options.hostThreadId ?? hostThreadId());
  const { hostThreadId: _h, ...own } = options;
  try {
    return buildThread({ backend, layout, tid, attach: true, adopt: adopted, options: { ...handle.options, ...own } });
  } catch (e) {
    // A box refused (a malformed box, a bad tuning value): the id goes back ABANDONED, and
    // the next trim() of any thread collects what its boxes may have mapped already.
    abandonThread(backend, tid);
    throw e;
  }
}

/**
 * The debug live-block bitmap of a shared heap, in the linear memory (header word
 * GH_DEBUG_BITMAP), so that every thread's gatekeeper sees every thread's blocks: mapped
 * by the first thread that needs it (registry META).
 */
function sharedLiveBitmap(backend: MemoryBackend, layout: HeapLayout, os: OsBoundary): Uint8Array {
  const bytes = (layout.maxBytes >>> 6) + 1;
  const i32 = backend.views.i32;
  let base = Atomics.load(i32, GH_DEBUG_BITMAP);
  if (base === 0) {
    const mapped = alignUp(bytes, PAGE_SIZE);
    const reg = layout.registryOffset >>> 2;
    const p = os.map(mapped, PAGE_SIZE);
    if (p === 0) throw invalid(`maxBytes ${layout.maxBytes} cannot hold the debug bitmap (${mapped} bytes)`);
    if (!os.lastMapZeroed()) backend.views.u8.fill(0, p, p + mapped);
    const v = backend.views;
    // One run: the header names the bitmap as its pages become META (until then os-boundary's MAPPED entry names this thread).
    base = Atomics.compareExchange(v.i32, GH_DEBUG_BITMAP, 0, p);
    if (base === 0) v.i32.fill(PageKind.META, reg + (p >>> PAGE_SHIFT), reg + ((p + mapped) >>> PAGE_SHIFT));
    if (base !== 0) os.unmap(p, mapped); // another thread was first
    else base = p;
  }
  return new Uint8Array(backend.buffer(), base, bytes);
}

/**
 * The box factories of a composition: the defaults, and the application's own wrapped so
 * that a box without a method the heap calls is refused where it is built.
 */
function factories(boxes: Partial<BoxFactories> | undefined): BoxFactories {
  const f: Record<string, unknown> = { ...defaultBoxes };
  if (boxes === undefined) return f as unknown as BoxFactories;
  for (const name of BOX_NAMES) {
    const make = boxes[name] as ((...args: unknown[]) => unknown) | undefined;
    if (make !== undefined && make !== defaultBoxes[name]) f[name] = (...args: unknown[]): unknown => checkBox('boxes', name, make(...args));
  }
  return f as unknown as BoxFactories;
}

/** Default maximum of `createHeap()`: 256 MiB. */
export const DEFAULT_MAX_BYTES = 256 << 20;

/**
 * The embedded default: a native backend (one reserved ArrayBuffer of `maxBytes`, a
 * SharedArrayBuffer when `shared`, committed by the OS as the heap touches it; a
 * resizable / growable one with `growable`) and the default boxes. Every option is checked
 * before anything is built: `E_INVALID_OPTION` naming an unknown key (a typo), a value of
 * the wrong type or options that do not go together (README, "Options").
 *
 * @example
 * ```ts
 * import { createHeap } from '@hakmem/allocator';
 *
 * const heap = createHeap();                  // native backend, 256 MiB maximum, default boxes
 * const p = heap.malloc(80);                  // a byte offset into heap.views, 16-byte aligned
 * heap.f64(p, 10).fill(1.5);                  // a typed-array view of the block
 * if (heap.views.f64[p / 8 + 9] !== 1.5) throw new Error('the view is the memory');
 * heap.free(p);
 * const s = heap.stats();                     // footprint, per-tier usage, every box's counters
 * if (s.tiny.blocksInUse !== 0 || s.footprint === 0) throw new Error('stats');
 * heap.validate();                            // full metadata check (throws on corruption)
 * ```
 */
export function createHeap(options: HeapOptions = {}): Heap {
  checkHeapOptions(options);
  const { backend = 'native', maxBytes = DEFAULT_MAX_BYTES, shared = false, growable = false, ...rest } = options;
  let mem: MemoryBackend;
  if (backend === 'native') mem = createNativeBackend({ maxBytes, shared, growable });
  else if (backend === 'wasm') mem = createWasmBackend({ maxBytes, shared });
  else if (typeof backend === 'object' && backend !== null) mem = backend;
  else throw invalid(`backend must be 'native', 'wasm' or a MemoryBackend, got ${String(backend)}`);
  return compose({ ...rest, backend: mem });
}

/** The heap's layout plan for a given maximum (for tools and tests). */
export function layoutFor(maxBytes: number): HeapLayout {
  return planLayout(maxBytes);
}

function invalid(message: string): HakmemError {
  return new HakmemError(ErrorCode.INVALID_OPTION, message, { box: 'allocator' });
}
