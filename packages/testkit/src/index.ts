export * from './api.js';
export { ReferenceModel, runModel } from './model.js';
export { heapOp, randomOps, type OpDistribution } from './ops.js';
export {
  check, errorCodeOf, expectHakmemError, fail, RecordingBlockSource,
  type AllocBatchCall, type ConformanceCase, type FreeBatchCall,
} from './conformance/types.js';
export {
  reclaimCase, sharedHeapWorld,
  type ReclaimAllocator, type ReclaimHeap, type ReclaimWorld, type ReclaimWorldFactory,
} from './conformance/reclaim.js';
export { unifiedCacheConformance, type UnifiedCacheFactory } from './conformance/unified-cache.js';
export { tinyRouteConformance, type TinyRouteFactory } from './conformance/tiny-route.js';
export {
  gatekeeperConformance, type GatekeeperHeap, type GatekeeperHeapFactory, type GatekeeperHeapOptions,
} from './conformance/gatekeeper.js';
export {
  createSlabFixture, SLAB_FIXTURE_MAX_BYTES,
  type PageBoxFactory, type SharedPoolFactory, type SlabFixture, type SlabFixtureDeps, type SlabFixtureFactory,
  type SlabFixtureOptions, type SuperSlabTierFactory, type WarmPoolFactory,
} from './conformance/fixture.js';
export { LenderProbe, RegionProbe, SlabProbe, TierProbe } from './conformance/slab-probes.js';
export { superSlabTierConformance } from './conformance/superslab-tier.js';
export { sharedPoolConformance } from './conformance/shared-pool.js';
export { warmPoolConformance } from './conformance/warm-pool.js';
export { pageBoxConformance } from './conformance/page-box.js';
export { poolTlsConformance, type PoolTlsFactory } from './conformance/pool-tls.js';
export {
  MidRegions, poolRefillConformance,
  type MidEnv, type MidEnvFactory, type MidEnvOptions, type PoolRefillFactory,
} from './conformance/pool-refill.js';
export { l25PoolConformance, type L25PoolFactory } from './conformance/l25-pool.js';
export { bigCacheConformance, type BigCacheFactory } from './conformance/bigcache.js';
export {
  osBoundaryConformance, osBoundaryThread,
  type OsBoundaryBackendOptions, type OsBoundaryEnv, type OsBoundaryFactory, type OsBoundaryThreadData, type OsBoundaryThreadReport,
} from './conformance/os-boundary.js';
export { memoryBackendConformance, type MemoryBackendEnv, type MemoryBackendFactory } from './conformance/memory-backend.js';
export { FaultyBackend, randomGrowFaults, type GrowFault } from './faulty-backend.js';
export { TraceRecorder, type RecordableHeap, type TraceInfo } from './trace-recorder.js';
