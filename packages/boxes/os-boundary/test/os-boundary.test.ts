import { describe, expect, test } from 'vitest';
import { ErrorCode, HakmemError, MAX_HEAP_BYTES, type OsBoundary } from '@hakmem/contracts';
import {
  RANGE_DIRTY, STATE_COUNT, STATE_END, STATE_FREE_PAGES, STATE_HEADER_WORDS, STATE_MAGIC, STATE_PAGES_MAPPED,
  createOsBoundary, osBoundaryStateBytes,
} from '@hakmem/os-boundary';
import { MiB, P, STATE_OFFSET, rig, snapshot, type Rig } from './helpers.js';

function expectError(fn: () => unknown, code: ErrorCode): HakmemError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HakmemError);
    expect((e as HakmemError).code).toBe(code);
    expect((e as HakmemError).box).toBe('os-boundary');
    return e as HakmemError;
  }
  throw new Error(`expected ${code}`);
}

/** Throws unless `fn` throws `code` and leaves every observable bit of state as it was. */
function expectRejected(r: Rig, fn: () => unknown, code: ErrorCode): HakmemError {
  const before = snapshot(r);
  const e = expectError(fn, code);
  expect(snapshot(r)).toEqual(before);
  r.os.checkInvariants();
  return e;
}

function stateWords(r: Rig): Int32Array {
  return r.backend.views.i32.subarray(STATE_OFFSET >>> 2);
}

describe('os-boundary: map', () => {
  test('alignment is honoured for every power of two from 64 KiB to 16 MiB', () => {
    const r = rig({ maxPages: 4096 });
    const live: Array<[number, number]> = [];
    for (let k = 16; k <= 24; k++) {
      for (const bytes of [1, P, 3 * P + 5, 2 * MiB]) {
        const a = r.os.map(bytes, 2 ** k);
        expect(a).toBeGreaterThan(0);
        expect(a % 2 ** k).toBe(0);
        const len = Math.ceil(bytes / P) * P;
        for (const [b, blen] of live) expect(a + len <= b || b + blen <= a).toBe(true);
        live.push([a, len]);
        r.os.checkInvariants();
      }
    }
    // Alignments below a page mean a page.
    for (const align of [1, 8, 4096]) expect(r.os.map(P, align) % P).toBe(0);
  });

  test('freed ranges are reused before the memory grows', () => {
    const r = rig({ maxPages: 64 });
    const a = r.os.map(4 * P, P);
    const b = r.os.map(2 * P, P);
    r.os.unmap(a, 4 * P);
    const grows = r.os.stats().grows;
    const len = r.backend.byteLength();
    expect(r.os.map(3 * P, P)).toBe(a);
    expect(r.os.map(P, P)).toBe(a + 3 * P);
    expect(r.os.stats().grows).toBe(grows);
    expect(r.backend.byteLength()).toBe(len);
    expect(r.os.freeRanges()).toEqual([]);
    expect(b).toBe(a + 4 * P);
  });

  test('an aligned map over an unaligned end keeps the padding as a clean free range, reused later', () => {
    const r = rig({ maxPages: 64 });
    expect(r.os.map(P, P)).toBe(P); // end is now page 2
    const big = r.os.map(P, MiB);
    expect(big).toBe(MiB);
    expect(r.os.freeRanges()).toEqual([[2 * P, 14 * P]]);
    expect(r.os.stats()).toMatchObject({ bytesFree: 14 * P, bytesInUse: 2 * P, highWater: MiB + P, grows: 2 });
    expect(r.backend.byteLength()).toBe(MiB + P);
    // A later small map takes the padding, without growth, and it is known to be zero.
    expect(r.os.map(3 * P, P)).toBe(2 * P);
    expect(r.os.lastMapZeroed()).toBe(true);
    expect(r.os.stats().grows).toBe(2);
    expect(r.os.freeRanges()).toEqual([[5 * P, 11 * P]]);
  });

  test('a free range touching the end is extended: only the missing pages are grown', () => {
    const r = rig({ maxPages: 64 });
    const a = r.os.map(2 * P, P);
    const b = r.os.map(3 * P, P);
    r.os.unmap(b, 3 * P); // [b, +3) free and touches the end
    const len = r.backend.byteLength();
    expect(r.os.map(5 * P, P)).toBe(b);
    expect(r.backend.byteLength()).toBe(len + 2 * P);
    expect(r.os.lastMapZeroed()).toBe(false); // reuses dirty pages below the old end
    expect(r.os.freeRanges()).toEqual([]);
    expect(a).toBe(P);
    r.os.checkInvariants();
  });

  test('an aligned map starting inside the free tail keeps the tail\'s head as padding', () => {
    const r = rig({ maxPages: 64 });
    r.os.map(P, P);
    const b = r.os.map(13 * P, P); // pages 2..14, end 15
    r.os.unmap(b, 13 * P);
    const c = r.os.map(4 * P, MiB); // page 16: beyond the end, inside no range
    expect(c).toBe(MiB);
    expect(r.os.freeRanges()).toEqual([[2 * P, 14 * P]]); // tail [2, 15) + fresh page 15
    expect(r.os.lastMapZeroed()).toBe(true);
    r.os.unmap(c, 4 * P);
    r.os.checkInvariants();
    expect(r.os.freeRanges()).toEqual([[2 * P, 18 * P]]);
  });

  test('bad sizes and alignments throw typed errors and change nothing', () => {
    const r = rig({ maxPages: 64 });
    r.os.map(P, P);
    for (const bytes of [0, -1, 1.5, NaN, Infinity, MAX_HEAP_BYTES + 1, 2 ** 31]) {
      expectRejected(r, () => r.os.map(bytes, P), ErrorCode.INVALID_SIZE);
    }
    for (const align of [0, 3, -P, 1.5, NaN, 2 ** 31, 3 * P]) {
      expectRejected(r, () => r.os.map(P, align), ErrorCode.INVALID_ALIGNMENT);
    }
  });
});

