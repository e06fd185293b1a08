export * from './api.js';
export { createBigCache } from './bigcache.js';
