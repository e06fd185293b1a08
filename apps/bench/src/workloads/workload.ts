import type { Subject } from '../subject.js';

/**
 * What one timed run of a workload counts. Everything but `mismatches` depends only on
 * the workload's call sequence, so it must be identical for every subject as long as
 * no malloc fails: that is the cross-check between subjects.
 */
export interface Counters {
  /** malloc calls (including failed ones). */
  mallocs: number;
  /** free calls (loop and final drain). */
  frees: number;
  /** malloc calls that returned 0. */
  failed: number;
  /** Bytes requested, summed over every malloc call. */
  bytes: number;
  /** PRNG state after the last cycle (0 for workloads without a PRNG). */
  finalSeed: number;
  /** Sum of the bytes written into blocks (one per block; one per 4 KiB for the scenarios). */
  checksum: number;
  /** Blocks with a byte read back before free that differed from the one written. */
  mismatches: number;
}

export interface WorkloadResult extends Counters {
  /** Wall time of the timed region (performance.now()). */
  elapsedMs: number;
  /** Trace workloads: memalign blocks that came back unaligned (emulated memalign). */
  unaligned?: number;
  /** Trace workloads: the footprint sampled during the timed replay (see trace-replay.ts). */
  series?: { readonly events: number[]; readonly footprint: number[]; readonly live: number[] };
}

export interface Workload {
  readonly name: string;
  readonly description: string;
  /** Cycles of a timed run unless overridden. */
  readonly cycles: number;
  /** Size of a fixed pool big enough for this workload (see SubjectOptions). */
  readonly arenaBytes: number;
  /**
   * Length of the warm-up's long call as a share of the timed cycles (default
   * WARMUP_SHARE, 10 %). The `large` band takes a full run: its rare paths (misses,
   * splits, unmaps: about 1 % of its operations) were still being optimised during the
   * timed run after a 10 % warm-up (`--trace-opt`), for half the run's time.
   */
  readonly warmupShare?: number;
  /**
   * Set by the trace workloads (with `warmupShare` 1): the warm-up's long call is the
   * first replay of the whole program on a fresh heap, and the record keeps it apart
   * (RunRecord.first): its speed, which includes the OS's first touch of every page the
   * heap maps, and its footprint and series, which are then the record's — what one run
   * of the program takes. The timed call replays the trace again on the same heap: the
   * allocator's own cost, comparable with the `null` ceiling, which touches no memory.
   */
  readonly firstRun?: boolean;
  /**
   * Set by workloads that malloc one block size only (the scenarios json, mir, vm): the
   * report then also gives ns per malloc+free pair and ns per KiB of block.
   */
  readonly blockBytes?: number;
  /**
   * Set by the trace workloads: the trace's peak of live requested bytes. The report then
   * also gives the peak footprint ÷ this (`× live`).
   */
  readonly peakLiveBytes?: number;
  /**
   * The workload's parameters besides `cycles` and their defaults (all numbers), for
   * workloads that have any (alloc-test): `--param key=value` overrides them, and `run`
   * gets the merged set.
   */
  readonly params?: Readonly<Record<string, number>>;
  /**
   * Subjects that can run this workload but take minutes per run here (their cost grows
   * with the live blocks), with the reason: a suite's default subject list leaves them out
   * (`--subjects` naming them runs them).
   */
  readonly slowSubjects?: Readonly<Record<string, string>>;
  /** The fixed pool's size for these parameters, when it depends on them (else `arenaBytes`). */
  readonly arenaFor?: (params: Readonly<Record<string, number>>) => number;
  run(subject: Subject, cycles: number, seed: number, params?: Readonly<Record<string, number>>): WorkloadResult;
}

/**
 * A workload's parameters: its defaults, then the given ones. Throws on a parameter the
 * workload does not have.
 */
export function workloadParams(workload: Workload, given: Readonly<Record<string, number>> = {}): Record<string, number> {
  const defaults = workload.params ?? {};
  for (const key of Object.keys(given)) {
    if (!(key in defaults)) {
      const known = Object.keys(defaults);
      throw new Error(`${workload.name} has no parameter "${key}"${known.length > 0 ? ` (it has: ${known.join(', ')})` : ' (it has none besides its cycles)'}`);
    }
  }
  return { ...defaults, ...given };
}

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** Operations of a run: each malloc and each free is one. */
export function opsOf(counters: Counters): number {
  return counters.mallocs + counters.frees;
}

/**
 * The part of a run record every measurement shares (single- and multi-thread): the
 * counters alone (a result carries more), the operations, the elapsed time and the rate.
 */
export function timedCounters(result: Counters & { readonly elapsedMs: number }): Counters & { elapsedMs: number; ops: number; opsPerSec: number } {
  const ops = opsOf(result);
  return {
    mallocs: result.mallocs, frees: result.frees, failed: result.failed, bytes: result.bytes, finalSeed: result.finalSeed,
    checksum: result.checksum, mismatches: result.mismatches, elapsedMs: result.elapsedMs,
    ops, opsPerSec: result.elapsedMs > 0 ? ops / (result.elapsedMs / 1000) : 0,
  };
}
