import { MAX_HEAP_BYTES, PAGE_MASK, type MemoryBackend, type SharedBackendHandle } from '@hakmem/contracts';
import { invalidOption, isSharedBuffer } from './common.js';
import { NativeBackend, ReservedNativeBackend } from './native-backend.js';
import { WasmBackend } from './wasm-backend.js';

/**
 * Builds, in this worker, a backend over the memory of `handle` (from `share()` in
 * another worker, carried by `postMessage`). Both backends then see the same bytes and
 * each other's growth (wasm: after `refresh()`).
 * Throws `HakmemError(E_INVALID_OPTION)` when `handle` does not describe a shared memory
 * of its kind with a valid `maxBytes`.
 */
export function attachBackend(handle: SharedBackendHandle): MemoryBackend {
  const { kind, memory, maxBytes, length } = handle;
  if (!Number.isInteger(maxBytes) || (maxBytes & PAGE_MASK) !== 0 || maxBytes <= 0 || maxBytes > MAX_HEAP_BYTES) {
    throw invalidOption(`handle.maxBytes must be a whole number of pages up to ${MAX_HEAP_BYTES}, got ${String(maxBytes)}`);
  }
  if (kind === 'wasm' && memory instanceof WebAssembly.Memory && isSharedBuffer(memory.buffer)) {
    return new WasmBackend(memory, maxBytes);
  }
  if (kind === 'native' && isSharedBuffer(memory) && memory.growable && memory.maxByteLength >= maxBytes) {
    return new NativeBackend(memory, maxBytes);
  }
  if (kind === 'native' && isSharedBuffer(memory) && !memory.growable && memory.byteLength >= maxBytes
    && isSharedBuffer(length) && length.byteLength >= 4) {
    return new ReservedNativeBackend(memory, maxBytes, new Int32Array(length, 0, 1), 0);
  }
  throw invalidOption(
    `handle of kind ${String(kind)} must carry a shared ${kind === 'wasm' ? 'WebAssembly.Memory' : 'SharedArrayBuffer (growable, or of maxBytes with its length cell)'} ` +
    `(from share() of a backend created with shared: true)`,
  );
}
