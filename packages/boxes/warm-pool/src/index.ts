export * from './api.js';
export { createWarmPool } from './warm-pool.js';
