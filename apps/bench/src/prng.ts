/**
 * One step of xorshift32 (13, 17, 5), bit for bit as in C on uint32: the shifts work on
 * the int32 bits, `>>>` is the logical shift, and the result is returned as uint32.
 * Pass the previous output (or the seed); the result is also the new state.
 */
export function xorshift32(s: number): number {
  let x = s;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}
