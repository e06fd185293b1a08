import type { Subject } from '../../subject.js';
import { warmupSeed } from '../../measure.js';
import { MiB } from '../../workloads/workload.js';
import type { MtResult, WorkerResult } from '../api.js';
import { CTL_STOP, createControl, now, releaseGo, signalStop, threadSeed } from '../control.js';
import { readyThenAwaitGo, warmUp } from '../phase.js';
import { sumResults, type MtWorkload, type Post, type RunContext, type TaskWorker, type WorkOutcome, type WorkerTask } from '../task.js';

type Params = Readonly<Record<string, number>>;

/**
 * A lineage: the array of blocks one thread owns and hands on to the next, with the
 * state that goes with it, in one SharedArrayBuffer (Int32Array words).
 *
 * ```
 *  word  0   GEN    the generation that owns the lineage (CLOSED once drained); CAS on handoff
 *  word 16   SEED   the PRNG state where the owner stopped
 *  word 17   STEPS  steps done so far, over all generations
 *  words 32 + c              block address of chunk c (0: empty, its malloc failed)
 *  words 32 + chunks + c     its size
 *  words 32 + 2 chunks + c   the PRNG value that stamped it
 * ```
 * Only the owner touches SEED, STEPS and the chunks; ownership passes with the CAS on
 * GEN (seq-cst), so the successor sees every word its predecessor wrote.
 */
const L_GEN = 0;
const L_SEED = 16;
const L_STEPS = 17;
const L_CHUNKS = 32;
const CLOSED = -1;

/** How often (in steps) the timed loop reads STOP. */
const STOP_EVERY_MASK = 255;

function lineageBytes(chunks: number): number {
  return (L_CHUNKS + 3 * chunks) * 4;
}

function xorshift(s: number): number {
  let x = s;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x;
}

/** Verifies the stamps of chunk `c` (first byte x & 0xFF, last (x >>> 8) & 0xFF) and frees it; 1 on a mismatch. */
function release(subject: Subject, lin: Int32Array, chunks: number, c: number, ptr: number): number {
  const sz = lin[L_CHUNKS + chunks + c]!;
  const x = lin[L_CHUNKS + 2 * chunks + c]!;
  const bad = subject.peek(ptr) !== (x & 0xff) || subject.peek(ptr + sz - 1) !== ((x >>> 8) & 0xff) ? 1 : 0;
  subject.free(ptr);
  return bad;
}

/** Mallocs `sz` bytes into chunk `c` and stamps them with `x`; returns the checksum of the stamps, or -1 when malloc failed. */
function acquire(subject: Subject, lin: Int32Array, chunks: number, c: number, sz: number, x: number): number {
  const ptr = subject.malloc(sz);
  lin[L_CHUNKS + c] = ptr;
  if (ptr === 0) return -1;
  const first = x & 0xff;
  const last = (x >>> 8) & 0xff;
  subject.poke(ptr, first);
  subject.poke(ptr + sz - 1, last);
  lin[L_CHUNKS + chunks + c] = sz;
  lin[L_CHUNKS + 2 * chunks + c] = x;
  return first + last;
}

interface Tally {
  mallocs: number;
  frees: number;
  failed: number;
  bytes: number;
  checksum: number;
  mismatches: number;
  steps: number;
}

/** Fills every chunk of a fresh lineage (untimed: larson's initial arrays). */
function fill(subject: Subject, lin: Int32Array, chunks: number, minSize: number, span: number): Tally {
  let x = lin[L_SEED]! | 0;
  let failed = 0;
  let bytes = 0;
  let checksum = 0;
  for (let c = 0; c < chunks; c++) {
    x = xorshift(x);
    const sz = (minSize + ((x >>> 0) % (span >>> 0))) | 0;
    bytes += sz;
    const sum = acquire(subject, lin, chunks, c, sz, x);
    if (sum < 0) failed++;
    else checksum += sum;
  }
  lin[L_SEED] = x;
  return { mallocs: chunks, frees: 0, failed, bytes, checksum, mismatches: 0, steps: 0 };
}

