import type { Subject, SubjectOptions } from '../subject.js';

/** Bytes of one page of the segregated list (each page holds blocks of one class). */
const PAGE = 65536;

/**
 * Classes: one per 16 bytes up to 2 MiB (the largest block of any workload, vm's), so the
 * class tables are indexed in bounds for every size the harness asks for. (With 4096
 * classes, sizes from 64 KiB up indexed past the tables and malloc returned undefined,
 * which random-mixed's slots stored as 0: `large` posted a figure for no work, and the
 * scenarios failed their read-back.)
 */
const CLASSES = (2 * 1024 * 1024) / 16 + 1;

/**
 * A reference point, not an allocator to use: the minimal segregated free list in plain
 * JS that the tiny-path issue names as the thing to approach. 16-byte classes, one 64 KiB
 * page per class at a time carved by a bump pointer, a page → class table for free, and
 * per-class LIFO free lists linked through the blocks' first word. No bad-input checks,
 * no reuse of a page by another class, no shrinking, no threads, so it is for the std
 * bands only (on `pool` and `large` one page per class exhausts its buffer and its
 * mallocs fail). Its distance from `null` is what a bare-bones allocator costs in this
 * harness; hakmem's distance from it is what the boxes, the checks and the shared-memory
 * metadata cost.
 *
 * Hot paths use literals and only this object's own typed arrays (see the gatekeeper's
 * note on module constants in V8), so it is as fast as this harness lets plain JS be.
 */
export class SeglistSubject implements Subject {
  readonly name = 'seglist';
  private readonly u8: Uint8Array;
  private readonly i32: Int32Array;
  /** Per class (size / 16): free-list head, bump pointer, end of the bump page. */
  private readonly heads: Int32Array;
  private readonly bump: Int32Array;
  private readonly end: Int32Array;
  /** Page index → class. */
  private readonly pageClass: Int32Array;
  private top: number;

  constructor(bytes: number) {
    const buffer = new ArrayBuffer(bytes);
    this.u8 = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.heads = new Int32Array(CLASSES);
    this.bump = new Int32Array(CLASSES);
    this.end = new Int32Array(CLASSES);
    this.pageClass = new Int32Array(bytes / PAGE);
    this.top = PAGE;
  }

  malloc(size: number): number {
    const c = (size + 15) >>> 4;
    const h = this.heads[c]!;
    if (h !== 0) {
      this.heads[c] = this.i32[h >>> 2]!;
      return h;
    }
    return this.carve(c);
  }

  /** Empty list: the next block of the class's bump page, or a new page (0 when full). */
  private carve(c: number): number {
    const size = c << 4;
    let p = this.bump[c]!;
    if (p === 0 || p + size > this.end[c]!) {
      const pages = Math.ceil(size / PAGE);
      if (this.top + pages * PAGE > this.u8.length) return 0;
      p = this.top;
      this.top += pages * PAGE;
      for (let i = 0; i < pages; i++) this.pageClass[(p >>> 16) + i] = c;
      this.end[c] = p + pages * PAGE;
    }
    this.bump[c] = p + size;
    return p;
  }

  free(ptr: number): void {
    const c = this.pageClass[ptr >>> 16]!;
    this.i32[ptr >>> 2] = this.heads[c]!;
    this.heads[c] = ptr;
  }

  /** Pages carved so far (the buffer is fixed; this is how far it has been used). */
  footprint(): number {
    return this.top;
  }

  poke(ptr: number, value: number): void {
    this.u8[ptr] = value;
  }

  peek(ptr: number): number {
    return this.u8[ptr]!;
  }
}

export function createSeglistSubject(options: SubjectOptions): Subject {
  return new SeglistSubject(options.arenaBytes);
}
