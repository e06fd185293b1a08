import fc from 'fast-check';
import type { HeapOp } from './api.js';

/** The shape of the random operations: which sizes and alignments to draw. */
export interface OpDistribution {
  /** Largest size drawn (sizes skew small: most below 256, some up to this). */
  readonly maxSize: number;
  /** Largest memalign alignment drawn (a power of two ≥ 8). Default 2048. */
  readonly maxAlign?: number;
  /** Bias toward allocation (0..1): above 0.5 the live set grows. Default 0.55. */
  readonly allocBias?: number;
  /**
   * Also draw big sizes: with probability `probability` (per size drawn, default 1/256)
   * a size in `min..max` instead of one in `0..maxSize`. No size between `maxSize` and
   * `min` is ever drawn (e.g. tiny sizes and big ones, none of the mid tiers in between).
   * With `logUniform` the size is log-uniform in `min..max` (as many in 2–4 KiB as in
   * 512 KiB–1 MiB: every tier above the tiny range gets its share).
   */
  readonly bigSizes?: { readonly min: number; readonly max: number; readonly probability?: number; readonly logUniform?: boolean };
}

/** xorshift32: small, fast, seedable; the same generator the bench uses. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** True when the random word `r2` asks for a big size (never without `dist.bigSizes`). */
function isBig(r2: number, dist: OpDistribution): boolean {
  const big = dist.bigSizes;
  return big !== undefined && (r2 & 0xffff) < Math.round((big.probability ?? 1 / 256) * 65536);
}

/** A size for `randomOps`: from `r`, or a big one (from `r` and `r2`) when `r2` says so. */
function drawSizeFrom(r: number, r2: number, dist: OpDistribution): number {
  const big = dist.bigSizes;
  if (big !== undefined && isBig(r2, dist)) {
    const u = ((r2 >>> 16) * 65536 + (r >>> 16)) / 2 ** 32;
    if (big.logUniform === true) return Math.min(big.max, Math.floor(big.min * (big.max / big.min) ** u));
    return big.min + Math.floor(u * (big.max - big.min + 1));
  }
  return drawSize(r, dist.maxSize);
}

function drawSize(r: number, maxSize: number): number {
  const bucket = r & 7;
  const v = r >>> 3;
  if (bucket < 5) return v % Math.min(257, maxSize + 1);
  if (bucket < 7) return v % Math.min(2049, maxSize + 1);
  return v % (maxSize + 1);
}

/**
 * A seeded stream of `count` operations: mallocs, callocs, memaligns, frees and reallocs
 * in proportions that keep a live set of a few hundred blocks. Deterministic per seed,
 * so a failing seed is a replayable case.
 */
export function* randomOps(seed: number, count: number, dist: OpDistribution): Generator<HeapOp> {
  const next = rng(seed);
  const maxAlignLog = Math.log2(dist.maxAlign ?? 2048);
  const bias = Math.floor((dist.allocBias ?? 0.55) * 1000);
  // Without big sizes no extra word is drawn: the stream of a seed stays what it was.
  const bigDraw = dist.bigSizes === undefined ? (): number => 0xffff : next;
  for (let i = 0; i < count; i++) {
    const a = next();
    const b = next();
    const alloc = a % 1000 < bias;
    const kind = (a >>> 10) & 15;
    if (alloc) {
      if (kind < 12) {
        yield { op: 'malloc', size: drawSizeFrom(b, bigDraw(), dist) };
      } else if (kind < 14) {
        const big = bigDraw();
        yield isBig(big, dist) ? { op: 'calloc', n: 1, size: drawSizeFrom(b, big, dist) } : { op: 'calloc', n: 1 + (b & 7), size: drawSize(b >>> 3, dist.maxSize) >>> 3 };
      } else yield { op: 'memalign', align: 2 ** (3 + ((b & 31) % (maxAlignLog - 2))), size: drawSizeFrom(b >>> 5, bigDraw(), dist) };
    } else if (kind < 12) {
      yield { op: 'free', pick: b };
    } else {
      yield { op: 'realloc', pick: b, size: (a >>> 16) % 64 === 0 ? 0 : drawSizeFrom(next(), bigDraw(), dist) };
    }
  }
}

/** fast-check arbitrary of one operation (shrinkable), with the same shape as `randomOps`. */
export function heapOp(dist: OpDistribution): fc.Arbitrary<HeapOp> {
  const size = fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min: 0, max: Math.min(256, dist.maxSize) }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: Math.min(2048, dist.maxSize) }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: dist.maxSize }) },
  );
  const align = fc.integer({ min: 3, max: Math.log2(dist.maxAlign ?? 2048) }).map((k) => 2 ** k);
  const big = dist.bigSizes;
  const bigWeight = big === undefined ? 0 : Math.max(1, Math.round((big.probability ?? 1 / 256) * 100));
  const anySize = big === undefined ? size : fc.oneof(
    { weight: 100, arbitrary: size },
    { weight: bigWeight, arbitrary: bigArb(big) },
  );
  const calloc = fc.tuple(fc.integer({ min: 0, max: 8 }), size).map(([n, s]): HeapOp => ({ op: 'calloc', n, size: s >>> 3 }));
  return fc.oneof(
    { weight: 6, arbitrary: anySize.map((s): HeapOp => ({ op: 'malloc', size: s })) },
    {
      weight: 1,
      arbitrary: big === undefined ? calloc : fc.oneof(
        { weight: 100, arbitrary: calloc },
        { weight: bigWeight, arbitrary: bigArb(big).map((s): HeapOp => ({ op: 'calloc', n: 1, size: s })) },
      ),
    },
    { weight: 1, arbitrary: fc.tuple(align, anySize).map(([a, s]): HeapOp => ({ op: 'memalign', align: a, size: s })) },
    { weight: 5, arbitrary: fc.nat().map((p): HeapOp => ({ op: 'free', pick: p })) },
    { weight: 2, arbitrary: fc.tuple(fc.nat(), anySize).map(([p, s]): HeapOp => ({ op: 'realloc', pick: p, size: s })) },
  );
}

/** Sizes of `bigSizes` for fast-check: uniform, or log-uniform (a uniform exponent). */
function bigArb(big: NonNullable<OpDistribution['bigSizes']>): fc.Arbitrary<number> {
  if (big.logUniform !== true) return fc.integer({ min: big.min, max: big.max });
  return fc.integer({ min: 0, max: 1 << 20 }).map((k) => Math.min(big.max, Math.floor(big.min * (big.max / big.min) ** (k / (1 << 20)))));
}
