// Shared by the release tools (release-dry.mjs, api-check.mjs): the workspace's
// publishable packages, child processes, timings. Plain ESM, no build needed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tools/release/../..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Reads and parses a JSON file. */
export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * The workspace packages that get published: every directory matched by the root
 * package.json's "workspaces" (plain paths or `dir/*`) whose package.json is not
 * `"private": true`. Sorted by directory. Each: { name, version, dir, rel, pkg }.
 */
export function publishablePackages(root = ROOT) {
  const rootPkg = readJson(join(root, 'package.json'));
  const dirs = [];
  for (const pattern of rootPkg.workspaces ?? []) {
    if (pattern.endsWith('/*')) {
      const base = join(root, pattern.slice(0, -2));
      if (!existsSync(base)) continue;
      for (const d of readdirSync(base, { withFileTypes: true })) {
        if (d.isDirectory()) dirs.push(join(base, d.name));
      }
    } else if (!pattern.includes('*')) {
      dirs.push(join(root, pattern));
    } else {
      throw new Error(`workspaces pattern ${pattern}: only "dir" and "dir/*" are supported here`);
    }
  }
  const out = [];
  for (const dir of dirs.sort()) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = readJson(file);
    if (pkg.private === true) continue;
    out.push({ name: pkg.name, version: pkg.version, dir, rel: relative(root, dir), pkg });
  }
  return out;
}

/** An error that the tools print as one line (no stack) before exiting 1. */
export class ReleaseError extends Error {}

/**
 * Runs a command, its output going to ours. Throws ReleaseError when it fails.
 * Options: cwd, env, capture (return stdout instead of printing it).
 */
export function run(cmd, args, { cwd = ROOT, env = process.env, capture = false } = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    env,
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    maxBuffer: 256 << 20,
  });
  if (r.error) throw new ReleaseError(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    if (capture) process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    throw new ReleaseError(`${cmd} ${args.join(' ')} (in ${cwd}) exited with ${r.status ?? r.signal}`);
  }
  return capture ? r.stdout : '';
}

/** Runs a command, collecting stdout and stderr; resolves { status, out } (never rejects). */
export function runCollect(cmd, args, { cwd = ROOT, env = process.env } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', (e) => resolvePromise({ status: -1, out: `${out}${e.message}\n` }));
    child.on('close', (status) => resolvePromise({ status, out }));
  });
}

/** Maps `items` through async `fn` with at most `limit` in flight; keeps the order. */
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Builds every workspace package through turbo (cached when nothing changed). */
export function buildAll() {
  run(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['--no-install', 'turbo', 'run', 'build', '--output-logs=errors-only'], {
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
}

/** Step timer: `const t = timer(); ...; t.done('build')` prints and records the seconds. */
export function timer() {
  const steps = [];
  let last = performance.now();
  return {
    done(label) {
      const now = performance.now();
      const seconds = (now - last) / 1000;
      last = now;
      steps.push([label, seconds]);
      console.log(`   (${label}: ${seconds.toFixed(1)} s)`);
    },
    summary() {
      const total = steps.reduce((s, [, t]) => s + t, 0);
      return `${steps.map(([l, t]) => `${l} ${t.toFixed(1)} s`).join(', ')}; total ${total.toFixed(1)} s`;
    },
  };
}

/** Runs `main`, printing a ReleaseError as one line and exiting 1 on any failure. */
export function runMain(main) {
  main().catch((e) => {
    if (e instanceof ReleaseError) console.error(`\n✗ ${e.message}`);
    else console.error(e);
    process.exit(1);
  });
}
