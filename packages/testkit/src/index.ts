export * from './api.js';
export { ReferenceModel, runModel } from './model.js';
export { heapOp, randomOps, type OpDistribution } from './ops.js';
