import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from './measure.js';
import type { MtRunRecord } from './mt/api.js';
import { median, significant } from './report.js';
import { MiB } from './workloads/workload.js';

/**
 * `hakmem-bench chart`: self-contained SVG bar charts from a `run --json` file, written
 * with string templates (no dependency, no browser). One file per workload: the upper
 * panel gives each subject's median ops/s over its runs as a bar with a min–max whisker,
 * the lower one its peak footprint (the highest over its runs); a multi-thread workload
 * has one group of bars per thread count.
 */

/** One bar: a subject (at one thread count) over its runs. */
export interface Bar {
  readonly subject: string;
  /** ops/s: median, slowest and fastest run. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** The highest footprint over the runs, bytes. */
  readonly footprint: number;
  readonly runs: number;
  /** Some run failed its verify step. */
  readonly failed: boolean;
}

export interface BarGroup {
  /** '' for a single-thread workload; `2 threads` for a multi-thread one. */
  readonly label: string;
  readonly threads?: number;
  readonly bars: readonly Bar[];
}

export interface ChartSpec {
  readonly workload: string;
  /** What the run measured, under the title (cycles or parameters). */
  readonly subtitle: string;
  /** The rate's name: `M ops/s`, or `M events/s` for a trace replay. */
  readonly unit: string;
  readonly groups: readonly BarGroup[];
  /** Every subject in the chart, in first-seen order (the colours and the legend). */
  readonly subjects: readonly string[];
}

export interface ChartOptions {
  /** The rate panel's axis: log when the bars span more than 50× (auto), or as given. */
  readonly scale?: 'auto' | 'linear' | 'log';
}

/** The parts of a `run --json` document the charts read (see cli.ts, `run`). */
interface JsonDoc {
  readonly date?: string;
  readonly machine?: Readonly<Record<string, unknown>>;
  readonly options?: { readonly workloads?: readonly { name: string; cycles: number; params?: Readonly<Record<string, number>> }[] };
  readonly runs?: readonly RunRecord[];
  readonly mt?: {
    readonly workloads?: readonly { name: string; params: Readonly<Record<string, number>> }[];
    readonly threads?: readonly number[];
    readonly runs?: readonly MtRunRecord[];
  };
}

type Rated = Pick<RunRecord, 'subject' | 'opsPerSec' | 'footprint' | 'verify'>;

function barsOf(records: readonly Rated[]): Bar[] {
  const bySubject = new Map<string, Rated[]>();
  for (const r of records) bySubject.set(r.subject, [...(bySubject.get(r.subject) ?? []), r]);
  return [...bySubject].map(([subject, runs]) => {
    const rates = runs.map((r) => r.opsPerSec);
    return {
      subject,
      median: median(rates),
      min: Math.min(...rates),
      max: Math.max(...rates),
      footprint: Math.max(...runs.map((r) => r.footprint)),
      runs: runs.length,
      failed: runs.some((r) => r.verify === 'FAILED'),
    };
  });
}

const paramText = (params: Readonly<Record<string, number>>): string => Object.entries(params).map(([k, v]) => `${k} ${v}`).join(', ');

