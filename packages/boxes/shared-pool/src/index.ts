export * from './api.js';
export * from './layout.js';
export { createSharedPool } from './shared-pool.js';
