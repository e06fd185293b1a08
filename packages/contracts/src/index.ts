export * from './pointer.js';
export * from './errors.js';
export * from './layout.js';
export * from './backend.js';
export * from './boxes/os-boundary.js';
