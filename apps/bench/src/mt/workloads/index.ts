import type { MtWorkload } from '../task.js';
import { allocTestMt } from './alloc-test-mt.js';
import { cacheScratch } from './cache-scratch.js';
import { crossThread } from './cross-thread.js';
import { larson } from './larson.js';
import { midLargeMt } from './mid-large-mt.js';
import { mstress } from './mstress.js';
import { xmalloc } from './xmalloc.js';

/** BENCH.md's (the `--suite mt` default), then mimalloc-bench's shapes (`--suite mimalloc`). */
export const mtWorkloads: readonly MtWorkload[] = [crossThread, larson, midLargeMt, allocTestMt, cacheScratch, mstress, xmalloc];

export function isMtWorkload(name: string): boolean {
  return mtWorkloads.some((w) => w.name === name);
}

export function findMtWorkload(name: string): MtWorkload {
  const workload = mtWorkloads.find((w) => w.name === name);
  if (!workload) throw new Error(`unknown multi-thread workload "${name}" (known: ${mtWorkloads.map((w) => w.name).join(', ')})`);
  return workload;
}

/**
 * A workload's parameters: its defaults, then `--quick`'s, then the given ones. Throws on
 * a parameter the workload does not have.
 */
export function paramsFor(workload: MtWorkload, given: Readonly<Record<string, number>>, quick: boolean): Record<string, number> {
  for (const key of Object.keys(given)) {
    if (!(key in workload.defaults)) {
      throw new Error(`${workload.name} has no parameter "${key}" (it has: ${Object.keys(workload.defaults).join(', ')})`);
    }
  }
  return { ...workload.defaults, ...(quick ? workload.quick : {}), ...given };
}
