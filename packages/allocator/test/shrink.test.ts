import { describe, expect, test } from 'vitest';
import { createHeap, type Heap } from '@hakmem/allocator';

const MiB = 1 << 20;
/** Tiny, tiny, mid (~16 KiB), L2.5 (~200 KiB), big (~2 MiB): every tier maps from os-boundary. */
const SIZES = [48, 700, 16 * 1024 + 8, 200 * 1024, 2 * MiB + 4096];
const rss = (): number => process.memoryUsage().rss;

/** Mallocs blocks of the mixed sizes until `bytes` are touched (a write every 4 KiB, and the last byte). */
function touch(heap: Heap, bytes: number, seed: number): Array<[number, number]> {
  const blocks: Array<[number, number]> = [];
  let touched = 0;
  for (let i = 0; touched < bytes; i++) {
    const size = SIZES[i % SIZES.length]!;
    const p = heap.malloc(size);
    expect(p, `malloc(${size})`).toBeGreaterThan(0);
    const u8 = heap.views.u8;
    for (let o = 0; o < size; o += 4096) u8[p + o] = (seed + o) & 0xff;
    u8[p + size - 1] = seed & 0xff;
    blocks.push([p, size]);
    touched += size;
  }
  return blocks;
}

function intact(heap: Heap, blocks: ReadonlyArray<readonly [number, number]>, seed: number): boolean {
  const u8 = heap.views.u8;
  for (const [p, size] of blocks) {
    for (let o = 0; o < size; o += 4096) if (u8[p + o] !== ((seed + o) & 0xff)) return false;
    if (u8[p + size - 1] !== (seed & 0xff)) return false;
  }
  return true;
}

/** Fisher–Yates with a fixed LCG: the free order mixes tiers and addresses. */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = xs.slice();
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const TOUCHED = 256 * MiB;

describe('trim() gives the free top back to the host (growable native backend, not shared)', () => {
  test('after a 256 MiB peak freed in full, trim shrinks the memory to the metadata and RSS falls; the heap works after', () => {
    const heap = createHeap({ growable: true, maxBytes: 1024 * MiB });
    expect(heap.backend.capabilities.canShrink).toBe(true);
    const base = heap.stats().byteLength;
    const blocks = touch(heap, TOUCHED, 7);
    const peak = heap.stats();
    const rssPeak = rss();
    expect(peak.byteLength).toBe(peak.footprint);
    expect(peak.byteLength).toBeGreaterThan(TOUCHED);
    for (const [p] of shuffled(blocks, 3)) heap.free(p);
    heap.trim();
    const after = heap.stats();
    const rssAfter = rss();
    // Measured (Node 20, Linux x64): RSS 347 → 91 MiB, a drop of 256 of the 256.5 MiB touched.
    expect(rssPeak - rssAfter, `RSS ${rssPeak / MiB | 0} → ${rssAfter / MiB | 0} MiB`).toBeGreaterThan(0.7 * TOUCHED);
    expect(after.byteLength).toBe(base);
    expect(after.byteLength).toBe(after.metadataBytes);
    expect(after.footprint).toBe(peak.footprint);
    expect(after.boxes.osBoundary).toMatchObject({ bytesInUse: 0, bytesFree: 0, freeRanges: 0, releases: 1 });
    expect(after.boxes.osBoundary.bytesReleased).toBe(peak.byteLength - base);
    expect(heap.backend.views.u8.length).toBe(base);
    heap.validate();

    // Again: the memory grows back (zeroed: calloc trusts it), every tier works.
    const again = touch(heap, 64 * MiB, 11);
    expect(intact(heap, again, 11)).toBe(true);
    const z = heap.calloc(1, 3 * MiB);
    expect(z).toBeGreaterThan(0);
    expect(heap.views.u8.subarray(z, z + 3 * MiB).every((x) => x === 0)).toBe(true);
    heap.validate();
    for (const [p] of again) heap.free(p);
    heap.free(z);
    heap.trim();
    expect(heap.stats().byteLength).toBe(base);
    heap.validate();
  });

  test('a live block at the top keeps the memory at least up to its end; what is above it goes', () => {
    const heap = createHeap({ growable: true, maxBytes: 512 * MiB });
    const blocks = touch(heap, 96 * MiB, 5);
    // The block that ends highest stays live.
    const top = blocks.reduce((a, b) => (a[0] + a[1] >= b[0] + b[1] ? a : b));
    for (const [p] of blocks) if (p !== top[0]) heap.free(p);
    heap.trim();
    const s = heap.stats();
    expect(s.byteLength).toBeGreaterThanOrEqual(top[0] + top[1]);
    expect(s.byteLength).toBe(s.footprint - s.boxes.osBoundary.bytesReleased);
    expect(intact(heap, [top], 5)).toBe(true);
    heap.validate();
    // A block below the top does not keep the top: free the top one, keep a low one.
    const low = heap.malloc(100);
    heap.free(top[0]);
    heap.trim();
    const t = heap.stats();
    expect(t.byteLength).toBeLessThan(s.byteLength);
    expect(t.byteLength).toBeGreaterThan(low);
    expect(t.byteLength).toBeLessThanOrEqual(t.metadataBytes + 4 * MiB);
    heap.validate();
  });

  test('backends that cannot shrink: trim gives nothing back to the host and the length stays', () => {
    for (const options of [{}, { growable: true, shared: true }, { backend: 'wasm' as const }]) {
      const heap = createHeap({ ...options, maxBytes: 128 * MiB });
      expect(heap.backend.capabilities.canShrink).toBe(false);
      const blocks = touch(heap, 16 * MiB, 1);
      const peak = heap.stats().byteLength;
      for (const [p] of blocks) heap.free(p);
      heap.trim();
      const s = heap.stats();
      expect(s.byteLength).toBe(peak);
      expect(s.boxes.osBoundary.releases).toBe(0);
      heap.validate();
    }
  });
});
