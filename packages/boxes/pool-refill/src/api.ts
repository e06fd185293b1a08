export type { PoolRefill, PoolRefillOptions, PoolRefillStats } from '@hakmem/contracts';

/**
 * Default smallest arena chunk: one page. With the default largest chunk also one page,
 * every new span is mapped on its own: first fit in os-boundary, so at the lowest free
 * address, in memory another tier gave back, with no uncut rest raising the top of the
 * heap (README, "Budget").
 */
export const DEFAULT_ARENA_INITIAL = 1 << 16;
/** Default largest arena chunk: one page (see DEFAULT_ARENA_INITIAL). */
export const DEFAULT_ARENA_MAX = 1 << 16;
/**
 * Most bytes of empty spans a thread keeps for reuse; the pool also stays within an
 * eighth of the thread's spans in use (what is beyond goes back to os-boundary).
 */
export const EMPTY_SPAN_BUDGET = 4 << 20;

/**
 * Pages of a span for blocks of `size` bytes: the fewest pages (1..16) whose tail waste
 * (the bytes after the last whole block) is at most 1/32 of the span, else the page
 * count with the least waste. E.g. 2560 B → 1 page (25 blocks), 40960 B → 5 pages (8
 * blocks, no waste), 57344 B → 7 pages (8 blocks).
 */
export function spanPagesFor(size: number): number {
  let best = 1;
  let bestWaste = 1;
  for (let p = 1; p <= 16; p++) {
    const bytes = p * 65536;
    const n = Math.floor(bytes / size);
    if (n === 0) continue;
    const waste = (bytes - n * size) / bytes;
    if (waste <= 1 / 32) return p;
    if (waste < bestWaste) {
      best = p;
      bestWaste = waste;
    }
  }
  return best;
}
