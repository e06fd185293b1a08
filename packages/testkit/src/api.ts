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
  /** Exact liveness of a block start (asked by the misuse checks when present). */
  isAllocated?(ptr: Ptr): boolean;
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
  /**
   * Every N-th free (and realloc that moves) is followed by a misuse of a freed block —
   * a second free, a realloc, a usableSize — of the block just freed, or of one freed a
   * few calls before that no block handed out since overlaps. Each must throw its typed
   * error (E_DOUBLE_FREE; usableSize E_INVALID_POINTER; a block whose slab or span was
   * given back since may answer E_INVALID_POINTER or E_INTERIOR_POINTER) and change
   * nothing. Default 0: none.
   */
  readonly misuseEvery?: number;
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
  /** Misuse calls made (`misuseEvery`), each rejected as it must be. */
  misuses: number;
  /** Of them, the ones answered E_DOUBLE_FREE (the others found no block there any more). */
  doubleFrees: number;
}