/**
 * The timed loop: up to `steps` steps, each freeing a random chunk (its stamps verified
 * first) and mallocing a new random size into it, until STOP. Primitive arguments and
 * typed arrays only; the PRNG state and the step count are saved in the lineage at the end.
 */
function steps(subject: Subject, lin: Int32Array, ctl: Int32Array, chunks: number, minSize: number, span: number, limit: number): Tally {
  let x = lin[L_SEED]! | 0;
  let mallocs = 0;
  let frees = 0;
  let failed = 0;
  let checksum = 0;
  let mismatches = 0;
  const acc = new Float64Array(1);
  let i = 0;
  for (; i < limit; i++) {
    if ((i & STOP_EVERY_MASK) === 0 && Atomics.load(ctl, CTL_STOP) !== 0) break;
    x = xorshift(x);
    const c = ((x >>> 0) % (chunks >>> 0)) | 0;
    const old = lin[L_CHUNKS + c]!;
    if (old !== 0) {
      mismatches += release(subject, lin, chunks, c, old);
      frees++;
    }
    x = xorshift(x);
    const sz = (minSize + ((x >>> 0) % (span >>> 0))) | 0;
    mallocs++;
    acc[0]! += sz;
    const sum = acquire(subject, lin, chunks, c, sz, x);
    if (sum < 0) failed++;
    else checksum += sum;
  }
  lin[L_SEED] = x;
  lin[L_STEPS] = (lin[L_STEPS]! + i) | 0;
  return { mallocs, frees, failed, bytes: acc[0]!, checksum, mismatches, steps: i };
}

/** Verifies and frees every chunk (untimed: the end of larson). */
function drain(subject: Subject, lin: Int32Array, chunks: number): Tally {
  let frees = 0;
  let mismatches = 0;
  for (let c = 0; c < chunks; c++) {
    const ptr = lin[L_CHUNKS + c]!;
    if (ptr !== 0) {
      mismatches += release(subject, lin, chunks, c, ptr);
      frees++;
      lin[L_CHUNKS + c] = 0;
    }
  }
  return { mallocs: 0, frees, failed: 0, bytes: 0, checksum: 0, mismatches, steps: 0 };
}

/**
 * Chunks of a warm-up lineage. Each warm-up call fills and drains one, and on a subject
 * whose free walks its live blocks (thing-locked) 42 fills and drains of 1000 blocks per
 * worker took seconds; the code the warm-up is for is the same with fewer.
 */
const WARM_CHUNKS = 128;

/**
 * The warm-up: whole private lineages (fill, steps, drain) on this thread's own blocks,
 * through the same functions and the same kinds of arrays as the timed loop.
 */
async function warm(subject: Subject, p: Params, seed: number): Promise<number> {
  const chunks = Math.min(p.chunks!, WARM_CHUNKS);
  const span = p.maxSize! - p.minSize! + 1;
  const lin = new Int32Array(new SharedArrayBuffer(lineageBytes(chunks)));
  const never = new Int32Array(createControl());
  return warmUp(p.warmSteps!, (count, k) => {
    lin[L_SEED] = warmupSeed(seed + k) | 0;
    const a = fill(subject, lin, chunks, p.minSize!, span);
    const b = steps(subject, lin, never, chunks, p.minSize!, span, count);
    return a.mismatches + b.mismatches + drain(subject, lin, chunks).mismatches;
  });
}

/**
 * A standby: sleeps until its lineage is handed to its generation (true), or is closed
 * (false). Once STOP is given it closes the lineage itself if its predecessor has not
 * handed it on yet (the CAS on GEN decides which of the two drains it).
 */
