import {
  GH_BOX_SLOTS_OFFSET, GH_BOX_SLOT_BYTES,
  type BoxContext, type HeapLayout, type MemoryBackend, type OsBoundary, type OsBoundaryOptions, type PageBox,
  type PageBoxOptions, type SharedPool, type SharedPoolOptions, type SuperSlabTier, type SuperSlabTierOptions,
  type WarmPool, type WarmPoolOptions,
} from '@hakmem/contracts';

/**
 * The fixture of the slab-tier conformance suites (superslab-tier, shared-pool,
 * warm-pool, page-box).
 *
 * These boxes cannot be tested alone: they need a memory, the layout plan of its
 * metadata, a box context (with a state slot for the shared boxes), an os-boundary at
 * the bottom and the default implementation of every box below the one under test.
 * testkit may not assume which packages a caller has, so the caller supplies them:
 * either implement {@link SlabFixtureFactory} directly, or pass the default packages to
 * {@link createSlabFixture} (what `packages/testkit/test/conformance-slabs.test.ts` does):
 *
 * ```ts
 * import { createNativeBackend } from '@hakmem/memory-backend';
 * import { createOsBoundary } from '@hakmem/os-boundary';
 * import { createTinyRoute } from '@hakmem/tiny-route';
 * import { defaultBoxes, layoutFor } from '@hakmem/allocator';
 * const fixture = createSlabFixture({
 *   backend: (o) => createNativeBackend(o), layout: layoutFor, osBoundary: createOsBoundary,
 *   superslabTier: defaultBoxes.superslabTier, sharedPool: defaultBoxes.sharedPool,
 *   warmPool: defaultBoxes.warmPool, classSizes: createTinyRoute({}).classSizes,
 * });
 * for (const c of warmPoolConformance(myWarmPool, fixture)) test(c.name, () => c.run());
 * ```
 */

/** Factory of a superslab tier: the signature of `BoxFactories.superslabTier` in `@hakmem/allocator`. */
export type SuperSlabTierFactory = (ctx: BoxContext, options: SuperSlabTierOptions) => SuperSlabTier;
/** Factory of a shared pool: the signature of `BoxFactories.sharedPool`. */
export type SharedPoolFactory = (ctx: BoxContext, options: SharedPoolOptions) => SharedPool;
/** Factory of a warm pool: the signature of `BoxFactories.warmPool`. */
export type WarmPoolFactory = (ctx: BoxContext, options: WarmPoolOptions) => WarmPool;
/** Factory of a page box: the signature of `BoxFactories.pageBox`. */
export type PageBoxFactory = (ctx: BoxContext, options: PageBoxOptions) => PageBox;

/** What a suite asks of a fresh fixture. */
export interface SlabFixtureOptions {
  /** The backend's maximum in bytes (a multiple of 1 MiB, at least 4 MiB). Default 64 MiB. */
  readonly maxBytes?: number;
  /** Build on shared memory (`BoxContext.shared` true: boxes take locks and use Atomics). Default false. */
  readonly shared?: boolean;
}

/**
 * One fresh heap memory with its header written and an os-boundary over it, but no slab
 * box yet: the suite builds the chain above os-boundary itself, from {@link SlabFixture.superslabTier}
 * and friends (the defaults) and the box under test.
 */
export interface SlabFixture {
  readonly backend: MemoryBackend;
  readonly layout: HeapLayout;
  /** The os-boundary over `backend`: the region source at the bottom of the tiny chain. */
  readonly regions: OsBoundary;
  /** Block size of each tiny class (tiny-route's class table). */
  readonly classSizes: Int32Array;
  /**
   * A box context on this memory: thread `tid` (default 1) and box state slot `slot`
   * (a slot index ≥ 0, mapped to `GH_BOX_SLOTS_OFFSET + slot * 64`; -1 for a box without
   * global state). Handles created with the same slot share one state (one per thread).
   */
  context(slot: number, tid?: number): BoxContext;
  /** The default superslab tier (for suites of the boxes above it). */
  readonly superslabTier: SuperSlabTierFactory;
  /** The default shared pool. */
  readonly sharedPool: SharedPoolFactory;
  /** The default warm pool. */
  readonly warmPool: WarmPoolFactory;
}

/** Builds a fresh {@link SlabFixture} per call: every case of a suite starts from empty memory. */
export type SlabFixtureFactory = (options?: SlabFixtureOptions) => SlabFixture;

/** The packages {@link createSlabFixture} builds fixtures from (normally the defaults). */
export interface SlabFixtureDeps {
  /** A fresh, empty backend (e.g. `createNativeBackend` of `@hakmem/memory-backend`). */
  backend(options: { readonly maxBytes: number; readonly shared: boolean }): MemoryBackend;
  /** The layout plan for a maximum (e.g. `layoutFor` of `@hakmem/allocator`). */
  layout(maxBytes: number): HeapLayout;
  /**
   * Grows a fresh backend to the plan's metadata prefix and writes the global header and
   * the META registry entries, as the composition root does (e.g. `initHeader` of
   * `@hakmem/allocator`).
   */
  initHeader(backend: MemoryBackend, layout: HeapLayout): void;
  /** An os-boundary (e.g. `createOsBoundary` of `@hakmem/os-boundary`). */
  osBoundary(options: OsBoundaryOptions): OsBoundary;
  readonly superslabTier: SuperSlabTierFactory;
  readonly sharedPool: SharedPoolFactory;
  readonly warmPool: WarmPoolFactory;
  /** Block size of each tiny class (e.g. `createTinyRoute({}).classSizes`). */
  readonly classSizes: Int32Array | readonly number[];
}

/** Default maximum of a fixture's backend: 64 MiB. */
export const SLAB_FIXTURE_MAX_BYTES = 64 << 20;

/**
 * A {@link SlabFixtureFactory} over the given packages. Each call creates a backend,
 * grows it to the planned metadata prefix, writes the global header and stamps the
 * prefix pages META in the registry (as the composition root does), then creates the
 * os-boundary over the rest.
 */
export function createSlabFixture(deps: SlabFixtureDeps): SlabFixtureFactory {
  return (options: SlabFixtureOptions = {}): SlabFixture => {
    const maxBytes = options.maxBytes ?? SLAB_FIXTURE_MAX_BYTES;
    const shared = options.shared ?? false;
    const backend = deps.backend({ maxBytes, shared });
    const layout = deps.layout(backend.maxBytes);
    deps.initHeader(backend, layout);
    const regions = deps.osBoundary({
      backend, stateOffset: layout.osStateOffset, stateBytes: layout.osStateBytes, heapStart: layout.heapStart, shared,
      registryOffset: layout.registryOffset,
    });
    const classSizes = Int32Array.from(deps.classSizes);
    return {
      backend, layout, regions, classSizes,
      context: (slot: number, tid = 1): BoxContext => ({
        backend, layout, tid, shared, slotOffset: slot < 0 ? -1 : GH_BOX_SLOTS_OFFSET + slot * GH_BOX_SLOT_BYTES, debug: 0,
      }),
      superslabTier: deps.superslabTier,
      sharedPool: deps.sharedPool,
      warmPool: deps.warmPool,
    };
  };
}

