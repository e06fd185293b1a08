/**
 * Bit operations on int32 values (V8 Smis on 64-bit hosts). Each is one or two integer
 * instructions once inlined; none allocates or throws.
 */

/** True when `x` is a power of two in `[1, 2^30]` (false for 0, negatives, fractions, NaN). */
export function isPow2(x: number): boolean {
  return (x | 0) === x && x > 0 && (x & (x - 1)) === 0;
}

/**
 * The smallest multiple of `a` that is `>= x`.
 * Pre: `a` a power of two, `x >= 0`, `x + a - 1 < 2^31` (the result stays a Smi).
 */
export function alignUp(x: number, a: number): number {
  return (x + a - 1) & -a;
}

/** The largest multiple of `a` that is `<= x`. Pre: `a` a power of two, `0 <= x < 2^31`. */
export function alignDown(x: number, a: number): number {
  return x & -a;
}

/** True when `x` is a multiple of `a`. Pre: `a` a power of two. */
export function isAligned(x: number, a: number): boolean {
  return (x & (a - 1)) === 0;
}

/** `floor(log2(x))` for `1 <= x < 2^32` (the index of the highest set bit); -1 for 0. */
export function log2Floor(x: number): number {
  return 31 - Math.clz32(x);
}

/** Count of trailing zero bits of the 32-bit value `x`: the index of the lowest set bit; 32 for 0. */
export function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}