/** The charts of a `run --json` document: one per workload with runs, single-thread ones first. */
export function chartSpecs(input: unknown): ChartSpec[] {
  if (typeof input !== 'object' || input === null) throw new Error('not a hakmem-bench --json document (not an object)');
  const doc = input as JsonDoc;
  if (!Array.isArray(doc.runs) && !Array.isArray(doc.mt?.runs)) throw new Error('not a hakmem-bench --json document (no "runs" and no "mt.runs")');
  const out: ChartSpec[] = [];
  const runs = doc.runs ?? [];
  const stNames = [...new Set([...(doc.options?.workloads ?? []).map((w) => w.name), ...runs.map((r) => r.workload)])];
  for (const name of stNames) {
    const mine = runs.filter((r) => r.workload === name);
    if (mine.length === 0) continue;
    const choice = doc.options?.workloads?.find((w) => w.name === name);
    const cycles = choice?.cycles ?? mine[0]!.cycles;
    const params = choice?.params ?? mine[0]!.params;
    const bars = barsOf(mine);
    out.push({
      workload: name,
      subtitle: `${cycles} cycles${params !== undefined && Object.keys(params).length > 0 ? `; ${paramText(params)}` : ''}; ${mine.length} runs`,
      unit: name.startsWith('trace:') ? 'M events/s' : 'M ops/s',
      groups: [{ label: '', bars }],
      subjects: bars.map((b) => b.subject),
    });
  }
  const mtRuns = doc.mt?.runs ?? [];
  const mtNames = [...new Set([...(doc.mt?.workloads ?? []).map((w) => w.name), ...mtRuns.map((r) => r.workload)])];
  for (const name of mtNames) {
    const mine = mtRuns.filter((r) => r.workload === name);
    if (mine.length === 0) continue;
    const threads = [...new Set(mine.map((r) => r.threads))].sort((a, b) => a - b);
    const groups = threads.map((t): BarGroup => ({
      label: `${t} thread${t === 1 ? '' : 's'}`,
      threads: t,
      bars: barsOf(mine.filter((r) => r.threads === t)),
    }));
    const params = doc.mt?.workloads?.find((w) => w.name === name)?.params ?? mine[0]!.params;
    out.push({
      workload: name,
      subtitle: `${paramText(params)}; threads ${threads.join(', ')}; ${mine.length} runs`,
      unit: 'M ops/s',
      groups,
      subjects: [...new Set(mine.map((r) => r.subject))],
    });
  }
  return out;
}

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** The colour of each subject: the usual ones fixed, the others from a palette in order. */
const KNOWN_COLOURS: Readonly<Record<string, string>> = {
  hakmem: '#1f77b4', thing: '#ff7f0e', 'thing-locked': '#ff7f0e', seglist: '#2ca02c', cheap: '#9467bd', null: '#8c8c8c',
};
const PALETTE = ['#17becf', '#d62728', '#bcbd22', '#e377c2', '#8c564b', '#7f7f7f', '#aec7e8', '#98df8a'];

function colours(subjects: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  let next = 0;
  for (const s of subjects) out.set(s, KNOWN_COLOURS[s] ?? PALETTE[next++ % PALETTE.length]!);
  return out;
}

/** A value axis: where a value lands (0 at the panel's bottom, 1 at its top) and the ticks to draw. */
interface Axis {
  readonly log: boolean;
  at(value: number): number;
  readonly ticks: readonly number[];
}

function niceStep(range: number): number {
  const raw = range / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/** From 0 to a round value above `max`, with room over the tallest bar for its label. */
function linearAxis(max: number): Axis {
  const top = max > 0 ? max * 1.12 : 1;
  const step = niceStep(top);
  const end = Math.ceil(top / step) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= end + step / 2; v += step) ticks.push(v);
  return { log: false, at: (v) => Math.max(0, v) / end, ticks };
}

/** Whole decades around `min`..`max`, with room over the tallest bar for its label. */
function logAxis(min: number, max: number): Axis {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(max * 1.5)));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  return { log: true, at: (v) => (v <= 0 ? 0 : Math.max(0, (Math.log10(v) - lo) / (hi - lo))), ticks };
}

const tickText = (v: number): string => (v === 0 ? '0' : significant(v, 2));

const PANEL_H = 190;
const BAR_W = 34;
const BAR_GAP = 8;
const GROUP_GAP = 30;
const LEFT = 72;
const RIGHT = 24;

