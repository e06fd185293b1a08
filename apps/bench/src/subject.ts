/**
 * What the harness drives: one allocator over one linear memory, handing out byte
 * offsets. A run uses exactly one Subject class per process, so every call site in the
 * timed loop stays monomorphic.
 */
export interface Subject {
  readonly name: string;
  /** A byte offset into the subject's memory, or 0 on failure. */
  malloc(size: number): number;
  free(ptr: number): void;
  /**
   * Optional C-style extras, used by the trace workloads (`trace:*`) when present; a
   * subject without one is driven through an emulation of it on malloc, free, peek and
   * poke (see workloads/trace-replay.ts). `calloc` zero-fills n × size bytes; `realloc`
   * keeps min(old, new) bytes; `memalign` returns a block aligned to `align` (a power of 2).
   */
  calloc?(n: number, size: number): number;
  realloc?(ptr: number, size: number): number;
  memalign?(align: number, size: number): number;
  /**
   * Bytes of the underlying memory taken so far. Must never decrease (report the
   * high-water mark): the harness reads it once, after the timed run, as the peak
   * footprint.
   */
  footprint(): number;
  /** Write one byte at ptr (the workload touches each block). */
  poke(ptr: number, value: number): void;
  /** Read one byte (verify step). */
  peek(ptr: number): number;
  /**
   * The subject's own counters after the run, flattened to `box.counter` numbers
   * (hakmem: every box's stats). Read once per run, after the timed workload.
   */
  stats?(): Record<string, number>;
  /**
   * True when live blocks may share an address (the `null` subject): the verify step
   * still runs, so its cost stays in the figure, but its outcome is not judged.
   */
  readonly sharesAddresses?: boolean;
}

/** Hints a workload gives every subject it is run on. */
export interface SubjectOptions {
  /**
   * Bytes a fixed-size pool needs for the workload (live data, fragmentation and
   * headroom). Growable heaps may ignore it or take it as their limit.
   */
  readonly arenaBytes: number;
}

export type SubjectFactory = (options: SubjectOptions) => Subject | Promise<Subject>;
