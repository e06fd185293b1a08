export * from './api.js';
export { ReferenceModel, runModel } from './model.js';
export { heapOp, randomOps, type OpDistribution } from './ops.js';
export {
  check, expectHakmemError, fail, RecordingBlockSource,
  type AllocBatchCall, type ConformanceCase, type FreeBatchCall,
} from './conformance/types.js';
export { unifiedCacheConformance, type UnifiedCacheFactory } from './conformance/unified-cache.js';
export { tinyRouteConformance, type TinyRouteFactory } from './conformance/tiny-route.js';
export {
  gatekeeperConformance, type GatekeeperHeap, type GatekeeperHeapFactory, type GatekeeperHeapOptions,
} from './conformance/gatekeeper.js';
