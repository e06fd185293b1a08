import type { MeasureSpec } from './measure.js';
import { median, nsPerPair, significant, type TableOptions } from './report.js';
import { spawnMeasure, type CountedRecord } from './runner.js';
import { errorMessage } from './util.js';
import { findWorkload } from './workloads/index.js';

/** What `hakmem-bench compare` measures: two subjects, interleaved, per workload. */
export interface CompareOptions {
  /** Subject specs (a name, `hakmem:PRESET` or a module path). They may be equal (an A/A check). */
  readonly a: string;
  readonly b: string;
  /** Workloads; a workload given without cycles gets its own, scaled up (timing mode) until a timed run lasts `minMs`. */
  readonly workloads: readonly { readonly name: string; readonly cycles?: number }[];
  /** Runs of each side (timing mode: pairs; instruction mode: 1 is enough). */
  readonly runs: number;
  readonly seed: number;
  /** Count instructions under callgrind instead of timing (deterministic: one run decides). */
  readonly instructions?: boolean;
  /** Timing mode: the shortest timed region a run may have (default MIN_TIMED_MS); cycles not given are scaled up to it. */
  readonly minMs?: number;
  readonly onRun?: (side: 'A' | 'B', record: CountedRecord) => void;
  /** Called once per workload whose cycles a pilot run scaled (timing mode). */
  readonly onScaled?: (workload: string, cycles: number, pilotMs: number) => void;
}

/** Timing mode: a timed region shorter than this is mostly timer and scheduler noise. */
export const MIN_TIMED_MS = 200;
/** Timing mode's default runs per side: an even number, so the A B / B A orders balance. */
export const DEFAULT_RUNS = 10;
/** Fewer pairs than this get no verdict. */
export const MIN_PAIRS = 5;
/** Timing mode: a difference smaller than this (a fraction) is reported as none. */
export const TIME_THRESHOLD = 0.03;
/** Instruction mode: a difference in instructions per operation smaller than this is reported as none. */
export const INSTRUCTION_THRESHOLD = 0.01;
/** Instruction mode's cycles when none are given: the counts are deterministic, a short run decides. */
export const INSTRUCTION_CYCLES = 200_000;

/** One counter of the subjects' stats (medians over the runs). */
export interface StatDelta {
  readonly key: string;
  readonly a: number;
  readonly b: number;
}

export interface WorkloadComparison {
  readonly workload: string;
  readonly cycles: number;
  readonly mode: 'time' | 'instructions';
  readonly a: readonly CountedRecord[];
  readonly b: readonly CountedRecord[];
  readonly failures: readonly string[];
  /** median(B ops/s) / median(A ops/s); instruction mode: A's instructions per operation / B's (above 1: B cheaper). */
  readonly ratio: number;
  /** B/A of each run index (the pair ran back to back). */
  readonly pairRatios: readonly number[];
  /** Counters whose medians differ, most different first. */
  readonly statDeltas: readonly StatDelta[];
  /** Every counter either side reports non-zero (medians), in the subjects' order. */
  readonly stats: readonly StatDelta[];
}

/**
 * Runs A and B in turn for every run index, each in its own process; the order within a
 * pair alternates (A B, B A, A B, …) so that a position effect (the second process of a
 * pair running warmer or colder) falls on both alike and cancels over an even number of
 * pairs. Timing mode first runs A once as a pilot when the workload's cycles were not
 * given, and scales them until a timed run lasts `minMs`.
 */
export function runCompare(options: CompareOptions): WorkloadComparison[] {
  const out: WorkloadComparison[] = [];
  const counted = options.instructions === true;
  for (const choice of options.workloads) {
    const failures: string[] = [];
    let cycles = choice.cycles ?? (counted ? Math.min(INSTRUCTION_CYCLES, findWorkload(choice.name).cycles) : findWorkload(choice.name).cycles);
    if (!counted && choice.cycles === undefined) {
      try {
        const pilot = spawnMeasure({ subject: options.a, workload: choice.name, cycles, seed: options.seed, run: -1 });
        const scaled = scaledCycles(cycles, pilot.elapsedMs, options.minMs ?? MIN_TIMED_MS);
        if (scaled !== cycles) options.onScaled?.(choice.name, scaled, pilot.elapsedMs);
        cycles = scaled;
      } catch (error) {
        failures.push(`A pilot run: ${errorMessage(error)}`);
      }
    }
    const a: CountedRecord[] = [];
    const b: CountedRecord[] = [];
    for (let run = 0; run < options.runs; run++) {
      const order: Array<'A' | 'B'> = run % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
      for (const side of order) {
        const spec: MeasureSpec = { subject: side === 'A' ? options.a : options.b, workload: choice.name, cycles, seed: options.seed, run };
        try {
          const record = spawnMeasure(spec, { instructions: counted });
          (side === 'A' ? a : b).push(record);
          options.onRun?.(side, record);
        } catch (error) {
          failures.push(`${side} run ${run + 1}: ${errorMessage(error)}`);
        }
      }
    }
    out.push(compareRuns(choice.name, cycles, a, b, failures, counted ? 'instructions' : 'time'));
  }
  return out;
}

