import { createHeap } from '@hakmem/allocator';
import { describe, expect, it } from 'vitest';
import { createHakmemSubject, hakmemSubjectOf } from '../src/subjects/hakmem.js';
import { bands, runRandomMixed } from '../src/workloads/random-mixed.js';

describe('hakmem subject', () => {
  it('runs the default band on the default heap: no failed malloc, every byte read back', () => {
    const subject = createHakmemSubject({ arenaBytes: bands[0]!.arenaBytes });
    const result = runRandomMixed(subject, { ...bands[0]!, cycles: 50_000, seed: 42 });
    expect(result).toMatchObject({ failed: 0, mismatches: 0 });
    expect(result.mallocs).toBe(result.frees);
    expect(subject.footprint()).toBeGreaterThan(0);
  });

  it('follows the memory of a wasm heap as it grows (views replaced on every grow)', () => {
    const heap = createHeap({ backend: 'wasm', maxBytes: 64 << 20 });
    const subject = hakmemSubjectOf(heap);
    const before = heap.backend.byteLength();
    const result = runRandomMixed(subject, { ...bands[1]!, cycles: 30_000, seed: 7 });
    expect(result).toMatchObject({ failed: 0, mismatches: 0 });
    expect(heap.backend.byteLength()).toBeGreaterThan(before);
    heap.validate();
    expect(heap.liveBytes()).toBe(0);
  });
});
