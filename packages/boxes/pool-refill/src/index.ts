export * from './api.js';
export { createPoolRefill } from './pool-refill.js';