function awaitTurn(lin: Int32Array, ctl: Int32Array, generation: number): boolean {
  for (;;) {
    const gen = Atomics.load(lin, L_GEN);
    if (gen === generation) return true;
    if (gen === CLOSED) return false;
    if (Atomics.load(ctl, CTL_STOP) !== 0 && Atomics.compareExchange(lin, L_GEN, gen, CLOSED) === gen) return false;
    Atomics.wait(lin, L_GEN, gen, 20);
  }
}

function close(lin: Int32Array): void {
  Atomics.store(lin, L_GEN, CLOSED);
  Atomics.notify(lin, L_GEN);
}

async function work(subject: Subject, task: WorkerTask, post: Post): Promise<WorkOutcome> {
  const p = task.params;
  const chunks = p.chunks!;
  const minSize = p.minSize!;
  const span = p.maxSize! - minSize + 1;
  const lin = new Int32Array(task.shared!);
  const ctl = new Int32Array(task.control);
  const g = task.generation;
  let mismatches = await warm(subject, p, task.seed ^ g);
  let filled: Tally | undefined;
  if (g === 0) {
    filled = fill(subject, lin, chunks, minSize, span);
    readyThenAwaitGo(task, post);
  } else {
    post({ type: 'ready' });
    if (!awaitTurn(lin, ctl, g)) return null;
    post({ type: 'active' });
  }
  const total = p.steps! > 0 ? p.steps! : 0x7fffffff;
  const t0 = now();
  const s = steps(subject, lin, ctl, chunks, minSize, span, Math.min(p.rounds!, total - lin[L_STEPS]!));
  const t1 = now();
  mismatches += s.mismatches;
  const done = lin[L_STEPS]! >= total || Atomics.load(ctl, CTL_STOP) !== 0;
  let handedOff = 0;
  let drained: Tally | undefined;
  if (!done && Atomics.compareExchange(lin, L_GEN, g, g + 1) === g) {
    Atomics.notify(lin, L_GEN);
    handedOff = 1;
  } else {
    drained = drain(subject, lin, chunks);
    mismatches += drained.mismatches;
    close(lin);
  }
  return {
    mallocs: s.mallocs,
    frees: s.frees,
    failed: s.failed,
    bytes: s.bytes,
    checksum: s.checksum,
    finalSeed: drained ? lin[L_SEED]! >>> 0 : 0,
    mismatches,
    t0,
    t1,
    extra: {
      handoffs: handedOff,
      'fill.mallocs': filled?.mallocs ?? 0,
      'fill.failed': filled?.failed ?? 0,
      'drain.frees': drained?.frees ?? 0,
      steps: s.steps,
    },
  };
}

