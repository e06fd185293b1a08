import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { createHeap, decodeSnapshotPages, SNAPSHOT_SERIES_FORMAT, SNAPSHOT_VERSION } from '@hakmem/allocator';
import { PageKind } from '@hakmem/contracts';
import { OWNER_PACKED, paint } from '../src/colors.js';
import { describePage } from '../src/details.js';
import { geometryFor } from '../src/map.js';
import { decodeFrame, FrameCache, findRegion, Owner, parseBytes, toSeries } from '../src/model.js';
import { countOwners, expectedOwners, phasedSeries } from './helpers.js';

/** The page's data code, run in Node: decoding, owner categories, the tooltip's text, the geometry. */

const series = phasedSeries(64 << 20, 12, 3);

describe('the viewer\'s model', () => {
  test('decodeFrame: the page columns over the whole address space, owners as the snapshot says', () => {
    for (const f of series.frames) {
      const frame = decodeFrame(f);
      const snap = f.snapshot;
      const pages = decodeSnapshotPages(snap.pages);
      expect(frame.totalPages).toBe(snap.maxBytes / 65536);
      expect(Array.from(frame.owner)).toEqual(Array.from(expectedOwners(snap)));
      expect(frame.counts).toEqual(countOwners(expectedOwners(snap)));
      expect(Array.from(frame.kind.subarray(pages.first, pages.first + pages.count))).toEqual(Array.from(pages.kind));
      expect(Array.from(frame.used.subarray(pages.first, pages.first + pages.count))).toEqual(Array.from(pages.used));
      // Every page is some owner; the prefix is metadata; above the end nothing is mapped.
      expect(frame.counts.reduce((a, b) => a + b, 0)).toBe(frame.totalPages);
      for (let p = 0; p < pages.first; p++) expect(frame.owner[p]).toBe(Owner.META);
      for (let p = frame.endPage; p < frame.totalPages; p++) expect(frame.owner[p]).toBe(Owner.UNMAPPED);
    }
  });

  test('paint in owner mode gives each page its owner\'s colour', () => {
    const frame = decodeFrame(series.frames[8]!);
    const out = new Uint32Array(frame.totalPages);
    paint(frame, 'owner', out);
    for (let p = 0; p < frame.totalPages; p++) expect(out[p]).toBe(OWNER_PACKED[frame.owner[p]!]);
    for (const mode of ['class', 'occupancy', 'thread'] as const) {
      paint(frame, mode, out);
      for (let p = 0; p < frame.totalPages; p++) {
        const o = frame.owner[p]!;
        if (o === Owner.FREE || o === Owner.UNMAPPED || o === Owner.META) expect(out[p]).toBe(OWNER_PACKED[o]);
      }
    }
  });

  test('describePage: what the tooltip says for each kind of page', () => {
    const f = series.frames[8]!;
    const frame = decodeFrame(f);
    const snap = f.snapshot;
    const pages = decodeSnapshotPages(snap.pages);
    const firstOf = (k: number): number => pages.first + pages.kind.indexOf(k);
    const text = (p: number): string => {
      const d = describePage(frame, p);
      return `${d.title} ${d.rows.map((r) => r.join(' ')).join(' | ')}`;
    };
    const t = firstOf(PageKind.TINY);
    const ti = t - pages.first;
    expect(text(t)).toContain(`tiny slab`);
    expect(text(t)).toContain(`used ${pages.used[ti]} / ${pages.cap[ti]} blocks`);
    expect(describePage(frame, t).region).toEqual({ from: t & ~15, count: 16 });
    const sp = firstOf(PageKind.POOL);
    expect(text(sp)).toContain('pool span');
    expect(describePage(frame, sp).region.from).toBe(sp);
    const l = firstOf(PageKind.L25);
    const k = snap.l25.base.indexOf(l * 65536);
    expect(k).toBeGreaterThanOrEqual(0);
    expect(describePage(frame, l).region).toEqual({ from: l, count: snap.l25.pages[k] });
    expect(text(0)).toContain('global header');
    expect(text(1)).toContain('page registry');
    expect(text(frame.totalPages - 1)).toContain('above os-boundary\'s end');
  });

  test('findRegion: the entry whose run holds an address, else -1', () => {
    const bases = [0x10000, 0x40000, 0x100000];
    expect(findRegion(bases, [2, 1, 16], 0x0)).toBe(-1);
    expect(findRegion(bases, [2, 1, 16], 0x10000)).toBe(0);
    expect(findRegion(bases, [2, 1, 16], 0x2ffff)).toBe(0);
    expect(findRegion(bases, [2, 1, 16], 0x30000)).toBe(-1);
    expect(findRegion(bases, [2, 1, 16], 0x40000)).toBe(1);
    expect(findRegion(bases, 16, 0x1fffff)).toBe(2);
    expect(findRegion(bases, 16, 0x200000)).toBe(-1);
    expect(findRegion([], 16, 5)).toBe(-1);
  });

  test('the accepted files: a snapshot, a series, an array of snapshots, gzipped or not; anything else is refused with a reason', async () => {
    const heap = createHeap({ maxBytes: 32 << 20 });
    heap.malloc(100);
    const snap = heap.snapshot();
    const one = toSeries(await parseBytes(new TextEncoder().encode(JSON.stringify(snap))), 'one.json');
    expect(one.frames.length).toBe(1);
    const gz = toSeries(await parseBytes(gzipSync(JSON.stringify(series))), 'series.json.gz');
    expect(gz.frames.length).toBe(series.frames.length);
    expect(gz.source).toBe(series.source);
    expect(toSeries([snap, snap], 'two').frames.map((f) => f.event)).toEqual([0, 1]);
    expect(() => toSeries({ hello: 1 }, 'x.json')).toThrow(/not a hakmem heap snapshot/);
    expect(() => toSeries({ format: SNAPSHOT_SERIES_FORMAT, version: SNAPSHOT_VERSION, frames: [] }, 'e')).toThrow(/no snapshot/);
    await expect(parseBytes(new TextEncoder().encode('{oops'))).rejects.toThrow();
  });

  test('FrameCache decodes a frame once while it stays among the last ones shown', () => {
    const cache = new FrameCache(toSeries(series, 'series'), 3);
    const a = cache.get(1);
    expect(cache.get(1)).toBe(a);
    cache.get(2);
    cache.get(3);
    cache.get(4); // evicts 1, the least recently shown
    expect(cache.get(1)).not.toBe(a);
  });

  test('geometry: a SuperSlab never wraps a row; 2 GiB fits 256 columns', () => {
    expect(geometryFor(32_767, 1100)).toMatchObject({ columns: 256, rows: 128, cell: 4 });
    expect(geometryFor(4096, 1100)).toMatchObject({ columns: 128, rows: 32, cell: 8, gap: 1 });
    for (const pages of [16, 100, 2048, 10_000]) expect(geometryFor(pages, 900).columns % 16).toBe(0);
  });
});
