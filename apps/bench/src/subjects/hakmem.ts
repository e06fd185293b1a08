import { createHeap, type Heap } from '@hakmem/allocator';
import type { HeapViews } from '@hakmem/contracts';
import type { Subject, SubjectOptions } from '../subject.js';

/** The heap's own default limit, and the most it accepts (see HeapOptions.maxBytes). */
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
const LIMIT_MAX_BYTES = 2 * 1024 * 1024 * 1024 - 64 * 1024;

/**
 * hakmem's default heap, as `createHeap()` composes it. The harness touches blocks
 * through the backend's views object, whose identity is stable and whose fields follow
 * growth (length-tracking over a resizable buffer; replaced on a wasm grow).
 */
export class HakmemSubject implements Subject {
  readonly name = 'hakmem';
  private readonly heap: Heap;
  private readonly views: HeapViews;

  constructor(heap: Heap) {
    this.heap = heap;
    this.views = heap.views;
  }

  malloc(size: number): number {
    return this.heap.malloc(size);
  }

  free(ptr: number): void {
    this.heap.free(ptr);
  }

  /** The backend's high-water mark (allocates a stats record: called once per run). */
  footprint(): number {
    return this.heap.stats().footprint;
  }

  poke(ptr: number, value: number): void {
    this.views.u8[ptr] = value;
  }

  peek(ptr: number): number {
    return this.views.u8[ptr]!;
  }
}

/** The subject over a heap sized for the workload (at least the heap's default maximum). */
export function createHakmemSubject(options: SubjectOptions): Subject {
  const maxBytes = Math.min(Math.max(options.arenaBytes, DEFAULT_MAX_BYTES), LIMIT_MAX_BYTES);
  return new HakmemSubject(createHeap({ maxBytes }));
}

/** Wraps a heap you composed yourself (e.g. `compose()` with a box swapped). */
export function hakmemSubjectOf(heap: Heap): Subject {
  return new HakmemSubject(heap);
}
