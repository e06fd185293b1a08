import type { Subject } from '../subject.js';
import { loadTrace, OP_CALLOC, OP_FREE, OP_MALLOC, OP_MEMALIGN, OP_REALLOC, type Trace } from '../trace.js';
import { MiB, type Workload, type WorkloadResult } from './workload.js';

/**
 * The 1-byte stamp of object `id`, written at its block's first byte: a hash of the id,
 * never 0 (so a block zeroed behind the replay's back is caught too).
 */
export function stampOf(id: number): number {
  return (Math.imul(id, 0x9e3779b1) >>> 24) | 1;
}

/** What a trace replay adds to the common counters. */
export interface TraceResult extends WorkloadResult {
  /** memalign calls (emulated by malloc on subjects without memalign) whose block was not aligned. */
  unaligned: number;
  series: FootprintSeries;
}

/** The footprint over a replay: samples at `events[i]` records replayed. */
export interface FootprintSeries {
  readonly events: number[];
  /** The subject's footprint (its high-water mark) at each sample. */
  readonly footprint: number[];
  /** The trace's live requested bytes at each sample (the same for every subject). */
  readonly live: number[];
}

/** Samples of the footprint over a replay (the replay loop is timed in this many slices; the samples are taken between them, off the clock). */
export const SERIES_POINTS = 200;

/**
 * The trace's own live requested bytes after each of `ends` (ascending record counts):
 * what a perfect allocator would hold. A REALLOC record's new object replaces `aux`; a
 * failed allocation (dropped from the records) never lived.
 */
export function liveBytesAt(trace: Trace, ends: readonly number[]): number[] {
  // Memoised per trace and slicing: a run replays the same trace several times (warm-up,
  // first replay, timed replay), and the walk would run inside the timed call
  // (`compare --instructions` counts it: 116 M instructions of sqlite3-sql's 872 M).
  const key = ends.join(',');
  let byEnds = liveMemo.get(trace);
  if (byEnds === undefined) liveMemo.set(trace, (byEnds = new Map()));
  let live = byEnds.get(key);
  if (live === undefined) byEnds.set(key, (live = walkLive(trace, ends).live));
  return [...live];
}

const liveMemo = new WeakMap<Trace, Map<string, number[]>>();

/** The trace's peak of live requested bytes over its first `end` records (all by default). */
export function peakLiveBytes(trace: Trace, end = trace.count): number {
  return walkLive(trace, [end]).peak;
}

function walkLive(trace: Trace, ends: readonly number[]): { live: number[]; peak: number } {
  const rec = trace.records;
  const sizes = new Float64Array(trace.maxId + 1);
  const out: number[] = [];
  let live = 0;
  let peak = 0;
  let r = 0;
  for (const end of ends) {
    for (; r < end; r++) {
      const o = r << 2;
      const op = rec[o]! & 0xff;
      const id = rec[o + 1]!;
      if (op === OP_FREE) {
        live -= sizes[id]!;
        sizes[id] = 0;
        continue;
      }
      if (op === OP_REALLOC && rec[o + 3]! !== 0) {
        live -= sizes[rec[o + 3]!]!;
        sizes[rec[o + 3]!] = 0;
      }
      sizes[id] = rec[o + 2]!;
      live += rec[o + 2]!;
      if (live > peak) peak = live;
    }
    out.push(live);
  }
  return { live: out, peak };
}

/**
 * Replays `trace` on `subject`: the first `events` records (all when larger), in record
 * order, on this thread (a multi-threaded trace's threads are serialised in the order the
 * tracer saw the calls). The timed region is the replay loop. Objects still live at the
 * end are left live there (as the traced program exited with them) and freed after the
 * timing, verified like any other block (that drain is not counted in `frees`).
 *
 * Counters: `mallocs` = allocation calls (malloc, calloc, memalign, realloc), `frees` =
 * FREE records, so mallocs + frees = the events replayed; `bytes` = sizes requested.
 */
