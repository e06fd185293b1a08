export * from './api.js';
export { createPoolTls } from './pool-tls.js';