/** One panel (rates or footprints): axis, grid, bars, whiskers, value labels. */
function panel(
  spec: ChartSpec, top: number, title: string, axis: Axis, colour: Map<string, string>, kind: 'ops' | 'footprint',
  value: (b: Bar) => number, whisker: ((b: Bar) => [number, number]) | undefined, text: (b: Bar) => string,
): { svg: string[]; width: number } {
  const svg: string[] = [];
  const bottom = top + PANEL_H;
  const y = (v: number): number => bottom - axis.at(v) * PANEL_H;
  let x = LEFT + GROUP_GAP / 2;
  const groupSpans: { label: string; from: number; to: number }[] = [];
  const bars: string[] = [];
  for (const g of spec.groups) {
    const from = x;
    for (const b of g.bars) {
      const v = value(b);
      const h = Math.max(0, bottom - y(v));
      const fill = colour.get(b.subject)!;
      const threads = g.threads === undefined ? '' : ` data-threads="${g.threads}"`;
      const tip = `${b.subject}${g.label === '' ? '' : ` × ${g.label}`}: ${text(b)}${b.failed ? ' (verify FAILED)' : ''}`;
      bars.push(
        `<rect class="bar" data-panel="${kind}" data-subject="${escapeXml(b.subject)}"${threads} x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${BAR_W}" height="${h.toFixed(1)}" fill="${fill}"${b.failed ? ' stroke="#d62728" stroke-width="2"' : ''}><title>${escapeXml(tip)}</title></rect>`,
      );
      const cx = x + BAR_W / 2;
      if (whisker !== undefined && b.runs > 1) {
        const [lo, hi] = whisker(b);
        const y1 = y(lo);
        const y2 = y(hi);
        bars.push(`<path class="whisker" d="M${cx.toFixed(1)} ${y1.toFixed(1)}V${y2.toFixed(1)}M${(cx - 6).toFixed(1)} ${y1.toFixed(1)}h12M${(cx - 6).toFixed(1)} ${y2.toFixed(1)}h12" stroke="#222" stroke-width="1.2" fill="none"/>`);
      }
      const labelY = Math.min(bottom - h, whisker !== undefined && b.runs > 1 ? y(whisker(b)[1]) : bottom - h) - 4;
      bars.push(`<text class="value" x="${cx.toFixed(1)}" y="${Math.max(top + 8, labelY).toFixed(1)}" text-anchor="middle" font-size="9">${escapeXml(text(b).split(' ')[0]!)}${b.failed ? '!' : ''}</text>`);
      if (g.label === '') {
        bars.push(`<text class="subject" x="${cx.toFixed(1)}" y="${(bottom + 12).toFixed(1)}" text-anchor="end" font-size="10" transform="rotate(-30 ${cx.toFixed(1)} ${(bottom + 12).toFixed(1)})">${escapeXml(b.subject)}</text>`);
      }
      x += BAR_W + BAR_GAP;
    }
    groupSpans.push({ label: g.label, from, to: x - BAR_GAP });
    x += GROUP_GAP;
  }
  const right = x - GROUP_GAP / 2;
  svg.push(`<text class="panel-title" x="${LEFT}" y="${top - 8}" font-size="12" font-weight="bold">${escapeXml(title)}</text>`);
  for (const t of axis.ticks) {
    const ty = y(t);
    svg.push(`<line class="grid" x1="${LEFT}" y1="${ty.toFixed(1)}" x2="${right.toFixed(1)}" y2="${ty.toFixed(1)}" stroke="#ddd" stroke-width="1"/>`);
    svg.push(`<text class="tick" x="${LEFT - 6}" y="${(ty + 3).toFixed(1)}" text-anchor="end" font-size="10">${escapeXml(tickText(t))}</text>`);
  }
  svg.push(`<line class="axis" x1="${LEFT}" y1="${top}" x2="${LEFT}" y2="${bottom}" stroke="#444" stroke-width="1"/>`);
  svg.push(`<line class="axis" x1="${LEFT}" y1="${bottom}" x2="${right.toFixed(1)}" y2="${bottom}" stroke="#444" stroke-width="1"/>`);
  svg.push(...bars);
  for (const g of groupSpans) {
    if (g.label === '') continue;
    svg.push(`<text class="group" x="${((g.from + g.to) / 2).toFixed(1)}" y="${bottom + 14}" text-anchor="middle" font-size="11">${escapeXml(g.label)}</text>`);
  }
  return { svg, width: right + RIGHT };
}

