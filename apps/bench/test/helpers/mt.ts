import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { MtRunRecord, MtSpec } from '../../src/mt/api.js';
import { findMtWorkload, paramsFor } from '../../src/mt/workloads/index.js';
import { nodeArgs, nodeEnv } from '../../src/runner.js';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const run = promisify(execFile);

/**
 * One multi-thread measurement in a child process, as `run --suite mt|mimalloc` makes it
 * (async, so a workload's subjects run side by side).
 */
export async function measureInChild(subject: string, workload: string, threads: number, params: Record<string, number>): Promise<MtRunRecord> {
  const spec: MtSpec = { subject, workload, threads, params: paramsFor(findMtWorkload(workload), params, false), seed: 42, run: 0 };
  const { stdout } = await run(process.execPath, [...nodeArgs(), '--expose-gc', CLI, 'measure-mt', '--spec', JSON.stringify(spec)], {
    timeout: 60_000, maxBuffer: 16 << 20, env: nodeEnv(),
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as MtRunRecord;
}

/** The counters that depend only on the workload's call sequence. */
export const COUNTERS = ['mallocs', 'frees', 'failed', 'bytes', 'finalSeed', 'checksum'] as const;

/**
 * The counters of every subject agree, no malloc failed; every subject but null verified
 * its blocks; with `everyBlockFreed`, the harness's live count is 0 at the end.
 */
export function expectAgreement(records: readonly MtRunRecord[], everyBlockFreed = false): void {
  const [reference] = records;
  for (const r of records) {
    for (const key of COUNTERS) expect(r[key], `${r.subject} ${key}`).toBe(reference![key]);
    expect(r.failed).toBe(0);
    if (everyBlockFreed) expect(r.extra['live.end'] ?? 0, `${r.subject} live.end`).toBe(0);
    if (r.subject === 'null') {
      expect(r.verify).toBe('n/a');
    } else {
      expect(r.mismatches, r.subject).toBe(0);
      expect(r.verify).toBe('ok');
      expect(r.footprint, r.subject).toBeGreaterThan(0);
    }
    expect(r.opsPerSec).toBeGreaterThan(0);
  }
}
