import { MemPool } from '@thi.ng/malloc';
import type { Subject, SubjectOptions } from '../subject.js';

/**
 * Word index of `top` (the end of the carved region) in MemPool's state, which it keeps
 * at the start of its buffer (offset 0, as no `start` is given).
 */
const STATE_TOP = 2;

/**
 * @thi.ng/malloc's MemPool: a first-fit, address-ordered free list over one fixed
 * ArrayBuffer, with its defaults (align 8, split with minSplit 16, compact on free).
 * The pool is sized by the workload (`arenaBytes`); malloc returns 0 when it is full.
 */
export class ThingSubject implements Subject {
  readonly name = 'thing';
  private readonly pool: MemPool;
  private readonly u8: Uint8Array;
  private readonly state: Uint32Array;
  private highWater: number;

  constructor(arenaBytes: number) {
    this.pool = new MemPool({ size: arenaBytes });
    this.u8 = new Uint8Array(this.pool.buf);
    this.state = new Uint32Array(this.pool.buf, 0, STATE_TOP + 1);
    this.highWater = this.pool.stats().top;
  }

  malloc(size: number): number {
    const ptr = this.pool.malloc(size);
    this.track();
    return ptr;
  }

  /** MemPool's `calloc(bytes, fill)` takes the total. */
  calloc(n: number, size: number): number {
    const ptr = this.pool.calloc(n * size);
    this.track();
    return ptr;
  }

  /**
   * MemPool's own realloc (grows in place at the top, else free + malloc + copy). It
   * finds the block by walking the used list, as its free does. It returns a non-zero
   * address when the pointer is not in that list, so 0 is only "out of memory" here.
   */
  realloc(ptr: number, size: number): number {
    const out = this.pool.realloc(ptr, size);
    this.track();
    return out;
  }

  // No memalign: MemPool has none (the trace replay emulates it with malloc).

  /**
   * The buffer is fixed, so its size says nothing: the footprint is how far the pool
   * has carved into it. `top` grows only in malloc and realloc (free may lower it again).
   */
  private track(): void {
    const top = this.state[STATE_TOP]!;
    if (top > this.highWater) this.highWater = top;
  }

  free(ptr: number): void {
    this.pool.free(ptr);
  }

  footprint(): number {
    return this.highWater;
  }

  poke(ptr: number, value: number): void {
    this.u8[ptr] = value;
  }

  peek(ptr: number): number {
    return this.u8[ptr]!;
  }
}

export function createThingSubject(options: SubjectOptions): Subject {
  return new ThingSubject(options.arenaBytes);
}
