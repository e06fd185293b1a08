import { describe, expect, it } from 'vitest';
import { compareRuns, formatComparison, runCompare, verdict } from '../src/compare.js';
import type { RunRecord } from '../src/measure.js';
import { findSubject } from '../src/subjects/index.js';

const record = (subject: string, run: number, opsPerSec: number, stats?: Record<string, number>): RunRecord => ({
  subject, workload: 'default', cycles: 100, seed: 42, run,
  mallocs: 50, frees: 50, failed: 0, bytes: 1000, finalSeed: 7, checksum: 99, mismatches: 0,
  elapsedMs: 1, ops: 100, opsPerSec, footprint: 1 << 20, verify: 'ok', ...(stats ? { stats } : {}),
});

describe('compareRuns', () => {
  it('gives the ratio of medians, the ratio of each pair, and the counters that differ, most different first', () => {
    const a = [record('A', 0, 10e6, { x: 1, y: 5 }), record('A', 1, 12e6, { x: 1, y: 5 }), record('A', 2, 11e6, { x: 1, y: 5 })];
    const b = [record('B', 0, 5e6, { x: 1, y: 500 }), record('B', 1, 6e6, { x: 2, y: 500 }), record('B', 2, 5.5e6, { x: 1, y: 500 })];
    const c = compareRuns('default', 100, a, b);
    expect(c.ratio).toBeCloseTo(0.5, 10);
    expect(c.pairRatios).toEqual([0.5, 0.5, 0.5]);
    expect(c.statDeltas).toEqual([{ key: 'y', a: 5, b: 500 }]);
    expect(verdict(c)).toBe('B is 50 % slower; all 3 pairs agree');
    expect(formatComparison(c, 'hakmem', 'x.ts')).toMatch(/\| y \| 5 \| 500 \|/);
  });

  it('reads pairs on both sides of 1 as no clear difference, and says when counters are identical', () => {
    const a = [record('A', 0, 10e6, { x: 1 }), record('A', 1, 10e6, { x: 1 })];
    const b = [record('B', 0, 11e6, { x: 1 }), record('B', 1, 9e6, { x: 1 })];
    const c = compareRuns('default', 100, a, b);
    expect(verdict(c)).toMatch(/^no clear difference: 1 of 2 pairs/);
    expect(formatComparison(c, 'a', 'b')).toMatch(/counters: identical/);
  });
});

describe('subject specs', () => {
  it('accepts hakmem:PRESET and rejects an unknown preset as it loads', async () => {
    await expect(findSubject('hakmem:wasm').load()).resolves.toBeTypeOf('function');
    await expect(findSubject('hakmem:nope').load()).rejects.toThrow(/unknown hakmem preset "nope"/);
    expect(() => findSubject('no-such-subject')).toThrow(/unknown subject/);
  });
});

describe('compare in child processes', () => {
  const experiment = (name: string): string => new URL(`../experiments/${name}`, import.meta.url).pathname;

  it('sees a worse unified cache in the counters (deterministic), and an A/A copy as identical', () => {
    const [worse] = runCompare({ a: 'hakmem', b: experiment('cache-capacity-1.ts'), workloads: [{ name: 'default', cycles: 20_000 }], runs: 1, seed: 42 });
    expect(worse!.failures).toEqual([]);
    expect([...worse!.a, ...worse!.b].every((r) => r.verify === 'ok')).toBe(true);
    const refills = worse!.statDeltas.find((d) => d.key === 'unifiedCache.refills');
    expect(refills!.b).toBeGreaterThan(100 * refills!.a);

    const [same] = runCompare({ a: 'hakmem', b: experiment('same-as-default.ts'), workloads: [{ name: 'default', cycles: 20_000 }], runs: 1, seed: 42 });
    expect(same!.failures).toEqual([]);
    expect(same!.statDeltas).toEqual([]);
    expect(same!.a[0]!.stats!['unifiedCache.refills']).toBeGreaterThan(0);
  }, 60_000);
});
