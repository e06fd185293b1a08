import { WARMUP_CALLS, WARMUP_PAUSE_MS } from '../measure.js';
import type { WorkerResult } from './api.js';
import { awaitGo, releaseGo } from './control.js';
import type { Post, RunContext, TaskWorker, WorkerTask } from './task.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The warm-up of a worker, shaped as the single-thread one (measure.ts): `total` / 2
 * cycles as WARMUP_CALLS short calls, then one long call of `total` / 2, a pause (the
 * concurrent compiler finishes), and one more short call. `call(cycles, k)` runs the
 * worker's loop with the warm-up's k-th seed and returns its mismatches; every worker of a
 * run makes the same calls, so a producer and its consumer stay in step.
 */
export async function warmUp(total: number, call: (cycles: number, k: number) => number): Promise<number> {
  const short = Math.max(1, Math.ceil(total / 2 / WARMUP_CALLS));
  let mismatches = 0;
  for (let k = 0; k <= WARMUP_CALLS; k++) {
    if (k === WARMUP_CALLS) {
      mismatches += call(Math.max(1, Math.ceil(total / 2)), k + 1);
      await sleep(WARMUP_PAUSE_MS);
    }
    mismatches += call(short, k);
  }
  return mismatches;
}

/** Worker: says it is ready, collects garbage, and sleeps until the main thread gives GO. */
export function readyThenAwaitGo(task: WorkerTask, post: Post): void {
  globalThis.gc?.();
  post({ type: 'ready' });
  awaitGo(new Int32Array(task.control));
}

/**
 * Main thread: starts a worker per task, waits until all are warmed up and ready, starts
 * their timed phases together, and returns their results. On a failure it terminates the
 * others (they would sleep on GO forever) and rethrows.
 */
export async function runTogether(ctx: RunContext, tasks: readonly Parameters<RunContext['spawn']>[0][]): Promise<WorkerResult[]> {
  const workers: TaskWorker[] = tasks.map((task) => ctx.spawn(task));
  try {
    await Promise.all(workers.map((w) => w.ready));
    releaseGo(new Int32Array(ctx.control));
    const results = await Promise.all(workers.map((w) => w.result));
    return results.filter((r): r is WorkerResult => r !== null);
  } catch (error) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw error;
  }
}
