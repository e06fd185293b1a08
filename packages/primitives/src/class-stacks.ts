/**
 * The layout of a per-class stack cache (unified-cache, pool-tls): one Int32Array `a`
 *
 * ```
 *  a:  | top0 base0 limit0 batch0 | top1 ... | 0 | class 0: cap[0] slots | 0 | class 1: ... |
 *        4 words per class                     ^ sentinel at base − 1, always 0
 * ```
 * `top` is the index in `a` of the next free slot; a class holds `top − base` blocks.
 */

/** Int32 words of the layout for these per-class capacities. */
export function classStackWords(caps: Int32Array): number {
  let total = caps.length * 4;
  for (let c = 0; c < caps.length; c++) total += 1 + caps[c]!;
  return total;
}

/**
 * Writes the layout into `a` with every class empty, unless `a` already holds exactly
 * this layout (same base, limit and batch per class, a top within bounds and 0
 * sentinels: the storage of an adopted thread's cache), whose blocks are then kept.
 * Returns true when it kept them.
 * Pre: `a.length === classStackWords(caps)`.
 */
export function layoutClassStacks(a: Int32Array, caps: Int32Array, batches: Int32Array): boolean {
  const n = caps.length;
  let keep = true;
  for (let c = 0, at = n * 4; c < n && keep; c++) {
    at++;
    const m = c * 4;
    keep = a[m + 1] === at && a[m + 2] === at + caps[c]! && a[m + 3] === batches[c] && a[at - 1] === 0
      && a[m]! >= at && a[m]! <= at + caps[c]!;
    at += caps[c]!;
  }
  if (keep) return true;
  a.fill(0);
  for (let c = 0, at = n * 4; c < n; c++) {
    const m = c * 4;
    at++; // the class's sentinel slot, a[base - 1] = 0 for good
    a[m] = at;
    a[m + 1] = at;
    at += caps[c]!;
    a[m + 2] = at;
    a[m + 3] = batches[c]!;
  }
  return false;
}

/**
 * True when class `cls`'s stack of the layout starting at word `at` of `a` holds `p`
 * (`at` 0 for a cache's own array; a thread's cache region's word index in the heap's
 * Int32Array view for another thread's). Slow path: a scan of one class, bounded by the
 * array. Never throws.
 */
export function classStackHolds(a: Int32Array, at: number, cls: number, p: number): boolean {
  const top = Math.min(at + (a[at + cls * 4] ?? 0), a.length);
  for (let i = at + (a[at + cls * 4 + 1] ?? 0); i < top; i++) if (a[i] === p) return true;
  return false;
}
