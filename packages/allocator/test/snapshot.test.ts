import { describe, expect, test } from 'vitest';
import {
  MAX_HEAP_BYTES, PAGE_SHIFT, PAGE_SIZE, PageKind, REG_CLASS_MASK, REG_CLASS_SHIFT, REG_KIND_MASK, REG_THREAD_MASK,
  REG_THREAD_SHIFT, SUPERSLAB_SLABS, SuperSlabState,
} from '@hakmem/contracts';
import {
  base64ToBytes, bytesToBase64, createHeap, decodeSnapshotPages, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, SnapshotPageState,
  type Heap, type HeapSnapshot,
} from '@hakmem/allocator';

const MiB = 1 << 20;
const popcount = (x: number): number => {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
};
const sum = (a: readonly number[]): number => a.reduce((s, x) => s + x, 0);

/** A deterministic PRNG (xorshift32). */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/**
 * Exercises every tier: tiny blocks of every class, pool blocks, L2.5 and big blocks, with
 * a part freed so that caches, free slabs, cached L2.5 / big blocks and free ranges exist.
 */
function exercise(heap: Heap, seed = 7): number[] {
  const rnd = prng(seed);
  const live: number[] = [];
  const keep = (p: number): void => {
    expect(p).toBeGreaterThan(0);
    live.push(p);
  };
  for (let i = 0; i < 6000; i++) keep(heap.malloc(1 + Math.floor(rnd() * 2048)));
  for (let i = 0; i < 600; i++) keep(heap.malloc(2049 + Math.floor(rnd() * 63_000)));
  for (let i = 0; i < 40; i++) keep(heap.malloc(65_536 + Math.floor(rnd() * (MiB - 65_536))));
  for (let i = 0; i < 8; i++) keep(heap.malloc(MiB + 1 + Math.floor(rnd() * 6 * MiB)));
  // Free about half, in a random order: partly used slabs and spans, cached blocks everywhere.
  for (let i = live.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [live[i], live[j]] = [live[j]!, live[i]!];
  }
  for (const p of live.splice(0, live.length >>> 1)) heap.free(p);
  return live;
}