/** The SVG of one chart: title, the rate panel, the footprint panel, and a legend for multi-thread charts. */
export function renderSvg(spec: ChartSpec, options: ChartOptions = {}): string {
  const colour = colours(spec.subjects);
  const all = spec.groups.flatMap((g) => g.bars);
  const rates = all.flatMap((b) => [b.min, b.median, b.max]).map((v) => v / 1e6);
  const positive = rates.filter((v) => v > 0);
  const hiRate = Math.max(0, ...rates);
  const loRate = positive.length > 0 ? Math.min(...positive) : 1;
  const scale = options.scale ?? 'auto';
  const log = positive.length > 0 && (scale === 'log' || (scale === 'auto' && hiRate / loRate > 50));
  const rateAxis = log ? logAxis(loRate, hiRate) : linearAxis(hiRate);
  const footAxis = linearAxis(Math.max(0, ...all.map((b) => b.footprint / MiB)));
  const multi = spec.groups.some((g) => g.label !== '');
  const top1 = 72;
  const top2 = top1 + PANEL_H + (multi ? 44 : 78);
  const ops = panel(
    spec, top1, `${spec.unit}: median of the runs, whiskers min–max${log ? ' (log scale)' : ''}`, rateAxis, colour, 'ops',
    (b) => b.median / 1e6, (b) => [b.min / 1e6, b.max / 1e6],
    (b) => `${significant(b.median / 1e6)} ${spec.unit} (${significant(b.min / 1e6)}–${significant(b.max / 1e6)}), ${b.runs} run${b.runs === 1 ? '' : 's'}`,
  );
  const foot = panel(
    spec, top2, 'peak footprint, MiB (the highest of the runs)', footAxis, colour, 'footprint',
    (b) => b.footprint / MiB, undefined, (b) => `${significant(b.footprint / MiB)} MiB`,
  );
  const legendY = top2 + PANEL_H + (multi ? 40 : 74);
  const legend: string[] = [];
  let lx = LEFT;
  if (multi) {
    for (const s of spec.subjects) {
      legend.push(`<rect class="legend" x="${lx}" y="${legendY - 9}" width="10" height="10" fill="${colour.get(s)!}"/>`);
      legend.push(`<text class="legend" x="${lx + 14}" y="${legendY}" font-size="11">${escapeXml(s)}</text>`);
      lx += 24 + 7 * s.length;
    }
  }
  const width = Math.ceil(Math.max(420, ops.width, foot.width, lx + RIGHT, LEFT + 7 * Math.max(spec.subtitle.length, spec.workload.length * 1.4)));
  const height = legendY + (multi ? 16 : 0);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${escapeXml(`hakmem-bench: ${spec.workload}`)}</title>`,
    `<rect x="0" y="0" width="100%" height="100%" fill="#fff"/>`,
    `<text class="title" x="${LEFT}" y="22" font-size="15" font-weight="bold">${escapeXml(spec.workload)}</text>`,
    `<text class="subtitle" x="${LEFT}" y="40" font-size="11" fill="#555">${escapeXml(spec.subtitle)}</text>`,
    ...ops.svg,
    ...foot.svg,
    ...legend,
    `</svg>`,
    '',
  ].join('\n');
}

/** The file name of a workload's chart (`trace:python-json` → `trace-python-json.svg`). */
export function chartFileName(workload: string): string {
  return `${workload.replace(/[^A-Za-z0-9._-]+/g, '-')}.svg`;
}

/** Writes one SVG per workload of `doc` into `dir` (created if needed); returns the paths written. */
export function writeCharts(doc: unknown, dir: string, options: ChartOptions = {}): string[] {
  const specs = chartSpecs(doc);
  if (specs.length > 0) mkdirSync(dir, { recursive: true });
  return specs.map((spec) => {
    const path = join(dir, chartFileName(spec.workload));
    writeFileSync(path, renderSvg(spec, options));
    return path;
  });
}
