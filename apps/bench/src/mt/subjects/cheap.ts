import type { Subject } from '../../subject.js';
import type { MtHost, MtSubject, MtSubjectOptions } from '../api.js';

/**
 * The module of @libmedia/cheap that holds its heap (`Allocator`, `initThread`). Named
 * through a variable so tsc does not resolve it: the package's own typings (dist/esm)
 * are written for its TypeScript transformer, and its Node build (dist/mjs) has none.
 */
const CHEAP_INTERNAL = '@libmedia/cheap/internal';

/** The part of cheap's heap module this subject uses. */
interface CheapAllocator {
  malloc(size: number): number;
  free(ptr: number): void;
}
interface CheapInternal {
  readonly Allocator: CheapAllocator;
  initThread(options: { memory: WebAssembly.Memory; disableAsm?: boolean }): Promise<void>;
}

/** What the workers get: the shared memory, and its size in pages (for cheap's config). */
interface CheapHandle {
  readonly memory: WebAssembly.Memory;
  readonly initialPages: number;
  readonly maximumPages: number;
}

const PAGE = 65536;

/**
 * cheap reads its heap's size from the environment when its module is first imported
 * (CHEAP_HEAP_INITIAL / CHEAP_HEAP_MAXIMUM, in 64 KiB pages; its default is 265 pages,
 * then it grows by 1 MiB steps): set before the import, in each thread.
 */
export function configureCheap(handle: Pick<CheapHandle, 'initialPages' | 'maximumPages'>): void {
  process.env.CHEAP_HEAP_INITIAL = String(handle.initialPages);
  process.env.CHEAP_HEAP_MAXIMUM = String(handle.maximumPages);
}

/** cheap's heap size for a workload that needs `arenaBytes` (+ its own 1 MiB stack and headers), room to grow 2×. */
export function cheapPages(arenaBytes: number): Pick<CheapHandle, 'initialPages' | 'maximumPages'> {
  const initialPages = Math.ceil(arenaBytes / PAGE) + 32;
  return { initialPages, maximumPages: initialPages * 2 };
}

export async function importCheap(): Promise<CheapInternal> {
  return (await import(CHEAP_INTERNAL)) as CheapInternal;
}

/**
 * @libmedia/cheap's allocator (`AllocatorJS`: a free list of size-ordered skip lists over
 * one WebAssembly.Memory, codemix/malloc's design), shared by every thread: its main-thread
 * import creates the shared memory and initialises the heap; each worker calls
 * `initThread({ memory })`, which builds its own AllocatorJS over the same heap without
 * re-initialising it. Every malloc and free takes cheap's one global heap mutex (spinning:
 * `lock(heapMutex, true)`).
 */
export class CheapSubject implements Subject {
  readonly name = 'cheap';
  private readonly allocator: CheapAllocator;
  private readonly memory: WebAssembly.Memory;
  private u8: Uint8Array;
  private highWater: number;

  constructor(allocator: CheapAllocator, memory: WebAssembly.Memory) {
    this.allocator = allocator;
    this.memory = memory;
    this.u8 = new Uint8Array(memory.buffer);
    this.highWater = 0;
  }

  malloc(size: number): number {
    const ptr = this.allocator.malloc(size);
    const end = ptr + size;
    if (ptr !== 0 && end > this.highWater) this.highWater = end;
    return ptr;
  }

  free(ptr: number): void {
    this.allocator.free(ptr);
  }

  /**
   * The highest block end this thread saw: cheap carves its memory from the bottom (its
   * memory's size says little: it starts at the configured pages). The harness takes the
   * max over the threads.
   */
  footprint(): number {
    return this.highWater;
  }

  poke(ptr: number, value: number): void {
    if (ptr >= this.u8.length) this.refresh();
    this.u8[ptr] = value;
  }

  peek(ptr: number): number {
    if (ptr >= this.u8.length) this.refresh();
    return this.u8[ptr]!;
  }

  /** Another thread grew the memory: a new view over its longer buffer. */
  private refresh(): void {
    this.u8 = new Uint8Array(this.memory.buffer);
  }
}

/** Checks the package is installed (without importing it: its import creates the heap). */
export function loadCheapMt(): MtSubject {
  import.meta.resolve(CHEAP_INTERNAL);
  return {
    name: 'cheap',
    async create(options: MtSubjectOptions): Promise<MtHost> {
      const pages = cheapPages(options.arenaBytes);
      configureCheap(pages);
      await importCheap();
      const memory = (globalThis as { CHeap?: { Memory?: WebAssembly.Memory } }).CHeap?.Memory;
      if (!(memory instanceof WebAssembly.Memory)) throw new Error('@libmedia/cheap: no CHeap.Memory after import (not its main thread?)');
      const handle: CheapHandle = { memory, ...pages };
      return { handle };
    },
    async attach(handle: unknown): Promise<Subject> {
      const h = handle as CheapHandle;
      configureCheap(h);
      const cheap = await importCheap();
      await cheap.initThread({ memory: h.memory });
      return new CheapSubject(cheap.Allocator, h.memory);
    },
    detach: () => {},
  };
}