export function replayTrace(subject: Subject, trace: Trace, events: number): TraceResult {
  const n = Math.min(events, trace.count) | 0;
  const flags = (subject.calloc ? 1 : 0) | (subject.realloc ? 2 : 0) | (subject.memalign ? 4 : 0);
  const ptrs = new Int32Array(trace.maxId + 1);
  const sizes = new Int32Array(trace.maxId + 1);
  const acc = new Float64Array(3); // bytes requested, checksum, unaligned (see random-mixed's acc)
  const counts = new Int32Array(4); // mallocs, frees, failed, mismatches
  // The loop runs in SERIES_POINTS slices; between them, off the clock, the footprint is sampled.
  const step = Math.max(1, Math.ceil(n / SERIES_POINTS));
  const ends: number[] = [];
  const footprint: number[] = [];
  let elapsedMs = 0;
  for (let from = 0; from < n; from += step) {
    const to = Math.min(n, from + step);
    const t0 = performance.now();
    loop(subject, trace.records, from, to, ptrs, sizes, acc, flags, counts);
    elapsedMs += performance.now() - t0;
    ends.push(to);
    footprint.push(subject.footprint());
  }
  const mismatches = (counts[3]! + drain(subject, ptrs, sizes)) | 0;
  return {
    mallocs: counts[0]!, frees: counts[1]!, failed: counts[2]!, bytes: acc[0]!, finalSeed: 0,
    checksum: acc[1]!, mismatches, unaligned: acc[2]!, elapsedMs,
    series: { events: ends, footprint, live: liveBytesAt(trace, ends) },
  };
}

/** After timing: verifies and frees every block still live. Returns the mismatches. */
function drain(subject: Subject, ptrs: Int32Array, sizes: Int32Array): number {
  let bad = 0;
  for (let id = 1; id < ptrs.length; id++) {
    const p = ptrs[id]!;
    if (p === 0) continue;
    if (sizes[id]! > 0 && subject.peek(p) !== stampOf(id)) bad++;
    subject.free(p);
    ptrs[id] = 0;
  }
  return bad;
}

/**
 * The timed loop over records [from, to), on primitive and typed-array arguments only
 * (see random-mixed.ts). `flags`: 1 the subject has calloc, 2 realloc, 4 memalign. Adds
 * to `counts`: [mallocs, frees, failed, mismatches].
 */
function loop(
  subject: Subject, rec: Int32Array, from: number, to: number, ptrs: Int32Array, sizes: Int32Array, acc: Float64Array, flags: number,
  counts: Int32Array,
): void {
  let mallocs = 0;
  let frees = 0;
  let failed = 0;
  let mismatches = 0;
  for (let r = from; r < to; r++) {
    const o = r << 2;
    const op = rec[o]! & 0xff;
    const id = rec[o + 1]!;
    const size = rec[o + 2]!;
    const aux = rec[o + 3]!;
    if (op === OP_FREE) {
      frees++;
      const p = ptrs[id]!;
      if (p === 0) continue; // its allocation failed
      if (sizes[id]! > 0 && subject.peek(p) !== stampOf(id)) mismatches++;
      subject.free(p);
      ptrs[id] = 0;
      continue;
    }
    mallocs++;
    acc[0]! += size;
    let p = 0;
    if (op === OP_MALLOC) {
      p = subject.malloc(size);
    } else if (op === OP_CALLOC) {
      const nmemb = aux === 0 ? 1 : aux;
      if ((flags & 1) !== 0) {
        p = subject.calloc!(nmemb, (size / nmemb) | 0);
      } else {
        p = subject.malloc(size);
        if (p !== 0) for (let k = 0; k < size; k++) subject.poke(p + k, 0);
      }
    } else if (op === OP_REALLOC) {
      const old = ptrs[aux]!;
      const oldSize = sizes[aux]!;
      const keep = oldSize < size ? oldSize : size;
      if (old !== 0 && oldSize > 0 && subject.peek(old) !== stampOf(aux)) mismatches++;
      if (old === 0) {
        p = subject.malloc(size);
      } else if ((flags & 2) !== 0) {
        p = subject.realloc!(old, size);
      } else {
        p = subject.malloc(size);
        if (p !== 0) {
          for (let k = 0; k < keep; k++) subject.poke(p + k, subject.peek(old + k));
          subject.free(old);
        }
      }
      if (p !== 0) {
        // The old object is dead: its first byte must have moved with it.
        if (old !== 0 && keep > 0 && subject.peek(p) !== stampOf(aux)) mismatches++;
        ptrs[aux] = 0;
      }
    } else if (op === OP_MEMALIGN) {
      if ((flags & 4) !== 0) {
        p = subject.memalign!(aux, size);
      } else {
        p = subject.malloc(size);
      }
      if (p !== 0 && (p & (aux - 1)) !== 0) acc[2]! += 1;
    }
    if (p === 0) {
      failed++;
      continue;
    }
    ptrs[id] = p;
    sizes[id] = size;
    if (size > 0) {
      const v = stampOf(id);
      subject.poke(p, v);
      acc[1]! += v;
    }
  }
  counts[0]! += mallocs;
  counts[1]! += frees;
  counts[2]! += failed;
  counts[3]! += mismatches;
}

