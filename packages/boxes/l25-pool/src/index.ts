export * from './api.js';
export { l25PoolStateBytes } from './layout.js';
export { createL25Pool } from './l25-pool.js';
export type { L25Pool, L25PoolOptions, L25PoolStats } from '@hakmem/contracts';
