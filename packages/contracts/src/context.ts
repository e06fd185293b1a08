import type { MemoryBackend } from './backend.js';

/**
 * Where the shared metadata lives, planned once by the composition root and written in
 * the global header so that an attaching worker reads the same plan.
 */
export interface HeapLayout {
  /** The backend's maximum in bytes. */
  readonly maxBytes: number;
  /** `maxBytes >>> PAGE_SHIFT`. */
  readonly maxPages: number;
  /** Byte offset of the page registry (u32 per page). */
  readonly registryOffset: number;
  /** Byte offset of the page table (PAGE_DESC_BYTES per page). */
  readonly pageTableOffset: number;
  /** Byte offset of os-boundary's state. */
  readonly osStateOffset: number;
  /** Bytes of os-boundary's state. */
  readonly osStateBytes: number;
  /** First address os-boundary hands out (end of the reserved prefix, page aligned). */
  readonly heapStart: number;
}

/**
 * What every box instance is given: the memory, the plan of the metadata, and the
 * thread it serves. Thread-local boxes get one instance per thread; shared boxes get one
 * instance per thread too, all operating on the same state in the linear memory.
 */
export interface BoxContext {
  readonly backend: MemoryBackend;
  readonly layout: HeapLayout;
  /** Thread id of the calling thread, 1..MAX_THREADS. */
  readonly tid: number;
  /** True when other threads may touch shared state at the same time (take locks). */
  readonly shared: boolean;
  /**
   * Byte offset of this box's 64-byte state slot in page 0 (GH_BOX_SLOTS_OFFSET + k*64),
   * for boxes that keep global state (list heads, lock words, counters); -1 if none.
   */
  readonly slotOffset: number;
  /** Debug level 0..3 (0: release; see docs/debug.md). */
  readonly debug: number;
}
