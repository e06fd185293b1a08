import { allocTest } from './alloc-test.js';
import { bands, bandWorkload } from './random-mixed.js';
import { scenarios, scenarioWorkload } from './scenario.js';
import { tinyHot } from './tiny-hot.js';
import { traceWorkloads } from './trace-replay.js';
import type { Workload } from './workload.js';

export const workloads: readonly Workload[] = [...bands.map(bandWorkload), tinyHot, ...scenarios.map(scenarioWorkload), allocTest, ...traceWorkloads];

export function findWorkload(name: string): Workload {
  const workload = workloads.find((w) => w.name === name);
  if (!workload) throw new Error(`unknown workload "${name}" (known: ${workloads.map((w) => w.name).join(', ')})`);
  return workload;
}
