import {
  PAGE_SHIFT,
  type BackendCapabilities, type BackendOptions, type MemoryBackend, type SharedBackendHandle,
} from '@hakmem/contracts';
import { capabilitiesOf, checkShareable, growTarget, resolveOptions } from './common.js';
import { Views } from './views.js';

/**
 * A backend over a growable `SharedArrayBuffer` (shared) or a resizable `ArrayBuffer`
 * (not shared). The buffer object never changes; the views are fixed-length over the
 * length this thread last saw (length-tracking views are slow in V8: see views.ts), so
 * `grow` re-covers them, and a thread sees another thread's growth after `refresh()`,
 * exactly as with a shared wasm memory.
 */
export class NativeBackend implements MemoryBackend {
  readonly kind = 'native';
  readonly shared: boolean;
  readonly maxBytes: number;
  readonly capabilities: BackendCapabilities;
  readonly views: Views;
  private readonly buf: ArrayBuffer | SharedArrayBuffer;

  /** Pre: `buf` is growable / resizable up to at least `maxBytes`, a whole number of pages. */
  constructor(buf: ArrayBuffer | SharedArrayBuffer, maxBytes: number) {
    this.shared = buf instanceof SharedArrayBuffer;
    this.maxBytes = maxBytes;
    this.capabilities = capabilitiesOf(false, this.shared);
    this.views = new Views(buf);
    this.buf = buf;
  }

  byteLength(): number {
    return this.buf.byteLength;
  }

  /** Sets an absolute length, so callers in several threads must serialise (see the contract). */
  grow(deltaPages: number): number {
    const oldBytes = this.buf.byteLength;
    const target = growTarget(oldBytes, deltaPages, this.maxBytes);
    if (target < 0) return -1;
    try {
      if (this.shared) (this.buf as SharedArrayBuffer).grow(target);
      else (this.buf as ArrayBuffer).resize(target);
    } catch {
      // RangeError: the host refused (no memory), or another thread grew past `target`.
      return -1;
    }
    this.views.cover(this.buf, target);
    return oldBytes >>> PAGE_SHIFT;
  }

  /** Re-covers the views when the buffer is longer than they are (growth by another thread). */
  refresh(): boolean {
    const bytes = this.buf.byteLength;
    if (bytes === this.views.u8.length) return false;
    this.views.cover(this.buf, bytes);
    return true;
  }

  buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.buf;
  }

  share(): SharedBackendHandle {
    checkShareable(this.kind, this.shared);
    return { kind: this.kind, memory: this.buf as SharedArrayBuffer, maxBytes: this.maxBytes };
  }
}

/**
 * Creates a backend over a new growable `SharedArrayBuffer` (`options.shared`) or
 * resizable `ArrayBuffer` of `initialBytes`, with maximum length `maxBytes`.
 * Throws `HakmemError(E_INVALID_OPTION)` for bad options.
 */
export function createNativeBackend(options?: BackendOptions): MemoryBackend {
  const { initialBytes, maxBytes, shared } = resolveOptions(options);
  const buf = shared
    ? new SharedArrayBuffer(initialBytes, { maxByteLength: maxBytes })
    : new ArrayBuffer(initialBytes, { maxByteLength: maxBytes });
  return new NativeBackend(buf, maxBytes);
}
