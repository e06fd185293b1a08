import { describe, expect, it } from 'vitest';
import { createSeglistSubject } from '../src/subjects/seglist.js';
import { bands, runRandomMixed } from '../src/workloads/random-mixed.js';

describe('seglist reference subject', () => {
  it.each(['default', 'default-ws8192', 'tiny', 'mid'])('runs the %s band with no failed malloc and every byte read back', (name) => {
    const band = bands.find((b) => b.name === name)!;
    const subject = createSeglistSubject({ arenaBytes: band.arenaBytes });
    const result = runRandomMixed(subject, { ...band, cycles: 20_000, seed: 42 });
    expect(result).toMatchObject({ failed: 0, mismatches: 0 });
    expect(result.mallocs).toBe(result.frees);
  });

  it('reuses freed blocks of a class before carving', () => {
    const s = createSeglistSubject({ arenaBytes: 1 << 20 });
    const a = s.malloc(40);
    s.free(a);
    expect(s.malloc(33)).toBe(a);
    expect(s.malloc(40)).not.toBe(a);
  });
});
