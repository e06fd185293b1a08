import { parentPort, workerData } from 'node:worker_threads';
import { findMtSubject } from './subjects/index.js';
import type { WorkerMessage, WorkerTask } from './task.js';
import { findMtWorkload } from './workloads/index.js';

/**
 * A worker of a multi-thread run: attaches to the shared subject, runs its part of the
 * workload (warm-up, 'ready', the timed phase once GO is given), reads its subject's
 * footprint, detaches, and posts its counters.
 */
async function main(task: WorkerTask): Promise<void> {
  const post = (message: WorkerMessage): void => parentPort!.postMessage(message);
  const mt = await findMtSubject(task.subject).load();
  const subject = await mt.attach(task.handle);
  const outcome = await findMtWorkload(task.workload).work(subject, task, post);
  const footprint = subject.footprint();
  const counters = mt.counters?.() ?? {};
  mt.detach();
  post({ type: 'result', result: outcome === null ? null : { ...outcome, footprint, extra: { ...outcome.extra, ...counters } } });
}

await main(workerData as WorkerTask);