interface Generation {
  readonly lineage: number;
  readonly generation: number;
  readonly worker: TaskWorker;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The main side: one lineage per thread, its first generation and one standby started
 * and warmed up before GO; each time a standby takes over, the next one is started.
 * Fixed time (`ms`): STOP after it, the owners drain, standbys close. Fixed work
 * (`steps` > 0, deterministic counters): each lineage's owner drains after `steps`.
 */
async function run(ctx: RunContext): Promise<MtResult> {
  const p = ctx.params;
  const ctl = new Int32Array(ctx.control);
  const lineages = Array.from({ length: ctx.threads }, (_, k) => {
    const lin = new Int32Array(new SharedArrayBuffer(lineageBytes(p.chunks!)));
    lin[L_SEED] = threadSeed(ctx.seed, k) | 0;
    return lin;
  });
  const gens: Generation[] = [];
  let stopping = false;
  const start = (lineage: number, generation: number): TaskWorker => {
    const lin = lineages[lineage]!;
    const worker = ctx.spawn({ role: 'larson', index: lineage, generation, seed: threadSeed(ctx.seed, lineage), shared: lin.buffer as SharedArrayBuffer });
    worker.onActive = () => {
      if (!stopping) start(lineage, generation + 1);
    };
    gens.push({ lineage, generation, worker });
    return worker;
  };
  const first = lineages.map((_, k) => start(k, 0));
  const standbys = lineages.map((_, k) => start(k, 1));
  try {
    await Promise.all([...first, ...standbys].map((w) => w.ready));
    releaseGo(ctl);
    if (p.steps! > 0) await allClosed(lineages);
    else await sleep(p.ms!);
    stopping = true;
    signalStop(ctl);
    for (const lin of lineages) Atomics.notify(lin, L_GEN);
    return summarize(await settle(gens), gens);
  } catch (error) {
    stopping = true;
    await Promise.all(gens.map((g) => g.worker.terminate()));
    throw error;
  }
}

/** Fixed work: polls until every lineage's owner drained it. */
async function allClosed(lineages: readonly Int32Array[]): Promise<void> {
  while (lineages.some((lin) => Atomics.load(lin, L_GEN) !== CLOSED)) await sleep(5);
}

/** Every generation's result, waiting again while new ones were started meanwhile. */
async function settle(gens: readonly Generation[]): Promise<(WorkerResult | null)[]> {
  let count = -1;
  let results: (WorkerResult | null)[] = [];
  while (count !== gens.length) {
    count = gens.length;
    results = await Promise.all(gens.map((g) => g.worker.result));
  }
  return results;
}

/**
 * Sums the generations; adds the lineages' stall (ms from a handoff to its successor's
 * start: a standby still starting up) and `live.end`, blocks malloc'd and never freed
 * (must be 0).
 */
function summarize(results: readonly (WorkerResult | null)[], gens: readonly Generation[]): MtResult {
  const ran = results.map((r, i) => ({ r, g: gens[i]! })).filter((x): x is { r: WorkerResult; g: Generation } => x.r !== null);
  const sum = sumResults(ran.map((x) => x.r));
  let stallMs = 0;
  for (const { r, g } of ran) {
    if (g.generation === 0) continue;
    const before = ran.find((x) => x.g.lineage === g.lineage && x.g.generation === g.generation - 1);
    if (before) stallMs += Math.max(0, r.t0 - before.r.t1);
  }
  const e = sum.extra;
  const live = (e['fill.mallocs'] ?? 0) - (e['fill.failed'] ?? 0) + sum.mallocs - sum.failed - sum.frees - (e['drain.frees'] ?? 0);
  return { ...sum, extra: { ...e, generations: ran.length, stallMs, 'live.end': live } };
}

/**
 * BENCH.md's larson (mimalloc-bench's shape): T threads, each owning `chunks` blocks of
 * sizes uniform in minSize..maxSize; each step frees a random chunk (its stamps verified)
 * and mallocs a new random size into it; after `rounds` steps a thread hands its array to
 * a freshly started worker, which goes on freeing the blocks it inherited. Total ops/s
 * over `ms` of wall time (or, with `steps` > 0, over that many steps per lineage: the
 * counters are then deterministic).
 *
 * Starting a worker here costs ≈ 0.3 s (a fresh isolate, tsx's loader, the modules), a
 * thousand times a pthread: so the successor is started ahead, warms up on its own
 * private blocks and sleeps on its lineage's GEN word until the handoff; its start-up
 * runs during the timed phase (as larson's thread creation does), and `stallMs` says how
 * long lineages waited for one.
 */
export const larson: MtWorkload = {
  name: 'larson',
  description: 'T threads own 1000 blocks of 8..1000 B, free and malloc random ones, hand their blocks to a new worker every `rounds` steps',
  defaults: { ms: 4000, chunks: 1000, minSize: 8, maxSize: 1000, rounds: 10_000_000, steps: 0, warmSteps: 100_000 },
  quick: { ms: 500, rounds: 20_000, warmSteps: 10_000 },
  primary: 'ms',
  notFor: () => undefined,
  attachedThreads: (threads) => 2 * threads,
  arenaBytes: (p, threads) => Math.max(64 * MiB, 4 * 2 * threads * p.chunks! * p.maxSize!),
  deterministic: (p) => p.steps! > 0,
  run,
  work,
};
