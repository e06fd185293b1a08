import type { Subject } from '../subject.js';
import type { MtResult, WorkerResult } from './api.js';

/** What a worker is started with (its workerData). */
export interface WorkerTask {
  /** The MtSubject's name (the worker loads that module only). */
  readonly subject: string;
  readonly workload: string;
  /** The worker's part in the workload (cross-thread: producer or consumer). */
  readonly role: string;
  /** Thread, pair or lineage number. */
  readonly index: number;
  /** The run's thread count (MtSpec.threads). */
  readonly threads: number;
  /** larson: the lineage's generation this worker runs (0 for the first); else 0. */
  readonly generation: number;
  /** The seed of this worker's sequence (already derived per thread). */
  readonly seed: number;
  readonly params: Readonly<Record<string, number>>;
  /** MtHost.handle. */
  readonly handle: unknown;
  /** The control block (control.ts). */
  readonly control: SharedArrayBuffer;
  /** The workload's own shared memory for this worker (a ring, a lineage's blocks), or null. */
  readonly shared: SharedArrayBuffer | null;
}

/** A worker's messages to the main thread. */
export type WorkerMessage =
  /** Attached and warmed up; the first workers then sleep until GO. */
  | { readonly type: 'ready' }
  /** larson: a standby took over its lineage. */
  | { readonly type: 'active' }
  /** The worker's counters; its last message. */
  | { readonly type: 'result'; readonly result: WorkerResult | null };

export type Post = (message: WorkerMessage) => void;

/** What a workload's worker side returns (the harness adds the subject's footprint). */
export type WorkOutcome = Omit<WorkerResult, 'footprint'> | null;

/** The main thread's means to run a workload in this process. */
export interface RunContext {
  readonly subject: string;
  readonly handle: unknown;
  readonly threads: number;
  readonly params: Readonly<Record<string, number>>;
  readonly seed: number;
  readonly control: SharedArrayBuffer;
  /** The subject's blocks share addresses (null: MtHost.sharesAddresses), so address-based counts mean nothing. */
  readonly sharesAddresses: boolean;
  /** Starts a worker on a task (the common fields filled in). */
  spawn(task: Pick<WorkerTask, 'role' | 'index' | 'seed' | 'shared'> & { generation?: number }): TaskWorker;
}

/** A started worker, seen from the main thread. */
export interface TaskWorker {
  /** Resolves at its 'ready' message; rejects if it fails first. */
  readonly ready: Promise<void>;
  /** Resolves with its result (null: it had nothing to report); rejects if it fails or exits without one. */
  readonly result: Promise<WorkerResult | null>;
  /** Called at each 'active' message. */
  onActive: (() => void) | undefined;
  /** Stops the worker (after a failure elsewhere). */
  terminate(): Promise<void>;
}

/**
 * A multi-thread workload: the main side (`run`, in the measuring process's main
 * thread: starts the workers, releases them together, sums their counters) and the
 * worker side (`work`, in each worker, on its attached subject).
 */
export interface MtWorkload {
  readonly name: string;
  readonly description: string;
  /** The parameters and their defaults (all numbers). */
  readonly defaults: Readonly<Record<string, number>>;
  /** Overrides for `--quick` (a smoke run: the checks run, the timings mean nothing). */
  readonly quick: Readonly<Record<string, number>>;
  /** The parameter `name:N` on the command line sets. */
  readonly primary: string;
  /**
   * Subjects that can run this workload but take minutes per run here, with the reason: a
   * suite's default subject list leaves them out (`--subjects` naming them runs them).
   */
  readonly slowSubjects?: Readonly<Record<string, string>>;
  /** Why this workload does not run at `threads`, or undefined when it does. */
  notFor(threads: number): string | undefined;
  /** Workers attached at once (MtSubjectOptions.threads). */
  attachedThreads(threads: number): number;
  arenaBytes(params: Readonly<Record<string, number>>, threads: number): number;
  /** True when the counters depend only on the parameters and seed (cross-checked between subjects and runs). */
  deterministic(params: Readonly<Record<string, number>>): boolean;
  run(ctx: RunContext): Promise<MtResult>;
  work(subject: Subject, task: WorkerTask, post: Post): WorkOutcome | Promise<WorkOutcome>;
}

/** Sums the counters of the workers' results (finalSeed: the XOR of theirs). */
export function sumResults(results: readonly WorkerResult[]): MtResult {
  let mallocs = 0;
  let frees = 0;
  let failed = 0;
  let bytes = 0;
  let checksum = 0;
  let mismatches = 0;
  let finalSeed = 0;
  let t0 = Infinity;
  let t1 = -Infinity;
  let footprint = 0;
  const extra: Record<string, number> = {};
  for (const r of results) {
    mallocs += r.mallocs;
    frees += r.frees;
    failed += r.failed;
    bytes += r.bytes;
    checksum += r.checksum;
    mismatches += r.mismatches;
    finalSeed = (finalSeed ^ r.finalSeed) >>> 0;
    footprint = Math.max(footprint, r.footprint);
    // A worker with no operation in the timed phase (a larson standby that took over
    // after STOP) does not stretch it.
    if (r.mallocs + r.frees > 0) {
      t0 = Math.min(t0, r.t0);
      t1 = Math.max(t1, r.t1);
    }
    for (const [key, value] of Object.entries(r.extra)) extra[key] = (extra[key] ?? 0) + value;
  }
  return { mallocs, frees, failed, bytes, checksum, mismatches, finalSeed, elapsedMs: t1 > t0 ? t1 - t0 : 0, footprint, extra };
}
