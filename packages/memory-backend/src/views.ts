import type { HeapViews } from '@hakmem/contracts';

/**
 * The `views` object of a backend. One instance per backend per thread; its identity
 * never changes. Every field is defined by the constructor in the same order, so all
 * instances share one hidden class.
 *
 * The views are always fixed-length: over a wasm memory's buffer (replaced on every
 * grow), and over the native backend's growable SharedArrayBuffer or resizable
 * ArrayBuffer too, where `cover` is given the current length. Length-tracking views
 * over those buffers follow growth by themselves but are slow in V8 11 (Node 20): in a
 * read-modify-write loop over an Int32Array, a length-tracking view over a growable
 * SharedArrayBuffer ran 13–15 M iterations/s against 85–120 for a fixed-length one, and
 * over a resizable ArrayBuffer 58–79 against 63–100 (plain ArrayBuffer 87–110, wasm
 * memory 82–95); see packages/memory-backend/README.md.
 */
export class Views implements HeapViews {
  u8!: Uint8Array;
  i8!: Int8Array;
  u16!: Uint16Array;
  i16!: Int16Array;
  u32!: Uint32Array;
  i32!: Int32Array;
  f32!: Float32Array;
  f64!: Float64Array;
  version: number;

  constructor(buffer: ArrayBuffer | SharedArrayBuffer, byteLength: number = buffer.byteLength) {
    this.version = -1;
    this.cover(buffer, byteLength);
  }

  /**
   * Replaces every field with a fixed-length view over the first `byteLength` bytes of
   * `buffer` (a multiple of 8) and bumps `version`.
   */
  cover(buffer: ArrayBuffer | SharedArrayBuffer, byteLength: number = buffer.byteLength): void {
    this.u8 = new Uint8Array(buffer, 0, byteLength);
    this.i8 = new Int8Array(buffer, 0, byteLength);
    this.u16 = new Uint16Array(buffer, 0, byteLength >>> 1);
    this.i16 = new Int16Array(buffer, 0, byteLength >>> 1);
    this.u32 = new Uint32Array(buffer, 0, byteLength >>> 2);
    this.i32 = new Int32Array(buffer, 0, byteLength >>> 2);
    this.f32 = new Float32Array(buffer, 0, byteLength >>> 2);
    this.f64 = new Float64Array(buffer, 0, byteLength >>> 3);
    this.version++;
  }
}