describe('os-boundary: unmap', () => {
  const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] as const;
  test.each(orders)('three adjacent ranges unmapped in order %i %i %i coalesce into one', (...order) => {
    const r = rig({ maxPages: 64 });
    const sizes = [2 * P, P, 3 * P];
    const addrs = sizes.map((s) => r.os.map(s, P));
    const guard = r.os.map(P, P);
    for (const i of order) {
      r.os.unmap(addrs[i]!, sizes[i]!);
      r.os.checkInvariants();
    }
    expect(r.os.freeRanges()).toEqual([[addrs[0], 6 * P]]);
    expect(r.os.stats()).toMatchObject({ unmaps: 3, bytesUnmapped: 6 * P, bytesFree: 6 * P, bytesInUse: P, freeRanges: 1 });
    r.os.unmap(guard, P);
    expect(r.os.freeRanges()).toEqual([[addrs[0], 7 * P]]);
  });

  test('partial unmaps: middle, then head, then tail of one mapped range', () => {
    const r = rig({ maxPages: 64 });
    const a = r.os.map(8 * P, P);
    r.os.unmap(a + 3 * P, 2 * P);
    expect(r.os.freeRanges()).toEqual([[a + 3 * P, 2 * P]]);
    r.os.unmap(a, 3 * P);
    expect(r.os.freeRanges()).toEqual([[a, 5 * P]]);
    // Overlapping the free part is a double unmap.
    expectRejected(r, () => r.os.unmap(a + 4 * P, 2 * P), ErrorCode.INVALID_RANGE);
    r.os.unmap(a + 5 * P, 3 * P);
    expect(r.os.freeRanges()).toEqual([[a, 8 * P]]);
    expect(r.os.stats()).toMatchObject({ maps: 1, unmaps: 3, bytesMapped: 8 * P, bytesUnmapped: 8 * P, bytesInUse: 0 });
    // Sizes round up to pages.
    const b = r.os.map(P + 1, P);
    r.os.unmap(b, 1);
    r.os.unmap(b + P, P);
    expect(r.os.freeRanges()).toEqual([[a, 8 * P]]);
  });

  test('double unmap, out-of-range, unaligned and bad sizes throw typed errors and change nothing', () => {
    const r = rig({ maxPages: 64, heapStartPages: 2 });
    const a = r.os.map(4 * P, P);
    const b = r.os.map(2 * P, P);
    r.os.unmap(a, 2 * P);
    const e = expectRejected(r, () => r.os.unmap(a, P), ErrorCode.INVALID_RANGE); // double unmap
    expect(e.ptr).toBe(a);
    expect(e.message).toMatch(/double unmap/);
    expectRejected(r, () => r.os.unmap(a + P, 2 * P), ErrorCode.INVALID_RANGE); // overlaps the free range's end
    expectRejected(r, () => r.os.unmap(P, P), ErrorCode.INVALID_RANGE); // below heapStart
    expectRejected(r, () => r.os.unmap(b, 3 * P), ErrorCode.INVALID_RANGE); // past the end
    expectRejected(r, () => r.os.unmap(r.os.end(), P), ErrorCode.INVALID_RANGE);
    for (const addr of [b + 8, b + P / 2, -P, 1.5, NaN]) expectRejected(r, () => r.os.unmap(addr, P), ErrorCode.INVALID_RANGE);
    for (const bytes of [0, -P, NaN, 0.5]) expectRejected(r, () => r.os.unmap(b, bytes), ErrorCode.INVALID_SIZE);
    expectRejected(r, () => r.os.decommit(a, P), ErrorCode.INVALID_RANGE);
    expectRejected(r, () => r.os.decommit(b + 1, P), ErrorCode.INVALID_RANGE);
  });

  test('decommit counts and keeps the range mapped', () => {
    const r = rig({ maxPages: 64 });
    const a = r.os.map(4 * P, P);
    r.os.decommit(a + P, 2 * P);
    expect(r.os.stats()).toMatchObject({ decommits: 1, bytesDecommitted: 2 * P, bytesInUse: 4 * P, freeRanges: 0 });
    r.os.unmap(a, 4 * P);
    r.os.checkInvariants();
  });
});

