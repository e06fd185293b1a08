import { allocTest } from './alloc-test.js';
import { bands, bandWorkload } from './random-mixed.js';
import { scenarios, scenarioWorkload } from './scenario.js';
import { tinyHot } from './tiny-hot.js';
import { TRACE_PREFIX, traceWorkloads, userTraceWorkload } from './trace-replay.js';
import type { Workload } from './workload.js';

export const workloads: readonly Workload[] = [...bands.map(bandWorkload), tinyHot, ...scenarios.map(scenarioWorkload), allocTest, ...traceWorkloads];

/** `trace:<path>` workloads made so far (a run process reads its trace once). */
const userTraces = new Map<string, Workload>();

/**
 * A workload by name; `trace:<path>` (a path: it holds a `/` or ends in `.gz`) replays
 * the user's own trace file (e.g. one recorded with @hakmem/testkit's TraceRecorder).
 */
export function findWorkload(name: string): Workload {
  const workload = workloads.find((w) => w.name === name);
  if (workload) return workload;
  const path = name.startsWith(TRACE_PREFIX) ? name.slice(TRACE_PREFIX.length) : '';
  if (path.includes('/') || path.endsWith('.gz')) {
    let made = userTraces.get(name);
    if (made === undefined) {
      made = userTraceWorkload(path);
      userTraces.set(name, made);
    }
    return made;
  }
  throw new Error(`unknown workload "${name}" (known: ${workloads.map((w) => w.name).join(', ')}; or trace:<path of a .trace.gz>)`);
}
