import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ErrorCode, isHakmemError } from '@hakmem/contracts';
import { P, page, rig, snapshot, type Rig } from './helpers.js';

// Model-based test: random map / unmap / partial unmap / decommit / bad unmap / refused
// growth against a reference model that knows only which pages are mapped. The model
// predicts every address (first fit in address order is the lowest aligned fit), every
// growth, every counter and the exact free-range list.

type Cmd =
  | { kind: 'map'; pages: number; alignLog: number; slack: number }
  | { kind: 'unmap' | 'decommit'; pick: number; part: number; from: number; len: number; slack: number }
  | { kind: 'badUnmap'; pick: number }
  | { kind: 'failGrow'; on: boolean };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({
    kind: fc.constant('map' as const),
    pages: fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 64 }) }, { weight: 1, arbitrary: fc.integer({ min: 65, max: 300 }) }),
    alignLog: fc.integer({ min: 14, max: 22 }),
    slack: fc.integer({ min: 0, max: P - 1 }),
  }) },
  ...(['unmap', 'decommit'] as const).map((kind) => ({
    weight: kind === 'unmap' ? 4 : 1,
    arbitrary: fc.record({
      kind: fc.constant(kind), pick: fc.nat(), part: fc.nat(), from: fc.nat(), len: fc.nat(), slack: fc.integer({ min: 0, max: P - 1 }),
    }),
  })),
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('badUnmap' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('failGrow' as const), on: fc.integer({ min: 0, max: 3 }).map((x) => x === 0) }) },
);

const setupArb = fc.record({
  maxPages: fc.integer({ min: 48, max: 320 }),
  heapStartPages: fc.integer({ min: 1, max: 3 }),
  initialPages: fc.integer({ min: 1, max: 24 }),
});

class Model {
  /** 1 for a mapped page. */
  readonly used: Uint8Array;
  /** 1 for a page that was ever handed out (it may hold non-zero bytes). */
  readonly touched: Uint8Array;
  /** Mapped ranges as [firstPage, pages]; partial unmaps split them. */
  readonly mapped: Array<[number, number]> = [];
  end: number;
  /** The backend's length in pages: the initial length until the first growth, then the end. */
  length: number;
  readonly c = { maps: 0, mapFailures: 0, unmaps: 0, decommits: 0, grows: 0, bytesMapped: 0, bytesUnmapped: 0, bytesDecommitted: 0 };

  constructor(readonly maxPages: number, readonly hs: number, initialPages: number) {
    this.used = new Uint8Array(maxPages);
    this.touched = new Uint8Array(maxPages);
    this.end = Math.max(hs, initialPages);
    this.length = initialPages;
  }

  free(p: number): boolean {
    return p >= this.hs && p < this.end && this.used[p] === 0;
  }

  fits(a: number, n: number): boolean {
    for (let p = a; p < a + n; p++) if (!this.free(p)) return false;
    return true;
  }

  /** The lowest aligned page where n free pages start, or -1. */
  firstFit(n: number, ap: number): number {
    for (let a = Math.ceil(this.hs / ap) * ap; a + n <= this.end; a += ap) if (this.fits(a, n)) return a;
    return -1;
  }

  /** Start of the free run that touches the end (the end itself when the last page is mapped). */
  tailStart(): number {
    let p = this.end;
    while (p > this.hs && this.free(p - 1)) p--;
    return p;
  }

  freeRuns(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let p = this.hs; p < this.end; p++) {
      if (!this.free(p)) continue;
      const start = p;
      while (p < this.end && this.free(p)) p++;
      out.push([start * P, (p - start) * P]);
    }
    return out;
  }

  inUsePages(): number {
    return this.mapped.reduce((s, [, n]) => s + n, 0);
  }
}

function checkAgainst(r: Rig, m: Model): void {
  r.os.checkInvariants();
  const inUse = m.inUsePages();
  const runs = m.freeRuns();
  expect(r.os.freeRanges()).toEqual(runs);
  expect(r.os.stats()).toEqual({
    ...m.c,
    bytesInUse: inUse * P,
    bytesFree: (m.end - m.hs - inUse) * P,
    freeRanges: runs.length,
    highWater: m.end * P,
    lockContended: 0,
    releases: 0,
    bytesReleased: 0,
  });
  expect(r.os.end()).toBe(m.end * P);
  expect(r.backend.byteLength()).toBe(m.length * P);
}

