import { decodeSnapshotPages, type HeapSnapshot, type HeapSnapshotSeries, type SnapshotFrame } from '@hakmem/allocator';

/**
 * What the page shows: a series of snapshots (one file: a single `heap.snapshot()`, a
 * `HeapSnapshotSeries`, or an array of snapshots; gzipped or not), each decoded on demand
 * into per-page arrays over the whole address space, 0 … maxBytes.
 */

export const PAGE_SHIFT = 16;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Registry kinds (`PageKind` of @hakmem/contracts). */
export const Kind = { FREE: 0, META: 1, TINY: 2, POOL: 3, L25: 4, BIG: 5, MAPPED: 6 } as const;
/** The snapshot's per-page state column (`SnapshotPageState` of @hakmem/allocator). */
export const PageState = { NONE: 0, LIVE: 1, CACHED: 2, SS_HOT: 3, SS_DRAINING: 4, SS_FREE: 5 } as const;

/**
 * What owns a cell, as the map's "owner" colouring shows it. Every page of the address
 * space is exactly one of these.
 */
export const Owner = {
  /** Above os-boundary's end: reserved, never mapped yet. */
  UNMAPPED: 0,
  /** The metadata prefix (header, registry, page table, os state) and thread cache regions. */
  META: 1,
  /** In one of os-boundary's free ranges. */
  FREE: 2,
  /** A tiny slab: assigned to a class (superslab-tier → page-box). */
  TINY: 3,
  /** A free slab of a SuperSlab (mapped, no class). */
  FREE_SLAB: 4,
  /** A pool span (pool-refill). */
  POOL: 5,
  /** Mapped by pool-refill, not cut into a span: arena rest or pooled empty span. */
  POOL_ARENA: 6,
  L25_LIVE: 7,
  L25_CACHED: 8,
  BIG_LIVE: 9,
  BIG_CACHED: 10,
  /** Mapped, owned by nobody the snapshot knows (should not happen). */
  OTHER: 11,
} as const;
export type Owner = (typeof Owner)[keyof typeof Owner];
export const OWNER_COUNT = 12;

export interface Series {
  /** Where it came from (the file name) and what ran (the series' source). */
  readonly name: string;
  readonly source: string;
  readonly every: number;
  readonly frames: readonly SnapshotFrame[];
}

/** A decoded snapshot: per page of the whole address space (0 … maxBytes). */
export interface Frame {
  readonly snapshot: HeapSnapshot;
  readonly event: number;
  readonly label: string;
  /** Cells of the map: `maxBytes >>> 16`. */
  readonly totalPages: number;
  /** First page os-boundary manages (`heapStart >>> 16`) and its end page. */
  readonly heapPage: number;
  readonly endPage: number;
  readonly owner: Uint8Array;
  readonly kind: Uint8Array;
  readonly cls: Uint8Array;
  readonly thread: Uint8Array;
  readonly state: Uint8Array;
  readonly used: Uint16Array;
  readonly cap: Uint16Array;
  /** Cells per owner category. */
  readonly counts: readonly number[];
}

/** Parses a file's bytes: gzip (by its magic) or plain JSON. */
export async function parseBytes(bytes: Uint8Array): Promise<unknown> {
  let text: string;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    text = await new Response(stream).text();
  } else {
    text = new TextDecoder().decode(bytes);
  }
  return JSON.parse(text) as unknown;
}

function isSnapshot(x: unknown): x is HeapSnapshot {
  return typeof x === 'object' && x !== null && (x as { format?: unknown }).format === 'hakmem-heap-snapshot';
}

/** A series from any of the accepted documents; throws with a message a user can act on. */
export function toSeries(doc: unknown, name: string): Series {
  if (isSnapshot(doc)) return { name, source: 'one snapshot', every: 0, frames: [{ event: 0, label: 'snapshot', snapshot: doc }] };
  if (Array.isArray(doc)) {
    if (doc.length === 0 || !doc.every(isSnapshot)) throw new Error(`${name}: an array, but not of heap snapshots`);
    return { name, source: `${doc.length} snapshots`, every: 1, frames: doc.map((snapshot, i) => ({ event: i, label: `snapshot ${i + 1}`, snapshot })) };
  }
  const s = doc as Partial<HeapSnapshotSeries> | null;
  if (s !== null && typeof s === 'object' && s.format === 'hakmem-heap-series' && Array.isArray(s.frames)) {
    if (s.frames.length === 0) throw new Error(`${name}: the series holds no snapshot`);
    for (const f of s.frames) if (!isSnapshot(f.snapshot)) throw new Error(`${name}: frame at event ${String(f.event)} holds no heap snapshot`);
    return { name, source: s.source ?? '', every: s.every ?? 0, frames: s.frames };
  }
  throw new Error(`${name}: not a hakmem heap snapshot or series (expected "format": "hakmem-heap-snapshot" or "hakmem-heap-series")`);
}

