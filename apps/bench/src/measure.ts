import { findSubject } from './subjects/index.js';
import { findWorkload } from './workloads/index.js';
import { timedCounters, workloadParams, type Counters, type WorkloadResult } from './workloads/workload.js';

/** What one child process measures: one subject, one workload, one timed run. */
export interface MeasureSpec {
  readonly subject: string;
  readonly workload: string;
  readonly cycles: number;
  readonly seed: number;
  /** Index of the run (for the record only). */
  readonly run: number;
  /** The workload's parameters besides cycles (Workload.params), when it has any: the ones given; the rest take their defaults. */
  readonly params?: Readonly<Record<string, number>>;
}

export type Verify = 'ok' | 'FAILED' | 'n/a';

export interface RunRecord extends MeasureSpec, Counters {
  readonly elapsedMs: number;
  /** mallocs + frees (a trace workload: the events replayed). */
  readonly ops: number;
  readonly opsPerSec: number;
  /**
   * The subject's high-water mark of memory taken, in bytes, after the timed run; for a
   * workload with `firstRun` (the traces), after the first replay (one run of the program).
   */
  readonly footprint: number;
  /**
   * Workloads with `firstRun` (the traces): the first replay of the whole trace on a
   * fresh heap (the warm-up's long call), timed alone. It pays the first touch of every
   * page the subject maps, which the timed replay (on the same heap) no longer does.
   */
  readonly first?: { readonly elapsedMs: number; readonly opsPerSec: number };
  /** 'n/a' for subjects whose blocks share addresses (`null`). */
  readonly verify: Verify;
  /** Trace workloads: memalign blocks that came back unaligned (emulated memalign). */
  readonly unaligned?: number;
  /** Trace workloads: the footprint sampled during the first replay, against the trace's live bytes (the footprint-over-time chart). */
  readonly series?: WorkloadResult['series'];
  /** The subject's counters after the run (warm-up included), when it reports any. */
  readonly stats?: Record<string, number>;
}

/** Share of the timed cycles run first as warm-up (JIT, caches, heap growth). */
export const WARMUP_SHARE = 0.1;

/**
 * The warm-up is split into this many short calls of the workload, then the child
 * sleeps WARMUP_PAUSE_MS and makes one more. One long call gets only its loop compiled
 * on-stack (OSR), with no type feedback yet for the code after the loop: that code
 * deoptimises at the end of every call, and the timed call then runs in a slower tier.
 * Many short calls give V8 the feedback of the whole function and compile it normally;
 * the pause lets the concurrent compiler finish. Measured on the `null` subject (2-core
 * Xeon VM, Node 20, default band): one call 24–33 M ops/s, bimodal between processes;
 * 4 calls 25–80; 40 calls + pause 55–79 in 5 of 5 processes.
 */
export const WARMUP_CALLS = 40;
export const WARMUP_PAUSE_MS = 50;

/**
 * The builtin the timed call runs inside, and nothing else of a measuring child does:
 * `compare --instructions` runs the child under callgrind with
 * `--toggle-collect=Builtins_ArrayReduceRight`, which counts exactly the instructions
 * executed inside that builtin's frame — the timed workload and everything it calls.
 */
export const TIMED_BUILTIN = 'Builtins_ArrayReduceRight';
const ONE = [0];

/** Runs `f` inside TIMED_BUILTIN (one call of `Array.prototype.reduceRight` on a one-element array: no cost worth naming). */
function timed<T>(f: () => T): T {
  return ONE.reduceRight<T | undefined>(() => f(), undefined)!;
}

/** The warm-up's seed: a different sequence from the timed run's (never 0). */
export function warmupSeed(seed: number): number {
  return (seed ^ 0x9e3779b9) >>> 0 || 1;
}

/**
 * Creates the subject, runs the warm-up (WARMUP_SHARE of the cycles in WARMUP_CALLS + 1 short calls around a pause, other seeds),
 * then the timed workload once. Meant to run alone in a fresh process, so that only
 * one Subject class ever reaches the workload's call sites.
 */
export async function measure(spec: MeasureSpec): Promise<RunRecord> {
  const workload = findWorkload(spec.workload);
  const params = workloadParams(workload, spec.params);
  const factory = await findSubject(spec.subject).load();
  const subject = await factory({ arenaBytes: workload.arenaFor?.(params) ?? workload.arenaBytes });

  const warmCycles = Math.ceil((spec.cycles * WARMUP_SHARE) / WARMUP_CALLS);
  let warmMismatches = 0;
  let first: { result: WorkloadResult; footprint: number } | undefined;
  for (let k = 0; k <= WARMUP_CALLS; k++) {
    if (k === WARMUP_CALLS) {
      // One long call: the subject reaches the steady state of a full-length run (its
      // caches filled, its rarer paths — misses, splits, unmaps — taken often enough to
      // be optimised), then the pause and one more short call as before.
      const long = workload.run(subject, Math.ceil(spec.cycles * (workload.warmupShare ?? WARMUP_SHARE)), warmupSeed(spec.seed + k + 1), params);
      warmMismatches += long.mismatches;
      if (workload.firstRun === true) first = { result: long, footprint: subject.footprint() };
      await new Promise((resolve) => setTimeout(resolve, WARMUP_PAUSE_MS));
    }
    warmMismatches += workload.run(subject, warmCycles, warmupSeed(spec.seed + k), params).mismatches;
  }
  globalThis.gc?.();
  const result = timed(() => workload.run(subject, spec.cycles, spec.seed, params));

  const bad = warmMismatches + result.mismatches > 0;
  return {
    ...spec,
    ...timedCounters(result),
    footprint: first?.footprint ?? subject.footprint(),
    ...(first === undefined ? {} : { first: { elapsedMs: first.result.elapsedMs, opsPerSec: timedCounters(first.result).opsPerSec } }),
    verify: subject.sharesAddresses ? 'n/a' : bad ? 'FAILED' : 'ok',
    ...(result.unaligned === undefined ? {} : { unaligned: result.unaligned }),
    ...((first?.result ?? result).series === undefined ? {} : { series: (first?.result ?? result).series! }),
    ...(subject.stats ? { stats: subject.stats() } : {}),
  };
}
