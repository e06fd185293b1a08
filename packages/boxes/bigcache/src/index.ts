export * from './api.js';
export { BIG_STATE_WORDS, createBigCache } from './bigcache.js';
