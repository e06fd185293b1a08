import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';
import type { RunRecord } from './measure.js';
import type { MtRunRecord } from './mt/api.js';
import { median, significant } from './report.js';
import { MiB } from './workloads/workload.js';

/**
 * `hakmem-bench chart`: SVG charts from a `run --json` file, drawn with Observable Plot
 * (@observablehq/plot) on a linkedom document (no browser). One file per workload: the
 * upper panel gives each subject's median ops/s over its runs as a bar with a min–max
 * whisker, the lower one its peak footprint (the highest over its runs); a multi-thread
 * workload has one facet of bars per thread count. A trace replay also gets a second
 * file, its footprint over time: each subject's footprint sampled during the timed replay
 * against the trace's live bytes (RunRecord.series).
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
const FAILED_STROKE = '#d62728';

function colours(subjects: readonly string[]): string[] {
  let next = 0;
  return subjects.map((s) => KNOWN_COLOURS[s] ?? PALETTE[next++ % PALETTE.length]!);
}

/** A fresh DOM document for Plot to draw into (Plot needs one; linkedom is a small DOM without a browser). */
function plotDocument(): Document {
  return parseHTML('<!doctype html><html><head></head><body></body></html>').document as unknown as Document;
}

/** Where the first panel's title goes; each panel is drawn PANEL_TITLE_H below its title. */
const FIRST_PANEL_Y = 60;
const PANEL_TITLE_H = 8;
const PANEL_GAP = 24;

/**
 * The page: a white background, the title and the subtitle, then each Plot figure under
 * its panel title, stacked. A figure is Plot's root `<svg>` (no title or legend is asked
 * of Plot, so never a `<figure>`), nested at its place.
 */
function page(title: string, subtitle: string, panels: readonly { figure: Element; title: string }[]): string {
  const parts: string[] = [];
  let y = FIRST_PANEL_Y;
  let width = 16 + 7 * Math.max(subtitle.length, title.length * 1.4);
  for (const p of panels) {
    if (p.figure.tagName.toLowerCase() !== 'svg') throw new Error(`Plot returned a <${p.figure.tagName}>, not an <svg>`);
    parts.push(`<text class="panel-title" x="16" y="${y}" font-size="12" font-weight="bold">${escapeXml(p.title)}</text>`);
    p.figure.setAttribute('x', '8');
    p.figure.setAttribute('y', String(y + PANEL_TITLE_H));
    parts.push(p.figure.outerHTML);
    y += PANEL_TITLE_H + Number(p.figure.getAttribute('height')) + PANEL_GAP;
    width = Math.max(width, 8 + Number(p.figure.getAttribute('width')));
  }
  width = Math.ceil(Math.max(420, width));
  const height = Math.ceil(y - PANEL_GAP + 8);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif">`,
    `<title>${escapeXml(`hakmem-bench: ${title}`)}</title>`,
    `<rect x="0" y="0" width="100%" height="100%" fill="#fff"/>`,
    `<text class="title" x="16" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text class="subtitle" x="16" y="40" font-size="11" fill="#555">${escapeXml(subtitle)}</text>`,
    ...parts,
    `</svg>`,
    '',
  ].join('\n');
}

/** One row of a bar panel: a subject at one thread count. */
interface BarRow extends Bar {
  readonly group: string;
  readonly value: number;
  readonly lo: number;
  readonly hi: number;
  readonly tip: string;
  readonly label: string;
}

