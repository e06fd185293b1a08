import type { Subject } from '../subject.js';
import { MiB, type Workload, type WorkloadResult } from './workload.js';

/** Size formulas of BENCH.md: sz = base + ((r & mask) << shift), before the clamp. */
export type Variant = 'std' | 'pool' | 'large';

const SIZE_FORMULAS: Readonly<Record<Variant, { base: number; mask: number; shift: number }>> = {
  std: { base: 16, mask: 0x3ff, shift: 0 },
  pool: { base: 8192, mask: 0xbfff, shift: 0 },
  large: { base: 65536, mask: 0xff, shift: 12 },
};

export interface RandomMixedParams {
  readonly cycles: number;
  /** Working-set slots. */
  readonly ws: number;
  /** Non-zero; uint32, or the same bits as an int32. */
  readonly seed: number;
  readonly minSize: number;
  readonly maxSize: number;
  readonly variant: Variant;
}

/**
 * Verifies and frees the block in slots[idx]. Returns 1 when the byte read back is
 * not the one written at malloc, else 0.
 */
function release(subject: Subject, slots: Int32Array, written: Uint8Array, idx: number, ptr: number): number {
  const bad = subject.peek(ptr) !== written[idx]! ? 1 : 0;
  subject.free(ptr);
  slots[idx] = 0;
  return bad;
}

/**
 * HAKMEM's bench_random_mixed, bit for bit as BENCH.md defines it. The timed region is
 * the loop and the final drain.
 *
 * The loop keeps V8 on integer arithmetic: the PRNG state is an int32 (the same bits as
 * C's uint32; `>>> 0` only where the unsigned value is needed); both operands of the
 * modulo are `>>> 0` in the loop itself, so it compiles to an unsigned integer modulo
 * (a parameter's type is unknown there: `% ws` alone became a float `fmod` call and
 * halved the `null` ceiling, 25 → 50 M ops/s); the slots are an Int32Array (addresses
 * are below 2^31). The bytes requested are summed in a Float64Array cell: as a local
 * they pass 2^30 (the Smi range) within the timed run on the `pool` and `large` bands
 * (16 and 59 GB in all), and the overflow deoptimised the loop mid-run (the warm-up's
 * short calls never get there): hakmem's malloc then ran in baseline code for the rest
 * (callgrind with `--perf-basic-prof`).
 */
export function runRandomMixed(subject: Subject, params: RandomMixedParams): WorkloadResult {
  const { base, mask, shift } = SIZE_FORMULAS[params.variant];
  return loop(subject, params.cycles | 0, params.ws >>> 0, params.seed | 0, params.minSize | 0, params.maxSize | 0, base, mask, shift);
}

/**
 * The timed loop, on primitive arguments only: an object argument would put a map check
 * at its entry, and one params object of another shape (a field that became a heap
 * number) would deoptimise the timed call.
 */
function loop(
  subject: Subject, cycles: number, ws: number, seed: number, minSize: number, maxSize: number,
  base: number, mask: number, shift: number,
): WorkloadResult {
  const slots = new Int32Array(ws);
  const written = new Uint8Array(ws);
  // `| 0`: the PRNG state's loop phi then starts as an int32. From the bare parameter
  // (of unknown type) TurboFan kept the phi tagged in the hakmem subject's compile (x
  // re-tagged, reloaded and Smi-checked every cycle: 204.6 → 199.1 loop instructions per
  // op, callgrind), while null's smaller compile kept it untagged (109 → 108).
  let x = seed | 0;
  let mallocs = 0;
  let frees = 0;
  let failed = 0;
  const acc = new Float64Array(3); // bytes requested; the drain's frees and mismatches
  let checksum = 0;
  let mismatches = 0;

  const t0 = performance.now();
  for (let i = 0; i < cycles; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const idx = ((x >>> 0) % (ws >>> 0)) | 0;
    const old = slots[idx]!;
    if (old !== 0) {
      mismatches += release(subject, slots, written, idx, old);
      frees++;
    } else {
      let sz = base + ((x & mask) << shift);
      sz = sz < minSize ? minSize : sz > maxSize ? maxSize : sz;
      mallocs++;
      acc[0]! += sz;
      const ptr = subject.malloc(sz);
      if (ptr !== 0) {
        const v = x & 0xff;
        subject.poke(ptr, v);
        written[idx] = v;
        checksum += v;
        slots[idx] = ptr;
      } else {
        failed++;
      }
    }
  }
  drain(subject, slots, written, ws, acc);
  const elapsedMs = performance.now() - t0;

  frees += acc[1]!;
  mismatches += acc[2]!;
  return { mallocs, frees, failed, bytes: acc[0]!, finalSeed: x >>> 0, checksum, mismatches, elapsedMs };
}

