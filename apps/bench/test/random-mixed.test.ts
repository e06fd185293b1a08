import { describe, expect, it } from 'vitest';
import { xorshift32 } from '../src/prng.js';
import type { Subject } from '../src/subject.js';
import { NullSubject } from '../src/subjects/null.js';
import { ThingSubject } from '../src/subjects/thing.js';
import { bands, runRandomMixed, type RandomMixedParams, type Variant } from '../src/workloads/random-mixed.js';
import { runTinyHot } from '../src/workloads/tiny-hot.js';
import { MiB } from '../src/workloads/workload.js';

// Reference arithmetic, independent of the implementation: uint32 as BigInt, masked.
const U32 = (1n << 32n) - 1n;
function refXorshift32(s: bigint): bigint {
  let x = s;
  x ^= (x << 13n) & U32;
  x ^= x >> 17n;
  x ^= (x << 5n) & U32;
  return x;
}
function refSequence(seed: number, n: number): number[] {
  const out: number[] = [];
  let s = BigInt(seed);
  for (let i = 0; i < n; i++) out.push(Number((s = refXorshift32(s))));
  return out;
}
function implSequence(seed: number, n: number): number[] {
  const out: number[] = [];
  let s = seed;
  for (let i = 0; i < n; i++) out.push((s = xorshift32(s)));
  return out;
}

/** BENCH.md's loop in BigInt, counting only what depends on the PRNG. */
function refCounters(p: RandomMixedParams) {
  const [base, mask, shift] = ({ std: [16n, 0x3ffn, 0n], pool: [8192n, 0xbfffn, 0n], large: [65536n, 0xffn, 12n] } as const)[p.variant];
  const live = new Array<boolean>(p.ws).fill(false);
  let s = BigInt(p.seed);
  let mallocs = 0, frees = 0, bytes = 0n, checksum = 0n;
  for (let i = 0; i < p.cycles; i++) {
    s = refXorshift32(s);
    const idx = Number(s % BigInt(p.ws));
    if (live[idx]) {
      live[idx] = false;
      frees++;
    } else {
      let sz = base + ((s & mask) << shift);
      if (sz < BigInt(p.minSize)) sz = BigInt(p.minSize);
      if (sz > BigInt(p.maxSize)) sz = BigInt(p.maxSize);
      mallocs++;
      bytes += sz;
      checksum += s & 0xffn;
      live[idx] = true;
    }
  }
  frees += live.filter(Boolean).length;
  return { mallocs, frees, failed: 0, bytes: Number(bytes), finalSeed: Number(s), checksum: Number(checksum) };
}

const pick = ({ mallocs, frees, failed, bytes, finalSeed, checksum }: ReturnType<typeof runRandomMixed>) =>
  ({ mallocs, frees, failed, bytes, finalSeed, checksum });

describe('xorshift32', () => {
  it('matches a uint32 BigInt reference for seed 42', () => {
    const expected = refSequence(42, 8);
    expect(implSequence(42, 8)).toEqual(expected);
    // The first output by hand: 42 ^ 42<<13 = 344106; ^ >>>17 = 344104; ^ <<5 = 11355432.
    expect(expected[0]).toBe(11355432);
  });

  it('stays bit-exact over long runs and seeds with the high bit set', () => {
    for (const seed of [42, 1, 0x80000000, 0xffffffff, 0xdeadbeef]) {
      expect(implSequence(seed, 10_000)).toEqual(refSequence(seed, 10_000));
    }
  });
});

describe('random-mixed', () => {
  const variants: Variant[] = ['std', 'pool', 'large'];
  for (const variant of variants) {
    const band = bands.find((b) => b.variant === variant)!;
    it(`counts the reference call sequence (variant ${variant}, band ${band.name})`, () => {
      const params: RandomMixedParams = { ...band, cycles: 5_000, seed: 42 };
      expect(pick(runRandomMixed(new NullSubject(), params))).toEqual(refCounters(params));
    });
  }

  it('gives the same counters on null and on thing, and thing verifies', () => {
    for (const band of bands.filter((b) => b.variant === 'std')) {
      const params: RandomMixedParams = { ...band, cycles: 20_000, seed: 42 };
      const onNull = runRandomMixed(new NullSubject(), params);
      const onThing = runRandomMixed(new ThingSubject(band.arenaBytes), params);
      expect(onThing.failed).toBe(0);
      expect(onThing.mismatches).toBe(0);
      expect(onThing.mallocs).toBe(onThing.frees);
      expect(pick(onThing)).toEqual(pick(onNull));
    }
  });

  it('catches an allocator that hands out overlapping blocks', () => {
    // null gives every block one address, so bytes are overwritten before they are read.
    const result = runRandomMixed(new NullSubject(), { ...bands[0]!, cycles: 2_000, seed: 42 });
    expect(result.mismatches).toBeGreaterThan(0);
  });

  it('counts failed mallocs and keeps going when the pool is full', () => {
    const tight = new ThingSubject(64 * 1024);
    const result = runRandomMixed(tight, { ...bands.find((b) => b.name === 'pool')!, cycles: 2_000, seed: 42 });
    expect(result.failed).toBeGreaterThan(0);
    expect(result.mismatches).toBe(0);
    expect(result.mallocs - result.failed).toBe(result.frees);
  });
});

describe('tiny-hot', () => {
  it('pairs each malloc(16) with a free and verifies', () => {
    const subjects: Subject[] = [new NullSubject(), new ThingSubject(MiB)];
    for (const subject of subjects) {
      const result = runTinyHot(subject, 1_000);
      expect(result).toMatchObject({ mallocs: 1_000, frees: 1_000, failed: 0, bytes: 16_000, mismatches: 0 });
    }
  });
});
