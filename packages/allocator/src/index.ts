export * from './api.js';
export { Heap, ValidatingHeap, type HeapBoxes, type HeapThread, type WatchedWorker } from './heap.js';
export { attachHeap, compose, createHeap, defaultBoxes, layoutFor, DEFAULT_MAX_BYTES, type ThreadSpec } from './compose.js';
export type { ThreadRecord } from './threads.js';
export { initHeader } from './layout.js';
export {
  base64ToBytes, bytesToBase64, decodeSnapshotPages, SNAPSHOT_FORMAT, SNAPSHOT_SERIES_FORMAT, SNAPSHOT_VERSION, SnapshotPageState,
  type DecodedSnapshotPages, type HeapSnapshot, type HeapSnapshotSeries, type SnapshotBlocks, type SnapshotFrame, type SnapshotPages,
  type SnapshotSpans, type SnapshotSuperSlabs,
} from './snapshot.js';
