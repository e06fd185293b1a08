import {
  BigBlockState, L25BlockState, PAGE_SHIFT, PAGE_SIZE, PD_BLOCK_SIZE, PD_CAPACITY, PD_CARVE, PD_REGION_GUARD, PD_REGION_MASK,
  PD_REGION_OWNER, PD_REGION_PAGES, PD_REGION_STATE, PD_USED, PageKind, REG_AUX_MASK, REG_AUX_SHIFT, REG_CLASS_MASK,
  REG_CLASS_SHIFT, REG_KIND_MASK, REG_THREAD_MASK, REG_THREAD_SHIFT, SUPERSLAB_SIZE, SUPERSLAB_SLABS, SuperSlabState,
} from '@hakmem/contracts';
import type { HeapStats } from './api.js';
import type { Heap } from './heap.js';
import type { ThreadRecord } from './threads.js';

/**
 * `heap.snapshot()`: a picture of the heap read from the metadata in its linear memory
 * (the page registry, the page descriptors, the superslab tier's slot, os-boundary's
 * free-range table and the thread records), plus `heap.stats()`. Plain JSON data: write
 * it with `JSON.stringify`, read it back with `JSON.parse`. Format: see the allocator's
 * README, "Snapshots".
 */

/** `format` of a {@link HeapSnapshot}. */
export const SNAPSHOT_FORMAT = 'hakmem-heap-snapshot';
/** `format` of a {@link HeapSnapshotSeries}. */
export const SNAPSHOT_SERIES_FORMAT = 'hakmem-heap-series';
/** Bumped whenever a field of the snapshot changes meaning or encoding. */
export const SNAPSHOT_VERSION = 1;

/**
 * Values of the per-page `state` column. Which apply depends on the page's kind:
 * L2.5 and big pages carry their block's state (LIVE or CACHED); tiny pages and the
 * MAPPED pages of a SuperSlab (its free slabs) carry their SuperSlab's state; every
 * other page is NONE.
 */
export const SnapshotPageState = {
  NONE: 0,
  /** An L2.5 or big block handed out. */
  LIVE: 1,
  /** An L2.5 or big block freed and kept for reuse. */
  CACHED: 2,
  /** A page of a HOT SuperSlab (slabs may be taken from it). */
  SUPERSLAB_HOT: 3,
  /** A page of a DRAINING SuperSlab (waits for its last blocks). */
  SUPERSLAB_DRAINING: 4,
  /** A page of a FREE SuperSlab the tier retains for reuse. */
  SUPERSLAB_FREE: 5,
} as const;
export type SnapshotPageState = (typeof SnapshotPageState)[keyof typeof SnapshotPageState];

/**
 * One value per 64 KiB page from `heapStart` to os-boundary's end, each column a
 * little-endian typed array encoded as base64 (`decodeSnapshotPages` turns them back).
 */
export interface SnapshotPages {
  /** Page number (`address >>> 16`) of the first page: `heapStart >>> 16`. */
  readonly first: number;
  /** Pages in each column: `(end - heapStart) >>> 16`. */
  readonly count: number;
  /** How the columns are encoded: base64 of the little-endian bytes of the typed array. */
  readonly encoding: 'base64-le';
  /** Uint8Array: the registry's owner kind (`PageKind`); 0 is a page in a free range of os-boundary. */
  readonly kind: string;
  /** Uint8Array: the registry's class (tiny, pool or L2.5 class; 0 for the other kinds). */
  readonly cls: string;
  /** Uint8Array: the registry's thread id (owner of a tiny slab or a pool page, allocator of an L2.5 block, owner of a META cache region). */
  readonly thread: string;
  /** Uint8Array: {@link SnapshotPageState}. */
  readonly state: string;
  /** Uint16Array: blocks in use — of a tiny slab (its descriptor's used count, blocks in a thread's cache included), or of the pool span the page is in. */
  readonly used: string;
  /** Uint16Array: blocks a tiny slab, or the pool span the page is in, can hold. */
  readonly cap: string;
}

/** The per-page columns as typed arrays (`decodeSnapshotPages`). */
export interface DecodedSnapshotPages {
  readonly first: number;
  readonly count: number;
  readonly kind: Uint8Array;
  readonly cls: Uint8Array;
  readonly thread: Uint8Array;
  readonly state: Uint8Array;
  readonly used: Uint16Array;
  readonly cap: Uint16Array;
}

/** SuperSlabs (1 MiB, 16 slabs), from the descriptors of their first pages; one entry per index across the arrays. */
export interface SnapshotSuperSlabs {
  readonly base: number[];
  /** `SuperSlabState`: 0 FREE (retained), 1 HOT, 2 DRAINING. */
  readonly state: number[];
  /** Thread id whose warm pool holds it (0: the shared pool or none). */
  readonly owner: number[];
  /** Bit i set: slab i is free. */
  readonly freeMask: number[];
  /** Release-guard pins. */
  readonly guard: number[];
}

