export * from './api.js';
export { createGatekeeper, FRESH_FILL, FREED_FILL } from './gatekeeper.js';