describe('os-boundary: exhaustion', () => {
  function oomKeepsState(r: Rig, bytes: number, align: number): void {
    const before = snapshot(r) as { stats: { mapFailures: number } };
    expect(r.os.map(bytes, align)).toBe(0);
    const after = snapshot(r) as { state: number[]; stats: { mapFailures: number } };
    expect(after.stats.mapFailures).toBe(before.stats.mapFailures + 1);
    expect({ ...after, state: undefined, stats: { ...after.stats, mapFailures: 0 } })
      .toEqual({ ...before, state: undefined, stats: { ...before.stats, mapFailures: 0 } });
    r.os.checkInvariants();
  }

  test('map returns 0 at the maximum with state intact, and works again after an unmap', () => {
    const r = rig({ maxPages: 16 });
    const a = r.os.map(10 * P, P);
    const b = r.os.map(5 * P, P);
    expect(r.backend.byteLength()).toBe(16 * P);
    oomKeepsState(r, P, P);
    r.os.unmap(a + 2 * P, 3 * P);
    oomKeepsState(r, 4 * P, P); // a free range exists but is too small
    oomKeepsState(r, P, MiB); // no aligned page inside the memory
    expect(r.os.map(2 * P, P)).toBe(a + 2 * P);
    expect(r.os.lastMapZeroed()).toBe(false);
    expect(b).toBe(11 * P);
  });

  test('a refused grow (backend.grow → -1) returns 0 with state intact, even with a free tail', () => {
    const r = rig({ maxPages: 64 });
    const a = r.os.map(2 * P, P);
    r.os.unmap(r.os.map(2 * P, P), 2 * P); // free tail
    r.os.map(P, 4 * P); // page 4: padding before it
    r.backend.failGrow = true;
    oomKeepsState(r, 8 * P, P);
    oomKeepsState(r, P, MiB);
    r.backend.failGrow = false;
    expect(r.os.map(8 * P, P)).toBeGreaterThan(a);
    r.os.checkInvariants();
  });
});

