import type { Subject, SubjectOptions } from '../subject.js';

/** The address every malloc returns (non-zero, so the harness takes it as a success). */
const ADDRESS = 8;

/**
 * Bytes behind ADDRESS: the largest block a workload touches beyond its first byte (vm's
 * 2 MiB, one byte per 4 KiB). Past the end of a typed array a write is dropped and a read
 * gives undefined, through V8's slow out-of-bounds path: with 64 bytes, null ran vm
 * slower than thing, and every block failed its read-back.
 */
const BLOCK_BYTES = 2 * 1024 * 1024;

/**
 * A do-nothing allocator: malloc returns a fixed address and free does nothing. Driving
 * it measures the harness itself (PRNG, slot bookkeeping, touch and verify), i.e. the
 * ceiling no real allocator can pass.
 */
export class NullSubject implements Subject {
  readonly name = 'null';
  readonly sharesAddresses = true;
  private readonly u8 = new Uint8Array(ADDRESS + BLOCK_BYTES);

  malloc(_size: number): number {
    return ADDRESS;
  }

  free(_ptr: number): void {}

  calloc(_n: number, _size: number): number {
    return ADDRESS;
  }

  realloc(_ptr: number, _size: number): number {
    return ADDRESS;
  }

  memalign(_align: number, _size: number): number {
    return ADDRESS;
  }

  footprint(): number {
    return 0;
  }

  poke(ptr: number, value: number): void {
    this.u8[ptr] = value;
  }

  peek(ptr: number): number {
    return this.u8[ptr]!;
  }
}

export function createNullSubject(_options: SubjectOptions): Subject {
  return new NullSubject();
}
