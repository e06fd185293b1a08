/**
 * The heap's free key at word `word` of `i32` (the header's GH_FREE_KEY), set first to a
 * random odd value when it is still 0: random, so that no program's data equals it but by
 * a 1 in 2^31 chance; odd, so that it is no block address. In shared memory the first
 * thread's compare-exchange wins, and every thread returns the same key.
 */
export function ensureFreeKey(i32: Int32Array, word: number, shared: boolean): number {
  const key = shared ? Atomics.load(i32, word) : i32[word]!;
  if (key !== 0) return key;
  const mine = ((Math.random() * 0x1_0000_0000) | 1) | 0;
  if (!shared) return (i32[word] = mine);
  const was = Atomics.compareExchange(i32, word, 0, mine);
  return was === 0 ? mine : was;
}
