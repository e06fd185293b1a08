import type { Subject } from '../subject.js';
import type { Verify } from '../measure.js';
import type { Counters } from '../workloads/workload.js';

/**
 * A subject for the multi-thread workloads: one allocator whose memory is shared by
 * several workers. The measuring process's main thread builds it (`create`) and hands
 * its `handle` to every worker (postMessage / workerData: it must be structured-clonable,
 * e.g. SharedArrayBuffers or a shared WebAssembly.Memory); each worker then `attach`es
 * once and drives the returned `Subject` exactly as the single-thread workloads do, and
 * `detach`es before it exits. One MtSubject module per process: every call site in a
 * worker's timed loop sees one Subject class.
 */
export interface MtSubject {
  readonly name: string;
  /** Main thread: the shared allocator, sized for the workload. */
  create(options: MtSubjectOptions): MtHost | Promise<MtHost>;
  /** Worker: this thread's view of the allocator of `handle` (once per worker). */
  attach(handle: unknown): Subject | Promise<Subject>;
  /** Worker: releases what `attach` took (a thread slot, caches); the last call of the worker. */
  detach(): void;
  /**
   * Worker, optional: this thread's own counters of the subject after its run (e.g.
   * `lock.contended`), read before `detach`; the harness sums them over the workers.
   */
  counters?(): Extra;
}

export interface MtSubjectOptions {
  /** Bytes a fixed-size pool needs for the workload at this thread count (with headroom). */
  readonly arenaBytes: number;
  /** Worker threads that will attach at once (larson: its standbys included). */
  readonly threads: number;
}

/** What the main thread keeps of a shared allocator. */
export interface MtHost {
  /** Carried to every worker; `attach` takes it. */
  readonly handle: unknown;
  /** True when live blocks share addresses (null): verify runs but is not judged. */
  readonly sharesAddresses?: boolean;
  /**
   * The peak footprint in bytes, read after every worker detached, when the main thread
   * can tell (hakmem: `heap.stats().footprint`); otherwise the harness takes the largest
   * `footprint()` the workers' subjects reported.
   */
  footprint?(): number;
}

/** The per-workload numbers a workload adds to a run's counters (larson: handoffs, stalls). */
export type Extra = Record<string, number>;

/** What one worker reports at its end (posted to the main thread). */
export interface WorkerResult extends Counters {
  /** Absolute start and end of its timed phase (performance.timeOrigin + performance.now(), ms). */
  readonly t0: number;
  readonly t1: number;
  /** Its subject's footprint() after the run. */
  readonly footprint: number;
  readonly extra: Extra;
}

/** The whole run, every worker summed. */
export interface MtResult extends Counters {
  /** From the earliest worker's start to the last one's end of its timed phase. */
  readonly elapsedMs: number;
  /** The largest footprint() a worker's subject reported. */
  readonly footprint: number;
  readonly extra: Extra;
}

/** One child process's measurement: a subject, a workload, a thread count. */
export interface MtSpec {
  readonly subject: string;
  readonly workload: string;
  readonly threads: number;
  /** The workload's parameters, its defaults overridden. */
  readonly params: Readonly<Record<string, number>>;
  readonly seed: number;
  readonly run: number;
}

export interface MtRunRecord extends MtSpec, Counters {
  readonly elapsedMs: number;
  /** mallocs + frees in the timed phase. */
  readonly ops: number;
  readonly opsPerSec: number;
  /** Peak footprint in bytes (see MtHost.footprint). */
  readonly footprint: number;
  readonly verify: Verify;
  readonly extra: Extra;
}
