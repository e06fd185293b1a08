#!/usr/bin/env node
// The heap viewer's local server: `npm run viewer -- <snapshot-file>` (from the repository
// root) builds the page when its build is missing or older than its sources, then serves
// dist/ and the file on 127.0.0.1, and prints the URL. The page fetches the file from
// /snapshot. A tiny node:http static server: no dependency, nothing but GET and HEAD.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { basename, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const APP = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(APP, 'dist');
const DEFAULT_PORT = 5177;

const USAGE = `usage: npm run viewer -- [FILE] [--port N] [--host ADDR] [--no-build | --build-only]
  FILE: a heap.snapshot() written as JSON, a series (hakmem-bench trace snapshots), or
  either gzipped (.gz). Serves the heap viewer and FILE on http://ADDR:PORT/ (default
  127.0.0.1:${DEFAULT_PORT}, the next free port when taken); without FILE the page offers
  to open one. Builds the page first when dist/ is missing or older than its sources
  (--build-only: only that, then exit).`;

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml', '.ico': 'image/x-icon',
};

/** Newest modification time (ms) of the page's sources. */
function sourcesTime() {
  let newest = 0;
  const visit = (path) => {
    const st = statSync(path);
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['src', 'index.html', 'vite.config.ts', 'package.json']) if (existsSync(join(APP, p))) visit(join(APP, p));
  return newest;
}

/** True when dist/ is missing or older than a source file. */
export function needsBuild() {
  const index = join(DIST, 'index.html');
  return !existsSync(index) || statSync(index).mtimeMs < sourcesTime();
}

/** Runs `vite build` in the app (throws when it fails). */
export function build() {
  const vite = join(createRequire(import.meta.url).resolve('vite/package.json'), '..', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build'], { cwd: APP, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`vite build failed (exit ${r.status ?? r.signal})`);
}

/**
 * Serves dist/ and `file` (at /snapshot; 404 there when no file). Resolves with the
 * server and its URL once it listens; `port` 0 takes any free port.
 */
export function serve({ file, port = DEFAULT_PORT, host = '127.0.0.1' } = {}) {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let body;
    let headers;
    try {
      if (path === '/snapshot') {
        if (file === undefined) throw Object.assign(new Error('no file'), { code: 'ENOENT' });
        body = readFileSync(file); // read at every request: a file written again is served anew
        headers = { 'Content-Type': 'application/octet-stream', 'X-Snapshot-Name': encodeURIComponent(basename(file)) };
      } else {
        const rel = normalize(path === '/' ? 'index.html' : path.slice(1));
        const full = resolve(DIST, rel);
        if (full !== DIST && !full.startsWith(DIST + sep)) throw Object.assign(new Error('outside'), { code: 'ENOENT' });
        body = readFileSync(full);
        headers = { 'Content-Type': TYPES[extname(full)] ?? 'application/octet-stream' };
      }
    } catch (error) {
      const missing = error.code === 'ENOENT' || error.code === 'EISDIR';
      res.writeHead(missing ? 404 : 500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(missing ? 'not found\n' : `${error.message}\n`);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': body.length, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolvePromise, reject) => {
    const listen = (p, retry) => {
      server.once('error', (error) => {
        if (retry && error.code === 'EADDRINUSE') listen(0, false);
        else reject(error);
      });
      server.listen(p, host, () => {
        const { port: actual } = server.address();
        resolvePromise({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}/` });
      });
    };
    listen(port, port === DEFAULT_PORT);
  });
}

async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' },
      'no-build': { type: 'boolean', default: false }, 'build-only': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values['build-only']) {
    if (needsBuild()) build();
    return;
  }
  if (positionals.length > 1) throw new Error(`one file at a time (got ${positionals.length})\n${USAGE}`);
  // npm run changes the directory to the root: a relative path is the caller's (INIT_CWD).
  const file = positionals[0] === undefined ? undefined : resolve(process.env.INIT_CWD ?? process.cwd(), positionals[0]);
  if (file !== undefined && !existsSync(file)) throw new Error(`no file ${file}`);
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${values.port}`);
  if (!values['no-build'] && needsBuild()) {
    console.log('heap viewer: building the page (vite build)…');
    build();
  }
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`no build in ${DIST} (run without --no-build)`);
  const { url } = await serve({ file, port, host: values.host });
  console.log(`heap viewer: ${url}${file === undefined ? ' (no file: open one in the page)' : ` — ${file}`}`);
  console.log('(Ctrl-C to stop)');
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`heap viewer: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  });
}