/**
 * The final drain: frees every block still in a slot, and counts the frees and the
 * mismatches into out[1] and out[2] (the loop's accumulator cells: one more array live
 * across the loop cost the `null` subject 2 instructions per operation). A function of
 * its own, called once per run, so that its `release` call site cannot take the loop's
 * share of TurboFan's inlining budget: written inline, the drain's site was the hotter
 * of the two in the short warm-up calls of the ws-8192 band (2 500 cycles against 8 192
 * slots: most blocks are freed by the drain), got inlined first, and the timed loop
 * called `release` (callgrind, the band's loop and callees: 311 → 278 M instructions).
 */
function drain(subject: Subject, slots: Int32Array, written: Uint8Array, ws: number, out: Float64Array): void {
  let frees = 0;
  let mismatches = 0;
  for (let idx = 0; idx < ws; idx++) {
    const old = slots[idx]!;
    if (old !== 0) {
      mismatches += release(subject, slots, written, idx, old);
      frees++;
    }
  }
  out[1] = frees;
  out[2] = mismatches;
}

/** A random-mixed band: the parameters of one row of the BENCH.md table. */
export interface Band extends Omit<RandomMixedParams, 'seed' | 'cycles'> {
  readonly name: string;
  readonly cycles: number;
  readonly arenaBytes: number;
  /** See Workload.warmupShare. */
  readonly warmupShare?: number;
}

/** The bands of BENCH.md, exactly as its table gives them. */
export const bands: readonly Band[] = [
  { name: 'default', variant: 'std', minSize: 16, maxSize: 1040, ws: 256, cycles: 1_000_000, arenaBytes: 64 * MiB },
  { name: 'default-ws8192', variant: 'std', minSize: 16, maxSize: 1040, ws: 8192, cycles: 1_000_000, arenaBytes: 64 * MiB },
  { name: 'tiny', variant: 'std', minSize: 8, maxSize: 128, ws: 256, cycles: 1_000_000, arenaBytes: 64 * MiB },
  { name: 'mid', variant: 'std', minSize: 129, maxSize: 1024, ws: 256, cycles: 1_000_000, arenaBytes: 64 * MiB },
  { name: 'pool', variant: 'pool', minSize: 8192, maxSize: 53248, ws: 256, cycles: 1_000_000, arenaBytes: 64 * MiB },
  { name: 'large', variant: 'large', minSize: 65536, maxSize: 1110016, ws: 64, cycles: 200_000, arenaBytes: 256 * MiB, warmupShare: 1 },
];

export function bandWorkload(band: Band): Workload {
  const { name, cycles, arenaBytes, warmupShare, ...shape } = band;
  return {
    name,
    description: `random-mixed ${shape.variant} ${shape.minSize}..${shape.maxSize}, ws ${shape.ws}`,
    cycles,
    arenaBytes,
    ...(warmupShare === undefined ? {} : { warmupShare }),
    run: (subject, runCycles, seed) => runRandomMixed(subject, { ...shape, cycles: runCycles, seed }),
  };
}
