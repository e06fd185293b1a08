import { describe, expect, it } from 'vitest';
import {
  calibration, compareRuns, formatCalibration, formatComparison, MIN_PAIRS, MIN_TIMED_MS, ratioInterval, runCompare, scaledCycles, t99, verdict,
} from '../src/compare.js';
import type { RunRecord } from '../src/measure.js';
import { collectedInstructions, type CountedRecord } from '../src/runner.js';
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
    expect(formatComparison(c, 'hakmem', 'x.ts')).toMatch(/\| y \| 5 \| 500 \| ≠ \|/);
  });

  it('shows every counter side by side, also when all are identical', () => {
    const a = [record('A', 0, 10e6, { 'unifiedCache.spills': 7, 'pageBox.carved': 0 })];
    const b = [record('B', 0, 10e6, { 'unifiedCache.spills': 7, 'pageBox.carved': 0 })];
    const md = formatComparison(compareRuns('default', 100, a, b), 'a', 'b');
    expect(md).toMatch(/counters \(medians; all identical\)/);
    expect(md).toMatch(/\| unifiedCache\.spills \| 7 \| 7 \| {2}\|/);
    expect(md).not.toMatch(/pageBox\.carved/);
  });
});

/** `n` pairs whose B/A ratios are `ratios` (cycled). */
const pairs = (n: number, ratios: readonly number[]): { a: RunRecord[]; b: RunRecord[] } => ({
  a: Array.from({ length: n }, (_, i) => record('A', i, 10e6)),
  b: Array.from({ length: n }, (_, i) => record('B', i, 10e6 * ratios[i % ratios.length]!)),
});

describe('verdict', () => {
  it('gives none for fewer than MIN_PAIRS pairs, however large the difference', () => {
    const { a, b } = pairs(MIN_PAIRS - 1, [0.5]);
    const v = verdict(compareRuns('default', 100, a, b));
    expect(v.kind).toBe('too-few');
    expect(v.text).toMatch(/too few runs for a verdict: 4 pairs, at least 5 needed/);
  });

  it('calls a consistent difference beyond the threshold, with its 99 % interval', () => {
    const { a, b } = pairs(10, [0.9, 0.92, 0.88, 0.91]);
    const v = verdict(compareRuns('default', 100, a, b));
    expect(v.kind).toBe('slower');
    expect(v.high).toBeLessThan(1);
    expect(v.text).toMatch(/^B is slower by 9\.\d % \(B\/A 0\.90\d, 99 % interval 0\.\d+–0\.\d+, 10 pairs\)/);
    const faster = pairs(10, [1.2, 1.25, 1.15]);
    expect(verdict(compareRuns('default', 100, faster.a, faster.b)).kind).toBe('faster');
  });

  it('reads noise as no difference: pairs on both sides, or an interval inside the threshold', () => {
    const noisy = pairs(10, [1.3, 0.8, 1.1, 0.95, 1.2]);
    expect(verdict(compareRuns('default', 100, noisy.a, noisy.b)).kind).toBe('unclear');
    const tight = pairs(10, [1.01, 0.99, 1.005, 0.995]);
    const v = verdict(compareRuns('default', 100, tight.a, tight.b));
    expect(v.kind).toBe('same');
    expect(v.text).toMatch(/^no difference: within ±3 %/);
  });

  it('calls a real but small difference within the threshold no difference, and honours another threshold', () => {
    const { a, b } = pairs(10, [0.98, 0.981, 0.979]);
    const c = compareRuns('default', 100, a, b);
    expect(verdict(c).kind).toBe('same');
    expect(verdict(c, { threshold: 0.01 }).kind).toBe('slower');
  });

  it('one A/A pair of position effects that alternate cancels (the A B / B A order)', () => {
    const { a, b } = pairs(10, [1.15, 1 / 1.15]);
    const v = verdict(compareRuns('default', 100, a, b));
    expect(v.ratio).toBeCloseTo(1, 10);
    expect(['same', 'unclear']).toContain(v.kind);
  });

  it('instruction mode decides from one pair against a 1 % threshold, on instructions per operation', () => {
    const at = (side: string, ins: number): CountedRecord => ({ ...record(side, 0, 1e6), instructions: ins });
    const slower = compareRuns('default', 100, [at('A', 21_700)], [at('B', 22_800)], [], 'instructions');
    expect(verdict(slower).kind).toBe('slower');
    expect(verdict(slower).text).toMatch(/B executes 5\.1 % more instructions per operation \(A 217, B 228\)/);
    const same = compareRuns('default', 100, [at('A', 21_700)], [at('B', 21_750)], [], 'instructions');
    expect(verdict(same).kind).toBe('same');
    expect(formatComparison(same, 'a', 'b')).toMatch(/\| A \| a \| 217 \|/);
  });

  it('t99 and the interval: the textbook quantiles, and an interval that narrows with more pairs', () => {
    expect(t99(1)).toBeCloseTo(63.657, 3);
    expect(t99(9)).toBeCloseTo(3.25, 3);
    expect(t99(1000)).toBeCloseTo(2.581, 2);
    const few = ratioInterval([1.1, 0.9, 1.05, 0.95, 1.0]);
    const many = ratioInterval(Array.from({ length: 50 }, (_, i) => [1.1, 0.9, 1.05, 0.95, 1.0][i % 5]!));
    expect(many.high - many.low).toBeLessThan((few.high - few.low) / 2);
  });
});

describe('the timed region and the counts', () => {
  it('scales cycles until a timed run lasts the minimum, and leaves a long enough run alone', () => {
    expect(scaledCycles(1_000_000, 2, MIN_TIMED_MS)).toBe(125_000_000);
    expect(scaledCycles(200_000, 150, 200)).toBe(334_000);
    expect(scaledCycles(200_000, 250, 200)).toBe(200_000);
    expect(scaledCycles(1000, 0, 200)).toBe(1_000_000);
  });

  it('reads callgrind\'s summary, and says so when there is none', () => {
    expect(collectedInstructions('==123== Events    : Ir\n==123== Collected : 43316654\n==123==\n')).toBe(43_316_654);
    expect(() => collectedInstructions('node: not found')).toThrow(/no callgrind summary.*valgrind installed/);
  });

  it('calibration: one pair\'s noise, the A/A bias and the noise floor of an A/A comparison', () => {
    const { a, b } = pairs(10, [1.1, 0.9]);
    const cal = calibration(compareRuns('default', 100, a, b));
    expect(cal.pairs).toBe(10);
    expect(cal.pairNoise).toBeCloseTo(0.1058, 3);
    expect(cal.floor).toBeGreaterThan(0.08);
    expect(formatCalibration([cal])).toMatch(/\| default \| 100 \| 10 \| 10\.6 % \| 0\.995 \| 11\.4 % \| no difference \|/);
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

