import type { Subject } from '../../subject.js';
import { warmupSeed } from '../../measure.js';
import { allocTestArena, checkAllocTestParams, runAllocTest } from '../../workloads/alloc-test.js';
import type { MtResult } from '../api.js';
import { now, threadSeed } from '../control.js';
import { readyThenAwaitGo, runTogether, warmUp } from '../phase.js';
import { sumResults, type MtWorkload, type Post, type RunContext, type WorkOutcome, type WorkerTask } from '../task.js';

type Params = Readonly<Record<string, number>>;

/** A thread's share of the slots: mimalloc-bench's alloc-test divides its table among the threads. */
function slotsPerThread(p: Params, threads: number): number {
  return Math.max(8, Math.floor(p.items! / threads));
}

function runShare(subject: Subject, p: Params, threads: number, cycles: number, seed: number): ReturnType<typeof runAllocTest> {
  return runAllocTest(subject, { cycles, seed, items: slotsPerThread(p, threads), maxLog2: p.maxLog2! });
}

async function work(subject: Subject, task: WorkerTask, post: Post): Promise<WorkOutcome> {
  const p = task.params;
  const threads = task.threads;
  const warm = await warmUp(Math.ceil(p.cycles! * 0.2), (cycles, k) => runShare(subject, p, threads, cycles, warmupSeed(task.seed + k)).mismatches);
  readyThenAwaitGo(task, post);
  const t0 = now();
  const r = runShare(subject, p, threads, p.cycles!, task.seed);
  const t1 = now();
  const { mallocs, frees, failed, bytes, finalSeed, checksum } = r;
  return { mallocs, frees, failed, bytes, finalSeed, checksum, mismatches: r.mismatches + warm, t0, t1, extra: {} };
}

async function run(ctx: RunContext): Promise<MtResult> {
  checkAllocTestParams(slotsPerThread(ctx.params, ctx.threads), ctx.params.maxLog2!);
  const tasks = Array.from({ length: ctx.threads }, (_, k) => ({ role: 'alloc-test', index: k, seed: threadSeed(ctx.seed, k), shared: null }));
  return sumResults(await runTogether(ctx, tasks));
}

/**
 * alloc-test on T threads (mimalloc-bench's `alloc-testN`): each thread runs the
 * single-thread `alloc-test` loop (src/workloads/alloc-test.ts) on its own items / T slots
 * and its own seed, `cycles` each, all in one shared heap. Thread 0 takes the run's seed,
 * so one thread replays the single-thread workload (with the same items) call for call.
 */
export const allocTestMt: MtWorkload = {
  name: 'alloc-test-mt',
  description: 'T threads, each alloc-test (Pareto-like slots, power-of-two classes up to 2^maxLog2, a swinging live set) on items / T slots of its own',
  defaults: { cycles: 2_000_000, items: 65_536, maxLog2: 10 },
  quick: { cycles: 40_000 },
  slowSubjects: {
    'thing-locked': 'its free walks its list of used blocks, and this workload keeps thousands live: minutes per run (name it in --subjects to run it)',
  },
  primary: 'cycles',
  notFor: () => undefined,
  attachedThreads: (threads) => threads,
  arenaBytes: (p, threads) => threads * allocTestArena(slotsPerThread(p, threads), p.maxLog2!),
  deterministic: () => true,
  run,
  work,
};
