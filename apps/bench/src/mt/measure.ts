import type { MtRunRecord, MtSpec } from './api.js';
import { createControl } from './control.js';
import { findMtSubject } from './subjects/index.js';
import type { RunContext } from './task.js';
import { spawnTaskWorker } from './threads.js';
import { findMtWorkload } from './workloads/index.js';
import { timedCounters } from '../workloads/workload.js';

/**
 * One multi-thread measurement in this process (a fresh one per run, as for the
 * single-thread workloads): creates the shared subject on the main thread, lets the
 * workload start its workers (each attaches, warms up, and waits for GO, then runs its
 * timed phase), and sums their counters. The main thread only orchestrates.
 */
export async function measureMt(spec: MtSpec): Promise<MtRunRecord> {
  const workload = findMtWorkload(spec.workload);
  const reason = workload.notFor(spec.threads);
  if (reason !== undefined) throw new Error(`${spec.workload} does not run on ${spec.threads} threads: ${reason}`);
  const mt = await findMtSubject(spec.subject).load();
  const host = await mt.create({ arenaBytes: workload.arenaBytes(spec.params, spec.threads), threads: workload.attachedThreads(spec.threads) });
  const control = createControl();
  const ctx: RunContext = {
    subject: spec.subject,
    handle: host.handle,
    threads: spec.threads,
    params: spec.params,
    seed: spec.seed,
    control,
    sharesAddresses: host.sharesAddresses === true,
    spawn: (task) => spawnTaskWorker({
      subject: spec.subject, workload: spec.workload, threads: spec.threads, params: spec.params, handle: host.handle, control, generation: 0, ...task,
    }),
  };
  const result = await workload.run(ctx);
  return {
    ...spec,
    ...timedCounters(result),
    footprint: host.footprint ? host.footprint() : result.footprint,
    verify: host.sharesAddresses ? 'n/a' : result.mismatches > 0 ? 'FAILED' : 'ok',
    extra: result.extra,
  };
}