/** Pool spans (pool-refill), from the descriptors of their first pages. */
export interface SnapshotSpans {
  readonly base: number[];
  readonly pages: number[];
  readonly cls: number[];
  readonly owner: number[];
  readonly blockSize: number[];
  /** Blocks not free (pool-tls's cached blocks included). */
  readonly used: number[];
  readonly capacity: number[];
  /** Bytes carved from the span start. */
  readonly carved: number[];
}

/** L2.5 or big blocks, from the descriptors of their head pages. */
export interface SnapshotBlocks {
  readonly base: number[];
  readonly pages: number[];
  /** L2.5: its class; big: 0. */
  readonly cls: number[];
  /** L2.5: the thread that allocated it last; big: the thread that cached it (0 while live). */
  readonly thread: number[];
  /** 1 LIVE, 2 CACHED (`L25BlockState` / `BigBlockState`). */
  readonly state: number[];
}

/** A heap's snapshot (`heap.snapshot()`): JSON-serialisable data only. */
export interface HeapSnapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly version: number;
  /** When it was taken (ISO 8601). */
  readonly time: string;
  readonly pageSize: number;
  readonly maxBytes: number;
  /** First byte os-boundary manages (below it: header, registry, page table, os-boundary state — all META). */
  readonly heapStart: number;
  /** os-boundary's end: everything in `[heapStart, end)` is mapped or free; nothing above is. */
  readonly end: number;
  /** Bytes taken from the backend (`stats().footprint`). */
  readonly footprint: number;
  /** `heap.liveBytes()`. */
  readonly liveBytes: number;
  readonly shared: boolean;
  /** The thread that took the snapshot. */
  readonly tid: number;
  /** Block size of each class, per tier (index = the registry's class). */
  readonly classes: { readonly tiny: number[]; readonly pool: number[]; readonly l25: number[] };
  readonly pages: SnapshotPages;
  readonly superslabs: SnapshotSuperSlabs;
  readonly spans: SnapshotSpans;
  readonly l25: SnapshotBlocks;
  readonly big: SnapshotBlocks;
  /** os-boundary's free ranges, in address order. */
  readonly freeRanges: { readonly base: number[]; readonly bytes: number[] };
  /** Thread records in use. */
  readonly threads: ThreadRecord[];
  /** `heap.stats()`: footprint, per-tier usage, every box's counters. */
  readonly stats: HeapStats;
}

/** One snapshot of a series and when it was taken. */
export interface SnapshotFrame {
  /** Events (calls) replayed or run when the snapshot was taken. */
  readonly event: number;
  readonly label?: string;
  readonly snapshot: HeapSnapshot;
}

/** Snapshots taken while a trace or a workload ran (what the heap viewer's timeline scrubs through). */
export interface HeapSnapshotSeries {
  readonly format: typeof SNAPSHOT_SERIES_FORMAT;
  readonly version: number;
  /** What ran, e.g. `trace python-json`. */
  readonly source: string;
  /** A snapshot every this many events (the last frame may be closer). */
  readonly every: number;
  readonly frames: SnapshotFrame[];
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 of bytes (no line breaks, `=` padded): works in any JS host. */
export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const n = bytes.length;
  let chunk = '';
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    chunk += B64[v >>> 18]! + B64[(v >>> 12) & 63]! + B64[(v >>> 6) & 63]! + B64[v & 63]!;
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  if (i < n) {
    const v = (bytes[i]! << 16) | (i + 1 < n ? bytes[i + 1]! << 8 : 0);
    chunk += B64[v >>> 18]! + B64[(v >>> 12) & 63]! + (i + 1 < n ? B64[(v >>> 6) & 63]! : '=') + '=';
  }
  parts.push(chunk);
  return parts.join('');
}

const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

