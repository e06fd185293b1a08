/**
 * Intrusive doubly linked lists of regions (slabs, spans) whose links live in two words
 * of the page descriptor of their first page; the list heads are the caller's, one
 * Int32Array word per list. A region is named by its address (a multiple of 64 KiB);
 * 0 ends a list. `pd` is the page table's Int32 word index: the descriptor of the page
 * at `addr` starts at word `pd + ((addr >>> 16) << 4)` (contracts' PAGE_SHIFT and
 * PAGE_DESC_WORDS; `test/desc-list.test.ts` checks them).
 */

/** Puts region `addr` at the front of list `list` (its links: words `next` / `prev` of its descriptor). */
export function descListPush(i32: Int32Array, pd: number, heads: Int32Array, list: number, addr: number, next: number, prev: number): void {
  const d = pd + ((addr >>> 16) << 4);
  const h = heads[list]!;
  i32[d + next] = h;
  i32[d + prev] = 0;
  if (h !== 0) i32[pd + ((h >>> 16) << 4) + prev] = addr;
  heads[list] = addr;
}

/** Takes region `addr` out of list `list` (pre: it is in that list) and clears its links. */
export function descListRemove(i32: Int32Array, pd: number, heads: Int32Array, list: number, addr: number, next: number, prev: number): void {
  const d = pd + ((addr >>> 16) << 4);
  const n = i32[d + next]!;
  const p = i32[d + prev]!;
  if (p !== 0) i32[pd + ((p >>> 16) << 4) + next] = n;
  else heads[list] = n;
  if (n !== 0) i32[pd + ((n >>> 16) << 4) + prev] = p;
  i32[d + next] = 0;
  i32[d + prev] = 0;
}
