import { markdownTable, median, mops, significant } from '../report.js';
import { MiB } from '../workloads/workload.js';
import type { MtRunRecord } from './api.js';
import type { MtGroupRuns } from './runner.js';
import { findMtWorkload } from './workloads/index.js';

/** The counters that depend only on the parameters and seed, for a deterministic workload. */
const CROSS_CHECKED = ['mallocs', 'frees', 'failed', 'bytes', 'finalSeed', 'checksum'] as const;

/** Extra counters shown as columns (median over the runs) when any run has them. */
const EXTRA_COLUMNS: readonly { key: string; title: string }[] = [
  { key: 'handoffs', title: 'handoffs' },
  { key: 'stallMs', title: 'stall ms' },
  { key: 'lock.contended', title: 'contended' },
  { key: 'lines.shared', title: 'shared lines' },
];

export interface MtSummary {
  readonly subject: string;
  readonly runs: MtRunRecord[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly peakFootprint: number;
  readonly verify: MtRunRecord['verify'];
}

export function summarizeMt(records: readonly MtRunRecord[]): MtSummary[] {
  const bySubject = new Map<string, MtRunRecord[]>();
  for (const r of records) bySubject.set(r.subject, [...(bySubject.get(r.subject) ?? []), r]);
  return [...bySubject].map(([subject, runs]) => {
    const rates = runs.map((r) => r.opsPerSec);
    const verdicts = new Set(runs.map((r) => r.verify));
    return {
      subject,
      runs,
      median: median(rates),
      min: Math.min(...rates),
      max: Math.max(...rates),
      peakFootprint: Math.max(...runs.map((r) => r.footprint)),
      verify: verdicts.has('FAILED') ? 'FAILED' : verdicts.has('ok') ? 'ok' : 'n/a',
    };
  });
}

/** What makes a group's figures untrustworthy (see the single-thread problems()). */
export function mtProblems(group: MtGroupRuns): string[] {
  const out: string[] = [];
  const at = `${group.workload} × ${group.threads}`;
  const reference = group.records[0];
  if (reference && findMtWorkload(group.workload).deterministic(group.params)) {
    for (const r of group.records) {
      const differing = CROSS_CHECKED.filter((key) => r[key] !== reference[key]);
      if (differing.length > 0) {
        const detail = differing.map((key) => `${key} ${r[key]} vs ${reference[key]}`).join(', ');
        out.push(`COUNTER MISMATCH (${at}): ${r.subject} run ${r.run + 1} differs from ${reference.subject} run ${reference.run + 1}: ${detail}`);
      }
    }
  }
  for (const s of summarizeMt(group.records)) {
    const failed = Math.max(...s.runs.map((r) => r.failed + (r.extra['fill.failed'] ?? 0)));
    if (failed > 0) out.push(`${s.subject} (${at}): ${failed} failed mallocs (out of memory?)`);
    if (s.verify === 'FAILED') out.push(`VERIFY FAILED (${at}): ${s.subject} read back a byte it did not write`);
    const lost = s.runs.find((r) => (r.extra['live.end'] ?? 0) !== 0);
    if (lost) out.push(`LOST BLOCKS (${at}): ${s.subject} run ${lost.run + 1}: ${lost.extra['live.end']} blocks malloc'd and never freed by the harness`);
  }
  for (const f of group.failures) out.push(`RUN FAILED (${at}): ${f.subject} run ${f.run + 1}: ${f.error.split('\n').slice(0, 3).join(' / ')}`);
  return out;
}

/** One group's table: a row per subject, medians over its runs. */
export function formatMtTable(group: MtGroupRuns): string {
  const summaries = summarizeMt(group.records);
  const ceiling = summaries.find((s) => s.subject === 'null');
  const peer = summaries.find((s) => s.subject === 'thing-locked');
  const extras = EXTRA_COLUMNS.filter((c) => group.records.some((r) => c.key in r.extra));
  const ratio = (value: number, base: MtSummary | undefined): string => (base ? `${significant(value / base.median)}×` : '–');
  const header = [
    'subject', 'M ops/s', 'min–max', '× null', '× thing-locked', 'peak MiB', ...extras.map((c) => c.title),
    'mallocs', 'frees', 'failed', 'final s', 'checksum', 'verify',
  ];
  const rows = summaries.map((s) => {
    const first = s.runs[0]!;
    const extraCells = extras.map((c) => {
      const values = s.runs.map((r) => r.extra[c.key]).filter((v): v is number => v !== undefined);
      if (values.length === 0) return '–';
      const mid = median(values);
      return Number.isInteger(mid) ? String(mid) : significant(mid);
    });
    return [
      s.subject, mops(s.median), `${mops(s.min)}–${mops(s.max)}`, ratio(s.median, ceiling), ratio(s.median, peer),
      significant(s.peakFootprint / MiB), ...extraCells,
      String(first.mallocs), String(first.frees), String(first.failed), String(first.finalSeed), String(first.checksum), s.verify,
    ];
  });
  return markdownTable(header, rows);
}

/**
 * The gain of each subject from the fewest to the most threads a workload ran on:
 * median ops/s at each thread count, and the ratio of the last to the first.
 */
export function formatScaling(groups: readonly MtGroupRuns[]): string | undefined {
  const ran = groups.filter((g) => g.records.length > 0).sort((a, b) => a.threads - b.threads);
  if (ran.length < 2) return undefined;
  const subjects = [...new Set(ran.flatMap((g) => g.records.map((r) => r.subject)))];
  const medians = (subject: string): (number | undefined)[] =>
    ran.map((g) => {
      const rates = g.records.filter((r) => r.subject === subject).map((r) => r.opsPerSec);
      return rates.length === 0 ? undefined : median(rates);
    });
  const lo = ran[0]!.threads;
  const hi = ran.at(-1)!.threads;
  const header = ['subject', ...ran.map((g) => `${g.threads} thr M ops/s`), `gain ${lo}→${hi}`];
  const rows = subjects.map((subject) => {
    const m = medians(subject);
    const first = m[0];
    const last = m.at(-1);
    const gain = first !== undefined && last !== undefined && first > 0 ? `${significant(last / first)}×` : '–';
    return [subject, ...m.map((v) => (v === undefined ? '–' : mops(v))), gain];
  });
  return markdownTable(header, rows);
}

export function paramText(params: Readonly<Record<string, number>>): string {
  return Object.entries(params).map(([k, v]) => `${k} ${v}`).join(', ');
}
