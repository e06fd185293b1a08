import type { Subject } from '../../subject.js';
import { warmupSeed } from '../../measure.js';
import { runRandomMixed } from '../../workloads/random-mixed.js';
import { MiB } from '../../workloads/workload.js';
import type { MtResult } from '../api.js';
import { now, threadSeed } from '../control.js';
import { readyThenAwaitGo, runTogether, warmUp } from '../phase.js';
import { sumResults, type MtWorkload, type Post, type RunContext, type WorkOutcome, type WorkerTask } from '../task.js';

type Params = Readonly<Record<string, number>>;

/** One thread's random-mixed, variant pool, on its own slots and seed. */
function runPool(subject: Subject, p: Params, cycles: number, seed: number): ReturnType<typeof runRandomMixed> {
  return runRandomMixed(subject, { variant: 'pool', ws: p.ws!, minSize: p.minSize!, maxSize: p.maxSize!, cycles, seed });
}

async function work(subject: Subject, task: WorkerTask, post: Post): Promise<WorkOutcome> {
  const p = task.params;
  const warm = await warmUp(Math.ceil(p.cycles! * 0.2), (cycles, k) => runPool(subject, p, cycles, warmupSeed(task.seed + k)).mismatches);
  readyThenAwaitGo(task, post);
  const t0 = now();
  const r = runPool(subject, p, p.cycles!, task.seed);
  const t1 = now();
  const { mallocs, frees, failed, bytes, finalSeed, checksum } = r;
  return { mallocs, frees, failed, bytes, finalSeed, checksum, mismatches: r.mismatches + warm, t0, t1, extra: {} };
}

async function run(ctx: RunContext): Promise<MtResult> {
  const tasks = Array.from({ length: ctx.threads }, (_, k) => ({ role: 'pool', index: k, seed: threadSeed(ctx.seed, k), shared: null }));
  return sumResults(await runTogether(ctx, tasks));
}

/**
 * BENCH.md's mid-large-mt: T threads, each random-mixed variant pool (sizes 8192..53248,
 * ws 256) with its own slots and seed (thread 0 the run's seed: one thread replays the
 * single-thread `pool` band call for call), `cycles` each. Total ops/s from the first
 * thread's start to the last one's end. The warm-up is the single-thread one, per thread.
 */
export const midLargeMt: MtWorkload = {
  name: 'mid-large-mt',
  description: 'T threads, each random-mixed pool 8192..53248 ws 256 on its own slots and seed',
  defaults: { cycles: 1_000_000, ws: 256, minSize: 8192, maxSize: 53248 },
  quick: { cycles: 20_000 },
  primary: 'cycles',
  notFor: () => undefined,
  attachedThreads: (threads) => threads,
  arenaBytes: (_p, threads) => 64 * MiB * threads,
  deterministic: () => true,
  run,
  work,
};
