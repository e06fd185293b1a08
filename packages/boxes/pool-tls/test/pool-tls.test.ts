import { describe, expect, test } from 'vitest';
import { ErrorCode, MAX_BATCH, type BlockSink, type BlockSource } from '@hakmem/contracts';
import { errorCodeOf } from '@hakmem/testkit';
import { createPoolTls, DEFAULT_POOL_BUDGET, DEFAULT_POOL_CLASS_SIZES, defaultPoolCapacity } from '@hakmem/pool-tls';

/** A source of fake 512-aligned blocks that records what comes back. */
class FakeSource implements BlockSource, BlockSink {
  next = 0x10_0000;
  left = Infinity;
  readonly freed: number[][] = [];
  allocBatch(_cls: number, out: Int32Array, offset: number, max: number): number {
    const n = Math.min(max, this.left);
    for (let i = 0; i < n; i++) {
      out[offset + i] = this.next;
      this.next += 65536;
    }
    this.left -= n;
    return n;
  }
  freeBatch(_cls: number, blocks: Int32Array, offset: number, n: number): void {
    this.freed.push(Array.from(blocks.subarray(offset, offset + n)));
  }
}

describe('pool-tls', () => {
  test('the default table: 21 classes, four per doubling from 2560 to 65536 and 4608, multiples of 512', () => {
    expect(DEFAULT_POOL_CLASS_SIZES).toHaveLength(21);
    expect(DEFAULT_POOL_CLASS_SIZES.slice(3, 6)).toEqual([4096, 4608, 5120]);
    expect(DEFAULT_POOL_CLASS_SIZES[0]).toBe(2560);
    expect(DEFAULT_POOL_CLASS_SIZES.at(-1)).toBe(65536);
    for (const s of DEFAULT_POOL_CLASS_SIZES) expect(s % 512).toBe(0);
  });

  test('classOf: the smallest class holding the size, for every size up to 64 KiB', () => {
    const pool = createPoolTls({ source: new FakeSource() });
    const sizes = pool.classSizes;
    for (let size = 0; size <= 65536; size++) {
      const c = pool.classOf(size);
      if (sizes[c]! < size || (c > 0 && sizes[c - 1]! >= size)) throw new Error(`size ${size} → class ${c}`);
    }
  });

  test('default capacities hold 512 KiB per class, 8..64 blocks', () => {
    const pool = createPoolTls({ source: new FakeSource() });
    expect([0, 8, 12, 16, 20].map((c) => pool.capacity(c))).toEqual([64, 64, 32, 16, 8]);
    expect(defaultPoolCapacity(2560)).toBe(64);
  });

  test('a miss refills half the capacity (at most MAX_BATCH); overflow spills the oldest half and keeps the newest', () => {
    const src = new FakeSource();
    const pool = createPoolTls({ source: src, capacity: 8 });
    const first = pool.alloc(3);
    expect(pool.count(3)).toBe(3); // batch of 4, one handed out
    const held = [first, pool.alloc(3), pool.alloc(3), pool.alloc(3)];
    expect(pool.count(3)).toBe(0);
    const more = Array.from({ length: 5 }, () => pool.alloc(3));
    pool.flush(); // the 3 left cached from the last refill go back
    expect(src.freed.flat()).toHaveLength(3);
    const freed = [...held, ...more];
    for (const p of freed) pool.free(3, p); // nine frees into capacity 8: the ninth spills the oldest 4
    expect(src.freed.at(-1)).toEqual(held);
    expect(pool.count(3)).toBe(5);
    expect(pool.alloc(3)).toBe(more[4]); // LIFO: the newest first
    expect(pool.stats()).toMatchObject({ refills: 3, refillBlocks: 12, spills: 1, spillBlocks: 4, cached: 4 });
    pool.flush();
    expect(pool.count(3)).toBe(0);
    expect(src.freed.flat()).toHaveLength(3 + 4 + 4);
    pool.checkInvariants();
    const wide = createPoolTls({ source: new FakeSource(), capacity: 4096, budget: false });
    wide.alloc(0);
    expect(wide.count(0)).toBe(MAX_BATCH - 1);
  });

  test('budget: a class caches 128 KiB plus a quarter of what the thread holds live in it; the rest goes back', () => {
    expect(DEFAULT_POOL_BUDGET).toEqual({ minBytes: 131072, share: 0.25 });
    const cls = DEFAULT_POOL_CLASS_SIZES.indexOf(8192); // capacity 64
    const pool = createPoolTls({ source: new FakeSource() });
    expect(pool.limit(cls)).toBe(16); // nothing live: 128 KiB
    const live = Array.from({ length: 400 }, () => pool.alloc(cls));
    expect(pool.stats().refillBlocks).toBeLessThanOrEqual(400 + 32); // refills of at most half the limit
    expect(pool.stats().refills).toBeGreaterThan(400 / 32);
    for (let i = 0; i < 200; i++) pool.free(cls, live.pop()!);
    // 200 live: the limit followed them to the capacity; the cache is within it.
    expect(pool.limit(cls)).toBe(64);
    expect(pool.count(cls)).toBeLessThanOrEqual(pool.limit(cls));
    for (const p of live.splice(0)) pool.free(cls, p);
    // Nothing live: the class keeps 128 KiB plus a quarter of the little that was live at its last spill.
    expect(pool.count(cls)).toBeLessThanOrEqual(pool.limit(cls));
    expect(pool.stats().cachedBytes).toBeLessThanOrEqual(160 * 1024);
    expect(pool.limit(cls) * 8192).toBeLessThanOrEqual(160 * 1024);
    expect(pool.stats().budgetBytes).toBe(DEFAULT_POOL_CLASS_SIZES.reduce((t, size, c) => t + pool.limit(c) * size, 0));
    pool.checkInvariants();
    // Fixed counts: the same frees keep the class's whole capacity cached.
    const fixed = createPoolTls({ source: new FakeSource(), budget: false });
    const all = Array.from({ length: 400 }, () => fixed.alloc(cls));
    for (const p of all) fixed.free(cls, p);
    expect(fixed.limit(cls)).toBe(64);
    expect(fixed.stats().cachedBytes).toBeGreaterThanOrEqual(32 * 8192);
  });

  test('budget: through random allocs and frees, a class never caches more than its rule allows of what is live', () => {
    const minBytes = 32768;
    const share = 0.5;
    const pool = createPoolTls({ source: new FakeSource(), budget: { minBytes, share } });
    const held: number[][] = Array.from({ length: pool.numClasses }, () => []);
    let x = 12345;
    for (let i = 0; i < 20000; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const c = (x >>> 8) % 4 === 0 ? 19 : (x >>> 12) % 3 + 6; // 65536 B, 7168 / 8192 / 10240 B
      const phase = (i >>> 12) & 1; // grow, then shrink
      if ((x >>> 20) % 8 < (phase === 0 ? 5 : 3) || held[c]!.length === 0) held[c]!.push(pool.alloc(c));
      else pool.free(c, held[c]!.splice((x >>> 4) % held[c]!.length, 1)[0]!);
      const size = pool.classSizes[c]!;
      // The limit was set at the last slow path; since then at most half of it came in as
      // frees without one, so the cache is within the rule for what is live now, over (1 − share).
      const bound = Math.max(1, Math.ceil((minBytes / size + share * held[c]!.length) / (1 - share)));
      if (pool.count(c) > Math.min(bound, pool.capacity(c))) throw new Error(`step ${i}: class ${c} caches ${pool.count(c)} with ${held[c]!.length} live (bound ${bound})`);
    }
    pool.checkInvariants();
  });

  test('exhaustion: alloc returns 0, and the cache works again once blocks come back', () => {
    const src = new FakeSource();
    src.left = 2;
    const pool = createPoolTls({ source: src, capacity: 8 });
    const a = pool.alloc(0);
    const b = pool.alloc(0);
    expect(pool.alloc(0)).toBe(0);
    pool.free(0, a);
    expect(pool.alloc(0)).toBe(a);
    expect(b).not.toBe(a);
  });

  test('options are validated; checkInvariants catches a block cached twice', () => {
    const src = new FakeSource();
    for (const o of [{ classSizes: [] }, { classSizes: [4096, 3072] }, { classSizes: [3000] }, { classSizes: [131072] }, { capacity: 0 }, { capacity: [4, 4] }, { budget: { minBytes: -1, share: 0.25 } }, { budget: { minBytes: 0, share: Number.NaN } }]) {
      expect(errorCodeOf(() => createPoolTls({ source: src, ...o })), JSON.stringify(o)).toBe(ErrorCode.INVALID_OPTION);
    }
    const pool = createPoolTls({ source: src });
    const p = pool.alloc(2);
    pool.free(2, p);
    pool.free(2, p);
    expect(errorCodeOf(() => pool.checkInvariants())).toBe(ErrorCode.CORRUPTION);
  });
});
