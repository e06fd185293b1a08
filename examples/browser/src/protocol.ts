// What the page and its worker tell each other, and the pattern both write into blocks.
import type { Heap, SharedHeapHandle } from '@hakmem/allocator';

/** The host thread id the page gives its worker (`attachHeap`'s `hostThreadId`, `watch`'s `threadId`). */
export const WORKER_HOST_ID = 1;

/** Words of the control array (a SharedArrayBuffer of its own, not part of the heap). */
export const CTL_GO = 0; // the page sets it to 1: the worker starts its work
export const CTL_DONE = 1; // the worker sets it to 1 when its work is done (before it detaches)
export const CTL_WORDS = 2;

/** A block, the size asked for, and the word every int32 of it holds. */
export interface Block {
  readonly ptr: number;
  readonly size: number;
  readonly mark: number;
}

/** The page → the worker. */
export interface WorkerJob {
  readonly handle: SharedHeapHandle;
  readonly control: SharedArrayBuffer;
  /** Blocks the page allocated and filled (side 0): the worker checks them all. */
  readonly pageBlocks: readonly Block[];
  /** Indexes into pageBlocks the worker frees: remote frees (the page owns their slabs and spans). */
  readonly freeIndexes: readonly number[];
  /** Blocks the worker allocates. */
  readonly blocks: number;
}

/** The worker → the page. */
export type WorkerMessage =
  | { readonly type: 'attached'; readonly tid: number }
  | { readonly type: 'done'; readonly report: WorkerReport }
  | { readonly type: 'error'; readonly message: string };

export interface WorkerReport {
  /** The worker's heap thread id. */
  readonly tid: number;
  /** Blocks of the page it found intact. */
  readonly pageBlocksChecked: number;
  /** Blocks of the page it freed (remote frees). */
  readonly remoteFrees: number;
  /** Blocks it allocated and filled. */
  readonly allocated: number;
  /** Of those, freed again by the worker itself. */
  readonly freedOwn: number;
  /** Its blocks still live, handed to the page (which checks and frees them). */
  readonly kept: readonly Block[];
  /** Blocks its page box and pool-refill sent to another thread's remote-free list. */
  readonly sentToOwners: number;
  /** True once `detach()` returned. */
  readonly detached: boolean;
}

/**
 * The sizes of block `i`: mostly tiny (≤ 2 KiB), every 8th mid (pool, ≤ 64 KiB), every
 * 50th an L2.5 block (64 KiB – 1 MiB). Multiples of 4 bytes, so that an Int32Array covers them.
 */
export function sizeOf(i: number): number {
  if (i % 50 === 49) return 65_536 + ((i * 4_099) % 50_000) * 4;
  if (i % 8 === 7) return 2_052 + ((i * 997) % 15_000) * 4;
  return 4 + ((i * 37) % 512) * 4;
}

/** The word every int32 of block `i` of side `side` (0 the page, 1 the worker) holds. */
export function markOf(side: number, i: number): number {
  return ((side + 1) << 24) | i;
}

/**
 * Allocates block `i` of side `side` and fills it with its mark, through a typed-array
 * view of the heap (made after the malloc: a view is not kept across an allocation).
 * Throws when the heap is out of memory.
 */
export function allocate(heap: Heap, side: number, i: number): Block {
  const size = sizeOf(i);
  const ptr = heap.malloc(size);
  if (ptr === 0) throw new Error(`out of memory allocating ${size} bytes`);
  const b = { ptr, size, mark: markOf(side, i) };
  heap.i32(ptr, size >> 2).fill(b.mark);
  return b;
}

/** True when every word of the block still holds its mark. */
export function holds(heap: Heap, b: Block): boolean {
  const v = heap.i32(b.ptr, b.size >> 2);
  for (let k = 0; k < v.length; k++) if (v[k] !== b.mark) return false;
  return true;
}
