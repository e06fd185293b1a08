export * from './api.js';
export * from './layout.js';
export { createOsBoundary, osBoundaryStateBytes } from './os-boundary.js';
