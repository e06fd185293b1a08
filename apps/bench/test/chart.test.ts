import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { chartFileName, chartSpecs, escapeXml, renderSeriesSvg, renderSvg, seriesSpecs, writeCharts } from '../src/chart.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/chart-run.json', import.meta.url));
const CLI = fileURLToPath(new URL('../bin/hakmem-bench.mjs', import.meta.url));
const load = (): { runs: { subject: string; workload: string; verify: string }[] } => JSON.parse(readFileSync(FIXTURE, 'utf8'));

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'hakmem-chart-'));
  dirs.push(d);
  return d;
}

/**
 * Well-formed XML, checked without a parser: one root `svg`, every tag closed in order,
 * attribute values quoted and free of `<`, no raw `<` or stray `&` in text.
 */
function expectWellFormed(svg: string): void {
  const body = svg.replace(/^<\?xml[^>]*\?>\s*/, '');
  expect(body.startsWith('<svg ')).toBe(true);
  expect(body.trimEnd().endsWith('</svg>')).toBe(true);
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(body); m !== null; m = tag.exec(body)) {
    const text = body.slice(last, m.index);
    expect(text, `text before ${m[0]}`).not.toMatch(/<|&(?!(?:amp|lt|gt|quot|apos);)/);
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      expect(stack.pop(), `closing ${name}`).toBe(name);
    } else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) {
      roots++;
    }
  }
  // Whatever the tag pattern did not match (a malformed tag) stays as text with a '<' in it.
  expect(body.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
}

const count = (svg: string, pattern: RegExp): number => svg.match(pattern)?.length ?? 0;

