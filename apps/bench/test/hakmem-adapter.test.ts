import { describe, expect, it } from 'vitest';
import { hakmemSubjectOf, type HakmemHeap } from '../src/subjects/hakmem.js';
import { bands, runRandomMixed } from '../src/workloads/random-mixed.js';

/**
 * A bump allocator shaped like the announced heap API, whose memory grows the way a
 * WebAssembly.Memory does: a new buffer, the old one detached.
 */
class FakeHeap implements HakmemHeap {
  private memory = new ArrayBuffer(4096);
  private top = 8;
  get u8(): Uint8Array {
    return new Uint8Array(this.memory);
  }
  malloc(size: number): number {
    const ptr = this.top;
    this.top += size;
    if (this.top > this.memory.byteLength) {
      const grown = new ArrayBuffer(this.memory.byteLength * 2 + size);
      new Uint8Array(grown).set(new Uint8Array(this.memory));
      structuredClone(this.memory, { transfer: [this.memory] });
      this.memory = grown;
    }
    return ptr;
  }
  free(_ptr: number): void {}
  stats(): { footprint: number } {
    return { footprint: this.memory.byteLength };
  }
}

describe('hakmem adapter', () => {
  it('follows the memory as it grows and reads the footprint from stats()', () => {
    const heap = new FakeHeap();
    const subject = hakmemSubjectOf(heap);
    const result = runRandomMixed(subject, { ...bands[0]!, cycles: 5_000, seed: 42 });
    expect(result).toMatchObject({ failed: 0, mismatches: 0 });
    expect(subject.footprint()).toBe(heap.stats().footprint);
    expect(subject.footprint()).toBeGreaterThan(4096);
  });

  it('takes buffer() and footprint() as well', () => {
    const memory = new ArrayBuffer(1024);
    const subject = hakmemSubjectOf({ malloc: () => 16, free: () => {}, buffer: () => memory, footprint: () => 1024 });
    subject.poke(16, 7);
    expect(subject.peek(16)).toBe(7);
    expect(subject.footprint()).toBe(1024);
  });

  it('rejects a heap with no way to reach its memory', () => {
    expect(() => hakmemSubjectOf({ malloc: () => 0, free: () => {}, footprint: () => 0 })).toThrow(/neither u8 nor buffer/);
  });
});
