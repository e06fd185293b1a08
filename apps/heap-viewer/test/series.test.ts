import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeSnapshotPages, type HeapSnapshotSeries } from '@hakmem/allocator';
import { toSeries } from '../src/model.js';
import { outputDir, startViewer } from './helpers.js';

/** The series writer (`hakmem-bench trace snapshots`) and the viewer's server, as commands. */

const BENCH = fileURLToPath(new URL('../../bench/bin/hakmem-bench.mjs', import.meta.url));

describe('hakmem-bench trace snapshots', () => {
  test('a snapshot before the first record, every N records and after the last; gzipped; the viewer reads it', async () => {
    const out = join(outputDir(), 'python-json-prefix.json.gz');
    const r = spawnSync(process.execPath, [BENCH, 'trace', 'snapshots', 'python-json', '--events', '25000', '--every', '10000', '--out', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/4 snapshots of python-json/);
    const series = JSON.parse(gunzipSync(readFileSync(out)).toString()) as HeapSnapshotSeries;
    expect(series.format).toBe('hakmem-heap-series');
    expect(series.source).toBe('trace python-json');
    expect(series.every).toBe(10_000);
    expect(series.frames.map((f) => f.event)).toEqual([0, 10_000, 20_000, 25_000]);
    expect(series.frames[0]!.snapshot.liveBytes).toBe(0);
    for (const f of series.frames) expect(decodeSnapshotPages(f.snapshot.pages).count).toBe((f.snapshot.end - f.snapshot.heapStart) / 65536);
    expect(series.frames[3]!.snapshot.liveBytes).toBeGreaterThan(0);
    expect(toSeries(series, 'x').frames.length).toBe(4);
    const help = spawnSync(process.execPath, [BENCH, 'trace', 'snapshots', '--help'], { encoding: 'utf8' });
    expect(help.stdout).toContain('--every');
    const bad = spawnSync(process.execPath, [BENCH, 'trace', 'snapshots', 'python-json'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('--out');
  });
});

describe('the viewer\'s server (bin/heap-viewer.mjs)', () => {
  let viewer: Awaited<ReturnType<typeof startViewer>>;
  const file = join(outputDir(), 'server-test.json');
  const body = '{"format":"hakmem-heap-snapshot"}';

  beforeAll(async () => {
    writeFileSync(file, body);
    viewer = await startViewer([file]);
  });
  afterAll(() => {
    viewer?.child.kill();
  });

  test('prints its URL on 127.0.0.1; serves the page, the file at /snapshot, nothing outside dist/', async () => {
    expect(viewer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = await fetch(viewer.url);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    const html = await index.text();
    expect(html).toContain('hakmem heap viewer');
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(viewer.url + script)).headers.get('content-type')).toContain('javascript');
    const snap = await fetch(`${viewer.url}snapshot`);
    expect(snap.status).toBe(200);
    expect(snap.headers.get('x-snapshot-name')).toBe('server-test.json');
    expect(await snap.text()).toBe(body);
    for (const path of ['../package.json', '%2e%2e/package.json', 'nope.js']) expect((await fetch(viewer.url + path)).status).toBe(404);
    expect((await fetch(viewer.url, { method: 'POST' })).status).toBe(405);
  });

  test('a missing file is an error, not a server', () => {
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('../bin/heap-viewer.mjs', import.meta.url)), join(outputDir(), 'no-such-file.json'), '--no-build'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no file');
  });
});
