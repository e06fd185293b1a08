export * from './api.js';
export { createPageBox } from './page-box.js';