describe('os-boundary: zeroed memory', () => {
  test('lastMapZeroed: true for fresh growth, false after reuse of an unmapped range', () => {
    const r = rig({ maxPages: 64 });
    const u8 = r.backend.views.u8;
    const a = r.os.map(2 * P, P);
    expect(r.os.lastMapZeroed()).toBe(true);
    expect(u8.subarray(a, a + 2 * P).every((x) => x === 0)).toBe(true);
    u8.fill(7, a, a + 2 * P);
    r.os.map(P, P);
    r.os.unmap(a, 2 * P);
    expect(r.os.map(P, P)).toBe(a);
    expect(r.os.lastMapZeroed()).toBe(false);
    expect(u8[a]).toBe(7);
    // Fresh growth again; a failed map leaves the flag as the last success set it.
    expect(r.os.map(4 * P, P)).toBeGreaterThan(a);
    expect(r.os.lastMapZeroed()).toBe(true);
    r.backend.failGrow = true;
    expect(r.os.map(40 * P, P)).toBe(0);
    expect(r.os.lastMapZeroed()).toBe(true);
  });

  test('a backend already longer than heapStart: the rest is one clean free range', () => {
    const r = rig({ maxPages: 64, initialPages: 10, heapStartPages: 2 });
    expect(r.os.end()).toBe(10 * P);
    expect(r.os.freeRanges()).toEqual([[2 * P, 8 * P]]);
    expect(r.os.stats()).toMatchObject({ bytesFree: 8 * P, bytesInUse: 0, highWater: 10 * P, grows: 0 });
    expect(r.os.map(3 * P, P)).toBe(2 * P);
    expect(r.os.lastMapZeroed()).toBe(true);
    expect(r.os.map(8 * P, 8 * P)).toBe(8 * P); // starts inside the free tail; grows 6 pages
    expect(r.backend.byteLength()).toBe(16 * P);
    expect(r.os.lastMapZeroed()).toBe(true);
    expect(r.os.freeRanges()).toEqual([[5 * P, 3 * P]]);
    r.os.checkInvariants();
  });
});

describe('os-boundary: state, options, attach, checks', () => {
  test('osBoundaryStateBytes = 80 + 8 x (floor(maxPages / 2) + 1)', () => {
    expect(osBoundaryStateBytes(0)).toBe(88);
    expect(osBoundaryStateBytes(64)).toBe(80 + 8 * 33);
    expect(osBoundaryStateBytes(4096)).toBe(80 + 8 * 2049);
    expect(osBoundaryStateBytes(32767)).toBe(80 + 8 * 16384);
    for (const bad of [-1, 1.5, 32768, NaN]) expectError(() => osBoundaryStateBytes(bad), ErrorCode.INVALID_OPTION);
  });

  test('options that cannot work throw E_INVALID_OPTION', () => {
    const { backend, stateBytes } = rig({ maxPages: 64 });
    const ok = { backend, stateOffset: STATE_OFFSET, stateBytes, heapStart: P, shared: false };
    const bad = [
      { stateOffset: 4 }, { stateOffset: -8 }, { heapStart: 0 }, { heapStart: P + 8 }, { heapStart: 65 * P },
      { stateBytes: stateBytes - 1 }, { stateOffset: P - 8 }, { shared: true },
    ];
    for (const b of bad) expectError(() => createOsBoundary({ ...ok, ...b }), ErrorCode.INVALID_OPTION);
    expectError(() => createOsBoundary({ ...ok, stateOffset: STATE_OFFSET + 4096, attach: true }), ErrorCode.INVALID_OPTION);
    expectError(() => createOsBoundary({ ...ok, heapStart: 2 * P, attach: true }), ErrorCode.INVALID_OPTION);
  });

  test('an attached instance sees and changes the same state', () => {
    const r = rig({ maxPages: 64 });
    const a = r.os.map(3 * P, P);
    const other: OsBoundary = createOsBoundary({
      backend: r.backend, stateOffset: STATE_OFFSET, stateBytes: r.stateBytes, heapStart: P, shared: false, attach: true,
    });
    expect(other.stats()).toEqual(r.os.stats());
    other.unmap(a, 3 * P);
    expect(r.os.freeRanges()).toEqual([[a, 3 * P]]);
    expect(r.os.map(P, P)).toBe(a);
  });

  test('checkInvariants names the broken invariant', () => {
    const cases: Array<[string, (w: Int32Array, t: number) => void, RegExp]> = [
      ['magic', (w) => { w[STATE_MAGIC] = 0; }, /magic/],
      ['count', (w) => { w[STATE_COUNT] = 1 << 20; }, /range count/],
      ['end', (w) => { w[STATE_END] = 1000; }, /end/],
      ['counters', (w) => { w[STATE_PAGES_MAPPED] = w[STATE_PAGES_MAPPED]! + 1; }, /counters/],
      ['adjacent', (w, t) => { w[t + 1] = 3 | RANGE_DIRTY; w[STATE_FREE_PAGES] = 4; w[STATE_PAGES_MAPPED] = w[STATE_PAGES_MAPPED]! - 2; }, /adjacent/],
      ['overlap', (w, t) => { w[t + 2] = w[t]!; }, /overlapping/],
      ['empty', (w, t) => { w[t + 1] = RANGE_DIRTY; }, /empty/],
      ['past end', (w, t) => { w[t + 3] = 40 | RANGE_DIRTY; }, /past the end/],
      ['sum', (w) => { w[STATE_FREE_PAGES] = 1; w[STATE_PAGES_MAPPED] = w[STATE_PAGES_MAPPED]! + 1; }, /sum/],
    ];
    for (const [name, corrupt, message] of cases) {
      const r = rig({ maxPages: 64 });
      const a = r.os.map(2 * P, P);
      r.os.map(P, P);
      const c = r.os.map(2 * P, P);
      r.os.map(P, P);
      r.os.unmap(a, P);
      r.os.unmap(c, P); // free ranges: pages [1, 2) and [4, 5); end 7
      r.os.checkInvariants();
      corrupt(stateWords(r), STATE_HEADER_WORDS);
      const e = expectError(() => r.os.checkInvariants(), ErrorCode.CORRUPTION);
      expect(e.message, name).toMatch(message);
    }
  });
});

