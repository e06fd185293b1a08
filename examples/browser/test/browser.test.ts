import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type OutgoingHttpHeaders, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { PageResult } from '../src/main.js';

/**
 * The example in a real browser (Debian's Chromium, driven by playwright-core, as the heap
 * viewer's test): `vite build` into a temporary directory (from source: the vite config's
 * "@hakmem/source" condition, so nothing needs building first), served by a static
 * node:http server, once with the cross-origin isolation headers and once without. Needs
 * /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it): skipped without it
 * outside CI, a failure in CI.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const inCi = (process.env.CI ?? '') !== '' && process.env.CI !== 'false';
const run = existsSync(CHROMIUM) || inCi;
if (!run) console.warn(`browser example test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

const EXAMPLE = fileURLToPath(new URL('..', import.meta.url));
const ISOLATION: OutgoingHttpHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json',
};

/** `vite build` of the example into `outDir` (throws with vite's output when it fails). */
function build(outDir: string): void {
  const vite = join(createRequire(import.meta.url).resolve('vite/package.json'), '..', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir'], { cwd: EXAMPLE, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vite build failed (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
}

/** Serves `dir` on 127.0.0.1 (any free port), every response with `headers`; resolves with its URL. */
function serve(dir: string, headers: OutgoingHttpHeaders): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const full = resolve(dir, normalize(path === '/' ? 'index.html' : path.slice(1)));
    if (!full.startsWith(dir + sep) || !existsSync(full)) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const body = readFileSync(full);
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(full)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' }).end(body);
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      done({ server, url: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/` });
    });
  });
}

/** Opens `url` in a new page and waits for the example's result (window.hakmemExample). */
async function open(browser: Browser, url: string): Promise<{ page: Page; result: PageResult; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  await page.waitForFunction(() => window.hakmemExample !== undefined, null, { timeout: 60_000 });
  const result = await page.evaluate(() => window.hakmemExample!);
  return { page, result, errors };
}

describe.skipIf(!run)('the browser example in Chromium', () => {
  let dist: string;
  let browser: Browser;
  const servers: Server[] = [];
  let isolatedUrl: string;
  let plainUrl: string;

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'hakmem-browser-example-'));
    build(dist);
    const isolated = await serve(dist, ISOLATION);
    const plain = await serve(dist, {});
    servers.push(isolated.server, plain.server);
    isolatedUrl = isolated.url;
    plainUrl = plain.url;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], headless: true });
  });

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.close();
    if (dist !== undefined) rmSync(dist, { recursive: true, force: true });
  });

  test('served with COOP/COEP: the page and a Web Worker share one heap; remote frees both ways; validate ok; nothing left', async () => {
    const { page, result, errors } = await open(browser, isolatedUrl);
    expect(result.message).toMatch(/^Done/);
    expect(result.state).toBe('done');
    expect(result.crossOriginIsolated).toBe(true);
    expect(result.local).toMatchObject({ allocated: 403, freed: 403, f64Sum: 249_750, callocZeroed: true, reallocKept: true, validate: 'ok', liveBytesAfter: 0 });
    const s = result.shared!;
    expect(s).toMatchObject({
      pageAllocated: 600, workerChecked: 600, remoteFreesByWorker: 300,
      workerAllocated: 600, workerFreedOwn: 200, remoteFreesByPage: 400, workerBlocksCheckedByPage: 400,
      pageBlocksIntact: 300, workerDetached: true, validate: 'ok', liveBytesAfter: 0,
    });
    expect(s.workerTid).not.toBe(s.pageTid);
    // The worker's blocks of the page's slabs went to the page's remote-free lists, and came back.
    expect(s.workerSentToOwners).toBeGreaterThan(0);
    expect(s.remoteDrainedByPage).toBeGreaterThan(0);
    // After the last trim, only the page's thread: the worker's abandoned id was collected.
    expect(s.threadsAfter).toEqual([`${s.pageTid} live`]);
    // What the page shows is what it reports.
    expect(JSON.parse(await page.locator('#result').innerText())).toEqual(result);
    expect(await page.locator('#message').getAttribute('data-kind')).toBe('ok');
    expect(await page.locator('body').getAttribute('data-state')).toBe('done');
    expect(errors).toEqual([]);
    console.log(`shared heap in Chromium: ${s.ms} ms; the page ran ${s.pageRoundsMeanwhile} malloc/free rounds while the worker worked; `
      + `${s.workerSentToOwners} blocks sent to the page's remote-free lists, ${s.remoteDrainedByPage} taken back`);
    await page.close();
  });

  test('served without the headers: not cross-origin isolated; the page says shared memory is unavailable and why, no crash', async () => {
    const { page, result, errors } = await open(browser, plainUrl);
    expect(result.state, result.message).toBe('no-shared');
    expect(result.crossOriginIsolated).toBe(false);
    expect(result.shared).toBeNull();
    // Asked anyway, the allocator refuses with a typed error naming the headers.
    expect(result.sharedRefused).toMatch(/^HakmemError: E_INVALID_OPTION: .*Cross-Origin-Embedder-Policy: require-corp/);
    // The heap on the page needs no isolation.
    expect(result.local).toMatchObject({ allocated: 403, validate: 'ok', liveBytesAfter: 0 });
    const message = await page.locator('#message').innerText();
    expect(message).toContain('Shared memory is unavailable');
    expect(message).toContain('crossOriginIsolated is false');
    expect(message).toContain('Cross-Origin-Opener-Policy: same-origin');
    expect(message).toContain('Cross-Origin-Embedder-Policy: require-corp');
    expect(await page.locator('#message').getAttribute('data-kind')).toBe('warning');
    expect(await page.locator('body').getAttribute('data-state')).toBe('no-shared');
    expect(errors).toEqual([]);
    await page.close();
  });
});
