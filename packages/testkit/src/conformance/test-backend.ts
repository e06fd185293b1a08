import {
  ErrorCode, HakmemError, PAGE_SHIFT, PAGE_SIZE,
  type BackendCapabilities, type HeapViews, type MemoryBackend, type SharedBackendHandle,
} from '@hakmem/contracts';

/**
 * The backend the os-boundary suite uses when it is given none: a resizable `ArrayBuffer`
 * (or a growable `SharedArrayBuffer` when `shared`) with fixed-length views re-covered by
 * `grow` and `refresh`, so a boundary that reads through stale views after growth fails.
 * testkit imports no backend package; this is the least a `MemoryBackend` can be (its own
 * test runs it through `memoryBackendConformance`). Not shared, it can shrink. Its `share()` handle is that of a
 * growable native backend: `attachBackend` of `@hakmem/memory-backend` attaches to it.
 */
export function createTestBackend(options: { readonly initialBytes: number; readonly maxBytes: number; readonly shared: boolean }): MemoryBackend {
  const { initialBytes, maxBytes, shared } = options;
  const buf = shared ? new SharedArrayBuffer(initialBytes, { maxByteLength: maxBytes }) : new ArrayBuffer(initialBytes, { maxByteLength: maxBytes });
  return new TestBackend(buf, maxBytes);
}

class TestBackend implements MemoryBackend {
  readonly kind = 'native';
  readonly shared: boolean;
  readonly capabilities: BackendCapabilities;
  readonly views: HeapViews;

  constructor(private readonly buf: ArrayBuffer | SharedArrayBuffer, readonly maxBytes: number) {
    this.shared = buf instanceof SharedArrayBuffer;
    this.capabilities = { pageSize: PAGE_SIZE, canShrink: !this.shared, canDecommit: false, viewsTrackGrowth: false, shareable: this.shared };
    this.views = { ...viewsOver(buf, buf.byteLength), version: 0 };
  }

  byteLength(): number {
    return this.buf.byteLength;
  }

  grow(deltaPages: number): number {
    const old = this.buf.byteLength;
    if (deltaPages >>> 0 !== deltaPages || old + deltaPages * PAGE_SIZE > this.maxBytes) return -1;
    try {
      if (this.buf instanceof SharedArrayBuffer) this.buf.grow(old + deltaPages * PAGE_SIZE);
      else this.buf.resize(old + deltaPages * PAGE_SIZE);
    } catch {
      return -1;
    }
    this.cover();
    return old >>> PAGE_SHIFT;
  }

  /** Not shared only: a resizable ArrayBuffer resized down (os-boundary's `releaseTop` cases use it). */
  shrink(toPages: number): boolean {
    const old = this.buf.byteLength;
    if (this.buf instanceof SharedArrayBuffer || !Number.isInteger(toPages) || toPages < 1 || toPages * PAGE_SIZE > old) return false;
    if (toPages * PAGE_SIZE === old) return true;
    try {
      this.buf.resize(toPages * PAGE_SIZE);
    } catch {
      return false;
    }
    this.cover();
    return true;
  }

  refresh(): boolean {
    if (this.views.u8.length === this.buf.byteLength) return false;
    this.cover();
    return true;
  }

  buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.buf;
  }

  share(): SharedBackendHandle {
    if (!(this.buf instanceof SharedArrayBuffer)) {
      throw new HakmemError(ErrorCode.INVALID_OPTION, 'share() needs a shared backend', { box: 'testkit-backend' });
    }
    return { kind: 'native', memory: this.buf, maxBytes: this.maxBytes };
  }

  private cover(): void {
    Object.assign(this.views, viewsOver(this.buf, this.buf.byteLength));
    this.views.version++;
  }
}

function viewsOver(buf: ArrayBuffer | SharedArrayBuffer, bytes: number): Omit<HeapViews, 'version'> {
  return {
    u8: new Uint8Array(buf, 0, bytes), i8: new Int8Array(buf, 0, bytes),
    u16: new Uint16Array(buf, 0, bytes >>> 1), i16: new Int16Array(buf, 0, bytes >>> 1),
    u32: new Uint32Array(buf, 0, bytes >>> 2), i32: new Int32Array(buf, 0, bytes >>> 2),
    f32: new Float32Array(buf, 0, bytes >>> 2), f64: new Float64Array(buf, 0, bytes >>> 3),
  };
}
