import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { alignDown, alignUp, ctz32, isAligned, isPow2, log2Floor } from '@hakmem/primitives';

describe('bits', () => {
  test('isPow2 accepts exactly 2^0 .. 2^30', () => {
    for (let k = 0; k <= 30; k++) expect(isPow2(2 ** k)).toBe(true);
    for (const x of [0, -1, -2, 3, 6, 12, 1.5, 0.5, NaN, Infinity, 2 ** 31, 2 ** 32, (2 ** 30) + 1]) {
      expect(isPow2(x)).toBe(false);
    }
  });

  test('alignUp / alignDown / isAligned agree with division', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 30 - 1 }), fc.integer({ min: 0, max: 29 }), (x, k) => {
      const a = 2 ** k;
      expect(alignUp(x, a)).toBe(Math.ceil(x / a) * a);
      expect(alignDown(x, a)).toBe(Math.floor(x / a) * a);
      expect(isAligned(x, a)).toBe(x % a === 0);
    }));
    expect(alignUp(0x7fff_0000, 0x1_0000)).toBe(0x7fff_0000);
  });

  test('log2Floor and ctz32', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (x) => {
      expect(log2Floor(x)).toBe(Math.floor(Math.log2(x)));
      const t = ctz32(x);
      expect(x % 2 ** t).toBe(0);
      expect((x / 2 ** t) % 2).toBe(1);
    }));
    expect(log2Floor(0)).toBe(-1);
    expect(log2Floor(0xffff_ffff)).toBe(31);
    expect(ctz32(0)).toBe(32);
    expect(ctz32(0x8000_0000 | 0)).toBe(31);
  });
});