/** The owner category of a page the snapshot covers. */
export function ownerOf(kind: number, state: number, thread: number): Owner {
  switch (kind) {
    case Kind.FREE: return Owner.FREE;
    case Kind.META: return Owner.META;
    case Kind.TINY: return Owner.TINY;
    case Kind.POOL: return Owner.POOL;
    case Kind.L25: return state === PageState.CACHED ? Owner.L25_CACHED : Owner.L25_LIVE;
    case Kind.BIG: return state === PageState.CACHED ? Owner.BIG_CACHED : Owner.BIG_LIVE;
    case Kind.MAPPED:
      if (state >= PageState.SS_HOT) return Owner.FREE_SLAB;
      return thread !== 0 ? Owner.POOL_ARENA : Owner.OTHER;
    default: return Owner.OTHER;
  }
}

/** Decodes one snapshot over the whole address space. */
export function decodeFrame(f: SnapshotFrame): Frame {
  const snap = f.snapshot;
  const total = Math.floor(snap.maxBytes / PAGE_SIZE);
  const p = snap.pages;
  const first = p.first;
  const n = p.count;
  // The columns as typed arrays, by the allocator's own decoder (pure JS, tree-shaken into the page).
  const { kind: k, cls: c, thread: t, state: s, used: u, cap: cp } = decodeSnapshotPages(p);
  const kind = new Uint8Array(total);
  const cls = new Uint8Array(total);
  const thread = new Uint8Array(total);
  const state = new Uint8Array(total);
  const used = new Uint16Array(total);
  const cap = new Uint16Array(total);
  kind.fill(Kind.META, 0, Math.min(first, total));
  kind.set(k.subarray(0, Math.max(0, Math.min(n, total - first))), first);
  cls.set(c.subarray(0, Math.max(0, Math.min(n, total - first))), first);
  thread.set(t.subarray(0, Math.max(0, Math.min(n, total - first))), first);
  state.set(s.subarray(0, Math.max(0, Math.min(n, total - first))), first);
  used.set(u.subarray(0, Math.max(0, Math.min(n, total - first))), first);
  cap.set(cp.subarray(0, Math.max(0, Math.min(n, total - first))), first);
  const owner = new Uint8Array(total);
  const counts = new Array<number>(OWNER_COUNT).fill(0);
  const end = Math.min(total, first + n);
  for (let i = 0; i < total; i++) {
    const o = i < first ? Owner.META : i >= end ? Owner.UNMAPPED : ownerOf(kind[i]!, state[i]!, thread[i]!);
    owner[i] = o;
    counts[o]!++;
  }
  return {
    snapshot: snap, event: f.event, label: f.label ?? `event ${f.event}`, totalPages: total, heapPage: first, endPage: end,
    owner, kind, cls, thread, state, used, cap, counts,
  };
}

/** The index of the entry of a base-sorted list whose region `[base, base + pages × 64 KiB)` holds `addr`, or -1. */
export function findRegion(bases: readonly number[], pages: readonly number[] | number, addr: number): number {
  let lo = 0;
  let hi = bases.length - 1;
  let at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (bases[mid]! <= addr) {
      at = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (at < 0) return -1;
  const len = typeof pages === 'number' ? pages : pages[at]!;
  return addr < bases[at]! + len * PAGE_SIZE ? at : -1;
}

/** Decoded frames, kept for the last `limit` frames shown (scrubbing back and forth decodes each once). */
export class FrameCache {
  private readonly map = new Map<number, Frame>();
  constructor(private readonly series: Series, private readonly limit = 48) {}

  get(i: number): Frame {
    let f = this.map.get(i);
    if (f !== undefined) {
      this.map.delete(i);
    } else {
      f = decodeFrame(this.series.frames[i]!);
      if (this.map.size >= this.limit) this.map.delete(this.map.keys().next().value!);
    }
    this.map.set(i, f);
    return f;
  }
}

export const MiB = 1024 * 1024;

/** 12.3 MiB / 640 KiB / 512 B. */
export function bytes(n: number): string {
  if (Math.abs(n) >= MiB) return `${(n / MiB).toFixed(n >= 100 * MiB ? 0 : 1)} MiB`;
  if (Math.abs(n) >= 1024) return `${(n / 1024).toFixed(n >= 100 * 1024 ? 0 : 1)} KiB`;
  return `${n} B`;
}

export const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