/** One bar panel (rates or footprints) as a Plot figure: bars, whiskers when given, value labels, a facet per group. */
function barPanel(spec: ChartSpec, document: Document, log: boolean, rows: readonly BarRow[], whiskers: boolean): Element {
  const faceted = spec.groups.some((g) => g.label !== '');
  const fx = faceted ? { fx: 'group' } : {};
  const longest = Math.max(...spec.subjects.map((s) => s.length));
  const width = Math.max(360, 80 + rows.length * 46 + (faceted ? spec.groups.length * 30 : 0));
  // A log axis has no zero: the bars rise from the decade under the smallest value.
  const floor = log ? 10 ** Math.floor(Math.log10(Math.min(...rows.map((r) => r.lo).filter((v) => v > 0)))) : 0;
  const bar = { x: 'subject', y1: () => floor, y2: 'value', ...fx, inset: 0 };
  // Whisker caps a third of a bar wide: each bar's band is about the plot's width over the bars.
  const cap = Math.max(2, ((width - 84) / rows.length) * 0.33);
  const spread = rows.filter((r) => r.runs > 1);
  const marks: Plot.Markish[] = [
    Plot.barY(rows, { ...bar, fill: 'subject', title: 'tip' }),
    ...(rows.some((r) => r.failed) ? [Plot.barY(rows.filter((r) => r.failed), { ...bar, fill: 'none', stroke: FAILED_STROKE, strokeWidth: 2 })] : []),
    ...(whiskers ? [
      Plot.ruleX(spread, { x: 'subject', y1: 'lo', y2: 'hi', ...fx, stroke: '#222' }),
      Plot.tickY(spread, { x: 'subject', y: 'lo', ...fx, stroke: '#222', inset: cap }),
      Plot.tickY(spread, { x: 'subject', y: 'hi', ...fx, stroke: '#222', inset: cap }),
    ] : []),
    Plot.text(rows, { x: 'subject', y: whiskers ? 'hi' : 'value', ...fx, text: 'label', dy: -7, fontSize: 9 }),
    ...(log ? [] : [Plot.ruleY([0])]),
  ];
  const decades = log ? decadeTicks(floor, Math.max(...rows.map((r) => r.hi))) : undefined;
  return Plot.plot({
    document,
    width,
    height: 250 + Math.min(90, longest * 4),
    marginLeft: 64,
    marginTop: 28,
    marginBottom: 30 + Math.min(90, longest * 4),
    x: { domain: spec.subjects as string[], label: null, tickRotate: -30, padding: 0.25 },
    ...(faceted ? { fx: { label: null, domain: spec.groups.map((g) => g.label) } } : {}),
    y: decades !== undefined
      ? { type: 'log', grid: true, label: null, domain: [decades[0]!, decades.at(-1)!], ticks: decades, tickFormat: tickText }
      : { grid: true, label: null, nice: true, insetTop: 12, tickFormat: tickText },
    color: { domain: spec.subjects as string[], range: colours(spec.subjects) },
    marks,
  }) as unknown as Element;
}

/** Whole decades from `lo` (a power of ten) to above `hi`, with room over the tallest bar for its label. */
function decadeTicks(lo: number, hi: number): number[] {
  const from = Math.round(Math.log10(lo));
  const to = Math.max(from + 1, Math.ceil(Math.log10(hi * 1.5)));
  const out: number[] = [];
  for (let e = from; e <= to; e++) out.push(10 ** e);
  return out;
}

const tickText = (v: number): string => (v === 0 ? '0' : significant(v, 2));

/** The SVG of one workload's chart: title, the rate panel and the footprint panel. */
export function renderSvg(spec: ChartSpec, options: ChartOptions = {}): string {
  const all = spec.groups.flatMap((g) => g.bars.map((b) => ({ g, b })));
  const rates = all.flatMap(({ b }) => [b.min, b.median, b.max]).map((v) => v / 1e6);
  const positive = rates.filter((v) => v > 0);
  const hiRate = Math.max(0, ...rates);
  const loRate = positive.length > 0 ? Math.min(...positive) : 1;
  const scale = options.scale ?? 'auto';
  const log = positive.length === rates.length && positive.length > 0 && (scale === 'log' || (scale === 'auto' && hiRate / loRate > 50));
  const runsText = (b: Bar): string => `${b.runs} run${b.runs === 1 ? '' : 's'}`;
  const where = (g: BarGroup): string => (g.label === '' ? '' : ` × ${g.label}`);
  const bad = (b: Bar): string => (b.failed ? ' (verify FAILED)' : '');
  const rateRows = all.map(({ g, b }): BarRow => ({
    ...b, group: g.label, value: b.median / 1e6, lo: b.min / 1e6, hi: b.max / 1e6,
    tip: `${b.subject}${where(g)}: ${significant(b.median / 1e6)} ${spec.unit} (${significant(b.min / 1e6)}–${significant(b.max / 1e6)}), ${runsText(b)}${bad(b)}`,
    label: `${significant(b.median / 1e6)}${b.failed ? '!' : ''}`,
  }));
  const footRows = all.map(({ g, b }): BarRow => ({
    ...b, group: g.label, value: b.footprint / MiB, lo: 0, hi: 0,
    tip: `${b.subject}${where(g)}: ${significant(b.footprint / MiB)} MiB${bad(b)}`,
    label: `${significant(b.footprint / MiB)}${b.failed ? '!' : ''}`,
  }));
  const document = plotDocument();
  return page(spec.workload, spec.subtitle, [
    { figure: barPanel(spec, document, log, rateRows, true), title: `${spec.unit}: median of the runs, whiskers min–max${log ? ' (log scale)' : ''}` },
    { figure: barPanel(spec, document, false, footRows, false), title: 'peak footprint, MiB (the highest of the runs)' },
  ]);
}

