import type { MeasureSpec, RunRecord } from './measure.js';
import { median, nsPerPair, significant, type TableOptions } from './report.js';
import { spawnMeasure } from './runner.js';
import { errorMessage } from './util.js';
import { findWorkload } from './workloads/index.js';

/** What `hakmem-bench compare` measures: two subjects, interleaved, per workload. */
export interface CompareOptions {
  /** Subject specs (a name, `hakmem:PRESET` or a module path). They may be equal (an A/A check). */
  readonly a: string;
  readonly b: string;
  readonly workloads: readonly { readonly name: string; readonly cycles?: number }[];
  readonly runs: number;
  readonly seed: number;
  readonly onRun?: (side: 'A' | 'B', record: RunRecord) => void;
}

/** One counter of the subjects' stats, compared (medians over the runs). */
export interface StatDelta {
  readonly key: string;
  readonly a: number;
  readonly b: number;
}

export interface WorkloadComparison {
  readonly workload: string;
  readonly cycles: number;
  readonly a: readonly RunRecord[];
  readonly b: readonly RunRecord[];
  readonly failures: readonly string[];
  /** median(B ops/s) / median(A ops/s). */
  readonly ratio: number;
  /** B/A of each run index (the pair ran back to back). */
  readonly pairRatios: readonly number[];
  /** Counters whose medians differ, most different first. */
  readonly statDeltas: readonly StatDelta[];
}

/**
 * Runs A and B in turn for every run index, each in its own process; the order within a
 * pair alternates (A B, B A, A B, …) so that drift of the machine falls on both alike.
 */
export function runCompare(options: CompareOptions): WorkloadComparison[] {
  const out: WorkloadComparison[] = [];
  for (const choice of options.workloads) {
    const cycles = choice.cycles ?? findWorkload(choice.name).cycles;
    const a: RunRecord[] = [];
    const b: RunRecord[] = [];
    const failures: string[] = [];
    for (let run = 0; run < options.runs; run++) {
      const order: Array<'A' | 'B'> = run % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
      for (const side of order) {
        const spec: MeasureSpec = { subject: side === 'A' ? options.a : options.b, workload: choice.name, cycles, seed: options.seed, run };
        try {
          const record = spawnMeasure(spec);
          (side === 'A' ? a : b).push(record);
          options.onRun?.(side, record);
        } catch (error) {
          failures.push(`${side} run ${run + 1}: ${errorMessage(error)}`);
        }
      }
    }
    out.push(compareRuns(choice.name, cycles, a, b, failures));
  }
  return out;
}

/** The comparison of two sets of runs of one workload (pure: the tests drive it directly). */
export function compareRuns(
  workload: string, cycles: number, a: readonly RunRecord[], b: readonly RunRecord[], failures: readonly string[] = [],
): WorkloadComparison {
  const rate = (rs: readonly RunRecord[]): number => (rs.length > 0 ? median(rs.map((r) => r.opsPerSec)) : Number.NaN);
  const pairRatios: number[] = [];
  for (const rb of b) {
    const ra = a.find((r) => r.run === rb.run);
    if (ra !== undefined) pairRatios.push(rb.opsPerSec / ra.opsPerSec);
  }
  return { workload, cycles, a, b, failures, ratio: rate(b) / rate(a), pairRatios, statDeltas: statDeltas(a, b) };
}

function statDeltas(a: readonly RunRecord[], b: readonly RunRecord[]): StatDelta[] {
  const keys = new Set<string>();
  for (const r of [...a, ...b]) for (const k of Object.keys(r.stats ?? {})) keys.add(k);
  const med = (rs: readonly RunRecord[], k: string): number => median(rs.map((r) => r.stats?.[k] ?? 0));
  const deltas: StatDelta[] = [];
  for (const key of keys) {
    const da = med(a, key);
    const db = med(b, key);
    if (da !== db) deltas.push({ key, a: da, b: db });
  }
  const spread = (d: StatDelta): number => Math.abs(Math.log((d.b + 1) / (d.a + 1)));
  return deltas.sort((x, y) => spread(y) - spread(x));
}