/** A trace workload's name: `trace:` + the trace's name. */
export const TRACE_PREFIX = 'trace:';

/**
 * The workload replaying a shipped trace. Cycles are records to replay (default: all of
 * them). The trace is read when first run, not when the workload list is built.
 * `peakLiveBytes` is the header's peak of live requested bytes, for the footprint ratio.
 */
/**
 * thing on a whole trace: its first-fit walk over a free list that grows with the live
 * blocks (tens of thousands here) takes minutes — more than 15 per run of python-json
 * (measured). A default subject list leaves it out; `--subjects` naming it runs it.
 */
const THING_ON_TRACES = 'minutes a run on a whole trace (measured: more than 15 per run of python-json): its first-fit walk over a free list of tens of thousands of blocks';

export function traceWorkload(name: string, meta: { events: number; peakLiveBytes: number; description: string }): Workload {
  const slowSubjects = { thing: THING_ON_TRACES };
  return {
    slowSubjects,
    name: `${TRACE_PREFIX}${name}`,
    description: `replay of the ${name} trace (${meta.description})`,
    cycles: meta.events,
    // The warm-up's long call is the first replay of the whole trace (Workload.firstRun).
    warmupShare: 1,
    firstRun: true,
    // For the fixed pools (thing): the peak live bytes four times over, plus 64 MiB.
    arenaBytes: Math.ceil((meta.peakLiveBytes * 4) / MiB) * MiB + 64 * MiB,
    peakLiveBytes: meta.peakLiveBytes,
    run: (subject, runCycles) => replayTrace(subject, loadTrace(name), runCycles),
  };
}

/**
 * The workload replaying the trace file at `path` (`trace:<path>`): its name keeps the
 * path as given (children of `run` share the parent's working directory); its events
 * and peak live bytes come from the file, read here (the peak from the header, else
 * computed from the records).
 */
export function userTraceWorkload(path: string): Workload {
  const trace = loadTrace(path);
  const { header, count } = trace;
  const program = typeof header.program === 'string' && header.program !== '' ? header.program : 'a recorded program';
  const peak = Number.isFinite(header.peak_live_bytes) ? header.peak_live_bytes : peakLiveBytes(trace);
  return { ...traceWorkload(path, { events: count, peakLiveBytes: peak, description: '' }), description: `replay of ${path} (${program})` };
}

/**
 * The three shipped traces. Their event counts and peaks are the headers' (the `.json`
 * beside each trace), repeated here so that listing the workloads reads no trace.
 */
export const traceWorkloads: readonly Workload[] = [
  traceWorkload('python-json', { events: 3_076_269, peakLiveBytes: 18_877_685, description: 'CPython 3.11 JSON and dict work' }),
  traceWorkload('sqlite3-sql', { events: 1_687_424, peakLiveBytes: 74_085_528, description: 'sqlite3 3.40 in-memory SQL' }),
  traceWorkload('ripgrep-mt', { events: 1_229_645, peakLiveBytes: 6_059_710, description: 'ripgrep 13, 3 threads serialised' }),
];
