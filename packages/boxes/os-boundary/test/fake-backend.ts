import { PAGE_SHIFT, PAGE_SIZE, type HeapViews, type MemoryBackend, type SharedBackendHandle } from '@hakmem/contracts';

/** A test-only MemoryBackend whose growth can be made to fail on demand; not shared, it can shrink. */
export interface FakeBackend extends MemoryBackend {
  /** When true, `grow` returns -1 (as a backend at its maximum would). */
  failGrow: boolean;
  /** Calls to `grow`, successful or not. */
  growCalls: number;
  /** When true, `shrink` returns false (as a host that refuses would). */
  failShrink: boolean;
  /** Calls to `shrink`, successful or not. */
  shrinkCalls: number;
}

/**
 * A MemoryBackend over a resizable ArrayBuffer (or a growable SharedArrayBuffer when
 * `shared`), with length-tracking views. For os-boundary's tests only: the real ones
 * live in @hakmem/memory-backend.
 */
export function createFakeBackend(opts: { initialBytes?: number; maxBytes: number; shared?: boolean }): FakeBackend {
  const initial = opts.initialBytes ?? PAGE_SIZE;
  const memory = opts.shared === true
    ? new SharedArrayBuffer(initial, { maxByteLength: opts.maxBytes })
    : new ArrayBuffer(initial, { maxByteLength: opts.maxBytes });
  return fakeOver(memory, opts.maxBytes);
}

/** A second FakeBackend over the memory of `handle` (in another worker). */
export function attachFakeBackend(handle: SharedBackendHandle): FakeBackend {
  return fakeOver(handle.memory as SharedArrayBuffer, handle.maxBytes);
}

function fakeOver(memory: ArrayBuffer | SharedArrayBuffer, maxBytes: number): FakeBackend {
  const shared = memory instanceof SharedArrayBuffer;
  const views: HeapViews = {
    u8: new Uint8Array(memory), i8: new Int8Array(memory), u16: new Uint16Array(memory), i16: new Int16Array(memory),
    u32: new Uint32Array(memory), i32: new Int32Array(memory), f32: new Float32Array(memory), f64: new Float64Array(memory),
    version: 0,
  };
  const backend: FakeBackend = {
    kind: 'native',
    shared,
    maxBytes,
    capabilities: { pageSize: PAGE_SIZE, canShrink: !shared, canDecommit: false, viewsTrackGrowth: true, shareable: shared },
    views,
    failGrow: false,
    growCalls: 0,
    failShrink: false,
    shrinkCalls: 0,
    byteLength: () => memory.byteLength,
    grow(deltaPages: number): number {
      backend.growCalls++;
      const prev = memory.byteLength;
      const next = prev + deltaPages * PAGE_SIZE;
      if (backend.failGrow || next > maxBytes) return -1;
      if (memory instanceof SharedArrayBuffer) memory.grow(next);
      else memory.resize(next);
      return prev >>> PAGE_SHIFT;
    },
    shrink(toPages: number): boolean {
      backend.shrinkCalls++;
      if (shared || backend.failShrink || !Number.isInteger(toPages) || toPages < 1 || toPages * PAGE_SIZE > memory.byteLength) return false;
      (memory as ArrayBuffer).resize(toPages * PAGE_SIZE);
      return true;
    },
    refresh: () => false,
    buffer: () => memory,
    share: () => ({ kind: 'native', memory: memory as SharedArrayBuffer, maxBytes }),
  };
  return backend;
}
