import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../src/measure.js';
import { formatTable, median, problems } from '../src/report.js';
import type { WorkloadRuns } from '../src/runner.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeArgs, nodeEnv, runBench, spawnMeasure } from '../src/runner.js';

describe('runBench', () => {
  it('interleaves the workloads as well as the subjects: each run index visits every workload, and a workload is reported after its last run', async () => {
    const seen: string[] = [];
    const result = await runBench({
      subjects: ['null', 'seglist'], workloads: [{ name: 'tiny', cycles: 2_000 }, { name: 'mid', cycles: 2_000 }], runs: 2, seed: 42,
      onRun: (r) => seen.push(`${r.workload} ${r.run} ${r.subject}`),
      onWorkload: (w) => seen.push(`done ${w.workload} ${w.records.length}`),
    });
    expect(seen).toEqual([
      'tiny 0 null', 'tiny 0 seglist', 'mid 0 null', 'mid 0 seglist',
      'tiny 1 null', 'tiny 1 seglist', 'done tiny 4', 'mid 1 null', 'mid 1 seglist', 'done mid 4',
    ]);
    expect(result.workloads.map((w) => [w.workload, w.records.map((r) => `${r.run} ${r.subject}`)])).toEqual([
      ['tiny', ['0 null', '0 seglist', '1 null', '1 seglist']],
      ['mid', ['0 null', '0 seglist', '1 null', '1 seglist']],
    ]);
    for (const w of result.workloads) expect(w.failures).toEqual([]);
  }, 60_000);
});

describe('spawnMeasure', () => {
  it('runs one measurement in a child process (tsx, no build)', () => {
    const record = spawnMeasure({ subject: 'null', workload: 'tiny', cycles: 10_000, seed: 42, run: 0 });
    expect(record).toMatchObject({ subject: 'null', workload: 'tiny', cycles: 10_000, failed: 0, verify: 'n/a' });
    expect(record.mallocs).toBe(record.frees);
    expect(record.opsPerSec).toBeGreaterThan(0);
  });

  it('compiles the workspace in its children as tsup does: class fields assigned in the constructor, never first defined as undefined', () => {
    // tsx applies a tsconfig only to the files it includes (tsconfig.run.json); with its
    // defaults the boxes' fields lost their known representation on every hot path.
    const source = (env: NodeJS.ProcessEnv): string => {
      const probe = "const m = await import('@hakmem/pool-tls'); const p = m.createPoolTls({ source: { allocBatch: () => 0, freeBatch: () => {} } }); console.log(p.constructor.toString());";
      const child = spawnSync(process.execPath, [...nodeArgs(), '--input-type=module', '-e', probe], { encoding: 'utf8', env });
      if (child.status !== 0) throw new Error(`the probe failed (exit ${String(child.status)}): ${child.stderr.slice(0, 500)}`);
      return child.stdout;
    };
    const ours = source(nodeEnv());
    expect(ours).toMatch(/this\.numClasses\s*=/);
    expect(ours).not.toMatch(/[{;]\s*numClasses\s*;/);
    // The check can fail: with a tsconfig that includes none of the workspace, tsx declares the field first.
    const dir = mkdtempSync(join(tmpdir(), 'hakmem-tsconfig-'));
    writeFileSync(join(dir, 'tsconfig.json'), '{ "include": ["nothing"] }');
    try {
      expect(source({ ...process.env, TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json') })).toMatch(/[{;]\s*numClasses\s*;/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('verifies thing in a child process', () => {
    const record = spawnMeasure({ subject: 'thing', workload: 'tiny', cycles: 10_000, seed: 42, run: 0 });
    expect(record).toMatchObject({ failed: 0, mismatches: 0, verify: 'ok' });
    expect(record.footprint).toBeGreaterThan(0);
  });

  it('runs @libmedia/cheap on one thread (a band and a trace replay), verified, counters equal to thing\'s', () => {
    for (const workload of ['default', 'trace:ripgrep-mt']) {
      const spec = { workload, cycles: 10_000, seed: 42, run: 0 };
      const cheap = spawnMeasure({ ...spec, subject: 'cheap' });
      const thing = spawnMeasure({ ...spec, subject: 'thing' });
      expect(cheap, workload).toMatchObject({ failed: 0, mismatches: 0, verify: 'ok' });
      expect(cheap.footprint).toBeGreaterThan(0);
      expect(problems({ workload, cycles: spec.cycles, records: [thing, cheap], failures: [] })).toEqual([]);
    }
  });
});

describe('report', () => {
  const record = (subject: string, opsPerSec: number, over: Partial<RunRecord> = {}): RunRecord => ({
    subject, workload: 'default', cycles: 100, seed: 42, run: 0,
    mallocs: 50, frees: 50, failed: 0, bytes: 1000, finalSeed: 7, checksum: 99, mismatches: 0,
    elapsedMs: 1, ops: 100, opsPerSec, footprint: 1 << 20, verify: subject === 'null' ? 'n/a' : 'ok',
    ...over,
  });
  const runsOf = (records: RunRecord[]): WorkloadRuns => ({ workload: 'default', cycles: 100, records, failures: [] });

  it('takes the median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('finds no problem when every counter agrees, and prints ratios', () => {
    const runs = runsOf([record('thing', 2e6), record('null', 8e6), record('thing', 4e6, { run: 1 }), record('null', 8e6, { run: 1 })]);
    expect(problems(runs)).toEqual([]);
    const table = formatTable(runs);
    expect(table).toMatch(/\| thing +\| +3\.00 \| +2\.00–4\.00 \| +0\.375× \| +1\.00× \|/);
    expect(table).toMatch(/\| null /);
  });

  it('flags counters that differ between subjects, failed mallocs and failed verifies', () => {
    const runs = runsOf([record('null', 8e6), record('thing', 2e6, { failed: 3, verify: 'FAILED' })]);
    const found = problems(runs).join('\n');
    expect(found).toMatch(/COUNTER MISMATCH: thing run 1 .*failed 3 vs 0/);
    expect(found).toMatch(/thing: 3 failed mallocs/);
    expect(found).toMatch(/VERIFY FAILED: thing/);
  });
});
