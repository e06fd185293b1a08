export * from './api.js';
export { createTinyRoute } from './tiny-route.js';
