import type { Subject, SubjectOptions } from '../subject.js';

/** The address every malloc returns (non-zero, so the harness takes it as a success). */
const ADDRESS = 8;

/**
 * A do-nothing allocator: malloc returns a fixed address and free does nothing. Driving
 * it measures the harness itself (PRNG, slot bookkeeping, touch and verify), i.e. the
 * ceiling no real allocator can pass.
 */
export class NullSubject implements Subject {
  readonly name = 'null';
  readonly sharesAddresses = true;
  private readonly u8 = new Uint8Array(64);

  malloc(_size: number): number {
    return ADDRESS;
  }

  free(_ptr: number): void {}

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