/** Cycles that make a run whose timed region took `ms` for `cycles` last at least `minMs` (with a margin); `cycles` when it already does. */
export function scaledCycles(cycles: number, ms: number, minMs: number): number {
  if (ms >= minMs) return cycles;
  const factor = Math.min(1000, (minMs * 1.25) / Math.max(ms, 0.05));
  return Math.ceil((cycles * factor) / 1000) * 1000;
}

/** Instructions per operation of a counted run (NaN without a count). */
export function instructionsPerOp(r: CountedRecord): number {
  return r.instructions === undefined || r.ops === 0 ? Number.NaN : r.instructions / r.ops;
}

/** The comparison of two sets of runs of one workload (pure: the tests drive it directly). */
export function compareRuns(
  workload: string, cycles: number, a: readonly CountedRecord[], b: readonly CountedRecord[], failures: readonly string[] = [],
  mode: 'time' | 'instructions' = 'time',
): WorkloadComparison {
  // Both modes read "above 1: B better": ops/s B/A, or instructions per operation A/B.
  const score = mode === 'time' ? (r: CountedRecord): number => r.opsPerSec : (r: CountedRecord): number => 1 / instructionsPerOp(r);
  const rate = (rs: readonly CountedRecord[]): number => (rs.length > 0 ? median(rs.map(score)) : Number.NaN);
  const pairRatios: number[] = [];
  for (const rb of b) {
    const ra = a.find((r) => r.run === rb.run);
    if (ra !== undefined) pairRatios.push(score(rb) / score(ra));
  }
  const { deltas, all } = statTable(a, b);
  return { workload, cycles, mode, a, b, failures, ratio: rate(b) / rate(a), pairRatios, statDeltas: deltas, stats: all };
}

function statTable(a: readonly CountedRecord[], b: readonly CountedRecord[]): { deltas: StatDelta[]; all: StatDelta[] } {
  const keys = new Set<string>();
  for (const r of [...a, ...b]) for (const k of Object.keys(r.stats ?? {})) keys.add(k);
  const med = (rs: readonly CountedRecord[], k: string): number => (rs.length > 0 ? median(rs.map((r) => r.stats?.[k] ?? 0)) : 0);
  const all: StatDelta[] = [];
  for (const key of keys) {
    const d = { key, a: med(a, key), b: med(b, key) };
    if (d.a !== 0 || d.b !== 0) all.push(d);
  }
  const spread = (d: StatDelta): number => Math.abs(Math.log((d.b + 1) / (d.a + 1)));
  const deltas = all.filter((d) => d.a !== d.b).sort((x, y) => spread(y) - spread(x));
  return { deltas, all };
}

/** What a comparison concludes: B slower or faster beyond the threshold, the same within it, unclear, or too few runs to say. */
export interface Verdict {
  readonly kind: 'slower' | 'faster' | 'same' | 'unclear' | 'too-few';
  /** The estimate of B/A (above 1: B better): the geometric mean of the pair ratios; instruction mode: the ratio itself. */
  readonly ratio: number;
  /** The confidence interval of `ratio` (timing mode; equal to it in instruction mode). */
  readonly low: number;
  readonly high: number;
  readonly text: string;
}

/** Two-sided 99 % quantiles of Student's t for 1..30 degrees of freedom. */
const T99 = [
  63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355, 3.25, 3.169, 3.106, 3.055, 3.012, 2.977, 2.947,
  2.921, 2.898, 2.878, 2.861, 2.845, 2.831, 2.819, 2.807, 2.797, 2.787, 2.779, 2.771, 2.763, 2.756, 2.75,
];

/** The two-sided 99 % quantile of Student's t with `df` ≥ 1 degrees of freedom. */
export function t99(df: number): number {
  return df <= 30 ? T99[df - 1]! : 2.576 + (0.174 * 30) / df;
}

