import { canBlockHere, lockAcquire, lockRelease } from '@hakmem/primitives';
import { MemPool } from '@thi.ng/malloc';
import type { Subject } from '../../subject.js';
import type { MtHost, MtSubject, MtSubjectOptions } from '../api.js';

/** Word index of `top` in MemPool's state (at the start of its buffer; see subjects/thing.ts). */
const STATE_TOP = 2;

/** What the workers get: the pool's buffer (its state inside) and the lock's. */
interface ThingHandle {
  readonly pool: SharedArrayBuffer;
  readonly lock: SharedArrayBuffer;
}

/**
 * @thi.ng/malloc's MemPool made thread-safe the simplest way: one MemPool over one
 * SharedArrayBuffer (MemPool keeps all its state in the buffer, so each worker builds its
 * own MemPool object over it with `skipInitialization`), and every malloc and free under
 * one global mutex (`lockAcquire` / `lockRelease` of @hakmem/primitives: a futex lock,
 * spin then Atomics.wait). Block contents are the caller's, touched without the lock.
 */
export class ThingLockedSubject implements Subject {
  readonly name = 'thing-locked';
  private readonly pool: MemPool;
  private readonly u8: Uint8Array;
  private readonly state: Uint32Array;
  private readonly lock: Int32Array;
  private readonly canBlock: boolean;
  private highWater: number;
  /** Acquisitions that found the lock taken (spun or slept). */
  contended: number;

  constructor(handle: ThingHandle) {
    this.pool = new MemPool({ buf: handle.pool, skipInitialization: true });
    this.u8 = new Uint8Array(handle.pool);
    this.state = new Uint32Array(handle.pool, 0, STATE_TOP + 1);
    this.lock = new Int32Array(handle.lock);
    this.canBlock = canBlockHere();
    this.highWater = 0;
    this.contended = 0;
  }

  malloc(size: number): number {
    this.contended += lockAcquire(this.lock, 0, this.canBlock);
    const ptr = this.pool.malloc(size);
    const top = this.state[STATE_TOP]!;
    lockRelease(this.lock, 0);
    if (top > this.highWater) this.highWater = top;
    return ptr;
  }

  free(ptr: number): void {
    this.contended += lockAcquire(this.lock, 0, this.canBlock);
    this.pool.free(ptr);
    lockRelease(this.lock, 0);
  }

  /** The highest `top` this thread saw after its mallocs (the harness takes the max over threads). */
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

/** This worker's subject (one per worker). */
let attached: ThingLockedSubject | undefined;

export const thingLockedMt: MtSubject = {
  name: 'thing-locked',
  create(options: MtSubjectOptions): MtHost {
    const pool = new SharedArrayBuffer(options.arenaBytes);
    new MemPool({ buf: pool }); // initialises the state at the start of the buffer
    const handle: ThingHandle = { pool, lock: new SharedArrayBuffer(64) };
    return { handle };
  },
  attach(handle: unknown): Subject {
    attached = new ThingLockedSubject(handle as ThingHandle);
    return attached;
  },
  detach() {
    attached = undefined;
  },
  counters: () => ({ 'lock.contended': attached?.contended ?? 0 }),
};
