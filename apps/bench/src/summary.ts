import type { RunRecord } from './measure.js';
import type { MtRunRecord } from './mt/api.js';
import { markdownTable, median, significant } from './report.js';
import { MiB } from './workloads/workload.js';

/**
 * The one table of an invocation: every workload (a multi-thread one once per thread
 * count) against every subject, medians of their runs, and hakmem's ratio to the best
 * JS peer and to the harness ceiling. It is the first thing `report.md` shows and what
 * `hakmem-bench report` prints last.
 */

/** The JS allocators hakmem is compared with (seglist is our own reference, null the ceiling). */
export const PEERS: ReadonlySet<string> = new Set(['thing', 'thing-locked', 'cheap']);

/** The records the summary reads: the single-thread ones and the multi-thread ones (with `threads`). */
type Rated = Pick<RunRecord, 'subject' | 'workload' | 'opsPerSec' | 'footprint' | 'verify'> & { readonly threads?: number };

export interface SummaryRow {
  /** `pool`, or `larson × 2` for a multi-thread workload. */
  readonly label: string;
  readonly unit: string;
  /** Median ops/s (events/s for a trace) per subject that ran it. */
  readonly medians: ReadonlyMap<string, number>;
  /** Peak footprint (the highest over the runs) per subject, bytes. */
  readonly footprints: ReadonlyMap<string, number>;
  /** Subjects with a failed verify step in some run. */
  readonly failed: ReadonlySet<string>;
}

/** The rows, in the order the workloads first appear (single-thread ones first). */
export function summaryRows(runs: readonly RunRecord[], mtRuns: readonly MtRunRecord[] = []): SummaryRow[] {
  const groups = new Map<string, Rated[]>();
  const add = (label: string, r: Rated): void => {
    const list = groups.get(label);
    if (list === undefined) groups.set(label, [r]);
    else list.push(r);
  };
  for (const r of runs) add(r.workload, r);
  for (const r of mtRuns) add(`${r.workload} × ${r.threads}`, r);
  return [...groups].map(([label, records]) => {
    const bySubject = new Map<string, Rated[]>();
    for (const r of records) bySubject.set(r.subject, [...(bySubject.get(r.subject) ?? []), r]);
    const medians = new Map<string, number>();
    const footprints = new Map<string, number>();
    const failed = new Set<string>();
    for (const [subject, mine] of bySubject) {
      medians.set(subject, median(mine.map((r) => r.opsPerSec)));
      footprints.set(subject, Math.max(...mine.map((r) => r.footprint)));
      if (mine.some((r) => r.verify === 'FAILED')) failed.add(subject);
    }
    return { label, unit: label.startsWith('trace:') ? 'M events/s' : 'M ops/s', medians, footprints, failed };
  });
}

/** The best peer of a row: the fastest subject of PEERS that ran it. */
export function bestPeer(row: SummaryRow): { subject: string; median: number } | undefined {
  let best: { subject: string; median: number } | undefined;
  for (const [subject, m] of row.medians) if (PEERS.has(subject) && (best === undefined || m > best.median)) best = { subject, median: m };
  return best;
}

/** Subjects as columns: hakmem (and any experiment) first, then the peers, seglist, null last. */
function columns(rows: readonly SummaryRow[]): string[] {
  const all = [...new Set(rows.flatMap((r) => [...r.medians.keys()]))];
  const rank = (s: string): number => (s === 'null' ? 3 : s === 'seglist' ? 2 : PEERS.has(s) ? 1 : 0);
  return all.map((s, i) => ({ s, i })).sort((a, b) => rank(a.s) - rank(b.s) || a.i - b.i).map((x) => x.s);
}

/** The summary as a markdown table (aligned: it reads as plain text too). */
export function formatSummary(rows: readonly SummaryRow[]): string {
  const subjects = columns(rows);
  const header = ['workload', ...subjects, 'hakmem ÷ best peer', 'hakmem ÷ null', 'hakmem MiB', 'best peer MiB'];
  const cell = (row: SummaryRow, s: string): string => {
    const m = row.medians.get(s);
    return m === undefined ? '–' : `${significant(m / 1e6)}${row.failed.has(s) ? ' (verify FAILED)' : ''}`;
  };
  const body = rows.map((row) => {
    const hakmem = row.medians.get('hakmem');
    const peer = bestPeer(row);
    const ceiling = row.medians.get('null');
    const foot = row.footprints.get('hakmem');
    const peerFoot = peer === undefined ? undefined : row.footprints.get(peer.subject);
    return [
      row.label + (row.unit === 'M ops/s' ? '' : ` (${row.unit})`),
      ...subjects.map((s) => cell(row, s)),
      hakmem === undefined || peer === undefined ? '–' : `${significant(hakmem / peer.median)}× (${peer.subject})`,
      hakmem === undefined || ceiling === undefined ? '–' : `${significant(hakmem / ceiling)}×`,
      foot === undefined ? '–' : significant(foot / MiB),
      peerFoot === undefined ? '–' : significant(peerFoot / MiB),
    ];
  });
  return markdownTable(header, body);
}
