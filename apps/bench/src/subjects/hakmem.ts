import type { Subject, SubjectOptions } from '../subject.js';

/**
 * TODO(@hakmem/allocator): this adapter is written against the heap API as announced,
 * not yet final. It expects the package to export
 *
 *   createHeap(options?: { maxBytes?: number }): Heap | Promise<Heap>
 *
 * where Heap has
 *   malloc(size: number): number      0 on failure
 *   free(ptr: number): void
 *   u8: Uint8Array                    a view over the whole memory (re-read after growth)
 *     or buffer(): ArrayBufferLike    the memory itself
 *   stats(): { footprint: number }    bytes taken from the backend (high-water mark)
 *     or footprint(): number
 *
 * Once the API settles: add @hakmem/allocator to this app's dependencies, import it
 * statically with its own types, and delete the shape checks below.
 */
export interface HakmemHeap {
  malloc(size: number): number;
  free(ptr: number): void;
  readonly u8?: Uint8Array;
  buffer?(): ArrayBufferLike;
  stats?(): { readonly footprint: number };
  footprint?(): number;
}

interface HakmemModule {
  createHeap(options?: { maxBytes?: number }): HakmemHeap | Promise<HakmemHeap>;
}

/** The heap's own default limit, and the most it accepts (see HeapOptions.maxBytes). */
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
const LIMIT_MAX_BYTES = 2 * 1024 * 1024 * 1024 - 64 * 1024;

/**
 * Imports @hakmem/allocator. The specifier is held in a variable so that type-checking
 * this app neither needs the package nor checks its (in-progress) sources.
 */
export async function loadHakmem(): Promise<HakmemModule> {
  const specifier = '@hakmem/allocator';
  const mod = (await import(specifier)) as Partial<HakmemModule>;
  if (typeof mod.createHeap !== 'function') throw new Error('@hakmem/allocator exports no createHeap()');
  return mod as HakmemModule;
}

function viewOf(heap: HakmemHeap): Uint8Array {
  if (heap.u8 instanceof Uint8Array) return heap.u8;
  if (typeof heap.buffer === 'function') return new Uint8Array(heap.buffer());
  throw new Error('@hakmem/allocator: the heap exposes neither u8 nor buffer()');
}

function footprintOf(heap: HakmemHeap): () => number {
  if (typeof heap.footprint === 'function') return () => heap.footprint!();
  if (typeof heap.stats === 'function') return () => heap.stats!().footprint;
  throw new Error('@hakmem/allocator: the heap exposes neither footprint() nor stats().footprint');
}

/** hakmem's default heap, as `createHeap()` composes it. */
export class HakmemSubject implements Subject {
  readonly name = 'hakmem';
  private u8: Uint8Array;

  constructor(
    private readonly heap: HakmemHeap,
    private readonly readFootprint: () => number,
  ) {
    this.u8 = viewOf(heap);
  }

  malloc(size: number): number {
    return this.heap.malloc(size);
  }

  free(ptr: number): void {
    this.heap.free(ptr);
  }

  footprint(): number {
    return this.readFootprint();
  }

  poke(ptr: number, value: number): void {
    const u8 = ptr < this.u8.length ? this.u8 : this.refresh();
    u8[ptr] = value;
  }

  peek(ptr: number): number {
    const u8 = ptr < this.u8.length ? this.u8 : this.refresh();
    return u8[ptr]!;
  }

  /** The memory grew (a fixed-length view went short, or a wasm buffer was detached). */
  private refresh(): Uint8Array {
    this.u8 = viewOf(this.heap);
    return this.u8;
  }
}

export async function createHakmemSubject(options: SubjectOptions): Promise<Subject> {
  const { createHeap } = await loadHakmem();
  const maxBytes = Math.min(Math.max(options.arenaBytes, DEFAULT_MAX_BYTES), LIMIT_MAX_BYTES);
  return hakmemSubjectOf(await createHeap({ maxBytes }));
}

/** Wraps a heap of the expected shape (throws if it is not). */
export function hakmemSubjectOf(heap: HakmemHeap): Subject {
  return new HakmemSubject(heap, footprintOf(heap));
}
