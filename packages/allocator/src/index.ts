export * from './api.js';
export { Heap, ValidatingHeap, type HeapBoxes } from './heap.js';
export { compose, createHeap, defaultBoxes, layoutFor, DEFAULT_MAX_BYTES } from './compose.js';
export { initHeader } from './layout.js';
