export * from './api.js';
export * from './layout.js';
export { createSuperSlabTier } from './superslab-tier.js';
