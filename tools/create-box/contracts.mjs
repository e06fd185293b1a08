// The box contracts the scaffolder knows: one entry per key of `BoxFactories` in
// packages/allocator/src/api.ts (tools/create-box/test/create-box.test.ts checks that the
// two lists agree). Each entry says which default box the new one starts as, and how the
// testkit's conformance suite for the contract is wired in the generated test.
//
//   key          the `BoxFactories` / `createHeap({ boxes })` key
//   iface        the contract's interface in @hakmem/contracts; options: its options type
//   ctx          true when the factory takes a BoxContext first: (ctx, options) => box
//   pkg/factory  the default box's package and factory (what the new box delegates to)
//   summary      one line: what the box does in the heap
//   workloads    hakmem-bench workloads that reach the box (for `npm run compare`)
//   measure      one short `hakmem-bench measure` run that reaches it (the generated test)
//   suite        the conformance wiring: imports (package → names), setup code, the suite
//                expression with FACTORY for the new factory (testkit has a suite for every contract)

const SLAB_FIXTURE = {
  imports: {
    '@hakmem/testkit': ['createSlabFixture'],
    '@hakmem/memory-backend': ['createNativeBackend'],
    '@hakmem/os-boundary': ['createOsBoundary'],
    '@hakmem/tiny-route': ['createTinyRoute'],
    '@hakmem/allocator': ['defaultBoxes', 'initHeader', 'layoutFor'],
  },
  setup: `// The slab suites' fixture: a fresh memory per case with the default boxes below the
// one under test (as packages/testkit/test/conformance-slabs.test.ts builds it).
const fixture = createSlabFixture({
  backend: (o) => createNativeBackend(o),
  layout: layoutFor,
  initHeader,
  osBoundary: createOsBoundary,
  superslabTier: defaultBoxes.superslabTier,
  sharedPool: defaultBoxes.sharedPool,
  warmPool: defaultBoxes.warmPool,
  classSizes: createTinyRoute({}).classSizes,
});`,
};

const MID_ENV = {
  imports: {
    '@hakmem/testkit': ['type MidEnvFactory'],
    '@hakmem/contracts': ['type BoxContext'],
    '@hakmem/allocator': ['createHeap'],
  },
  setup: `// The mid suites' environment: a fresh heap per case, whose memory, layout and
// os-boundary the suite uses (nothing in it maps until a malloc, and the suites never call
// one). Threads 3 and 4 and box slot 100 are far from those of the heap's own boxes (as in
// packages/testkit/test/conformance-mid.test.ts).
const env: MidEnvFactory = ({ maxBytes = 64 << 20 } = {}) => {
  const h = createHeap({ maxBytes });
  const ctx: BoxContext = {
    backend: h.backend, layout: h.layout, tid: 3, shared: h.backend.shared, slotOffset: 64 + 100 * 64, debug: 0,
  };
  return { ctx, otherTid: 4, regions: h.boxes.osBoundary };
};`,
};

function merge(...parts) {
  const imports = {};
  for (const p of parts) {
    for (const [pkg, names] of Object.entries(p.imports ?? {})) imports[pkg] = [...(imports[pkg] ?? []), ...names];
  }
  return imports;
}

// The clause "nothing is lost after reclaim" of the suites of boxes that hold per-thread
// state: a shared heap built with the new box, whose second thread dies without detach().
const RECLAIM = { imports: { '@hakmem/testkit': ['sharedHeapWorld'], '@hakmem/allocator': ['attachHeap', 'createHeap'] } };
const world = (key) => `sharedHeapWorld({ createHeap, attachHeap }, { ${key}: FACTORY })`;

const slab = (fn, key) => ({ imports: merge(SLAB_FIXTURE, RECLAIM, { imports: { '@hakmem/testkit': [fn] } }), setup: SLAB_FIXTURE.setup, expr: `${fn}(FACTORY, fixture, ${world(key)})` });
const mid = (fn, key, extra = {}) => ({ imports: merge(MID_ENV, RECLAIM, { imports: { '@hakmem/testkit': [fn] } }, extra), setup: MID_ENV.setup, expr: `${fn}(FACTORY, env, ${world(key)})` });

