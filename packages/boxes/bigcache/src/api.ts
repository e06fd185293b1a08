export type { BigCache, BigCacheOptions, BigCacheStats } from '@hakmem/contracts';

/** Default byte budget of the cache of freed big blocks: 64 MiB. */
export const DEFAULT_BUDGET = 64 << 20;

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
