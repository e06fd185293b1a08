import { describe, expect, test } from 'vitest';
import { createNativeBackend } from '@hakmem/memory-backend';
import { MiB, P, boundaryOver, rig, snapshot } from './helpers.js';

describe('os-boundary: releaseTop', () => {
  test('map A, map B (top), unmap B: releaseTop gives back B\'s pages and lowers the end', () => {
    const r = rig({ maxPages: 64 });
    const a = r.os.map(3 * P, P);
    const b = r.os.map(4 * P, P);
    expect(b).toBe(a + 3 * P);
    r.backend.views.u8.fill(0xee, b, b + 4 * P);
    r.os.unmap(b, 4 * P);
    const before = r.os.stats();
    expect(r.os.releaseTop()).toBe(4 * P);
    expect(r.os.end()).toBe(b);
    expect(r.backend.byteLength()).toBe(b);
    expect(r.os.freeRanges()).toEqual([]);
    const after = r.os.stats();
    expect(after).toEqual({
      ...before, bytesFree: 0, freeRanges: 0, releases: 1, bytesReleased: 4 * P,
    });
    expect(after.bytesInUse).toBe(3 * P);
    expect(after.highWater).toBe(b + 4 * P);
    r.os.checkInvariants();
    // Nothing free at the top now: 0, nothing changed.
    const snap = snapshot(r);
    expect(r.os.releaseTop()).toBe(0);
    expect(snapshot(r)).toEqual(snap);
    // A later map grows over the released pages again: zero, and said to be.
    const c = r.os.map(2 * P, P);
    expect(c).toBe(b);
    expect(r.os.lastMapZeroed()).toBe(true);
    expect(r.backend.views.u8.subarray(c, c + 2 * P).every((x) => x === 0)).toBe(true);
    expect(r.os.stats().highWater).toBe(b + 4 * P);
    r.os.checkInvariants();
  });

  test('a free range below a mapped page is not released', () => {
    const r = rig({ maxPages: 64 });
    const a = r.os.map(3 * P, P);
    const b = r.os.map(P, P);
    r.os.unmap(a, 3 * P);
    const snap = snapshot(r);
    expect(r.os.releaseTop()).toBe(0);
    expect(snapshot(r)).toEqual(snap);
    expect(r.os.end()).toBe(b + P);
    // The top block gone, the whole area goes back, down to heapStart and no further.
    r.os.unmap(b, P);
    expect(r.os.releaseTop()).toBe(4 * P);
    expect(r.os.end()).toBe(P);
    expect(r.backend.byteLength()).toBe(P);
    expect(r.os.stats()).toMatchObject({ bytesInUse: 0, bytesFree: 0, freeRanges: 0, highWater: 5 * P, releases: 1 });
    r.os.checkInvariants();
  });

  test('only the free tail range goes; the ranges below it stay, with their dirty bits', () => {
    const r = rig({ maxPages: 64 });
    const a = r.os.map(2 * P, P);
    const b = r.os.map(P, P);
    const c = r.os.map(5 * P, P);
    r.backend.views.u8.fill(0x11, a, a + 2 * P);
    r.os.unmap(a, 2 * P);
    r.os.unmap(c, 5 * P);
    expect(r.os.releaseTop()).toBe(5 * P);
    expect(r.os.freeRanges()).toEqual([[a, 2 * P]]);
    expect(r.os.end()).toBe(b + P);
    // The dirty range below is reused as dirty (not zeroed).
    expect(r.os.map(2 * P, P)).toBe(a);
    expect(r.os.lastMapZeroed()).toBe(false);
    r.os.checkInvariants();
  });

  test('a refused shrink changes nothing; a shared boundary never releases', () => {
    const r = rig({ maxPages: 64 });
    const a = r.os.map(4 * P, P);
    r.os.unmap(a, 4 * P);
    r.backend.failShrink = true;
    const snap = snapshot(r);
    expect(r.os.releaseTop()).toBe(0);
    expect(snapshot(r)).toEqual(snap);
    r.backend.failShrink = false;
    expect(r.os.releaseTop()).toBe(4 * P);

    const s = rig({ maxPages: 64, shared: true });
    expect(s.backend.capabilities.canShrink).toBe(false);
    const m = s.os.map(4 * P, P);
    s.os.unmap(m, 4 * P);
    const calls = s.backend.shrinkCalls;
    const snapShared = snapshot(s);
    expect(s.os.releaseTop()).toBe(0);
    expect(snapshot(s)).toEqual(snapShared);
    expect(s.backend.shrinkCalls).toBe(calls);
  });

  test('the initial free range (a backend longer than heapStart) can be released too', () => {
    const r = rig({ maxPages: 64, initialPages: 8 });
    expect(r.os.freeRanges()).toEqual([[P, 7 * P]]);
    expect(r.os.releaseTop()).toBe(7 * P);
    expect(r.os.end()).toBe(P);
    expect(r.os.stats().highWater).toBe(8 * P);
    r.os.checkInvariants();
  });

  test.each([
    ['native, growable', () => createNativeBackend({ initialBytes: P, maxBytes: 64 * MiB, growable: true }), true],
    ['native, reserved (cannot shrink)', () => createNativeBackend({ initialBytes: P, maxBytes: 64 * MiB }), false],
  ] as const)('over the real backend (%s)', (_label, make, shrinks) => {
    const backend = make();
    const os = boundaryOver(backend, 1, false);
    const a = os.map(MiB, P);
    const b = os.map(16 * MiB, P);
    backend.views.u8.fill(0x42, b, b + 16 * MiB);
    os.unmap(b, 16 * MiB);
    expect(os.releaseTop()).toBe(shrinks ? 16 * MiB : 0);
    expect(backend.byteLength()).toBe(shrinks ? b : b + 16 * MiB);
    expect(backend.views.u8.length).toBe(shrinks ? b : 64 * MiB);
    const c = os.map(16 * MiB, P);
    expect(c).toBe(b);
    expect(os.lastMapZeroed()).toBe(shrinks);
    if (shrinks) {
      const u32 = new Uint32Array(backend.buffer(), c, (16 * MiB) / 4);
      expect(u32.every((x) => x === 0)).toBe(true);
    }
    expect(backend.views.u8[a]).toBe(0);
    os.checkInvariants();
  });
});
