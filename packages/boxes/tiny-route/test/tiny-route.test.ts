import { describe, expect, test } from 'vitest';
import { ErrorCode, Route, isHakmemError } from '@hakmem/contracts';
import { createTinyRoute, DEFAULT_CLASS_SIZES } from '@hakmem/tiny-route';

describe('tiny-route', () => {
  const r = createTinyRoute();

  test('every tiny size maps to the smallest class that holds it', () => {
    for (let s = 0; s <= r.tinyMax; s++) {
      const c = r.classOf(s);
      expect(r.classSize(c)).toBeGreaterThanOrEqual(s);
      if (c > 0) expect(r.classSize(c - 1)).toBeLessThan(Math.max(s, 1));
    }
    expect(() => r.checkInvariants()).not.toThrow();
  });

  test('class sizes give 8-byte alignment, 16 from 16 up', () => {
    for (const s of r.classSizes) {
      expect(s % 8).toBe(0);
      if (s >= 16) expect(s % 16).toBe(0);
    }
  });

  test('routes by thresholds', () => {
    expect(r.route(0)).toBe(Route.TINY);
    expect(r.route(r.tinyMax)).toBe(Route.TINY);
    expect(r.route(r.tinyMax + 1)).toBe(Route.POOL);
    expect(r.route(r.poolMax)).toBe(Route.POOL);
    expect(r.route(r.poolMax + 1)).toBe(Route.L25);
    expect(r.route(r.l25Max)).toBe(Route.L25);
    expect(r.route(r.l25Max + 1)).toBe(Route.BIG);
  });

  test('the bench default band (16..1039) is tiny', () => {
    expect(r.route(1039)).toBe(Route.TINY);
    expect(r.tinyMax).toBe(DEFAULT_CLASS_SIZES[DEFAULT_CLASS_SIZES.length - 1]);
  });

  test('a custom table works (HAKMEM: 8 power-of-two classes)', () => {
    const h = createTinyRoute({ classSizes: [8, 16, 32, 64, 128, 256, 512, 1024] });
    expect(h.numClasses).toBe(8);
    expect(h.classOf(33)).toBe(3);
    expect(h.classOf(1024)).toBe(7);
    expect(() => h.checkInvariants()).not.toThrow();
  });

  test.each([
    [{ classSizes: [] }],
    [{ classSizes: [16, 8] }],
    [{ classSizes: [8, 24] }],
    [{ classSizes: [12] }],
    [{ classSizes: [8, 16], poolMax: 8 }],
    [{ poolMax: 70000, l25Max: 65536 }],
  ])('rejects bad options %j with E_INVALID_OPTION', (opts) => {
    let err: unknown;
    try {
      createTinyRoute(opts);
    } catch (e) {
      err = e;
    }
    expect(isHakmemError(err, ErrorCode.INVALID_OPTION)).toBe(true);
  });
});
