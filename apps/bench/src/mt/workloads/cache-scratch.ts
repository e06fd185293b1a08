import type { Subject } from '../../subject.js';
import { MiB } from '../../workloads/workload.js';
import type { MtResult, WorkerResult } from '../api.js';
import { CTL_STOP, now, releaseGo, signalStop } from '../control.js';
import { readyThenAwaitGo, warmUp } from '../phase.js';
import { sumResults, type MtWorkload, type Post, type RunContext, type TaskWorker, type WorkOutcome, type WorkerTask } from '../task.js';

/**
 * The hand-over block: an Int32Array over a SharedArrayBuffer.
 *
 * ```
 *  word  0        READY   1 once the setup thread has malloc'd, stamped and published every object
 *  words 16 + k   the object handed to worker k
 * ```
 * The setup thread writes each address with Atomics.store after stamping the object, so
 * a worker that reads it (Atomics.load) sees the stamps.
 */
const H_READY = 0;
const H_OBJECTS = 16;

/** Byte j of the object handed to worker k (written by the setup thread, checked by worker k before its free). */
function setupByte(k: number, j: number): number {
  return ((k * 37 + j) ^ 0xa5) & 0xff;
}

/** A worker's own tag: two workers write different bytes, so blocks that overlap fail the read-back. */
function tagOf(index: number): number {
  return (index * 67 + 13) & 0xff;
}

interface Tally {
  mallocs: number;
  frees: number;
  failed: number;
  checksum: number;
  mismatches: number;
  /** The address of the first block (0: none), for the shared-line count. */
  first: number;
}

/** Bytes of a cache line (x86-64, and most ARM cores). */
const LINE = 64;

/**
 * `iterations` times: malloc `objSize` bytes, write every byte and read it back
 * `repetitions` times (the pass r writes (tag + i + r + j) & 0xFF at byte j), check the last
 * pass once more, free. Primitive arguments only (see random-mixed.ts).
 */
function scratch(subject: Subject, iterations: number, objSize: number, repetitions: number, tag: number): Tally {
  let mallocs = 0;
  let frees = 0;
  let failed = 0;
  let checksum = 0;
  let mismatches = 0;
  let first = 0;
  for (let i = 0; i < iterations; i++) {
    mallocs++;
    const p = subject.malloc(objSize);
    if (p === 0) {
      failed++;
      continue;
    }
    if (first === 0) first = p;
    let bad = 0;
    for (let r = 0; r < repetitions; r++) {
      const base = (tag + i + r) | 0;
      for (let j = 0; j < objSize; j++) {
        const v = (base + j) & 0xff;
        subject.poke(p + j, v);
        if (subject.peek(p + j) !== v) bad = 1;
      }
    }
    const last = (tag + i + repetitions - 1) | 0;
    for (let j = 0; j < objSize; j++) {
      const v = (last + j) & 0xff;
      if (subject.peek(p + j) !== v) bad = 1;
      checksum += v;
    }
    mismatches += bad;
    subject.free(p);
    frees++;
  }
  return { mallocs, frees, failed, checksum, mismatches, first };
}

/** The setup thread: mallocs one object per worker, back to back, stamps each and publishes it; then sleeps until STOP. */
async function setup(subject: Subject, task: WorkerTask, post: Post): Promise<WorkOutcome> {
  const h = new Int32Array(task.shared!);
  const objSize = task.params.objSize!;
  let failed = 0;
  for (let k = 0; k < task.threads; k++) {
    const p = subject.malloc(objSize);
    if (p === 0) failed++;
    else for (let j = 0; j < objSize; j++) subject.poke(p + j, setupByte(k, j));
    Atomics.store(h, H_OBJECTS + k, p);
  }
  Atomics.store(h, H_READY, 1);
  post({ type: 'ready' });
  const ctl = new Int32Array(task.control);
  while (Atomics.load(ctl, CTL_STOP) === 0) Atomics.wait(ctl, CTL_STOP, 0, 1000);
  // No operation in the timed phase: its t0/t1 do not count (sumResults).
  return {
    mallocs: 0, frees: 0, failed: 0, bytes: 0, finalSeed: 0, checksum: 0, mismatches: 0, t0: 0, t1: 0,
    extra: { 'setup.mallocs': task.threads, 'setup.failed': failed },
  };
}