/** The 99 % confidence interval of the geometric mean of `ratios` (a t interval on their logarithms). */
export function ratioInterval(ratios: readonly number[]): { ratio: number; low: number; high: number } {
  const n = ratios.length;
  const logs = ratios.map(Math.log);
  const mean = logs.reduce((s, x) => s + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(logs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : Number.POSITIVE_INFINITY;
  const half = n > 1 ? t99(n - 1) * (sd / Math.sqrt(n)) : Number.POSITIVE_INFINITY;
  return { ratio: Math.exp(mean), low: Math.exp(mean - half), high: Math.exp(mean + half) };
}

const pct = (x: number): string => `${Math.abs((x - 1) * 100).toFixed(1)} %`;

/**
 * The verdict, benchstat's and criterion's way. Timing mode: the 99 % confidence
 * interval of B/A from the pairs (a t interval on the log ratios: each pair ran back to
 * back, so drift of the machine cancels within it); B is slower or faster only when the
 * interval excludes 1 and the estimate is beyond the threshold; an interval inside
 * ±threshold is "no difference"; anything else is unclear. Fewer than `minPairs` pairs
 * get no verdict. Instruction mode (deterministic counts): the ratio of instructions per
 * operation against the threshold, from one pair.
 */
export function verdict(c: WorkloadComparison, options: { readonly threshold?: number; readonly minPairs?: number } = {}): Verdict {
  const p = c.pairRatios;
  const counted = c.mode === 'instructions';
  const threshold = options.threshold ?? (counted ? INSTRUCTION_THRESHOLD : TIME_THRESHOLD);
  const minPairs = counted ? 1 : options.minPairs ?? MIN_PAIRS;
  const thr = `±${(threshold * 100).toFixed(threshold < 0.01 ? 1 : 0)} %`;
  if (p.length < minPairs) {
    const text = p.length === 0 ? 'no complete pair: nothing to compare' : `too few runs for a verdict: ${p.length} pairs, at least ${minPairs} needed (--runs ${DEFAULT_RUNS} is the default)`;
    return { kind: 'too-few', ratio: c.ratio, low: 0, high: Number.POSITIVE_INFINITY, text };
  }
  if (counted) {
    const r = ratioInterval(p).ratio;
    const what = `B executes ${pct(1 / r)} ${r < 1 ? 'more' : 'fewer'} instructions per operation (A ${significant(instructionsPerOp(c.a[0]!))}, B ${significant(instructionsPerOp(c.b[0]!))})`;
    if (r < 1 - threshold) return { kind: 'slower', ratio: r, low: r, high: r, text: `B is slower: ${what}` };
    if (r > 1 + threshold) return { kind: 'faster', ratio: r, low: r, high: r, text: `B is faster: ${what}` };
    return { kind: 'same', ratio: r, low: r, high: r, text: `no difference: ${what}, within ${thr}` };
  }
  const { ratio, low, high } = ratioInterval(p);
  const ci = `B/A ${ratio.toFixed(3)}, 99 % interval ${low.toFixed(3)}–${high.toFixed(3)}, ${p.length} pairs`;
  if (high < 1 && ratio < 1 - threshold) return { kind: 'slower', ratio, low, high, text: `B is slower by ${pct(ratio)} (${ci})` };
  if (low > 1 && ratio > 1 + threshold) return { kind: 'faster', ratio, low, high, text: `B is faster by ${pct(ratio)} (${ci})` };
  if (low >= 1 - threshold && high <= 1 + threshold) return { kind: 'same', ratio, low, high, text: `no difference: within ${thr} (${ci})` };
  return {
    kind: 'unclear', ratio, low, high,
    text: `no clear difference: the interval (${ci}) reaches past ${thr}; more runs narrow it (noise floor: hakmem-bench calibrate)`,
  };
}

/**
 * The markdown block `compare` prints for one workload; with `blockBytes` (the scenarios)
 * also ns per malloc+free pair, median and min–max, and ns per KiB of block. Every
 * counter either subject reports (its boxes' stats) follows side by side, the ones that
 * differ first and marked.
 */
export function formatComparison(
  c: WorkloadComparison, a: string, b: string, maxStats = Number.POSITIVE_INFINITY, options: TableOptions & { readonly threshold?: number } = {},
): string {
  const { blockBytes } = options;
  const counted = c.mode === 'instructions';
  const pairCells = (rs: readonly CountedRecord[]): string => {
    if (blockBytes === undefined) return '';
    if (rs.length === 0) return ' – | – | – |';
    const ns = rs.map(nsPerPair);
    const mid = median(ns);
    return ` ${significant(mid)} | ${significant(Math.min(...ns))}–${significant(Math.max(...ns))} | ${significant(mid / (blockBytes / 1024))} |`;
  };
  const row = (side: string, spec: string, rs: readonly CountedRecord[]): string => {
    const rates = rs.map((r) => r.opsPerSec / 1e6);
    const peak = Math.max(0, ...rs.map((r) => r.footprint)) / (1 << 20);
    const verify = rs.length === 0 ? '–' : rs.every((r) => r.verify === 'ok') ? 'ok' : rs.some((r) => r.verify === 'FAILED') ? 'FAILED' : 'n/a';
    const range = rates.length > 0 ? `${Math.min(...rates).toFixed(1)}–${Math.max(...rates).toFixed(1)}` : '–';
    const med = rates.length > 0 ? median(rates).toFixed(1) : '–';
    const ins = counted ? ` ${rs.length > 0 ? significant(median(rs.map(instructionsPerOp))) : '–'} |` : '';
    return `| ${side} | ${spec} |${ins} ${med} | ${range} |${pairCells(rs)} ${peak.toFixed(2)} | ${rs.length} | ${verify} |`;
  };
  const perPair = blockBytes === undefined ? ['', ''] : [' ns/pair | ns min–max | ns/KiB |', ' ---: | ---: | ---: |'];
  const insHead = counted ? [' instructions/op |', ' ---: |'] : ['', ''];
  const v = verdict(c, options.threshold === undefined ? {} : { threshold: options.threshold });
  const lines = [
    `| | subject |${insHead[0]} M ops/s | min–max |${perPair[0]} peak MiB | runs | verify |`,
    `| --- | --- |${insHead[1]} ---: | ---: |${perPair[1]} ---: | ---: | :---: |`,
    row('A', a, c.a),
    row('B', b, c.b),
    '',
    `**${v.text}**${counted ? '' : ` (pairs B/A: ${c.pairRatios.map((r) => r.toFixed(2)).join(', ') || '–'})`}`,
  ];
  if (c.stats.length === 0) {
    lines.push('', 'counters: neither subject reports any');
  } else {
    const differ = new Set(c.statDeltas.map((d) => d.key));
    const shown = [...c.statDeltas, ...c.stats.filter((d) => !differ.has(d.key))].slice(0, Math.max(maxStats, c.statDeltas.length));
    lines.push(
      '',
      `counters (medians; ${c.statDeltas.length === 0 ? 'all identical' : `${c.statDeltas.length} of ${c.stats.length} differ, marked ≠`}):`,
      '',
      '| counter | A | B | |',
      '| --- | ---: | ---: | :---: |',
    );
    for (const d of shown) lines.push(`| ${d.key} | ${d.a} | ${d.b} | ${differ.has(d.key) ? '≠' : ''} |`);
    if (c.stats.length > shown.length) lines.push(`(+${c.stats.length - shown.length} more counters, identical; --json has them all)`);
  }
  for (const f of c.failures) lines.push(`!!! RUN FAILED: ${f}`);
  return lines.join('\n');
}

/** One workload's A/A noise, from `calibrate`. */
export interface Calibration {
  readonly workload: string;
  readonly cycles: number;
  readonly pairs: number;
  /** The standard deviation of a pair's log ratio, as a fraction (one pair's noise). */
  readonly pairNoise: number;
  /** The geometric mean of B/A: what the order or the machine's drift would pass off as a difference. */
  readonly bias: number;
  /** Half the width of the 99 % interval at this many pairs, as a fraction: differences below it read as noise. */
  readonly floor: number;
  readonly verdict: Verdict;
}

/** The noise of an A/A comparison (A and B the same subject). */
export function calibration(c: WorkloadComparison): Calibration {
  const n = c.pairRatios.length;
  const { ratio, low, high } = n > 0 ? ratioInterval(c.pairRatios) : { ratio: Number.NaN, low: Number.NaN, high: Number.NaN };
  const logs = c.pairRatios.map(Math.log);
  const mean = logs.reduce((x, y) => x + y, 0) / Math.max(1, n);
  const sd = n > 1 ? Math.sqrt(logs.reduce((x, y) => x + (y - mean) ** 2, 0) / (n - 1)) : Number.NaN;
  return { workload: c.workload, cycles: c.cycles, pairs: n, pairNoise: sd, bias: ratio, floor: Math.max(high - ratio, ratio - low), verdict: verdict(c) };
}

/** The table `calibrate` prints. */
export function formatCalibration(rows: readonly Calibration[]): string {
  const p = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '–');
  return [
    '| workload | cycles | pairs | one pair\'s noise (sd) | A/A B/A | noise floor (99 % half-width) | verdict |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.workload} | ${r.cycles} | ${r.pairs} | ${p(r.pairNoise)} | ${Number.isFinite(r.bias) ? r.bias.toFixed(3) : '–'} | ${p(r.floor)} | ${r.verdict.kind === 'same' || r.verdict.kind === 'unclear' ? 'no difference' : r.verdict.text} |`),
    '',
    `A compare with as many runs tells a difference from noise when it exceeds the workload's floor and the threshold (${(TIME_THRESHOLD * 100).toFixed(0)} % by default); below that, use --instructions.`,
  ].join('\n');
}
