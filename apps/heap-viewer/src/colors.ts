import { Kind, Owner, OWNER_COUNT, PageState, type Frame } from './model.js';

/** How the map colours its cells. */
export type Mode = 'owner' | 'class' | 'occupancy' | 'thread';
export const MODES: readonly { readonly id: Mode; readonly name: string }[] = [
  { id: 'owner', name: 'owner box' },
  { id: 'class', name: 'size class' },
  { id: 'occupancy', name: 'occupancy' },
  { id: 'thread', name: 'owner thread' },
];

export type Rgb = readonly [number, number, number];

/** The owner categories: name, what they are, colour (the "owner box" mode and the legend). */
export const OWNERS: readonly { readonly id: Owner; readonly name: string; readonly what: string; readonly rgb: Rgb }[] = [
  { id: Owner.UNMAPPED, name: 'not mapped', what: 'above os-boundary\'s end: reserved, never mapped yet', rgb: [22, 27, 34] },
  { id: Owner.META, name: 'metadata', what: 'header, page registry, page table, os-boundary state; thread caches', rgb: [110, 118, 129] },
  { id: Owner.FREE, name: 'free', what: 'a free range of os-boundary (mapped once, given back)', rgb: [52, 60, 72] },
  { id: Owner.TINY, name: 'tiny slab', what: 'a slab of a SuperSlab assigned to a tiny class (≤ 2 KiB blocks)', rgb: [47, 129, 247] },
  { id: Owner.FREE_SLAB, name: 'free slab', what: 'a slab of a SuperSlab with no class yet (or a retained SuperSlab)', rgb: [158, 203, 255] },
  { id: Owner.POOL, name: 'pool span', what: 'a pool-refill span of one mid class (2 KiB – 64 KiB blocks)', rgb: [46, 160, 67] },
  { id: Owner.POOL_ARENA, name: 'pool arena', what: 'mapped by pool-refill, not cut into a span (arena rest, empty spans)', rgb: [170, 235, 175] },
  { id: Owner.L25_LIVE, name: 'L2.5 live', what: 'an l25-pool block in use (64 KiB – 1 MiB)', rgb: [219, 109, 40] },
  { id: Owner.L25_CACHED, name: 'L2.5 cached', what: 'an l25-pool block freed and kept for reuse', rgb: [255, 196, 140] },
  { id: Owner.BIG_LIVE, name: 'big live', what: 'a bigcache block in use (above 1 MiB)', rgb: [163, 113, 247] },
  { id: Owner.BIG_CACHED, name: 'big cached', what: 'a bigcache block freed and kept for reuse', rgb: [214, 190, 255] },
  { id: Owner.OTHER, name: 'mapped, unowned', what: 'mapped but owned by no box the snapshot knows', rgb: [248, 81, 73] },
];
if (OWNERS.length !== OWNER_COUNT) throw new Error('OWNERS must list every owner category');

/** ImageData's pixel as one little-endian u32 (RGBA bytes). */
export function pack([r, g, b]: Rgb): number {
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export const OWNER_PACKED = Uint32Array.from(OWNERS.map((o) => pack(o.rgb)));

/** HSL (h in degrees, s and l in 0..1) to RGB. */
export function hsl(h: number, s: number, l: number): Rgb {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** Occupancy 0..1 on a dark-to-bright ramp (magma-like: dark purple, red, orange, pale yellow). */
const RAMP: readonly Rgb[] = [[40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164]];
export function ramp(x: number): Rgb {
  const t = Math.max(0, Math.min(1, x)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(t));
  const f = t - i;
  const a = RAMP[i]!;
  const b = RAMP[i + 1]!;
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/** Colour of a size class within its tier: tiny blues, pool greens, L2.5 oranges. */
export function classColour(kind: number, cls: number, classes: number): Rgb {
  const t = classes <= 1 ? 0 : cls / (classes - 1);
  if (kind === Kind.TINY) return hsl(235 - 60 * t, 0.85, 0.35 + 0.3 * t);
  if (kind === Kind.POOL) return hsl(135 - 60 * t, 0.7, 0.3 + 0.3 * t);
  return hsl(35 - 30 * t, 0.9, 0.4 + 0.2 * t);
}

/** Colour of a thread id (0: none). */
export function threadColour(tid: number): Rgb {
  if (tid === 0) return [90, 96, 105];
  return hsl((tid * 137.508) % 360, 0.75, 0.55);
}

/** The class mode's colour of mapped pages with no class (free slabs, pool arena). */
export const NO_CLASS_RGB: Rgb = [128, 112, 88];

/** The colour of "cached" (L2.5 / big blocks kept for reuse) in the occupancy mode. */
export const CACHED_RGB: Rgb = [38, 166, 154];

/** Fills `out` (one packed colour per page) for a frame in a mode. */
export function paint(frame: Frame, mode: Mode, out: Uint32Array): void {
  const { owner } = frame;
  const n = frame.totalPages;
  if (mode === 'owner') {
    for (let i = 0; i < n; i++) out[i] = OWNER_PACKED[owner[i]!]!;
    return;
  }
  const classes = frame.snapshot.classes;
  const memo = new Map<number, number>();
  const cached = (key: number, make: () => Rgb): number => {
    let v = memo.get(key);
    if (v === undefined) {
      v = pack(make());
      memo.set(key, v);
    }
    return v;
  };
  for (let i = 0; i < n; i++) {
    const o = owner[i]!;
    // The pages no box holds keep their owner colour in every mode.
    if (o === Owner.UNMAPPED || o === Owner.META || o === Owner.FREE || o === Owner.OTHER) {
      out[i] = OWNER_PACKED[o]!;
      continue;
    }
    const k = frame.kind[i]!;
    if (mode === 'class') {
      if (k === Kind.TINY || k === Kind.POOL || k === Kind.L25) {
        const c = frame.cls[i]!;
        const count = k === Kind.TINY ? classes.tiny.length : k === Kind.POOL ? classes.pool.length : classes.l25.length;
        out[i] = cached((k << 8) | c, () => classColour(k, c, count));
      } else if (k === Kind.BIG) {
        out[i] = cached(0x10000, () => [163, 113, 247]);
      } else {
        out[i] = cached(0x10001, () => NO_CLASS_RGB); // mapped, no class: free slabs, pool arena
      }
    } else if (mode === 'occupancy') {
      let x = 0;
      if (k === Kind.TINY || k === Kind.POOL) x = frame.cap[i]! === 0 ? 0 : frame.used[i]! / frame.cap[i]!;
      else if (k === Kind.L25 || k === Kind.BIG) x = frame.state[i] === PageState.CACHED ? -1 : 1;
      const q = x < 0 ? -1 : Math.round(x * 64);
      out[i] = cached(0x20000 + q, () => (q < 0 ? CACHED_RGB : ramp(q / 64)));
    } else {
      const t = frame.thread[i]!;
      out[i] = cached(0x30000 + t, () => threadColour(t));
    }
  }
}

export const css = ([r, g, b]: Rgb): string => `rgb(${r}, ${g}, ${b})`;