/** Bytes of a base64 string ({@link bytesToBase64}'s output). Throws on a character outside the alphabet. */
export function base64ToBytes(text: string): Uint8Array {
  let len = text.length;
  while (len > 0 && text.charCodeAt(len - 1) === 61) len--; // '='
  const out = new Uint8Array((len * 3) >>> 2);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c]! : -1;
    if (v < 0) throw new Error(`base64: bad character ${JSON.stringify(text[i])} at ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}

function encode(a: Uint8Array | Uint16Array): string {
  return bytesToBase64(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

function decode8(text: string, count: number, what: string): Uint8Array {
  const b = base64ToBytes(text);
  if (b.length !== count) throw new Error(`snapshot pages.${what}: ${b.length} bytes, want ${count}`);
  return b;
}

function decode16(text: string, count: number, what: string): Uint16Array {
  const b = base64ToBytes(text);
  if (b.length !== count * 2) throw new Error(`snapshot pages.${what}: ${b.length} bytes, want ${count * 2}`);
  return new Uint16Array(b.buffer, b.byteOffset, count);
}

/**
 * The per-page columns of a snapshot as typed arrays. Throws when a column's length is not `count`.
 *
 * @example
 * ```ts
 * import { createHeap, decodeSnapshotPages, type HeapSnapshot } from '@hakmem/allocator';
 * import { PageKind } from '@hakmem/contracts';
 *
 * const heap = createHeap({ maxBytes: 32 << 20 });
 * const p = heap.malloc(100);
 * const snap = JSON.parse(JSON.stringify(heap.snapshot())) as HeapSnapshot; // plain data
 * const pages = decodeSnapshotPages(snap.pages);
 * const i = (p >>> 16) - pages.first;                // p's page
 * if (pages.kind[i] !== PageKind.TINY || (pages.used[i] ?? 0) < 1) throw new Error('p lies in a tiny slab in use');
 * heap.free(p);
 * ```
 */
export function decodeSnapshotPages(pages: SnapshotPages): DecodedSnapshotPages {
  const n = pages.count;
  return {
    first: pages.first, count: n,
    kind: decode8(pages.kind, n, 'kind'), cls: decode8(pages.cls, n, 'cls'), thread: decode8(pages.thread, n, 'thread'),
    state: decode8(pages.state, n, 'state'), used: decode16(pages.used, n, 'used'), cap: decode16(pages.cap, n, 'cap'),
  };
}

const U16_MAX = 0xffff;
const clamp16 = (x: number): number => (x < 0 ? 0 : x > U16_MAX ? U16_MAX : x);

/** Whether the 16 registry entries from `r` are those of a SuperSlab (TINY slabs, or MAPPED free slabs with thread 0, aux = slab index). */
function isSuperSlab(i32: Int32Array, r: number): boolean {
  for (let i = 0; i < SUPERSLAB_SLABS; i++) {
    const e = i32[r + i]!;
    const k = e & REG_KIND_MASK;
    if (((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) !== i) return false;
    if (k === PageKind.TINY) continue;
    if (k !== PageKind.MAPPED || ((e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK) !== 0) return false;
  }
  return true;
}

const SS_PAGE_STATE: Record<number, SnapshotPageState> = {
  [SuperSlabState.FREE]: SnapshotPageState.SUPERSLAB_FREE,
  [SuperSlabState.HOT]: SnapshotPageState.SUPERSLAB_HOT,
  [SuperSlabState.DRAINING]: SnapshotPageState.SUPERSLAB_DRAINING,
};

/**
 * Reads the heap's metadata into a {@link HeapSnapshot}. A slow path: one pass over the
 * registry from heapStart to os-boundary's end, plus `heap.stats()`. In a shared heap
 * it takes no lock but os-boundary's: the picture is exact while the other threads make
 * no heap call.
 */
export function takeSnapshot(heap: Heap): HeapSnapshot {
  const b = heap.boxes;
  const layout = heap.layout;
  heap.refresh();
  const end = b.osBoundary.end();
  const freeRanges = b.osBoundary.freeRanges();
  const stats = heap.stats();
  const liveBytes = heap.liveBytes();
  const i32 = heap.views.i32;
  const reg = layout.registryOffset >>> 2;
  const pd = layout.pageTableOffset >>> 2;
  const first = layout.heapStart >>> PAGE_SHIFT;
  const last = end >>> PAGE_SHIFT;
  const n = Math.max(0, last - first);

  const kind = new Uint8Array(n);
  const cls = new Uint8Array(n);
  const thread = new Uint8Array(n);
  const state = new Uint8Array(n);
  const used = new Uint16Array(n);
  const cap = new Uint16Array(n);

  for (let i = 0; i < n; i++) {
    const e = i32[reg + first + i]!;
    const k = e & REG_KIND_MASK;
    kind[i] = k;
    cls[i] = (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK;
    thread[i] = (e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK;
    if (k === PageKind.TINY) {
      const d = pd + ((first + i) << 4);
      used[i] = clamp16(i32[d + PD_USED]!);
      cap[i] = clamp16(i32[d + PD_CAPACITY]!);
    }
  }
  // A page that the registry leaves unowned but that no free range covers is mapped (it
  // should not happen between calls: whoever maps pages stamps them).
  const free = new Uint8Array(n);
  for (const [base, bytes] of freeRanges) free.fill(1, Math.max(0, (base >>> PAGE_SHIFT) - first), Math.min(n, ((base + bytes) >>> PAGE_SHIFT) - first));
  for (let i = 0; i < n; i++) if (kind[i] === PageKind.NONE && free[i] === 0) kind[i] = PageKind.MAPPED;

  // SuperSlabs: 1 MiB-aligned runs of TINY / MAPPED(thread 0) entries with aux = slab index.
  const superslabs: SnapshotSuperSlabs = { base: [], state: [], owner: [], freeMask: [], guard: [] };
  const ssStep = SUPERSLAB_SIZE >>> PAGE_SHIFT;
  for (let p = Math.ceil(first / ssStep) * ssStep; p + ssStep <= last; p += ssStep) {
    const d = pd + (p << 4);
    if (i32[d + PD_REGION_PAGES] !== SUPERSLAB_SLABS || !isSuperSlab(i32, reg + p)) continue;
    const s = i32[d + PD_REGION_STATE]!;
    superslabs.base.push(p << PAGE_SHIFT);
    superslabs.state.push(s);
    superslabs.owner.push(i32[d + PD_REGION_OWNER]!);
    superslabs.freeMask.push(i32[d + PD_REGION_MASK]! & 0xffff);
    superslabs.guard.push(i32[d + PD_REGION_GUARD]!);
    state.fill(SS_PAGE_STATE[s] ?? SnapshotPageState.NONE, p - first, p - first + ssStep);
  }

  // Pool spans, L2.5 and big blocks: runs that start at a head page (aux 0), as long as their head's descriptor says.
  const spans: SnapshotSpans = { base: [], pages: [], cls: [], owner: [], blockSize: [], used: [], capacity: [], carved: [] };
  const l25: SnapshotBlocks = { base: [], pages: [], cls: [], thread: [], state: [] };
  const big: SnapshotBlocks = { base: [], pages: [], cls: [], thread: [], state: [] };
  for (let i = 0; i < n;) {
    const k = kind[i]!;
    if (k !== PageKind.POOL && k !== PageKind.L25 && k !== PageKind.BIG) {
      i++;
      continue;
    }
    const p = first + i;
    const d = pd + (p << 4);
    const e = i32[reg + p]!;
    const pages = Math.max(1, Math.min(n - i, i32[d + PD_REGION_PAGES]!));
    if (((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) !== 0) {
      i++; // a continuation page with no head before it (validate() reports it)
      continue;
    }
    if (k === PageKind.POOL) {
      const u = i32[d + PD_USED]!;
      const c = i32[d + PD_CAPACITY]!;
      spans.base.push(p << PAGE_SHIFT);
      spans.pages.push(pages);
      spans.cls.push(cls[i]!);
      spans.owner.push(i32[d + PD_REGION_OWNER]!);
      spans.blockSize.push(i32[d + PD_BLOCK_SIZE]!);
      spans.used.push(u);
      spans.capacity.push(c);
      spans.carved.push(i32[d + PD_CARVE]!);
      used.fill(clamp16(u), i, i + pages);
      cap.fill(clamp16(c), i, i + pages);
    } else {
      const s = i32[d + PD_REGION_STATE]!;
      const list = k === PageKind.L25 ? l25 : big;
      list.base.push(p << PAGE_SHIFT);
      list.pages.push(pages);
      list.cls.push(k === PageKind.L25 ? cls[i]! : 0);
      list.thread.push(k === PageKind.L25 ? thread[i]! : i32[d + PD_REGION_OWNER]!);
      list.state.push(s);
      const live = k === PageKind.L25 ? L25BlockState.LIVE : BigBlockState.LIVE;
      const cached = k === PageKind.L25 ? L25BlockState.CACHED : BigBlockState.CACHED;
      state.fill(s === live ? SnapshotPageState.LIVE : s === cached ? SnapshotPageState.CACHED : SnapshotPageState.NONE, i, i + pages);
    }
    i += pages;
  }

  const route = b.tinyRoute;
  const tinyClasses: number[] = [];
  for (let c = 0; c < route.numClasses; c++) tinyClasses.push(route.classSize(c));
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    time: new Date().toISOString(),
    pageSize: PAGE_SIZE,
    maxBytes: layout.maxBytes,
    heapStart: layout.heapStart,
    end,
    footprint: stats.footprint,
    liveBytes,
    shared: heap.backend.shared,
    tid: heap.tid,
    classes: { tiny: tinyClasses, pool: Array.from(b.poolTls.classSizes), l25: Array.from(b.l25Pool.classSizes) },
    pages: {
      first, count: n, encoding: 'base64-le',
      kind: encode(kind), cls: encode(cls), thread: encode(thread), state: encode(state), used: encode(used), cap: encode(cap),
    },
    superslabs,
    spans,
    l25,
    big,
    freeRanges: { base: freeRanges.map((r) => r[0]), bytes: freeRanges.map((r) => r[1]) },
    threads: heap.threads(),
    stats,
  };
}
