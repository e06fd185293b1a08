export type { BigCache, BigCacheOptions, BigCacheStats } from '@hakmem/contracts';

/** Default upper bound on the bytes of the cache of freed big blocks: 64 MiB. */
export const DEFAULT_BUDGET = 64 << 20;

/**
 * Default bytes the cache keeps whatever the live big bytes: 8 MiB (a few blocks of the
 * smallest big classes, enough for a program that cycles a handful of big buffers). A
 * linear memory never shrinks: a block kept idle while another tier maps fresh pages
 * raises the footprint for good, one given back costs a map (metadata only) when it is
 * needed again.
 */
export const DEFAULT_BUDGET_FLOOR = 8 << 20;

/**
 * Default cached bytes kept per live big byte: 1/4. Above the floor the cache follows the
 * live big blocks, so a program that freed them keeps the floor, not its old peak.
 */
export const DEFAULT_LIVE_SHARE = 1 / 4;

/**
 * Size classes of big blocks, in 64 KiB pages: 1, 2, 3, then four classes per doubling
 * (4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, …), as the tiny classes above
 * 128 B. A fresh block is rounded up to its class, so the waste is below 25 % of the
 * block (12.5 %–20 % typical) and every block freed into a class serves every later
 * request of that class. 55 classes cover the largest heap (32767 pages).
 */
export const BIG_CLASSES = 56;

/** The largest class whose size is at most `pages` (pages ≥ 1): where a freed block is filed. */
export function bigClassFloor(pages: number): number {
  if (pages < 4) return pages - 1;
  const k = 31 - Math.clz32(pages);
  return ((k - 2) << 2) + ((pages >>> (k - 2)) & 3) + 3;
}

/** The smallest class whose size is at least `pages` (pages ≥ 1): where a request looks. */
export function bigClassCeil(pages: number): number {
  const c = bigClassFloor(pages);
  return bigClassPages(c) === pages ? c : c + 1;
}

/** Pages of class `c` (0 ≤ c < BIG_CLASSES). */
export function bigClassPages(c: number): number {
  if (c < 3) return c + 1;
  const m = c - 3;
  return (4 + (m & 3)) << (m >>> 2);
}
