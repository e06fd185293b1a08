import type { HeapViews } from '@hakmem/contracts';

/**
 * The `views` object of a backend. One instance per backend per thread; its identity
 * never changes. Every field is defined by the constructor in the same order, so all
 * instances share one hidden class.
 *
 * Over a growable SharedArrayBuffer or a resizable ArrayBuffer the views are
 * length-tracking (no length argument), so they follow growth and are never replaced.
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

  constructor(buffer: ArrayBuffer | SharedArrayBuffer) {
    this.version = -1;
    this.cover(buffer);
  }

  /** Replaces every field with a view over the whole of `buffer` and bumps `version`. */
  cover(buffer: ArrayBuffer | SharedArrayBuffer): void {
    this.u8 = new Uint8Array(buffer);
    this.i8 = new Int8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.i16 = new Int16Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.f32 = new Float32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.version++;
  }
}
