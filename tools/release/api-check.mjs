#!/usr/bin/env node
// API reports: every publishable package has a committed `<name>.api.md` beside its
// package.json, a normalised copy of its built dist/index.d.ts (see api-report.mjs).
//
//   node tools/release/api-check.mjs            (npm run api:check) build, regenerate each
//       report in memory and compare it with the committed one. A package whose API
//       differs passes only when a pending changeset (.changeset/*.md) names it; for
//       @hakmem/contracts (strict semver: boxes implement its interfaces) the changeset
//       must be `major` when anything was changed or removed, at least `minor` when
//       something was only added.
//   node tools/release/api-check.mjs --update   (npm run api:update) rewrite the reports.
//   --no-build  skip `turbo run build` (dist/ must be current).
//
// Workflow: change an API → `npm run changeset` (name the package, pick the bump) →
// `npm run api:update` → commit the changeset and the reports together.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiReport, diffReports } from './api-report.mjs';
import { ROOT, ReleaseError, buildAll, publishablePackages, runMain } from './workspace.mjs';

const args = new Set(process.argv.slice(2));
const STRICT = new Set(['@hakmem/contracts']);
const RANK = { patch: 1, minor: 2, major: 3 };

/** Where a package's report lives: `<dir>/<unscoped name>.api.md`. */
export function reportPath(p) {
  return join(p.dir, `${p.name.split('/').pop()}.api.md`);
}

/**
 * Pending changesets: Map package name → { bump, files } with the highest bump any
 * .changeset/*.md (README.md aside) gives it.
 */
export function pendingChangesets(root = ROOT) {
  const dir = join(root, '.changeset');
  const named = new Map();
  if (!existsSync(dir)) return named;
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.md') || file.toLowerCase() === 'readme.md') continue;
    const text = readFileSync(join(dir, file), 'utf8').replace(/\r\n/g, '\n');
    const m = /^---\n([\s\S]*?)\n?---/.exec(text);
    if (!m) continue;
    for (const line of m[1].split('\n')) {
      const e = /^\s*(["']?)(@?[^"'\s:]+(?:\/[^"'\s:]+)?)\1\s*:\s*(major|minor|patch)\s*$/.exec(line);
      if (!e) continue;
      const [, , name, bump] = e;
      const prev = named.get(name);
      if (!prev) named.set(name, { bump, files: [file] });
      else {
        prev.files.push(file);
        if (RANK[bump] > RANK[prev.bump]) prev.bump = bump;
      }
    }
  }
  return named;
}

const clip = (chunk) => {
  const lines = chunk.split('\n');
  return lines.length > 6 ? [...lines.slice(0, 5), `    … (${lines.length - 5} more lines)`].join('\n') : chunk;
};

/** The changes as text: a declaration that changed shows its changed lines under `~`. */
function describe(diff, limit = 12) {
  const out = [];
  const head = (c) => c.split('\n')[0];
  const addedByHead = new Map(diff.added.map((c) => [head(c), c]));
  const paired = new Set();
  for (const r of diff.removed) {
    const a = addedByHead.get(head(r));
    if (a !== undefined && r.includes('\n')) {
      paired.add(a);
      const rl = r.split('\n');
      const al = a.split('\n');
      out.push(`    ~ ${head(r)}`);
      for (const l of rl) if (!al.includes(l)) out.push(`      - ${l.trim()}`);
      for (const l of al) if (!rl.includes(l)) out.push(`      + ${l.trim()}`);
    } else {
      out.push(`    - ${clip(r).replace(/\n/g, '\n      ')}`);
    }
  }
  for (const a of diff.added) if (!paired.has(a)) out.push(`    + ${clip(a).replace(/\n/g, '\n      ')}`);
  return out.length > limit * 3 ? [...out.slice(0, limit * 3), `    … (${out.length - limit * 3} more lines)`].join('\n') : out.join('\n');
}

async function main() {
  const update = args.has('--update');
  const packages = publishablePackages();
  if (!args.has('--no-build')) {
    console.log('== build');
    buildAll();
  }
  const changesets = pendingChangesets();
  const failures = [];
  let changed = 0;
  console.log(`== API reports (${packages.length} packages${update ? ', updating' : ''})`);
  for (const p of packages) {
    const dts = join(p.dir, 'dist', 'index.d.ts');
    if (!existsSync(dts)) throw new ReleaseError(`${p.name}: ${relative(ROOT, dts)} is missing (build first)`);
    const fresh = apiReport(p.name, readFileSync(dts, 'utf8'));
    const file = reportPath(p);
    const rel = relative(ROOT, file);
    const committed = existsSync(file) ? readFileSync(file, 'utf8') : null;
    if (committed === fresh) continue;
    changed++;
    const diff = committed === null ? { removed: [], added: [] } : diffReports(committed, fresh);
    const kind = committed === null ? 'new' : diff.removed.length > 0 ? 'changed' : diff.added.length > 0 ? 'added' : 'reformatted';
    const cs = changesets.get(p.name);
    const need = !STRICT.has(p.name) || kind === 'new' ? 'patch' : kind === 'changed' ? 'major' : 'minor';
    const covered = kind === 'reformatted' || (cs !== undefined && RANK[cs.bump] >= RANK[need]);
    const what = { new: 'has no committed report', changed: 'changed', added: 'grew', reformatted: 'is unchanged' }[kind];

    if (update) {
      writeFileSync(file, fresh);
      console.log(`   wrote ${rel} (API ${what})`);
      if (kind !== 'new' && !covered) {
        console.warn(`   ! ${p.name}: no pending changeset${cs ? ` with a ${need} bump` : ''} names it: add one (npm run changeset)${need !== 'patch' ? `, ${need} for this change` : ''}`);
      }
      continue;
    }
    if (kind === 'reformatted') {
      failures.push(`${p.name}: ${rel} is out of date, though the API is unchanged (no changeset needed): run npm run api:update`);
      continue;
    }
    if (covered) {
      console.log(`   ${p.name}: API ${what}, covered by the ${cs.bump} changeset ${cs.files.join(', ')} (npm run api:update refreshes ${rel})`);
      continue;
    }
    const why = cs === undefined
      ? 'and no pending changeset (.changeset/*.md) names it'
      : `and its pending changeset is ${cs.bump}: ${p.name} follows strict semver, so this change needs ${need}`;
    failures.push(`${p.name}: the API ${what} (${rel}) ${why}${kind === 'new' ? '' : `\n${describe(diff)}`}`);
  }
  if (failures.length > 0) {
    const advice = failures.some((f) => !f.includes('the API is unchanged'))
      ? '\n\nAn API change needs a changeset: `npm run changeset` (name the package, choose the bump), then\n' +
        '`npm run api:update` to rewrite the reports, and commit both.'
      : '';
    throw new ReleaseError(`API check failed:\n  ${failures.join('\n  ')}${advice}`);
  }
  if (update) console.log(`✓ ${changed} report(s) written, ${packages.length - changed} unchanged`);
  else console.log(`✓ API reports: ${packages.length - changed} unchanged${changed ? `, ${changed} changed with a changeset` : ''}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runMain(main);