const TINY_MEASURE = { workload: 'tiny', cycles: 20_000 };

/** @type {Record<string, {key: string, iface: string, options: string, ctx: boolean, pkg: string, factory: string, summary: string, workloads: string, measure: {workload: string, cycles: number}, suite: {imports: Record<string, string[]>, setup: string, expr: string}}>} */
export const CONTRACTS = {
  'os-boundary': {
    key: 'osBoundary', iface: 'OsBoundary', options: 'OsBoundaryOptions', ctx: false,
    pkg: '@hakmem/os-boundary', factory: 'createOsBoundary',
    summary: 'the only code that grows the memory: aligned map / unmap of page ranges for every tier, a free-range map, counters',
    workloads: 'default,large,vm', measure: { workload: 'large', cycles: 2_000 },
    suite: {
      imports: { '@hakmem/testkit': ['osBoundaryConformance'], '@hakmem/memory-backend': ['createNativeBackend'] },
      setup: `// The suite builds a fresh native backend per case (the heap's default backend) and lays
// it out itself: the box's state in page 0, the page registry in page 1, heapStart at page 2.`,
      expr: 'osBoundaryConformance(FACTORY, { backend: (o) => createNativeBackend(o) })',
    },
  },
  'superslab-tier': {
    key: 'superslabTier', iface: 'SuperSlabTier', options: 'SuperSlabTierOptions', ctx: true,
    pkg: '@hakmem/superslab-tier', factory: 'createSuperSlabTier',
    summary: '1 MiB SuperSlabs of 16 slabs (COLD): HOT → DRAINING → FREE with a release guard, retention',
    workloads: 'default,tiny,default-ws8192', measure: TINY_MEASURE,
    suite: slab('superSlabTierConformance', 'superslabTier'),
  },
  'shared-pool': {
    key: 'sharedPool', iface: 'SharedPool', options: 'SharedPoolOptions', ctx: true,
    pkg: '@hakmem/shared-pool', factory: 'createSharedPool',
    summary: 'the global pool of slabs: lends SuperSlabs to threads, a slab gets its class at run time',
    workloads: 'default,tiny,default-ws8192', measure: TINY_MEASURE,
    suite: slab('sharedPoolConformance', 'sharedPool'),
  },
  'warm-pool': {
    key: 'warmPool', iface: 'WarmPool', options: 'WarmPoolOptions', ctx: true,
    pkg: '@hakmem/warm-pool', factory: 'createWarmPool',
    summary: "a thread's HOT SuperSlabs (WARM): assigns their free slabs to classes, borrows from the shared pool on a miss",
    workloads: 'default,tiny,default-ws8192', measure: TINY_MEASURE,
    suite: slab('warmPoolConformance', 'warmPool'),
  },
  'page-box': {
    key: 'pageBox', iface: 'PageBox', options: 'PageBoxOptions', ctx: true,
    pkg: '@hakmem/page-box', factory: 'createPageBox',
    summary: "a thread's slabs per class: batches of blocks from their free lists, then carved, for the unified cache",
    workloads: 'default,tiny,default-ws8192', measure: TINY_MEASURE,
    suite: slab('pageBoxConformance', 'pageBox'),
  },
  'unified-cache': {
    key: 'unifiedCache', iface: 'UnifiedCache', options: 'UnifiedCacheOptions', ctx: false,
    pkg: '@hakmem/unified-cache', factory: 'createUnifiedCache',
    summary: 'per-thread, per-class stacks of free tiny blocks (HOT): bounded batch refill from and spill to the page box',
    workloads: 'default,tiny,default-ws8192', measure: TINY_MEASURE,
    suite: { imports: merge(RECLAIM, { imports: { '@hakmem/testkit': ['unifiedCacheConformance'] } }), setup: '', expr: `unifiedCacheConformance(FACTORY, ${world('unifiedCache')})` },
  },
  'tiny-route': {
    key: 'tinyRoute', iface: 'TinyRoute', options: 'TinyRouteOptions', ctx: false,
    pkg: '@hakmem/tiny-route', factory: 'createTinyRoute',
    summary: 'the size → (route, class) table every malloc goes through',
    workloads: 'default,tiny,pool,large', measure: TINY_MEASURE,
    suite: { imports: { '@hakmem/testkit': ['tinyRouteConformance'] }, setup: '', expr: 'tinyRouteConformance(FACTORY)' },
  },
  gatekeeper: {
    key: 'gatekeeper', iface: 'Gatekeeper', options: 'GatekeeperOptions', ctx: true,
    pkg: '@hakmem/gatekeeper', factory: 'createGatekeeper',
    summary: 'the entry: malloc / free / calloc / realloc / memalign / usableSize over the tiers, bad-input checks',
    workloads: 'default,tiny,pool,large', measure: TINY_MEASURE,
    suite: {
      imports: merge(RECLAIM, { imports: { '@hakmem/testkit': ['gatekeeperConformance'] } }),
      setup: '',
      expr: `gatekeeperConformance((o) => createHeap({ ...o, boxes: { gatekeeper: FACTORY } }), ${world('gatekeeper')})`,
    },
  },
  'pool-tls': {
    key: 'poolTls', iface: 'PoolTls', options: 'PoolTlsOptions', ctx: false,
    pkg: '@hakmem/pool-tls', factory: 'createPoolTls',
    summary: 'per-thread stacks of free mid-size blocks (2 KiB – 64 KiB, 20 classes) in front of pool-refill',
    workloads: 'pool', measure: { workload: 'pool', cycles: 20_000 },
    suite: { imports: merge(RECLAIM, { imports: { '@hakmem/testkit': ['poolTlsConformance'] } }), setup: '', expr: `poolTlsConformance(FACTORY, ${world('poolTls')})` },
  },
  'pool-refill': {
    key: 'poolRefill', iface: 'PoolRefill', options: 'PoolRefillOptions', ctx: true,
    pkg: '@hakmem/pool-refill', factory: 'createPoolRefill',
    summary: 'the per-thread arena of the mid tier: chunks cut into class spans, span free lists, remote frees',
    workloads: 'pool', measure: { workload: 'pool', cycles: 20_000 },
    suite: {
      ...mid('poolRefillConformance', 'poolRefill', { imports: { '@hakmem/pool-tls': ['DEFAULT_POOL_CLASS_SIZES'] } }),
      expr: `poolRefillConformance(FACTORY, env, DEFAULT_POOL_CLASS_SIZES, ${world('poolRefill')})`,
    },
  },
  'l25-pool': {
    key: 'l25Pool', iface: 'L25Pool', options: 'L25PoolOptions', ctx: true,
    pkg: '@hakmem/l25-pool', factory: 'createL25Pool',
    summary: 'blocks of 64 KiB – 1 MiB in page classes: sharded caches in the linear memory, a non-empty bitmap',
    workloads: 'large,json,mir', measure: { workload: 'large', cycles: 2_000 },
    suite: mid('l25PoolConformance', 'l25Pool'),
  },
  bigcache: {
    key: 'bigCache', iface: 'BigCache', options: 'BigCacheOptions', ctx: true,
    pkg: '@hakmem/bigcache', factory: 'createBigCache',
    summary: 'blocks above 1 MiB: whole pages from os-boundary, a size-classed cache within a budget, grown and shrunk in place',
    workloads: 'vm,vm-ring8', measure: { workload: 'vm', cycles: 200 },
    suite: mid('bigCacheConformance', 'bigCache'),
  },
};