/** A trace replay's footprint over time: per subject, samples of (events replayed, footprint) from one run. */
export interface SeriesSpec {
  readonly workload: string;
  readonly subtitle: string;
  /** The trace's live requested bytes at the same sample points (the same for every subject). */
  readonly live: readonly { readonly events: number; readonly bytes: number }[];
  readonly subjects: readonly { readonly subject: string; readonly points: readonly { readonly events: number; readonly bytes: number }[] }[];
}

/** The footprint-over-time charts of a `run --json` document: one per trace workload whose runs carry a series. */
export function seriesSpecs(input: unknown): SeriesSpec[] {
  const doc = input as JsonDoc;
  const runs = (doc.runs ?? []).filter((r) => r.series !== undefined);
  const out: SeriesSpec[] = [];
  for (const name of [...new Set(runs.map((r) => r.workload))]) {
    const mine = runs.filter((r) => r.workload === name);
    // The first run of each subject (every run replays the same events).
    const firsts = [...new Map(mine.map((r) => [r.subject, r] as const)).values()].map((r) => mine.find((x) => x.subject === r.subject)!);
    const base = firsts[0]!.series!;
    out.push({
      workload: name,
      subtitle: `${firsts[0]!.cycles} events; footprint sampled ${base.events.length} times during each subject's first timed run`,
      live: base.events.map((events, i) => ({ events, bytes: base.live[i]! })),
      subjects: firsts.map((r) => ({ subject: r.subject, points: r.series!.events.map((events, i) => ({ events, bytes: r.series!.footprint[i]! })) })),
    });
  }
  return out;
}

/** The SVG of a trace's footprint over time: a line per subject, the trace's live bytes dashed. */
export function renderSeriesSvg(spec: SeriesSpec): string {
  const names = spec.subjects.map((s) => s.subject);
  const rows = spec.subjects.flatMap((s) => s.points.map((p) => ({ subject: s.subject, events: p.events, mib: p.bytes / MiB })));
  const live = spec.live.map((p) => ({ events: p.events, mib: p.bytes / MiB }));
  const ends = spec.subjects.map((s) => ({ subject: s.subject, ...s.points.at(-1)!, mib: s.points.at(-1)!.bytes / MiB }));
  const figure = Plot.plot({
    document: plotDocument(),
    width: 720,
    height: 340,
    marginLeft: 64,
    marginRight: 110,
    x: { label: 'events replayed', grid: true },
    y: { label: 'MiB', grid: true, nice: true },
    color: { domain: names, range: colours(names) },
    marks: [
      Plot.ruleY([0]),
      Plot.line(live, { x: 'events', y: 'mib', stroke: '#222', strokeDasharray: '4 3', title: () => 'live requested bytes' }),
      Plot.line(rows, { x: 'events', y: 'mib', z: 'subject', stroke: 'subject', strokeWidth: 1.6, title: (d: { subject: string }) => `${d.subject}: footprint` }),
      Plot.text(ends, { x: 'events', y: 'mib', text: (d: { subject: string; mib: number }) => `${d.subject} ${significant(d.mib)}`, dx: 6, textAnchor: 'start', fill: 'subject', fontSize: 10 }),
    ],
  }) as unknown as Element;
  return page(`${spec.workload}: footprint over time`, spec.subtitle, [
    { figure, title: 'footprint (high-water), MiB, against events replayed; dashed: the trace\'s live requested bytes' },
  ]);
}

/** The file name of a workload's chart (`trace:python-json` → `trace-python-json.svg`). */
export function chartFileName(workload: string): string {
  return `${workload.replace(/[^A-Za-z0-9._-]+/g, '-')}.svg`;
}

/** The file name of a trace's footprint-over-time chart (`trace:python-json` → `trace-python-json.footprint.svg`). */
export function seriesFileName(workload: string): string {
  return chartFileName(workload).replace(/\.svg$/, '.footprint.svg');
}

/**
 * Writes one SVG per workload of `doc` into `dir` (created if needed), and one more per
 * trace workload whose runs carry a footprint series; returns the paths written.
 */
export function writeCharts(doc: unknown, dir: string, options: ChartOptions = {}): string[] {
  const specs = chartSpecs(doc);
  const series = seriesSpecs(doc);
  if (specs.length + series.length > 0) mkdirSync(dir, { recursive: true });
  const written = specs.map((spec) => {
    const path = join(dir, chartFileName(spec.workload));
    writeFileSync(path, renderSvg(spec, options));
    return path;
  });
  for (const spec of series) {
    const path = join(dir, seriesFileName(spec.workload));
    writeFileSync(path, renderSeriesSvg(spec));
    written.push(path);
  }
  return written;
}
