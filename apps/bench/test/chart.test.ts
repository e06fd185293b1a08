import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { chartFileName, chartSpecs, escapeXml, renderSvg, writeCharts } from '../src/chart.js';

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

  test('a single-thread chart: well-formed SVG, one bar per subject in each panel, whiskers, labels', () => {
    const spec = chartSpecs(load())[0]!;
    const svg = renderSvg(spec);
    expectWellFormed(svg);
    expect(count(svg, /<rect class="bar" data-panel="ops"/g)).toBe(3);
    expect(count(svg, /<rect class="bar" data-panel="footprint"/g)).toBe(3);
    expect(count(svg, /class="whisker"/g)).toBe(3);
    for (const subject of ['hakmem', 'seglist', 'null']) {
      expect(svg).toContain(`data-subject="${subject}"`);
      expect(svg).toMatch(new RegExp(`<text class="subject"[^>]*>${subject}</text>`));
    }
    expect(svg).toContain('>alloc-test</text>');
    expect(svg).toContain('M ops/s: median of the runs, whiskers min–max</text>');
    expect(svg).toContain('peak footprint, MiB');
    expect(svg).toContain('<title>hakmem: 6.00 M ops/s (4.80–7.20), 3 runs</title>');
    expect(svg).toContain('>6.00</text>'); // the value over the bar
    expect(svg).not.toContain('log scale');
  });

  test('a multi-thread chart: a group per thread count, a bar per subject in each, a legend, a log axis when the bars span > 50×', () => {
    const spec = chartSpecs(load())[2]!;
    const svg = renderSvg(spec);
    expectWellFormed(svg);
    expect(count(svg, /<rect class="bar" data-panel="ops"/g)).toBe(6);
    for (const t of [1, 2]) expect(count(svg, new RegExp(`data-panel="ops" data-subject="[^"]+" data-threads="${t}"`, 'g'))).toBe(3);
    expect(svg).toContain('>1 thread</text>');
    expect(svg).toContain('>2 threads</text>');
    expect(count(svg, /<text class="legend"/g)).toBe(3);
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
    expect(svg).toContain('data-subject="experiments/a&amp;b&lt;c&gt;.ts"');
    expect(svg).toContain('(verify FAILED)</title>');
    expect(svg).toContain('stroke="#d62728"');
    expect(escapeXml(`"'&<>`)).toBe('&quot;&apos;&amp;&lt;&gt;');
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
