// A heap composed by hand: the same boxes `createHeap()` uses, each factory named, over a
// backend created explicitly. Swap any one of them for your own implementation of its
// contract (see examples/swap-unified-cache) and the rest stays as it is.
import { compose, type BoxFactories, type ComposeOptions, type Heap } from '@hakmem/allocator';
import { createNativeBackend } from '@hakmem/memory-backend';
import { createOsBoundary } from '@hakmem/os-boundary';
import { createSuperSlabTier } from '@hakmem/superslab-tier';
import { createSharedPool } from '@hakmem/shared-pool';
import { createWarmPool } from '@hakmem/warm-pool';
import { createPageBox } from '@hakmem/page-box';
import { createUnifiedCache } from '@hakmem/unified-cache';
import { createTinyRoute } from '@hakmem/tiny-route';
import { createGatekeeper } from '@hakmem/gatekeeper';
import { createPoolTls } from '@hakmem/pool-tls';
import { createPoolRefill } from '@hakmem/pool-refill';
import { createL25Pool } from '@hakmem/l25-pool';
import { createBigCache } from '@hakmem/bigcache';

/**
 * Every box, by its factory. `compose()` wires them in the refill order
 * unified-cache → page-box → warm-pool → shared-pool → superslab-tier → os-boundary, with
 * tiny-route and the gatekeeper in front and the mid (pool-tls → pool-refill), L2.5
 * (l25-pool) and big (bigcache) tiers beside it.
 */
export const boxes: BoxFactories = {
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
};

/** Options of {@link composeByHand}. */
export interface ByHandOptions {
  /** The backend's maximum (default 64 MiB): one reserved ArrayBuffer, committed as touched. */
  readonly maxBytes?: number;
  /** Tuning and debug level, as `compose()` takes them. */
  readonly tuning?: ComposeOptions['tuning'];
  readonly debug?: number;
}

/** A heap of the default boxes over a native backend of `maxBytes`, composed explicitly. */
export function composeByHand(options: ByHandOptions = {}): Heap {
  const { maxBytes = 64 << 20, tuning, debug } = options;
  return compose({
    backend: createNativeBackend({ maxBytes }),
    boxes,
    ...(tuning === undefined ? {} : { tuning }),
    ...(debug === undefined ? {} : { debug }),
  });
}

/** What {@link tour} saw; every figure is read back from the heap. */
export interface TourReport {
  /** `usableSize` of a malloc(80) (a 16-byte-aligned tiny block of class 80 or above). */
  usable80: number;
  /** Sum of the ten f64s written through `heap.f64` and read back. */
  f64Sum: number;
  /** The bytes kept by realloc when a 100-byte block grew to 100 000 bytes (it moved tiers). */
  reallocKept: boolean;
  /** True when every byte of calloc(250, 4) read 0 (on a block that was dirty before). */
  callocZeroed: boolean;
  /** `p % align` for memalign(align, 100) at align 64, 4096, 65536: all 0. */
  alignRemainders: number[];
  /** Live bytes and blocks per tier while the tour's blocks are held. */
  live: { bytes: number; tiny: number; pool: number; l25: number; big: number };
  /** Sum of `usableSize` of the blocks held at that point (equals `live.bytes`). */
  usableSum: number;
  /** Live bytes after everything was freed and trimmed (0), and the bytes trim() gave back. */
  liveAfterFree: number;
  trimmed: number;
}

/**
 * A short tour of the heap's API: the six allocation functions, typed-array views,
 * stats, validate and trim. Leaves the heap empty.
 */
export function tour(heap: Heap): TourReport {
  // malloc + typed-array views: ten doubles in an 80-byte block.
  const p = heap.malloc(80);
  const usable80 = heap.usableSize(p);
  const v = heap.f64(p, 10);
  for (let i = 0; i < 10; i++) v[i] = i * 1.5;
  const f64Sum = heap.f64(p, 10).reduce((a, x) => a + x, 0);

  // realloc across tiers (tiny → mid): the first 100 bytes come along.
  let q = heap.malloc(100);
  heap.u8(q, 100).forEach((_, i, a) => { a[i] = (i * 7) & 0xff; });
  q = heap.realloc(q, 100_000);
  const reallocKept = heap.u8(q, 100).every((b, i) => b === ((i * 7) & 0xff));

  // calloc returns zeroed memory even where a freed block left bytes behind.
  const dirty = heap.malloc(1000);
  heap.u8(dirty, 1000).fill(0xee);
  heap.free(dirty);
  const z = heap.calloc(250, 4);
  const callocZeroed = heap.u8(z, 1000).every((b) => b === 0);

  // memalign: tiny, mid and L2.5-sized alignments.
  const aligned = [64, 4096, 65536].map((align) => heap.memalign(align, 100));
  const alignRemainders = aligned.map((a, i) => a % [64, 4096, 65536][i]!);

  // A big block (above 1 MiB) and an L2.5 block (64 KiB – 1 MiB).
  const big = heap.malloc(3 << 20);
  const l25 = heap.malloc(200_000);

  const held = [p, q, z, ...aligned, big, l25];
  const usableSum = held.reduce((sum, ptr) => sum + heap.usableSize(ptr), 0);
  heap.validate();
  const s = heap.stats();
  const live = {
    bytes: heap.liveBytes(), tiny: s.tiny.blocksInUse, pool: s.pool.blocksInUse, l25: s.l25.blocksInUse, big: s.big.blocksInUse,
  };

  for (const ptr of held) heap.free(ptr);
  heap.free(0); // free(0) is a no-op, as in C
  // trim() gives back what the heap caches (and, at debug level 2 and up, empties the
  // quarantine of freed blocks checked for writes after free).
  const trimmed = heap.trim();
  const liveAfterFree = heap.liveBytes();
  heap.validate();
  return { usable80, f64Sum, reallocKept, callocZeroed, alignRemainders, live, usableSum, liveAfterFree, trimmed };
}
