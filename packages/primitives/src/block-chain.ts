/**
 * True when `p` is on the chain of free blocks starting at address `head`, linked through
 * each block's first word (a slab's or span's free list, a remote-free list, a drain),
 * walking at most `limit` links. Slow path (the exact double-free check): a link that
 * leaves the view ends the walk, so a chain another thread is changing cannot take it
 * out of bounds. Never throws.
 */
export function blockChainHolds(i32: Int32Array, head: number, p: number, limit: number): boolean {
  for (let b = head, k = 0; b !== 0 && k < limit; b = i32[b >>> 2] ?? 0, k++) if (b === p) return true;
  return false;
}
