import {
  ErrorCode, HakmemError, PAGE_SHIFT,
  type BackendCapabilities, type BackendOptions, type MemoryBackend, type SharedBackendHandle,
} from '@hakmem/contracts';
import { capabilitiesOf, checkShareable, isSharedBuffer, growTarget, resolveOptions, shrinkable } from './common.js';
import { Views } from './views.js';

/**
 * A backend over a growable `SharedArrayBuffer` (shared) or a resizable `ArrayBuffer`
 * (not shared). The buffer object never changes; the views are fixed-length over the
 * length this thread last saw (length-tracking views are slow in V8: see views.ts), so
 * `grow` re-covers them, and a thread sees another thread's growth after `refresh()`,
 * exactly as with a shared wasm memory.
 *
 * Not shared, it can shrink (`capabilities.canShrink`): `resize` of a resizable
 * `ArrayBuffer` to a smaller length gives the pages back to the OS (V8 decommits them:
 * the process's RSS falls), and a later `resize` up hands out zeroed pages.
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
    this.shared = isSharedBuffer(buf);
    this.maxBytes = maxBytes;
    this.capabilities = capabilitiesOf(false, this.shared, !this.shared);
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

  /** Not shared only: `resize` down, then the views re-covered over the new length. */
  shrink(toPages: number): boolean {
    const oldBytes = this.buf.byteLength;
    if (this.shared || !shrinkable(oldBytes, toPages)) return false;
    const target = toPages << PAGE_SHIFT;
    if (target === oldBytes) return true;
    try {
      (this.buf as ArrayBuffer).resize(target);
    } catch {
      return false;
    }
    this.views.cover(this.buf, target);
    return true;
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
 * A backend over one plain `ArrayBuffer` (not shared) or `SharedArrayBuffer` (shared) of
 * `maxBytes`, allocated up front. V8 allocates a large buffer zeroed with calloc/mmap,
 * so the OS commits its pages when they are first touched: the physical footprint
 * follows what the heap touches, exactly as with real growth, while the virtual
 * reservation is the same as a resizable buffer's. `grow` is bookkeeping of the length
 * (in a 4-byte shared cell when shared, so every attached worker sees it) and the views
 * cover the whole buffer for good: nothing to refresh, and every access is an ordinary
 * typed-array access (no resizable-buffer bounds handling: see the README's figures).
 */
export class ReservedNativeBackend implements MemoryBackend {
  readonly kind = 'native';
  readonly shared: boolean;
  readonly maxBytes: number;
  readonly capabilities: BackendCapabilities;
  readonly views: Views;
  private readonly buf: ArrayBuffer | SharedArrayBuffer;
  /** Current length in pages: word 0 (shared), or `pages` (not shared). */
  private readonly cell: Int32Array | null;
  private pages: number;

  /**
   * Pre: `buf.byteLength >= maxBytes`, a whole number of pages; `cell` is a shared
   * Int32Array of at least one word when `buf` is shared (holding the length in pages),
   * null otherwise; `initialBytes` is a whole number of pages (ignored when attaching).
   */
  constructor(buf: ArrayBuffer | SharedArrayBuffer, maxBytes: number, cell: Int32Array | null, initialBytes: number) {
    this.shared = isSharedBuffer(buf);
    this.maxBytes = maxBytes;
    this.capabilities = capabilitiesOf(true, this.shared);
    this.views = new Views(buf, maxBytes);
    this.buf = buf;
    this.cell = cell;
    this.pages = initialBytes >>> PAGE_SHIFT;
  }

  byteLength(): number {
    return (this.cell === null ? this.pages : Atomics.load(this.cell, 0)) << PAGE_SHIFT;
  }

  /** Callers serialise across threads (os-boundary's lock); the cell is still updated atomically. */
  grow(deltaPages: number): number {
    const old = this.cell === null ? this.pages : Atomics.load(this.cell, 0);
    const target = growTarget(old << PAGE_SHIFT, deltaPages, this.maxBytes);
    if (target < 0) return -1;
    if (this.cell === null) this.pages = target >>> PAGE_SHIFT;
    else if (Atomics.compareExchange(this.cell, 0, old, target >>> PAGE_SHIFT) !== old) return -1;
    return old;
  }

  /**
   * Cannot shrink (`capabilities.canShrink` false): a plain buffer has no smaller length
   * to take, and forgetting the length would not give back the pages it touched.
   */
  shrink(_toPages: number): boolean {
    return false;
  }

  /** The views cover the whole reserved buffer: nothing to do. */
  refresh(): boolean {
    return false;
  }

  buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.buf;
  }

  share(): SharedBackendHandle {
    checkShareable(this.kind, this.shared);
    return { kind: this.kind, memory: this.buf as SharedArrayBuffer, maxBytes: this.maxBytes, length: this.cell!.buffer as SharedArrayBuffer };
  }
}

/**
 * Allocates the reserved buffer. A host that cannot reserve `maxBytes` of address space
 * (a 32-bit host, a `ulimit -v`) refuses with a RangeError: turned into a typed error
 * that says what to do instead.
 */
function reserve(maxBytes: number, shared: boolean): ArrayBuffer | SharedArrayBuffer {
  try {
    return shared ? new SharedArrayBuffer(maxBytes) : new ArrayBuffer(maxBytes);
  } catch (error) {
    throw new HakmemError(
      ErrorCode.OUT_OF_MEMORY,
      `cannot reserve ${maxBytes} bytes for a native backend (${error instanceof Error ? error.message : String(error)}); ` +
      'pass a smaller maxBytes, or growable: true to grow a resizable buffer instead',
      { box: 'memory-backend' },
    );
  }
}

/**
 * Creates a native backend of `initialBytes`, growing to `maxBytes`: by default over one
 * reserved plain buffer (see `ReservedNativeBackend`); with `growable: true` over a
 * resizable `ArrayBuffer` / growable `SharedArrayBuffer` (`NativeBackend`).
 * Throws `HakmemError(E_INVALID_OPTION)` for bad options, `HakmemError(E_OUT_OF_MEMORY)`
 * when the host cannot reserve `maxBytes`.
 */
export function createNativeBackend(options?: BackendOptions): MemoryBackend {
  const { initialBytes, maxBytes, shared, growable } = resolveOptions(options);
  if (!growable) {
    const buf = reserve(maxBytes, shared);
    const cell = shared ? new Int32Array(new SharedArrayBuffer(4)) : null;
    if (cell !== null) cell[0] = initialBytes >>> PAGE_SHIFT;
    return new ReservedNativeBackend(buf, maxBytes, cell, initialBytes);
  }
  const buf = shared
    ? new SharedArrayBuffer(initialBytes, { maxByteLength: maxBytes })
    : new ArrayBuffer(initialBytes, { maxByteLength: maxBytes });
  return new NativeBackend(buf, maxBytes);
}