describe('hakmem-bench chart', () => {
  test('one chart per workload of the --json file, single-thread first, with its runs grouped', () => {
    const specs = chartSpecs(load());
    expect(specs.map((s) => s.workload)).toEqual(['alloc-test', 'default', 'cache-scratch']);
    const [alloc, , scratch] = specs;
    expect(alloc!.groups).toHaveLength(1);
    expect(alloc!.groups[0]!.bars.map((b) => b.subject)).toEqual(['hakmem', 'seglist', 'null']);
    expect(alloc!.groups[0]!.bars[0]).toMatchObject({ median: 6e6, min: 4.8e6, max: 7.2e6, runs: 3, footprint: 4 * 1024 * 1024 });
    expect(alloc!.subtitle).toBe('40000 cycles; items 65536, maxLog2 10; 9 runs');
    expect(scratch!.groups.map((g) => g.label)).toEqual(['1 thread', '2 threads']);
    expect(scratch!.subjects).toEqual(['hakmem', 'thing-locked', 'null']);
  });

  /** The tooltips (`<title>`) of the bars drawn in a panel: Plot puts one inside each bar's rect. */
  const tips = (svg: string, unit: RegExp): string[] => [...svg.matchAll(/<rect[^>]*><title>([^<]*)<\/title><\/rect>/g)].map((m) => m[1]!).filter((t) => unit.test(t));

  test('a single-thread chart (Observable Plot): well-formed SVG, one bar per subject in each panel, whiskers, labels', () => {
    const spec = chartSpecs(load())[0]!;
    const svg = renderSvg(spec);
    expectWellFormed(svg);
    expect(svg).toContain('class="plot-'); // drawn by Plot, nested in the page
    expect(count(svg, /<svg /g)).toBe(3); // the page and its two panels
    expect(tips(svg, /M ops\/s/)).toEqual([
      'hakmem: 6.00 M ops/s (4.80–7.20), 3 runs', 'seglist: 7.50 M ops/s (6.00–9.00), 3 runs', 'null: 9.00 M ops/s (7.20–10.8), 3 runs',
    ]);
    expect(tips(svg, /MiB$/)).toEqual(['hakmem: 4.00 MiB', 'seglist: 5.00 MiB', 'null: 0 MiB']);
    expect(count(svg, /aria-label="rule"/g)).toBeGreaterThanOrEqual(1); // the whiskers
    expect(count(svg, /aria-label="tick"/g)).toBe(2); // their caps, low and high
    for (const subject of ['hakmem', 'seglist', 'null']) expect(svg).toMatch(new RegExp(`<text[^>]*>${subject}</text>`));
    expect(svg).toContain('>alloc-test</text>');
    expect(svg).toContain('M ops/s: median of the runs, whiskers min–max</text>');
    expect(svg).toContain('peak footprint, MiB');
    expect(svg).toContain('>6.00</text>'); // the value over the bar
    expect(svg).not.toContain('log scale');
  });

  test('a multi-thread chart: a facet per thread count, a bar per subject in each, a log axis when the bars span > 50×', () => {
    const spec = chartSpecs(load())[2]!;
    const svg = renderSvg(spec);
    expectWellFormed(svg);
    const rates = tips(svg, /M ops\/s/);
    expect(rates).toHaveLength(6);
    for (const t of ['1 thread', '2 threads']) expect(rates.filter((x) => x.includes(` × ${t}: `))).toHaveLength(3);
    expect(svg).toContain('>1 thread</text>');
    expect(svg).toContain('>2 threads</text>');
    expect(svg).toContain('(log scale)');
    expect(renderSvg(spec, { scale: 'linear' })).not.toContain('(log scale)');
  });

  test('marks a subject whose verify failed; escapes names', () => {
    const doc = load();
    for (const r of doc.runs) {
      if (r.workload === 'default' && r.subject === 'thing') {
        r.subject = 'experiments/a&b<c>.ts';
        r.verify = 'FAILED';
      }
    }
    const spec = chartSpecs(doc).find((s) => s.workload === 'default')!;
    const svg = renderSvg(spec);
    expectWellFormed(svg);
    expect(svg).toContain('>experiments/a&amp;b&lt;c&gt;.ts</text>');
    expect(svg).toContain('(verify FAILED)</title>');
    expect(svg).toContain('stroke="#d62728"');
    expect(escapeXml(`"'&<>`)).toBe('&quot;&apos;&amp;&lt;&gt;');
  });

  test("a trace replay's footprint over time: a line per subject and the trace's live bytes", () => {
    const doc = load() as unknown as { runs: Record<string, unknown>[] };
    const series = (scale: number): Record<string, number[]> => ({ events: [100, 200, 300], footprint: [1, 2, 2].map((v) => v * scale * 1024 * 1024), live: [0.5, 1, 0.25].map((v) => v * 1024 * 1024) });
    for (const [i, subject] of ['hakmem', 'thing'].entries()) {
      doc.runs.push({ subject, workload: 'trace:python-json', cycles: 300, seed: 42, run: 0, opsPerSec: 1e6, footprint: 2, verify: 'ok', series: series(i + 1) });
    }
    const [spec] = seriesSpecs(doc);
    expect(spec!.workload).toBe('trace:python-json');
    expect(spec!.live).toEqual([{ events: 100, bytes: 0.5 * 1024 * 1024 }, { events: 200, bytes: 1024 * 1024 }, { events: 300, bytes: 0.25 * 1024 * 1024 }]);
    expect(spec!.subjects.map((s) => [s.subject, s.points.at(-1)!.bytes / 1024 / 1024])).toEqual([['hakmem', 2], ['thing', 4]]);
    const svg = renderSeriesSvg(spec!);
    expectWellFormed(svg);
    expect(count(svg, /aria-label="line"/g)).toBe(2); // the live bytes, the subjects (one mark, a path per subject)
    expect(count(svg, /<g stroke-dasharray="4 3"[^>]*aria-label="line"><path /g)).toBe(1); // the live bytes, dashed
    expect(count(svg, /<path[^>]*stroke="#1f77b4"/g) + count(svg, /<path[^>]*stroke="#ff7f0e"/g)).toBe(2); // hakmem's and thing's lines
    expect(svg).toContain('>hakmem 2.00</text>');
    expect(svg).toContain('>thing 4.00</text>');
    const dir = tmp();
    expect(writeCharts(doc, dir).map((p) => p.slice(dir.length + 1))).toContain('trace-python-json.footprint.svg');
  });

  test('writes one file per workload, in-process and through the CLI', () => {
    const dir = tmp();
    const written = writeCharts(load(), dir);
    expect(written.map((p) => p.slice(dir.length + 1))).toEqual(['alloc-test.svg', 'default.svg', 'cache-scratch.svg']);
    expect(chartFileName('trace:python-json')).toBe('trace-python-json.svg');
    const out = join(tmp(), 'charts');
    const r = spawnSync(process.execPath, [CLI, 'chart', FIXTURE, '--out', out], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['alloc-test.svg', 'cache-scratch.svg', 'default.svg']);
    expectWellFormed(readFileSync(join(out, 'cache-scratch.svg'), 'utf8'));
    expect(() => chartSpecs({ nothing: true })).toThrow(/not a hakmem-bench --json document/);
  });
});
