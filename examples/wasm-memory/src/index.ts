// A hakmem heap inside a wasm module's own memory, driven from JS.
//
// 1. kernels.wat is compiled with wabt (an npm package: the WebAssembly Binary Toolkit
//    built to JS) when the example loads — no .wasm file is kept or downloaded;
// 2. the module is instantiated; it exports its memory and imports hakmem's malloc/free;
// 3. the heap is built over that memory: createWasmBackend({ memory, maxBytes });
// 4. JS allocates blocks and fills them through typed-array views, wasm functions
//    process them in place (or allocate new blocks through the imports), JS reads the
//    results and frees.
import { readFile } from 'node:fs/promises';
import wabtInit from 'wabt';
import { createHeap, type Heap } from '@hakmem/allocator';
import { createWasmBackend } from '@hakmem/memory-backend';

/** The module's memory maximum (512 pages, see kernels.wat): the heap's maxBytes. */
export const MAX_BYTES = 512 * 65536;

/** The functions kernels.wat exports (pointers are byte offsets in the memory, i.e. hakmem pointers). */
export interface Kernels {
  sum_f64(ptr: number, n: number): number;
  axpb_f64(ptr: number, n: number, k: number, c: number): void;
  upper_ascii(ptr: number, len: number): number;
  prefix_sums_f64(src: number, n: number): number;
  make_list(n: number): number;
  sum_list(head: number): number;
  free_list(head: number): void;
}

/** Compiles kernels.wat to a WebAssembly.Module (wabt's parser and binary writer; validated). */
export async function compileKernels(): Promise<WebAssembly.Module> {
  const text = await readFile(new URL('./kernels.wat', import.meta.url), 'utf8');
  const wabt = await wabtInit();
  const parsed = wabt.parseWat('kernels.wat', text);
  try {
    parsed.resolveNames();
    parsed.validate();
    const { buffer } = parsed.toBinary({});
    return await WebAssembly.compile(new Uint8Array(buffer));
  } finally {
    parsed.destroy();
  }
}

/** A heap over a kernels instance's memory, and the instance's functions. */
export interface WasmHeap {
  readonly heap: Heap;
  readonly memory: WebAssembly.Memory;
  readonly kernels: Kernels;
}

/**
 * Instantiates the kernels and builds a hakmem heap over the memory the module exports.
 * The module's malloc/free imports call that heap (they are only called after this
 * returns, once the heap exists).
 */
export async function loadKernels(module?: WebAssembly.Module): Promise<WasmHeap> {
  const compiled = module ?? (await compileKernels());
  const box: { heap?: Heap } = {};
  const instance = await WebAssembly.instantiate(compiled, {
    hakmem: {
      malloc: (size: number): number => box.heap!.malloc(size),
      free: (ptr: number): void => box.heap!.free(ptr),
    },
  });
  const memory = instance.exports['memory'] as WebAssembly.Memory;
  const heap = createHeap({ backend: createWasmBackend({ memory, maxBytes: MAX_BYTES }) });
  box.heap = heap;
  return { heap, memory, kernels: instance.exports as unknown as Kernels };
}
