import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const CLI = fileURLToPath(new URL('../bin/hakmem-bench.mjs', import.meta.url));

describe('hakmem-bench run --quick (the CI smoke run)', () => {
  test('one short run per subject and workload, every check on: exit 0, counters agree, no verify failed', () => {
    const r = spawnSync(process.execPath, [CLI, 'run', '--quick', '--subjects', 'hakmem,thing,null', '--workloads', 'default,pool,large,json,vm'], {
      encoding: 'utf8', timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    for (const w of ['default', 'pool', 'large', 'json', 'vm']) expect(r.stdout).toContain(`## ${w} (`);
    expect(r.stdout.match(/no verify failed/g)).toHaveLength(5);
    expect(r.stdout).toContain('20000 cycles'); // default: 1 000 000 / 50
    expect(r.stdout).not.toContain('!!!');
  });
});

describe('hakmem-bench run --out (the README main command writes the report)', () => {
  test('report.md (environment, the summary of every workload against every subject, the tables), results.json, charts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hakmem-out-'));
    try {
      const r = spawnSync(process.execPath, [
        CLI, 'run', '--quick', '--subjects', 'hakmem,thing,null', '--workloads', 'default,trace:python-json:5000,cross-thread', '--threads', '2', '--out', dir,
      ], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      const report = readFileSync(join(dir, 'report.md'), 'utf8');
      const doc = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as {
        machine: Record<string, unknown>; runs: unknown[]; mt: { runs: unknown[] }; command: string;
      };
      // The environment: node, CPU, commit.
      expect(doc.machine).toMatchObject({ node: process.version, v8: process.versions.v8, cpus: expect.any(Number) as number });
      expect(doc.machine.commit).toMatch(/^([0-9a-f]{40}(\+dirty)?|unknown)$/);
      expect(doc.command).toContain('--out');
      expect(doc.runs).toHaveLength(6); // default and the trace × 3 subjects × 1 run
      expect(doc.mt.runs).toHaveLength(2); // cross-thread × 2 threads: hakmem, null (thing has no shared form)
      expect(report).toContain(`commit \`${String(doc.machine.commit)}\``);
      // The summary: one row per workload (per thread count), a column per subject, the ratios.
      const summary = report.slice(report.indexOf('## Summary'), report.indexOf('## Every workload'));
      expect(summary).toMatch(/\| workload +\| +hakmem \| +thing \| +null \| +hakmem ÷ best peer \| +hakmem ÷ null \|/);
      expect(summary).toMatch(/\| default +\|[^\n]*× \(thing\) \|/);
      expect(summary).toMatch(/\| trace:python-json \(M events\/s\) \|/);
      expect(summary).toMatch(/\| cross-thread × 2 +\|/);
      expect(report).toContain('## default ('); // then each workload's table
      expect(readdirSync(join(dir, 'charts')).sort()).toEqual(['cross-thread.svg', 'default.svg', 'trace-python-json.footprint.svg', 'trace-python-json.svg']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
