import type { BackendOptions, WasmMemoryLike } from '@hakmem/contracts';

export type {
  BackendCapabilities, BackendKind, BackendOptions, HeapViews, MemoryBackend, SharedBackendHandle, WasmMemoryLike,
} from '@hakmem/contracts';

/** Options of `createWasmBackend`: the common ones, or an existing memory to manage. */
export interface WasmBackendOptions extends BackendOptions {
  /**
   * A `WebAssembly.Memory` that already exists (a module's exported memory, or one you
   * pass to a module as its import) to manage instead of a new one. It must be fresh:
   * zero from its current size on, with nothing the heap does not own below it (the heap
   * writes its header at offset 0). `shared` is the memory's own (a `shared` option
   * that disagrees throws); `initialBytes` is ignored (the size is the memory's);
   * `maxBytes` (default 256 MiB, rounded down to whole pages) must be at least the
   * current size, and should be at most the memory's own `maximum`: growth past it is
   * refused by the host (`grow` returns -1, the heap runs out of memory). Typed
   * structurally (`WasmMemoryLike`: no DOM library needed); checked to be a
   * `WebAssembly.Memory` at run time.
   */
  readonly memory?: WasmMemoryLike;
}

/** Default `maxBytes` of both backends: 256 MiB. */
export const DEFAULT_MAX_BYTES = 256 << 20;