/**
 * A plain-words reading of the pairs: every pair on one side of 1 is a difference the
 * noise does not explain; pairs on both sides are read as no measurable difference.
 */
export function verdict(c: WorkloadComparison): string {
  const p = c.pairRatios;
  if (p.length === 0) return 'no complete pair: nothing to compare';
  const below = p.filter((r) => r < 1).length;
  const pct = Math.abs(c.ratio - 1) * 100;
  if (below === p.length) return `B is ${pct.toFixed(0)} % slower; all ${p.length} pairs agree`;
  if (below === 0) return `B is ${pct.toFixed(0)} % faster; all ${p.length} pairs agree`;
  return `no clear difference: ${below} of ${p.length} pairs have B slower, the others B faster (median ratio ${c.ratio.toFixed(3)})`;
}

/**
 * The markdown block `compare` prints for one workload; with `blockBytes` (the scenarios)
 * also ns per malloc+free pair, median and min–max, and ns per KiB of block.
 */
export function formatComparison(c: WorkloadComparison, a: string, b: string, maxStats = 8, options: TableOptions = {}): string {
  const { blockBytes } = options;
  const pairCells = (rs: readonly RunRecord[]): string => {
    if (blockBytes === undefined) return '';
    if (rs.length === 0) return ' – | – | – |';
    const ns = rs.map(nsPerPair);
    const mid = median(ns);
    return ` ${significant(mid)} | ${significant(Math.min(...ns))}–${significant(Math.max(...ns))} | ${significant(mid / (blockBytes / 1024))} |`;
  };
  const row = (side: string, spec: string, rs: readonly RunRecord[]): string => {
    const rates = rs.map((r) => r.opsPerSec / 1e6);
    const peak = Math.max(0, ...rs.map((r) => r.footprint)) / (1 << 20);
    const verify = rs.length === 0 ? '–' : rs.every((r) => r.verify === 'ok') ? 'ok' : rs.some((r) => r.verify === 'FAILED') ? 'FAILED' : 'n/a';
    const range = rates.length > 0 ? `${Math.min(...rates).toFixed(1)}–${Math.max(...rates).toFixed(1)}` : '–';
    const med = rates.length > 0 ? median(rates).toFixed(1) : '–';
    return `| ${side} | ${spec} | ${med} | ${range} |${pairCells(rs)} ${peak.toFixed(2)} | ${rs.length} | ${verify} |`;
  };
  const perPair = blockBytes === undefined ? ['', ''] : [' ns/pair | ns min–max | ns/KiB |', ' ---: | ---: | ---: |'];
  const lines = [
    `| | subject | M ops/s | min–max |${perPair[0]} peak MiB | runs | verify |`,
    `| --- | --- | ---: | ---: |${perPair[1]} ---: | ---: | :---: |`,
    row('A', a, c.a),
    row('B', b, c.b),
    '',
    `B/A ${c.ratio.toFixed(3)}× (pairs ${c.pairRatios.map((r) => r.toFixed(2)).join(', ') || '–'}): ${verdict(c)}`,
  ];
  if (c.statDeltas.length === 0) {
    lines.push(c.a.some((r) => r.stats) ? 'counters: identical' : 'counters: neither subject reports any');
  } else {
    lines.push('', '| counter (median) | A | B |', '| --- | ---: | ---: |');
    for (const d of c.statDeltas.slice(0, maxStats)) lines.push(`| ${d.key} | ${d.a} | ${d.b} |`);
    if (c.statDeltas.length > maxStats) lines.push(`(+${c.statDeltas.length - maxStats} more counters differ)`);
  }
  for (const f of c.failures) lines.push(`!!! RUN FAILED: ${f}`);
  return lines.join('\n');
}
