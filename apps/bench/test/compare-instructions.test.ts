import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCompare, verdict } from '../src/compare.js';

// `compare --instructions` end to end: two runs under callgrind take a minute or two, so
// this file runs only with HAKMEM_CALLGRIND=1 (and valgrind on the PATH): `.ci/run` runs
// it as a step of its own, after the test command.
const run = process.env.HAKMEM_CALLGRIND === '1';
const hasValgrind = run && spawnSync('valgrind', ['--version']).status === 0;

describe.skipIf(!run)('compare --instructions (callgrind)', () => {
  const experiment = (name: string): string => new URL(`../experiments/${name}`, import.meta.url).pathname;

  it('valgrind is on the PATH', () => {
    expect(hasValgrind).toBe(true);
  });

  it('reports the deliberately slowed cache (5 % more instructions per operation) as slower, from one run each', () => {
    const [c] = runCompare({ a: 'hakmem', b: experiment('slowed-cache.ts'), workloads: [{ name: 'default', cycles: 20_000 }], runs: 1, seed: 42, instructions: true });
    expect(c!.failures).toEqual([]);
    expect([...c!.a, ...c!.b].every((r) => r.verify === 'ok' && r.instructions! > 0)).toBe(true);
    const v = verdict(c!);
    expect(v.kind).toBe('slower');
    expect(1 / v.ratio).toBeGreaterThan(1.03);
    expect(1 / v.ratio).toBeLessThan(1.08);
  }, 600_000);

  it('an A/A copy is the same to within a tenth of a percent (the count varies by a few hundred instructions a run: GC and compile timing)', () => {
    const [c] = runCompare({ a: 'hakmem', b: experiment('same-as-default.ts'), workloads: [{ name: 'default', cycles: 20_000 }], runs: 1, seed: 42, instructions: true });
    expect(c!.failures).toEqual([]);
    expect(verdict(c!).kind).toBe('same');
    // 20 000 cycles are about 4 M counted instructions; runs differ by up to ~700 of them (1.5e-4 seen in CI).
    expect(Math.abs(c!.ratio - 1)).toBeLessThan(1e-3);
  }, 600_000);
});
