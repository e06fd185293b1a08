import type { Subject } from '../subject.js';
import { KiB, MiB, type Workload, type WorkloadResult } from './workload.js';

/** The stride of the touches: one byte in every 4 KiB of the block (BENCH.md). */
export const TOUCH_STRIDE = 4 * KiB;

/** Live blocks of the ring form. */
export const RING = 8;

/**
 * The per-block tag: a hash of the iteration, so that the bytes of two blocks differ by
 * an amount that changes from block to block (with `i + k` instead, a block handed out
 * one stride after another live one would write exactly the bytes the other expects).
 */
export function tagOf(i: number): number {
  return Math.imul(i, 0x9e3779b1) >>> 24;
}

/**
 * Writes `(tag + k) & 0xff` at byte k · 4 KiB of the block, for k < touches; returns
 * the sum of the bytes written (the checksum's share).
 */
function touch(subject: Subject, ptr: number, tag: number, touches: number): number {
  let sum = 0;
  for (let k = 0; k < touches; k++) {
    const v = (tag + k) & 0xff;
    subject.poke(ptr + (k << 12), v);
    sum += v;
  }
  return sum;
}

/** Reads back every touched byte: 1 when any differs from what `touch` wrote, else 0. */
function verify(subject: Subject, ptr: number, tag: number, touches: number): number {
  let bad = 0;
  for (let k = 0; k < touches; k++) {
    if (subject.peek(ptr + (k << 12)) !== ((tag + k) & 0xff)) bad = 1;
  }
  return bad;
}

/**
 * BENCH.md's json / mir / vm: `p = malloc(size)`, one byte written in every 4 KiB of
 * the block, every one of them read back, `free(p)`, `cycles` times. The timed region is
 * the loop.
 */
export function runScenario(subject: Subject, cycles: number, size: number): WorkloadResult {
  return single(subject, cycles | 0, size | 0, (size / TOUCH_STRIDE) | 0);
}

/**
 * The ring form: slot `i & 7` of a ring of 8 holds the block of iteration i; each
 * iteration verifies and frees the block in its slot (the oldest, from iteration i − 8;
 * none in the first 8), then mallocs and touches a new one there, so 8 blocks are live
 * after every iteration. The final drain frees the survivors oldest first too, so blocks
 * are freed in the order they were malloc'd. The timed region is the loop and the drain.
 */
export function runScenarioRing(subject: Subject, cycles: number, size: number): WorkloadResult {
  return ring(subject, cycles | 0, size | 0, (size / TOUCH_STRIDE) | 0);
}

/**
 * The record of a run, built outside the timed loops: `size * cycles` passes 2^31 (json:
 * 131 GB), and that multiplication inside a loop function deoptimised it once per run.
 */
function result(mallocs: number, frees: number, failed: number, size: number, checksum: number, mismatches: number, elapsedMs: number): WorkloadResult {
  return { mallocs, frees, failed, bytes: size * mallocs, finalSeed: 0, checksum, mismatches, elapsedMs };
}

/** The timed loops, on primitive arguments only (see random-mixed.ts). */
function single(subject: Subject, cycles: number, size: number, touches: number): WorkloadResult {
  let failed = 0;
  const sum = new Float64Array(1); // the checksum passes 2^30: see random-mixed's `acc`
  let mismatches = 0;

  const t0 = performance.now();
  for (let i = 0; i < cycles; i++) {
    const ptr = subject.malloc(size);
    if (ptr === 0) {
      failed++;
      continue;
    }
    const tag = tagOf(i);
    sum[0]! += touch(subject, ptr, tag, touches);
    mismatches += verify(subject, ptr, tag, touches);
    subject.free(ptr);
  }
  const elapsedMs = performance.now() - t0;

  return result(cycles, cycles - failed, failed, size, sum[0]!, mismatches, elapsedMs);
}

function ring(subject: Subject, cycles: number, size: number, touches: number): WorkloadResult {
  const slots = new Int32Array(RING);
  const tags = new Int32Array(RING);
  let frees = 0;
  let failed = 0;
  const sum = new Float64Array(1);
  let mismatches = 0;

  const t0 = performance.now();
  for (let i = 0; i < cycles; i++) {
    const idx = i & 7;
    const old = slots[idx]!;
    if (old !== 0) {
      mismatches += verify(subject, old, tags[idx]!, touches);
      subject.free(old);
      slots[idx] = 0;
      frees++;
    }
    const ptr = subject.malloc(size);
    if (ptr === 0) {
      failed++;
      continue;
    }
    const tag = tagOf(i);
    sum[0]! += touch(subject, ptr, tag, touches);
    tags[idx] = tag;
    slots[idx] = ptr;
  }
  for (let j = 0; j < RING; j++) {
    const idx = (cycles + j) & 7;
    const old = slots[idx]!;
    if (old !== 0) {
      mismatches += verify(subject, old, tags[idx]!, touches);
      subject.free(old);
      slots[idx] = 0;
      frees++;
    }
  }
  const elapsedMs = performance.now() - t0;

  return result(cycles, frees, failed, size, sum[0]!, mismatches, elapsedMs);
}

/** One of HAKMEM's scenarios: a name, its block size, and the cycles of a timed run. */
export interface Scenario {
  readonly name: string;
  readonly blockBytes: number;
  readonly ring: boolean;
  readonly cycles: number;
  readonly arenaBytes: number;
}

/**
 * The six scenario workloads. Cycles: a timed run of hakmem or null takes about
 * 0.2–1 s on the 2-core VM of the README. 64 MiB is 8 live 2 MiB blocks (vm-ring8) four
 * times over, for the fixed pools (thing, seglist).
 */
export const scenarios: readonly Scenario[] = [
  { name: 'json', blockBytes: 64 * KiB, ring: false, cycles: 2_000_000, arenaBytes: 64 * MiB },
  { name: 'mir', blockBytes: 256 * KiB, ring: false, cycles: 500_000, arenaBytes: 64 * MiB },
  { name: 'vm', blockBytes: 2 * MiB, ring: false, cycles: 40_000, arenaBytes: 64 * MiB },
  { name: 'json-ring8', blockBytes: 64 * KiB, ring: true, cycles: 2_000_000, arenaBytes: 64 * MiB },
  { name: 'mir-ring8', blockBytes: 256 * KiB, ring: true, cycles: 500_000, arenaBytes: 64 * MiB },
  { name: 'vm-ring8', blockBytes: 2 * MiB, ring: true, cycles: 40_000, arenaBytes: 64 * MiB },
];

export function scenarioWorkload(scenario: Scenario): Workload {
  const { name, blockBytes, ring: isRing, cycles, arenaBytes } = scenario;
  const what = `malloc(${blockBytes / KiB} KiB), touch 1 byte / 4 KiB, verify, free`;
  return {
    name,
    description: isRing ? `${what}; ring of ${RING} live blocks, the oldest freed` : what,
    cycles,
    arenaBytes,
    blockBytes,
    run: isRing
      ? (subject, runCycles) => runScenarioRing(subject, runCycles, blockBytes)
      : (subject, runCycles) => runScenario(subject, runCycles, blockBytes),
  };
}
