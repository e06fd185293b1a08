import type { RunRecord } from './measure.js';
import type { WorkloadRuns } from './runner.js';
import { MiB } from './workloads/workload.js';

/** The counters that depend only on the workload: equal for every subject and run. */
const CROSS_CHECKED = ['mallocs', 'frees', 'failed', 'bytes', 'finalSeed', 'checksum'] as const;

export interface SubjectSummary {
  readonly subject: string;
  readonly runs: number;
  /** ops/s. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Highest footprint over the runs, in bytes. */
  readonly peakFootprint: number;
  /** The first run's record (its counters are the ones shown). */
  readonly first: RunRecord;
  /** 'ok' only if every run verified; 'n/a' for the null subject. */
  readonly verify: RunRecord['verify'];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One summary per subject, in the order the subjects first appear in the records. */
export function summarize(records: readonly RunRecord[]): SubjectSummary[] {
  const bySubject = new Map<string, RunRecord[]>();
  for (const record of records) {
    const list = bySubject.get(record.subject) ?? [];
    list.push(record);
    bySubject.set(record.subject, list);
  }
  return [...bySubject].map(([subject, runs]) => {
    const rates = runs.map((r) => r.opsPerSec);
    const verdicts = new Set(runs.map((r) => r.verify));
    return {
      subject,
      runs: runs.length,
      median: median(rates),
      min: Math.min(...rates),
      max: Math.max(...rates),
      peakFootprint: Math.max(...runs.map((r) => r.footprint)),
      first: runs[0]!,
      verify: verdicts.has('FAILED') ? 'FAILED' : verdicts.has('ok') ? 'ok' : 'n/a',
    };
  });
}

/**
 * Everything that makes a workload's figures untrustworthy: counters that differ between
 * runs or subjects (the call sequence was not the same), failed mallocs, failed verify
 * steps, failed child processes.
 */
export function problems(runs: WorkloadRuns): string[] {
  const out: string[] = [];
  const reference = runs.records[0];
  if (reference) {
    for (const record of runs.records) {
      const differing = CROSS_CHECKED.filter((key) => record[key] !== reference[key]);
      if (differing.length > 0) {
        const detail = differing.map((key) => `${key} ${record[key]} vs ${reference[key]}`).join(', ');
        out.push(`COUNTER MISMATCH: ${record.subject} run ${record.run + 1} differs from ${reference.subject} run ${reference.run + 1}: ${detail}`);
      }
    }
  }
  for (const summary of summarize(runs.records)) {
    if (summary.first.failed > 0) out.push(`${summary.subject}: ${summary.first.failed} failed mallocs (out of memory?)`);
    if (summary.verify === 'FAILED') out.push(`VERIFY FAILED: ${summary.subject} read back a byte it did not write`);
  }
  for (const failure of runs.failures) out.push(`RUN FAILED: ${failure.subject} run ${failure.run + 1}: ${failure.error}`);
  return out;
}

/** `x` with `digits` significant digits, never in exponent form (at most 4 decimals). */
export function significant(x: number, digits = 3): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const decimals = Math.min(4, Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(x)))));
  return x.toFixed(decimals);
}

export const mops = (opsPerSec: number): string => significant(opsPerSec / 1e6);

/** Nanoseconds per malloc+free pair of a run (two operations). */
export const nsPerPair = (record: RunRecord): number => (record.elapsedMs * 1e6) / (record.ops / 2);

/** What `formatTable` adds for workloads of one block size (Workload.blockBytes). */
export interface TableOptions {
  /** When set, the columns ns/pair (median, min–max over the runs) and ns/KiB of block. */
  readonly blockBytes?: number | undefined;
  /**
   * A trace workload's peak of live requested bytes: the rate column reads `M events/s`
   * (each replayed record is one operation) and a column `× live` gives the peak
   * footprint ÷ this.
   */
  readonly peakLiveBytes?: number | undefined;
}
const ratio = (value: number, base: SubjectSummary | undefined): string =>
  base ? `${significant(value / base.median)}×` : '–';

/** The workload's table as markdown (aligned, so it reads as plain text too). */
export function formatTable(runs: WorkloadRuns, options: TableOptions = {}): string {
  const summaries = summarize(runs.records);
  const ceiling = summaries.find((s) => s.subject === 'null');
  const peer = summaries.find((s) => s.subject === 'thing');
  const { blockBytes, peakLiveBytes } = options;
  const perPair = blockBytes === undefined ? [] : ['ns/pair', 'ns min–max', 'ns/KiB'];
  const perLive = peakLiveBytes === undefined ? [] : ['× live'];
  // Workloads with a first replay (Workload.firstRun): its median rate, first touch of the pages included.
  const hasFirst = runs.records.some((r) => r.first !== undefined);
  const firstCells = (s: SubjectSummary): string[] => {
    if (!hasFirst) return [];
    const rates = runs.records.filter((r) => r.subject === s.subject && r.first !== undefined).map((r) => r.first!.opsPerSec);
    return [rates.length === 0 ? '–' : mops(median(rates))];
  };
  const header = [
    'subject', peakLiveBytes === undefined ? 'M ops/s' : 'M events/s', 'min–max', ...perPair, '× null', '× thing',
    ...(hasFirst ? ['1st replay'] : []), 'peak MiB', ...perLive,
    'mallocs', 'frees', 'failed', 'bytes', 'final s', 'checksum', 'verify',
  ];
  const pairCells = (s: SubjectSummary): string[] => {
    if (blockBytes === undefined) return [];
    const ns = runs.records.filter((r) => r.subject === s.subject).map(nsPerPair);
    const mid = median(ns);
    return [significant(mid), `${significant(Math.min(...ns))}–${significant(Math.max(...ns))}`, significant(mid / (blockBytes / 1024))];
  };
  const rows = summaries.map((s) => [
    s.subject,
    mops(s.median),
    `${mops(s.min)}–${mops(s.max)}`,
    ...pairCells(s),
    ratio(s.median, ceiling),
    ratio(s.median, peer),
    ...firstCells(s),
    significant(s.peakFootprint / MiB),
    ...(peakLiveBytes === undefined ? [] : [s.peakFootprint === 0 ? '–' : `${significant(s.peakFootprint / peakLiveBytes)}×`]),
    String(s.first.mallocs),
    String(s.first.frees),
    String(s.first.failed),
    String(s.first.bytes),
    String(s.first.finalSeed),
    String(s.first.checksum),
    s.verify,
  ]);
  return markdownTable(header, rows);
}

/** A markdown table, its columns padded to align (so it reads as plain text too): the first left-aligned, the others right-aligned. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