/** Everything the snapshot's per-page columns and lists must agree with, from `heap.stats()`, the registry and the descriptors. */
function checkAgainstHeap(heap: Heap, snap: HeapSnapshot): void {
  const stats = heap.stats();
  const os = stats.boxes.osBoundary;
  const pages = decodeSnapshotPages(snap.pages);
  const n = pages.count;
  expect(snap.format).toBe(SNAPSHOT_FORMAT);
  expect(snap.version).toBe(SNAPSHOT_VERSION);
  expect(snap.maxBytes).toBe(heap.layout.maxBytes);
  expect(snap.heapStart).toBe(heap.layout.heapStart);
  expect(snap.end).toBe(heap.boxes.osBoundary.end());
  expect(snap.footprint).toBe(stats.footprint);
  expect(snap.liveBytes).toBe(heap.liveBytes());
  expect(pages.first).toBe(heap.layout.heapStart >>> PAGE_SHIFT);
  expect(n).toBe((snap.end - snap.heapStart) / PAGE_SIZE);
  expect(snap.stats).toEqual(stats);

  // The registry, read here on its own.
  const i32 = heap.views.i32;
  const reg = heap.layout.registryOffset >>> 2;
  const pd = heap.layout.pageTableOffset >>> 2;
  const count = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const e = i32[reg + pages.first + i]!;
    const k = e & REG_KIND_MASK;
    expect(pages.kind[i] === k || (k === PageKind.NONE && pages.kind[i] === PageKind.MAPPED), `page ${i}: kind`).toBe(true);
    expect(pages.cls[i]).toBe((e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK);
    expect(pages.thread[i]).toBe((e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK);
    count.set(pages.kind[i]!, (count.get(pages.kind[i]!) ?? 0) + 1);
  }
  const pagesOf = (k: number): number => count.get(k) ?? 0;

  // os-boundary: free pages are exactly its free ranges; the rest is in use.
  expect(pagesOf(PageKind.NONE) * PAGE_SIZE).toBe(os.bytesFree);
  expect(sum(snap.freeRanges.bytes)).toBe(os.bytesFree);
  expect(snap.freeRanges.base.length).toBe(os.freeRanges);
  expect((n - pagesOf(PageKind.NONE)) * PAGE_SIZE).toBe(os.bytesInUse);
  for (let r = 0; r < snap.freeRanges.base.length; r++) {
    const from = (snap.freeRanges.base[r]! >>> PAGE_SHIFT) - pages.first;
    for (let i = from; i < from + snap.freeRanges.bytes[r]! / PAGE_SIZE; i++) expect(pages.kind[i]).toBe(PageKind.NONE);
  }

  // Tiny: one page per slab; used blocks = live + cached; occupancy from each slab's descriptor.
  expect(pagesOf(PageKind.TINY)).toBe(stats.tiny.slabs);
  let tinyUsed = 0;
  let tinyUsedBytes = 0;
  for (let i = 0; i < n; i++) {
    if (pages.kind[i] !== PageKind.TINY) continue;
    const d = pd + ((pages.first + i) << 4);
    expect(pages.used[i]).toBe(i32[d + 2]);
    expect(pages.cap[i]).toBe(i32[d + 3]);
    expect(pages.cap[i]).toBe(Math.floor(PAGE_SIZE / snap.classes.tiny[pages.cls[i]!]!));
    expect([SnapshotPageState.SUPERSLAB_HOT, SnapshotPageState.SUPERSLAB_DRAINING]).toContain(pages.state[i]);
    tinyUsed += pages.used[i]!;
    tinyUsedBytes += pages.used[i]! * snap.classes.tiny[pages.cls[i]!]!;
  }
  expect(tinyUsed).toBe(stats.tiny.blocksInUse + stats.tiny.blocksCached);
  expect(tinyUsedBytes).toBe(stats.tiny.bytesInUse + stats.tiny.bytesCached);
  expect(stats.tiny.slabs * PAGE_SIZE - tinyUsedBytes).toBe(stats.tiny.bytesFree);

  // SuperSlabs: counts by state as the tier says; their in-use slabs are the tiny slabs.
  const ss = snap.superslabs;
  const byState = (s: number): number => ss.state.filter((x) => x === s).length;
  expect(byState(SuperSlabState.HOT)).toBe(stats.boxes.superslabTier.hot);
  expect(byState(SuperSlabState.DRAINING)).toBe(stats.boxes.superslabTier.draining);
  expect(byState(SuperSlabState.FREE)).toBe(stats.boxes.superslabTier.free);
  expect(sum(ss.freeMask.map((m) => SUPERSLAB_SLABS - popcount(m)))).toBe(stats.tiny.slabs);
  const inSuperSlab = new Uint8Array(n);
  for (let k = 0; k < ss.base.length; k++) {
    const from = (ss.base[k]! >>> PAGE_SHIFT) - pages.first;
    for (let s = 0; s < SUPERSLAB_SLABS; s++) {
      inSuperSlab[from + s] = 1;
      expect(pages.kind[from + s]).toBe(((ss.freeMask[k]! >>> s) & 1) !== 0 ? PageKind.MAPPED : PageKind.TINY);
    }
  }

  // Pool: spans cover every POOL page; used = live + pool-tls's cached; free space as the tier counts it.
  expect(sum(snap.spans.pages)).toBe(pagesOf(PageKind.POOL));
  expect(sum(snap.spans.used)).toBe(stats.pool.blocksInUse + stats.pool.blocksCached);
  const spanUsedBytes = sum(snap.spans.used.map((u, k) => u * snap.spans.blockSize[k]!));
  expect(spanUsedBytes).toBe(stats.pool.bytesInUse + stats.pool.bytesCached);
  let poolMapped = 0;
  for (let i = 0; i < n; i++) if (pages.kind[i] === PageKind.MAPPED && inSuperSlab[i] === 0 && pages.thread[i] !== 0) poolMapped++;
  // (A shared heap's stats count the span space of every thread, but not the arena rests and empty spans.)
  expect(sum(snap.spans.pages) * PAGE_SIZE - spanUsedBytes + (heap.backend.shared ? 0 : poolMapped * PAGE_SIZE)).toBe(stats.pool.bytesFree);
  for (let k = 0; k < snap.spans.base.length; k++) {
    const from = (snap.spans.base[k]! >>> PAGE_SHIFT) - pages.first;
    expect(snap.spans.blockSize[k]).toBe(snap.classes.pool[snap.spans.cls[k]!]);
    for (let i = from; i < from + snap.spans.pages[k]!; i++) {
      expect(pages.used[i]).toBe(snap.spans.used[k]);
      expect(pages.cap[i]).toBe(snap.spans.capacity[k]);
    }
  }

  // L2.5 and big: live and cached blocks and bytes as the tiers say; every page carries its block's state.
  for (const [list, usage, kind] of [[snap.l25, stats.l25, PageKind.L25], [snap.big, stats.big, PageKind.BIG]] as const) {
    const live = list.state.map((s, k) => (s === 1 ? k : -1)).filter((k) => k >= 0);
    const cached = list.state.map((s, k) => (s === 2 ? k : -1)).filter((k) => k >= 0);
    expect(live.length + cached.length).toBe(list.base.length);
    expect(live.length).toBe(usage.blocksInUse);
    expect(cached.length).toBe(usage.blocksCached);
    expect(sum(live.map((k) => list.pages[k]!)) * PAGE_SIZE).toBe(usage.bytesInUse);
    expect(sum(cached.map((k) => list.pages[k]!)) * PAGE_SIZE).toBe(usage.bytesCached);
    expect(sum(list.pages)).toBe(pagesOf(kind));
    for (let k = 0; k < list.base.length; k++) {
      const from = (list.base[k]! >>> PAGE_SHIFT) - pages.first;
      for (let i = from; i < from + list.pages[k]!; i++) {
        expect(pages.kind[i]).toBe(kind);
        expect(pages.state[i]).toBe(list.state[k] === 1 ? SnapshotPageState.LIVE : SnapshotPageState.CACHED);
      }
    }
  }

  // Plain JSON data: a round trip changes nothing.
  expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
}

describe('heap.snapshot()', () => {
  test('a fresh heap: header fields, nothing but metadata and free pages, empty lists', () => {
    const heap = createHeap();
    const snap = heap.snapshot();
    checkAgainstHeap(heap, snap);
    expect(snap.maxBytes).toBe(256 * MiB);
    expect(snap.liveBytes).toBe(0);
    expect(snap.shared).toBe(false);
    expect(snap.tid).toBe(1);
    expect(snap.spans.base).toEqual([]);
    expect(snap.l25.base).toEqual([]);
    expect(snap.big.base).toEqual([]);
    expect(snap.threads).toEqual([{ tid: 1, state: 'live', hostId: expect.any(Number) as number, attaches: 1 }]);
    expect(snap.classes.tiny.length).toBeGreaterThan(0);
    expect(snap.classes.pool.length).toBe(21);
    const pages = decodeSnapshotPages(snap.pages);
    for (let i = 0; i < pages.count; i++) expect(pages.used[i]).toBe(0);
  });

  test('a heap exercised in every tier: per-kind page counts and occupancies agree with heap.stats() and the registry', () => {
    const heap = createHeap({ maxBytes: 512 * MiB });
    const live = exercise(heap);
    heap.validate();
    const snap = heap.snapshot();
    checkAgainstHeap(heap, snap);
    const pages = decodeSnapshotPages(snap.pages);
    const kinds = new Set(pages.kind);
    for (const k of [PageKind.TINY, PageKind.POOL, PageKind.L25, PageKind.BIG]) expect(kinds.has(k), `kind ${k} present`).toBe(true);
    expect(snap.l25.state).toContain(2); // cached L2.5 blocks
    expect(snap.big.state).toContain(1);
    expect(snap.superslabs.base.length).toBeGreaterThan(0);
    // Taking a snapshot changes nothing.
    expect(heap.snapshot().pages).toEqual(snap.pages);

    // After freeing everything and trimming: no slab, span or block left.
    for (const p of live) heap.free(p);
    heap.trim();
    const after = heap.snapshot();
    checkAgainstHeap(heap, after);
    expect(after.liveBytes).toBe(0);
    expect(after.spans.base.length + after.l25.base.length + after.big.base.length).toBe(0);
    const a = decodeSnapshotPages(after.pages);
    expect(a.kind.every((k) => k === PageKind.NONE || k === PageKind.MAPPED)).toBe(true);
  });

  test('a shared heap: META pages of the thread caches carry their thread id', () => {
    const heap = createHeap({ shared: true, maxBytes: 256 * MiB });
    exercise(heap, 3);
    const snap = heap.snapshot();
    checkAgainstHeap(heap, snap);
    expect(snap.shared).toBe(true);
    const pages = decodeSnapshotPages(snap.pages);
    const meta = [...pages.kind.keys()].filter((i) => pages.kind[i] === PageKind.META);
    expect(meta.length).toBeGreaterThan(0);
    for (const i of meta) expect(pages.thread[i]).toBe(heap.tid);
  });

  test('retained FREE SuperSlabs are reported with their state on every page', () => {
    const heap = createHeap({ maxBytes: 128 * MiB });
    const ptrs: number[] = [];
    for (let i = 0; i < 40_000; i++) ptrs.push(heap.malloc(64));
    for (const p of ptrs) heap.free(p);
    heap.boxes.unifiedCache.flush();
    heap.boxes.pageBox.flush();
    heap.boxes.warmPool.flush();
    const snap = heap.snapshot();
    checkAgainstHeap(heap, snap);
    const pages = decodeSnapshotPages(snap.pages);
    expect(snap.superslabs.state).toContain(SuperSlabState.FREE);
    for (let k = 0; k < snap.superslabs.base.length; k++) {
      if (snap.superslabs.state[k] !== SuperSlabState.FREE) continue;
      const from = (snap.superslabs.base[k]! >>> PAGE_SHIFT) - pages.first;
      expect(snap.superslabs.freeMask[k]).toBe(0xffff);
      for (let s = 0; s < SUPERSLAB_SLABS; s++) expect(pages.state[from + s]).toBe(SnapshotPageState.SUPERSLAB_FREE);
    }
  });

  test('a 2 GiB heap, nearly all mapped (32 k pages): the snapshot takes little time and stays compact', () => {
    const heap = createHeap({ maxBytes: MAX_HEAP_BYTES });
    exercise(heap, 11);
    // Fill the rest with untouched big blocks (the native backend commits pages only when written).
    const big: number[] = [];
    for (let p = heap.malloc(24 * MiB); p !== 0; p = heap.malloc(24 * MiB)) big.push(p);
    for (const p of big.splice(0, 20)) heap.free(p);
    const t0 = performance.now();
    const snap = heap.snapshot();
    const ms = performance.now() - t0;
    const json = JSON.stringify(snap);
    const t1 = performance.now();
    const pages = decodeSnapshotPages((JSON.parse(json) as HeapSnapshot).pages);
    const decodeMs = performance.now() - t1;
    checkAgainstHeap(heap, snap);
    expect(pages.count).toBeGreaterThan(32_000);
    console.log(`2 GiB snapshot: ${pages.count} pages, ${ms.toFixed(1)} ms to take, ${(json.length / 1024).toFixed(0)} KiB of JSON, ${decodeMs.toFixed(1)} ms to parse and decode`);
    // Generous bounds (a loaded CI machine): a few tens of ms and about 10 bytes a page are what it takes.
    expect(ms).toBeLessThan(1500);
    expect(json.length).toBeLessThan(32_768 * 16 + 256 * 1024);
  });
});

describe('snapshot base64', () => {
  test('round trip of every length and byte value; matches Buffer', () => {
    const rnd = prng(5);
    for (let len = 0; len < 70; len++) {
      const b = Uint8Array.from({ length: len }, () => Math.floor(rnd() * 256));
      const text = bytesToBase64(b);
      expect(text).toBe(Buffer.from(b).toString('base64'));
      expect(base64ToBytes(text)).toEqual(b);
    }
    const all = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7919) & 0xff);
    expect(Buffer.from(base64ToBytes(bytesToBase64(all))).equals(Buffer.from(all))).toBe(true);
    expect(() => base64ToBytes('ab$d')).toThrow(/bad character/);
  });
});
