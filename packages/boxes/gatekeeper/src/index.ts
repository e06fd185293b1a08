export * from './api.js';
export { createGatekeeper } from './gatekeeper.js';