/** A worker: warms up on its own objects, then (timed) frees the object handed to it and runs `scratch`. */
async function worker(subject: Subject, task: WorkerTask, post: Post): Promise<WorkOutcome> {
  const p = task.params;
  const objSize = p.objSize!;
  const repetitions = p.repetitions!;
  const tag = tagOf(task.index);
  const warm = await warmUp(Math.ceil(p.iterations! * 0.2), (count, k) => scratch(subject, count, objSize, repetitions, (tag + 101 * (k + 1)) & 0xff).mismatches);
  readyThenAwaitGo(task, post);
  const h = new Int32Array(task.shared!);
  const t0 = now();
  const given = Atomics.load(h, H_OBJECTS + task.index);
  let handed = 0;
  let frees = 0;
  if (given !== 0) {
    for (let j = 0; j < objSize; j++) if (subject.peek(given + j) !== setupByte(task.index, j)) handed = 1;
    subject.free(given);
    frees++;
  }
  const s = scratch(subject, p.iterations!, objSize, repetitions, tag);
  const t1 = now();
  return {
    mallocs: s.mallocs, frees: s.frees + frees, failed: s.failed, bytes: s.mallocs * objSize, finalSeed: 0,
    checksum: s.checksum, mismatches: s.mismatches + handed + warm, t0, t1, extra: { 'first.block': s.first },
  };
}

function work(subject: Subject, task: WorkerTask, post: Post): Promise<WorkOutcome> {
  return task.role === 'setup' ? setup(subject, task, post) : worker(subject, task, post);
}

/**
 * Workers whose first block of the timed phase lies in a cache line that another
 * worker's first block also touches: the false sharing the workload is about, seen in
 * the addresses (so it does not depend on the timing). 0 when every worker got a line of
 * its own.
 */
export function sharedLines(firsts: readonly number[]): number {
  let shared = 0;
  for (const [k, a] of firsts.entries()) {
    if (a === 0) continue;
    if (firsts.some((b, j) => j !== k && b !== 0 && Math.floor(b / LINE) === Math.floor(a / LINE))) shared++;
  }
  return shared;
}

/**
 * The main side: the setup thread first (its objects are malloc'd back to back before any
 * worker exists, as mimalloc-bench's main thread does), then the T workers; GO when all are
 * warmed up; STOP lets the setup thread end once every worker is done.
 */
async function run(ctx: RunContext): Promise<MtResult> {
  const shared = new SharedArrayBuffer((H_OBJECTS + ctx.threads) * 4);
  const ctl = new Int32Array(ctx.control);
  const started: TaskWorker[] = [];
  try {
    const host = ctx.spawn({ role: 'setup', index: 0, seed: ctx.seed, shared });
    started.push(host);
    await host.ready;
    const workers = Array.from({ length: ctx.threads }, (_, k) => ctx.spawn({ role: 'scratch', index: k, seed: ctx.seed, shared }));
    started.push(...workers);
    await Promise.all(workers.map((w) => w.ready));
    releaseGo(ctl);
    const results = (await Promise.all(workers.map((w) => w.result))).filter((r): r is WorkerResult => r !== null);
    signalStop(ctl);
    const own = await host.result;
    const sharing = sharedLines(results.map((r) => r.extra['first.block'] ?? 0));
    const clean = results.map((r) => ({ ...r, extra: {} }));
    const sum = sumResults(own === null ? clean : [...clean, own]);
    const e = sum.extra;
    const live = (e['setup.mallocs'] ?? 0) - (e['setup.failed'] ?? 0) + sum.mallocs - sum.failed - sum.frees;
    return {
      ...sum,
      failed: sum.failed + (e['setup.failed'] ?? 0),
      extra: { ...e, 'live.end': live, ...(ctx.sharesAddresses ? {} : { 'lines.shared': sharing }) },
    };
  } catch (error) {
    signalStop(ctl);
    await Promise.all(started.map((w) => w.terminate()));
    throw error;
  }
}

/**
 * mimalloc-bench's cache-scratch (Hoard's benchmark of passive false sharing): a setup
 * thread mallocs one small object per worker, back to back (so several share a cache
 * line), and hands object k to worker k; each worker frees it, then `iterations` times
 * mallocs an object of the same size, writes every byte and reads it back `repetitions`
 * times, and frees it. An allocator that gives the freed object (or its neighbour) to
 * another thread puts two threads' writes in one cache line: every write then moves the
 * line between cores. Fixed work; ops/s counts the mallocs and frees (the writes are the
 * time), from GO to the last worker's end.
 */
export const cacheScratch: MtWorkload = {
  name: 'cache-scratch',
  description: 'a setup thread mallocs T small objects back to back and hands one to each worker, which frees it, then mallocs its own of the same size and writes it repeatedly (false sharing)',
  defaults: { iterations: 1000, objSize: 8, repetitions: 10_000 },
  quick: { iterations: 100, repetitions: 1000 },
  primary: 'iterations',
  notFor: () => undefined,
  attachedThreads: (threads) => threads + 1,
  arenaBytes: () => 64 * MiB,
  deterministic: () => true,
  run,
  work,
};