describe('os-boundary: mapAt', () => {
  test('maps exactly the range asked for: inside a free range, at the end (growing), or across the free tail and the end; false with nothing changed when a page is taken', () => {
    const r = rig({ maxPages: 64 });
    const a = r.os.map(4 * P, P);
    const b = r.os.map(4 * P, P);
    r.os.unmap(a, 4 * P); // a free range [a, a + 4P) below b
    // Inside the free range, not at its start: the padding stays free.
    expect(r.os.mapAt(a + P, 2 * P)).toBe(true);
    expect(r.os.freeRanges()).toEqual([[a, P], [a + 3 * P, P]]);
    expect(r.os.lastMapZeroed()).toBe(false); // those pages were mapped before
    r.os.checkInvariants();
    // Overlapping a mapped page: refused, nothing changed.
    for (const [at, n] of [[a + 3 * P, 2 * P], [a, 2 * P], [b, P], [b + 3 * P, 2 * P]] as const) {
      const before = snapshot(r);
      expect(r.os.mapAt(at, n)).toBe(false);
      expect(snapshot(r)).toEqual(before);
    }
    // At the end: grows, zeroed.
    const end = r.os.end();
    expect(end).toBe(b + 4 * P);
    expect(r.os.mapAt(end, 3 * P)).toBe(true);
    expect(r.os.end()).toBe(end + 3 * P);
    expect(r.os.lastMapZeroed()).toBe(true);
    // Across a free tail range and the end: the tail is taken and the rest grown.
    r.os.unmap(end + P, 2 * P);
    expect(r.os.mapAt(end + 2 * P, 4 * P)).toBe(true);
    expect(r.os.end()).toBe(end + 6 * P);
    expect(r.os.freeRanges()).toEqual([[a, P], [a + 3 * P, P], [end + P, P]]);
    r.os.checkInvariants();
    // Beyond the end (a gap) or the backend's maximum: refused.
    expect(r.os.mapAt(r.os.end() + P, P)).toBe(false);
    expect(r.os.mapAt(r.os.end(), 64 * P)).toBe(false);
    expect(r.os.stats().maps).toBe(5);
    r.os.checkInvariants();
    // Bad arguments: typed errors.
    expectRejected(r, () => r.os.mapAt(a + 8, P), ErrorCode.INVALID_RANGE);
    expectRejected(r, () => r.os.mapAt(a, 0), ErrorCode.INVALID_SIZE);
  });
});
