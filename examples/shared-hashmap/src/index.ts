export { NODE_HEADER, SharedHashMap } from './hashmap.js';
export { runSharedHashMap, type RunOptions, type RunResult } from './run.js';
export * from './workload.js';
