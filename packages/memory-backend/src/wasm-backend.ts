import {
  PAGE_SHIFT,
  type BackendCapabilities, type MemoryBackend, type SharedBackendHandle, type WasmMemoryLike,
} from '@hakmem/contracts';
import type { WasmBackendOptions } from './api.js';
import { capabilitiesOf, checkShareable, isSharedBuffer, growTarget, invalidOption, resolveOptions } from './common.js';
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
    this.shared = isSharedBuffer(buffer);
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

  /** A wasm memory cannot shrink (`capabilities.canShrink` false). */
  shrink(_toPages: number): boolean {
    return false;
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
 * `maxBytes`, shared when `options.shared`; or, with `options.memory`, over that
 * existing memory (see `WasmBackendOptions.memory`).
 * Throws `HakmemError(E_INVALID_OPTION)` for bad options: with `memory`, also for a
 * value that is not a `WebAssembly.Memory`, a `shared` that disagrees with it, or a
 * `maxBytes` below its current size.
 */
export function createWasmBackend(options?: WasmBackendOptions): MemoryBackend {
  if (options?.memory !== undefined) return existingMemoryBackend(options.memory, options);
  const { initialBytes, maxBytes, shared } = resolveOptions(options);
  const memory = new WebAssembly.Memory({
    initial: initialBytes >>> PAGE_SHIFT,
    maximum: maxBytes >>> PAGE_SHIFT,
    shared,
  });
  return new WasmBackend(memory, maxBytes);
}

function existingMemoryBackend(given: WasmMemoryLike, options: WasmBackendOptions): MemoryBackend {
  if (!(given instanceof WebAssembly.Memory)) throw invalidOption(`memory must be a WebAssembly.Memory, got ${String(given)}`);
  const memory: WebAssembly.Memory = given;
  const isShared = isSharedBuffer(memory.buffer);
  if (options.shared !== undefined && options.shared !== isShared) {
    throw invalidOption(`shared: ${String(options.shared)} disagrees with the memory given, which is ${isShared ? '' : 'not '}shared`);
  }
  const { initialBytes: _ignored, ...rest } = options;
  const { maxBytes } = resolveOptions({ ...rest, shared: isShared });
  const bytes = memory.buffer.byteLength;
  if (bytes > maxBytes) throw invalidOption(`maxBytes ${maxBytes} (in whole pages) is below the memory's current size ${bytes}`);
  return new WasmBackend(memory, maxBytes);
}
