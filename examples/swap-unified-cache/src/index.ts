export { createFifoUnifiedCache, DEFAULT_CAPACITY, FifoUnifiedCache } from './fifo-cache.js';
export { heap } from './heap.js';
