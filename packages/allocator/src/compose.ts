import { ErrorCode, HakmemError, type BoxContext, type HeapLayout, type MemoryBackend } from '@hakmem/contracts';
import { createNativeBackend, createWasmBackend } from '@hakmem/memory-backend';
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
import type { BoxFactories, ComposeOptions, HeapOptions } from './api.js';
import { Heap, ValidatingHeap } from './heap.js';
import { initHeader, planLayout, SLOT_L25_POOL, SLOT_SHARED_POOL, SLOT_SUPERSLAB_TIER, slotOffset } from './layout.js';

/** The default implementation of every box. */
export const defaultBoxes: Readonly<BoxFactories> = Object.freeze({
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
 * one SuperSlab. Throws `E_INVALID_OPTION` otherwise.
 */
export function compose(options: ComposeOptions): Heap {
  const { backend } = options;
  const f: BoxFactories = { ...defaultBoxes, ...options.boxes };
  const t = options.tuning ?? {};
  const debug = options.debug ?? 0;
  if (!Number.isInteger(debug) || debug < 0 || debug > 3) throw invalid(`debug must be 0..3, got ${debug}`);
  const layout = planLayout(backend.maxBytes);
  initHeader(backend, layout);
  const ctx = (slot: number): BoxContext => ({
    backend, layout, tid: 1, shared: backend.shared, slotOffset: slot < 0 ? -1 : slotOffset(slot), debug,
  });
  const osBoundary = f.osBoundary({
    backend, stateOffset: layout.osStateOffset, stateBytes: layout.osStateBytes, heapStart: layout.heapStart, shared: backend.shared,
  });
  const superslabTier = f.superslabTier(ctx(SLOT_SUPERSLAB_TIER), { regions: osBoundary, ...t.superslabTier });
  const sharedPool = f.sharedPool(ctx(SLOT_SHARED_POOL), { superSlabs: superslabTier });
  const tinyRoute = f.tinyRoute(t.tinyRoute ?? {});
  const warmPool = f.warmPool(ctx(-1), { classSizes: tinyRoute.classSizes, lender: sharedPool, ...t.warmPool });
  const pageBox = f.pageBox(ctx(-1), { classSizes: tinyRoute.classSizes, slabs: warmPool, ...t.pageBox });
  const unifiedCache = f.unifiedCache({ numClasses: tinyRoute.numClasses, source: pageBox, ...t.unifiedCache });
  // One mid class table for both halves of the mid tier (pool-refill carves what pool-tls caches).
  const poolClasses = t.poolTls?.classSizes ?? DEFAULT_POOL_CLASS_SIZES;
  const poolRefill = f.poolRefill(ctx(-1), { classSizes: Int32Array.from(poolClasses), regions: osBoundary, ...t.poolRefill });
  const poolTls = f.poolTls({ ...t.poolTls, classSizes: poolClasses, source: poolRefill });
  // l25-pool's shard records take consecutive box slots from SLOT_L25_POOL (it checks they fit in page 0).
  const l25Pool = f.l25Pool(ctx(SLOT_L25_POOL), { regions: osBoundary, ...t.l25Pool });
  const bigCache = f.bigCache(ctx(-1), { regions: osBoundary, ...t.bigCache });
  // On exhaustion the heap first gives back what it caches itself (a block freed in one
  // tier and cached there cannot serve another tier until it is unmapped), then asks the
  // application's hook. `built.heap` is set before any allocation can reach this.
  const built: { heap?: Heap } = {};
  const userOom = options.onOutOfMemory;
  const onOutOfMemory = (size: number): boolean => {
    if (built.heap !== undefined && built.heap.trim() > 0) return true;
    return userOom !== undefined && userOom(size);
  };
  const gatekeeper = f.gatekeeper(ctx(-1), {
    route: tinyRoute, cache: unifiedCache, pool: poolTls, l25: l25Pool, big: bigCache, onOutOfMemory,
    ...(options.throwOnOutOfMemory === undefined ? {} : { throwOnOutOfMemory: options.throwOnOutOfMemory }),
  });
  const boxes = { osBoundary, superslabTier, sharedPool, warmPool, pageBox, unifiedCache, tinyRoute, gatekeeper, poolTls, poolRefill, l25Pool, bigCache };
  const heap = debug >= 3 ? new ValidatingHeap(backend, layout, boxes, debug) : new Heap(backend, layout, boxes, debug);
  built.heap = heap;
  return heap;
}

/** Default maximum of `createHeap()`: 256 MiB. */
export const DEFAULT_MAX_BYTES = 256 << 20;

/**
 * The embedded default: a native backend (one reserved ArrayBuffer of `maxBytes`, a
 * SharedArrayBuffer when `shared`, committed by the OS as the heap touches it; a
 * resizable / growable one with `growable`) and the default boxes.
 */
export function createHeap(options: HeapOptions = {}): Heap {
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
