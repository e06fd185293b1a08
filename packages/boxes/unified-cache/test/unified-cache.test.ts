import { describe, expect, test } from 'vitest';
import { ErrorCode, MAX_BATCH, isHakmemError, type BlockSink, type BlockSource } from '@hakmem/contracts';
import { createUnifiedCache } from '@hakmem/unified-cache';

/** A source handing out distinct fake block addresses, recording every call. */
class FakeSource implements BlockSource, BlockSink {
  next = 0x10000;
  limit = Infinity;
  batches: number[] = [];
  freed: number[][] = [];
  allocBatch(cls: number, out: Int32Array, offset: number, max: number): number {
    expect(max).toBeLessThanOrEqual(MAX_BATCH);
    const n = Math.min(max, this.limit);
    this.limit -= n;
    for (let i = 0; i < n; i++) out[offset + i] = (this.next += 16) + cls;
    this.batches.push(n);
    return n;
  }
  freeBatch(cls: number, blocks: Int32Array, offset: number, n: number): void {
    this.freed[cls] ??= [];
    for (let i = 0; i < n; i++) this.freed[cls]!.push(blocks[offset + i]!);
  }
}

describe('unified-cache', () => {
  test('pop misses on an empty class, refill brings a bounded batch', () => {
    const src = new FakeSource();
    const c = createUnifiedCache({ numClasses: 4, capacity: 64, source: src });
    expect(c.pop(1)).toBe(0);
    const p = c.refill(1);
    expect(p).toBeGreaterThan(0);
    expect(src.batches).toEqual([32]);
    expect(c.count(1)).toBe(31);
    expect(c.stats()).toMatchObject({ refills: 1, refillBlocks: 32, cached: 31 });
    c.checkInvariants();
  });

  test('LIFO: the block just freed is the next one handed out', () => {
    const c = createUnifiedCache({ numClasses: 2, capacity: 8, source: new FakeSource() });
    expect(c.push(0, 0x20010)).toBe(true);
    expect(c.push(0, 0x20020)).toBe(true);
    expect(c.pop(0)).toBe(0x20020);
    expect(c.pop(0)).toBe(0x20010);
    expect(c.pop(0)).toBe(0);
  });

  test('push reports full; spill sends the older half down and keeps the new block', () => {
    const src = new FakeSource();
    const c = createUnifiedCache({ numClasses: 1, capacity: 4, source: src });
    for (let i = 1; i <= 4; i++) expect(c.push(0, i * 0x100)).toBe(true);
    expect(c.push(0, 0x500)).toBe(false);
    c.spill(0, 0x500);
    expect(src.freed[0]).toEqual([0x100, 0x200]);
    expect(c.count(0)).toBe(3);
    expect([c.pop(0), c.pop(0), c.pop(0)]).toEqual([0x500, 0x400, 0x300]);
    expect(c.stats()).toMatchObject({ spills: 1, spillBlocks: 2 });
  });

  test('refill never exceeds the free room nor MAX_BATCH', () => {
    const src = new FakeSource();
    const c = createUnifiedCache({ numClasses: 1, capacity: 1000, batch: 900, source: src });
    c.refill(0);
    expect(src.batches[0]).toBe(MAX_BATCH);
    const d = createUnifiedCache({ numClasses: 1, capacity: 10, batch: 8, source: src });
    for (let i = 0; i < 5; i++) d.push(0, 0x1000 + i * 16);
    d.refill(0);
    expect(src.batches[1]).toBe(5);
    expect(d.count(0)).toBe(9);
  });

  test('exhausted source: refill returns 0 and the class stays empty', () => {
    const src = new FakeSource();
    src.limit = 0;
    const c = createUnifiedCache({ numClasses: 1, source: src });
    expect(c.refill(0)).toBe(0);
    expect(c.count(0)).toBe(0);
  });

  test('flush returns every cached block, in batches of at most MAX_BATCH', () => {
    const src = new FakeSource();
    const c = createUnifiedCache({ numClasses: 2, capacity: [600, 4], source: src });
    for (let i = 0; i < 600; i++) c.push(0, 0x10000 + i * 16);
    c.push(1, 0x90000);
    c.flush();
    expect(src.freed[0]!.length).toBe(600);
    expect(new Set(src.freed[0]).size).toBe(600);
    expect(src.freed[1]).toEqual([0x90000]);
    expect(c.stats().cached).toBe(0);
  });

  test('checkInvariants catches a block cached twice', () => {
    const c = createUnifiedCache({ numClasses: 1, capacity: 4, source: new FakeSource() });
    c.push(0, 0x100);
    c.push(0, 0x100);
    expect(() => c.checkInvariants()).toThrow(/cached twice/);
  });

  test.each([[{ capacity: 0 }], [{ capacity: 1.5 }], [{ capacity: [4] }], [{ batch: -1 }]])(
    'rejects %j with E_INVALID_OPTION',
    (opts) => {
      let err: unknown;
      try {
        createUnifiedCache({ numClasses: 2, source: new FakeSource(), ...opts });
      } catch (e) {
        err = e;
      }
      expect(isHakmemError(err, ErrorCode.INVALID_OPTION)).toBe(true);
    },
  );
});
