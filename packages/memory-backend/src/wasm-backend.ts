import {
  PAGE_SHIFT,
  type BackendCapabilities, type BackendOptions, type MemoryBackend, type SharedBackendHandle,
} from '@hakmem/contracts';
import { capabilitiesOf, checkShareable, growTarget, resolveOptions } from './common.js';
import { Views } from './views.js';

/**
 * A backend over a `WebAssembly.Memory`. Growing a wasm memory replaces its buffer
 * object (in the growing thread at once; in other threads when they next read
 * `memory.buffer`), so the views are rebuilt by `grow` and by `refresh`.
 */
export class WasmBackend implements MemoryBackend {
  readonly kind = 'wasm';
  readonly shared: boolean;
  readonly maxBytes: number;
  readonly capabilities: BackendCapabilities;
  readonly views: Views;
  private readonly memory: WebAssembly.Memory;

  /** Pre: `maxBytes` is a whole number of pages, at most the memory's maximum. */
  constructor(memory: WebAssembly.Memory, maxBytes: number) {
    const buffer = memory.buffer as ArrayBuffer | SharedArrayBuffer;
    this.shared = buffer instanceof SharedArrayBuffer;
    this.maxBytes = maxBytes;
    this.capabilities = capabilitiesOf(false, this.shared);
    this.views = new Views(buffer);
    this.memory = memory;
  }

  byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  grow(deltaPages: number): number {
    if (growTarget(this.byteLength(), deltaPages, this.maxBytes) < 0) return -1;
    let oldPages: number;
    try {
      oldPages = this.memory.grow(deltaPages);
    } catch {
      // RangeError: the host refused (no address space / memory).
      return -1;
    }
    // Always re-cover: V8 hands out a new buffer object on every grow, even by 0 pages.
    this.views.cover(this.memory.buffer);
    return oldPages;
  }

  /**
   * One length comparison when nothing changed. Also notices a buffer detached by a
   * grow from inside wasm code (non-shared memory): its views read length 0.
   */
  refresh(): boolean {
    const buffer = this.memory.buffer;
    if (buffer.byteLength === this.views.u8.length) return false;
    this.views.cover(buffer);
    return true;
  }

  /** The memory's current buffer: in another thread it may be longer than the views until `refresh()`. */
  buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.memory.buffer;
  }

  share(): SharedBackendHandle {
    checkShareable(this.kind, this.shared);
    return { kind: this.kind, memory: this.memory, maxBytes: this.maxBytes };
  }
}

/**
 * Creates a backend over a new `WebAssembly.Memory` of `initialBytes`, with maximum
 * `maxBytes`, shared when `options.shared`.
 * Throws `HakmemError(E_INVALID_OPTION)` for bad options.
 */
export function createWasmBackend(options?: BackendOptions): MemoryBackend {
  const { initialBytes, maxBytes, shared } = resolveOptions(options);
  const memory = new WebAssembly.Memory({
    initial: initialBytes >>> PAGE_SHIFT,
    maximum: maxBytes >>> PAGE_SHIFT,
    shared,
  });
  return new WasmBackend(memory, maxBytes);
}