function doMap(r: Rig, m: Model, cmd: Extract<Cmd, { kind: 'map' }>): void {
  const n = cmd.pages;
  const align = 2 ** cmd.alignLog;
  const ap = Math.max(1, align / P);
  const fit = m.firstFit(n, ap);
  const grownAt = Math.ceil(m.tailStart() / ap) * ap;
  const canGrow = grownAt + n <= m.maxPages && !r.backend.failGrow;
  const expected = fit >= 0 ? fit : canGrow ? grownAt : 0;
  const before = expected === 0 ? snapshot(r) : undefined;
  const lengthBefore = r.backend.byteLength();

  const addr = r.os.map(n * P - cmd.slack, align);

  expect(page(addr)).toBe(expected);
  if (expected === 0) {
    m.c.mapFailures++;
    const after = snapshot(r) as { state: unknown; stats: object };
    const b = before as { state: unknown; stats: object };
    expect({ ...after, state: 0, stats: { ...after.stats, mapFailures: 0 } }).toEqual({ ...b, state: 0, stats: { ...b.stats, mapFailures: 0 } });
    return;
  }
  expect(addr % align).toBe(0);
  m.c.maps++;
  m.c.bytesMapped += n * P;
  if (fit >= 0) {
    // A free range could satisfy it: the memory must not grow.
    expect(r.backend.byteLength()).toBe(lengthBefore);
  } else {
    m.c.grows++;
    const oldEnd = m.end;
    m.end = grownAt + n;
    m.length = m.end;
    if (grownAt >= oldEnd) expect(r.os.lastMapZeroed()).toBe(true);
  }
  const i32 = r.backend.views.i32;
  for (let p = expected; p < expected + n; p++) {
    expect(m.used[p]).toBe(0); // no overlap with a live range
    if (r.os.lastMapZeroed()) {
      expect(m.touched[p]).toBe(0);
      expect(i32[(p * P) >>> 2]).toBe(0);
      expect(i32[((p + 1) * P - 4) >>> 2]).toBe(0);
    }
    m.used[p] = 1;
    m.touched[p] = 1;
    i32[(p * P) >>> 2] = p | 0x4000_0000;
    i32[((p + 1) * P - 4) >>> 2] = -1;
  }
  m.mapped.push([expected, n]);
}

function doRelease(r: Rig, m: Model, cmd: Extract<Cmd, { kind: 'unmap' | 'decommit' }>): void {
  if (m.mapped.length === 0) return;
  const k = cmd.pick % m.mapped.length;
  const [start, n] = m.mapped[k]!;
  const whole = cmd.part % 3 === 0;
  const from = whole ? 0 : cmd.from % n;
  const len = whole ? n : 1 + (cmd.len % (n - from));
  const bytes = len * P - cmd.slack;
  if (cmd.kind === 'decommit') {
    r.os.decommit((start + from) * P, bytes);
    m.c.decommits++;
    m.c.bytesDecommitted += len * P;
    return;
  }
  r.os.unmap((start + from) * P, bytes);
  m.c.unmaps++;
  m.c.bytesUnmapped += len * P;
  for (let p = start + from; p < start + from + len; p++) m.used[p] = 0;
  m.mapped.splice(k, 1);
  if (from > 0) m.mapped.push([start, from]);
  if (from + len < n) m.mapped.push([start + from + len, n - from - len]);
}

/** Unmap of a free page (double unmap) or, if none, of the page at the end: rejected, nothing changes. */
function doBadUnmap(r: Rig, m: Model, pick: number): void {
  const free: number[] = [];
  for (let p = m.hs; p < m.end; p++) if (m.free(p)) free.push(p);
  const p = free.length > 0 ? free[pick % free.length]! : m.end;
  const before = snapshot(r);
  let err: unknown;
  try {
    r.os.unmap(p * P, P);
  } catch (e) {
    err = e;
  }
  expect(isHakmemError(err, ErrorCode.INVALID_RANGE)).toBe(true);
  expect(snapshot(r)).toEqual(before);
}

describe('os-boundary model', () => {
  test('random map / unmap / partial unmap / decommit sequences match the reference model', () => {
    fc.assert(
      fc.property(setupArb, fc.array(cmdArb, { minLength: 100, maxLength: 160 }), (setup, cmds) => {
        const r = rig(setup);
        const m = new Model(setup.maxPages, setup.heapStartPages, setup.initialPages);
        checkAgainst(r, m);
        for (const cmd of cmds) {
          if (cmd.kind === 'map') doMap(r, m, cmd);
          else if (cmd.kind === 'badUnmap') doBadUnmap(r, m, cmd.pick);
          else if (cmd.kind === 'failGrow') r.backend.failGrow = cmd.on;
          else doRelease(r, m, cmd);
          checkAgainst(r, m);
        }
        // Everything back: one free range (or none) covering the whole managed area.
        r.backend.failGrow = false;
        for (const [s, n] of m.mapped.splice(0)) r.os.unmap(s * P, n * P);
        expect(r.os.freeRanges()).toEqual(m.end > m.hs ? [[m.hs * P, (m.end - m.hs) * P]] : []);
        expect(r.os.stats().bytesInUse).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
