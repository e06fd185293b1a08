export * from './api.js';
export { createUnifiedCache } from './unified-cache.js';
