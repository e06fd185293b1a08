import type { Ptr } from '@hakmem/contracts';

/** What the model checks drive: the allocation functions of any heap. */
export interface HeapUnderTest {
  malloc(size: number): Ptr;
  free(ptr: Ptr): void;
  calloc(n: number, size: number): Ptr;
  realloc(ptr: Ptr, size: number): Ptr;
  memalign(align: number, size: number): Ptr;
  usableSize(ptr: Ptr): number;
  /** Byte view of the whole memory (re-read after every call: it may be replaced on growth). */
  readonly views: { readonly u8: Uint8Array };
  /** Full metadata check; throws on corruption. */
  validate(): void;
  /** Usable bytes of live blocks as the heap's own metadata sees them (leak detection). */
  liveBytes(): number;
}

/** One operation of a model run. Sizes and indices are resolved against the live set. */
export type HeapOp =
  | { readonly op: 'malloc'; readonly size: number }
  | { readonly op: 'calloc'; readonly n: number; readonly size: number }
  | { readonly op: 'memalign'; readonly align: number; readonly size: number }
  | { readonly op: 'free'; readonly pick: number }
  | { readonly op: 'realloc'; readonly pick: number; readonly size: number };

/** Options of a model run. */
export interface ModelOptions {
  /** Call `heap.validate()` every N operations (1 = after every step; 0 = only at the end). Default 0. */
  readonly validateEvery?: number;
  /** Compare live bytes with the model every N operations (0 = only at the end). Default 1000. */
  readonly liveBytesEvery?: number;
  /** Bytes of the memory the shadow covers (the heap's maximum). */
  readonly memoryBytes: number;
}

/** Totals of a model run. */
export interface ModelReport {
  ops: number;
  mallocs: number;
  frees: number;
  reallocs: number;
  failed: number;
  peakLive: number;
  peakLiveBytes: number;
}
