export * from './api.js';
export { Heap, ValidatingHeap, type HeapBoxes, type HeapThread, type WatchedWorker } from './heap.js';
export { attachHeap, compose, createHeap, defaultBoxes, layoutFor, DEFAULT_MAX_BYTES, type ThreadSpec } from './compose.js';
export type { ThreadRecord } from './threads.js';
export { initHeader } from './layout.js';
