#!/usr/bin/env node
// npm run release:dry — everything a release does short of `npm publish`, and a check that
// what would be published installs and works in a project that is not this workspace.
//
//   1. build       turbo run build (cached when nothing changed)
//   2. deps        every bare import of each package's dist files is a declared dependency
//   3. pack        npm pack of every publishable (non-private) package into a temp dir
//   4. publint     each tarball (errors and warnings fail; suggestions are printed)
//   5. attw        @arethetypeswrong/cli on each tarball (node10, node16 CJS/ESM, bundler)
//   6. install     two fresh projects under os.tmpdir(), each `npm install`ing tarballs:
//                  "app" every package; "box" only @hakmem/os-boundary + @hakmem/memory-backend
//                  (offline). Every @hakmem package resolves to a local tarball (overrides);
//                  third-party dependencies (fast-check, for the testkit) come from the registry.
//   7. smoke       app: ESM import and CJS require of @hakmem/allocator, malloc/write/read/free;
//                  box: os-boundary map/write/read/unmap on its own; app: tsc (node16, strict,
//                  skipLibCheck off; lib ES2024 with DOM and without: a Node-only project)
//                  over an .mts and a .cts that import every package.
//   8. size        esbuild bundles of the consumer (one helper; createHeap + malloc + free),
//                  minified, against SIZE_BUDGET.
//
// Usage: node tools/release/release-dry.mjs [--no-build] [--keep]
//   --no-build  skip step 1 (dist/ must be current)
//   --keep      keep the temp dir (printed) for inspection; it is always kept on failure
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, copyFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { ROOT, ReleaseError, buildAll, mapLimit, publishablePackages, readJson, run, runCollect, runMain, timer } from './workspace.mjs';

const args = new Set(process.argv.slice(2));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const CONSUMER = join(ROOT, 'tools', 'release', 'consumer');
const BOX_DEPS = ['@hakmem/os-boundary', '@hakmem/memory-backend'];

/** The environment for npm in the temp projects: none of the variables `npm run` sets for this workspace. */
function cleanNpmEnv() {
  const env = {};
  const drop = /^npm_(?!config_)|^npm_config_(local_prefix|prefix|global_prefix|workspaces?|include_workspace_root|call)$|^init_cwd$/i;
  for (const [k, v] of Object.entries(process.env)) if (!drop.test(k)) env[k] = v;
  env.NPM_CONFIG_UPDATE_NOTIFIER = 'false';
  return env;
}

/** Bare specifiers (package names) imported by a JS or .d.ts file, comments ignored. */
function importedPackages(file) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const names = new Set();
  for (const { fileName: spec } of info.importedFiles) {
    if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0])) continue;
    names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
  }
  return names;
}

/** Step 2: what a package's dist imports must be in its dependencies (hoisting in a consumer would hide it). */
function checkDeclaredDeps(packages) {
  const problems = [];
  for (const p of packages) {
    const declared = new Set([...Object.keys(p.pkg.dependencies ?? {}), ...Object.keys(p.pkg.peerDependencies ?? {}), p.name]);
    for (const f of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) {
      const file = join(p.dir, 'dist', f);
      if (!existsSync(file)) { problems.push(`${p.name}: dist/${f} is missing (not built?)`); continue; }
      for (const dep of importedPackages(file)) {
        if (!declared.has(dep)) problems.push(`${p.name}: dist/${f} imports ${dep}, which is not in its dependencies`);
      }
    }
  }
  if (problems.length) throw new ReleaseError(`undeclared dependencies:\n  ${problems.join('\n  ')}`);
}

/** Step 3: one `npm pack` for all packages; returns Map name → absolute tarball path. */
function packAll(packages, dest) {
  mkdirSync(dest, { recursive: true });
  const out = run(NPM, ['pack', '--pack-destination', dest, '--json', '--loglevel=error', ...packages.flatMap((p) => ['-w', p.rel])], { capture: true });
  const start = out.indexOf('[');
  const entries = JSON.parse(out.slice(start));
  const tarballs = new Map();
  const problems = [];
  for (const e of entries) {
    tarballs.set(e.name, join(dest, e.filename));
    const files = new Set(e.files.map((f) => f.path));
    for (const need of ['package.json', 'README.md', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts']) {
      if (!files.has(need)) problems.push(`${e.name}: the tarball lacks ${need}`);
    }
    for (const f of files) if (/^(src|test)\//.test(f)) problems.push(`${e.name}: the tarball ships ${f}`);
    console.log(`   ${e.filename}  ${(e.size / 1024).toFixed(1)} KiB, ${e.entryCount} files`);
  }
  for (const p of packages) if (!tarballs.has(p.name)) problems.push(`${p.name}: npm pack made no tarball`);
  if (problems.length) throw new ReleaseError(`pack:\n  ${problems.join('\n  ')}`);
  return tarballs;
}

/** Step 4: publint on each tarball. */
async function runPublint(packages, tarballs) {
  const failures = [];
  for (const p of packages) {
    const buf = readFileSync(tarballs.get(p.name));
    const tarball = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const { messages, pkg } = await publint({ pack: { tarball }, level: 'suggestion' });
    for (const m of messages) {
      const line = `${p.name}: ${m.type}: ${formatMessage(m, pkg, { color: false })}`;
      if (m.type === 'suggestion') console.log(`   (${line})`);
      else failures.push(line);
    }
  }
  if (failures.length) throw new ReleaseError(`publint:\n  ${failures.join('\n  ')}`);
  console.log(`   publint: ${packages.length} packages, no errors or warnings`);
}

/** Step 5: attw on each tarball, a few at a time. */
async function runAttw(packages, tarballs) {
  const bin = join(ROOT, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
  if (!existsSync(bin)) throw new ReleaseError('@arethetypeswrong/cli is not installed (npm ci at the root)');
  const results = await mapLimit(packages, Math.max(2, availableParallelism()), (p) =>
    runCollect(process.execPath, [bin, tarballs.get(p.name), '--profile', 'strict', '--format', 'table', '--no-color', '--no-emoji'], {
      env: { ...process.env, FORCE_COLOR: '0' },
    }),
  );
  const failed = [];
  results.forEach((r, i) => {
    if (r.status !== 0) {
      failed.push(packages[i].name);
      console.error(`\n--- attw ${packages[i].name} (exit ${r.status})\n${r.out}`);
    }
  });
  if (failed.length) throw new ReleaseError(`attw found problems in ${failed.join(', ')}`);
  console.log(`   attw: ${packages.length} packages, no problems (profile strict)`);
}

/**
 * Step 6: a fresh project at `dir` whose package.json depends on `direct` (names) as tarballs;
 * `overrides` sends every @hakmem package, however deep, to its tarball as well.
 */
function installProject(dir, direct, tarballs, { offline }) {
  mkdirSync(dir, { recursive: true });
  const fileSpec = (name) => `file:${relative(dir, tarballs.get(name)).split('\\').join('/')}`;
  const dependencies = Object.fromEntries(direct.map((n) => [n, fileSpec(n)]));
  const overrides = Object.fromEntries([...tarballs.keys()].map((n) => [n, fileSpec(n)]));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({
    name: `hakmem-release-smoke-${dir.split(/[\\/]/).pop()}`, version: '0.0.0', private: true, dependencies, overrides,
  }, null, 2)}\n`);
  run(NPM, ['install', '--no-audit', '--no-fund', '--loglevel=error', offline ? '--offline' : '--prefer-offline'], { cwd: dir, env: cleanNpmEnv() });
  // Every @hakmem package in the tree must have come from a local tarball, never a registry.
  const lock = readJson(join(dir, 'package-lock.json'));
  const bad = [];
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (/(^|\/)node_modules\/@hakmem\//.test(path) && !(entry.resolved ?? '').startsWith('file:')) bad.push(`${path} (${entry.resolved ?? entry.version})`);
  }
  if (bad.length) throw new ReleaseError(`${dir}: @hakmem packages not installed from the tarballs: ${bad.join(', ')}`);
}

/** Step 7, types: an .mts and a .cts importing every package, checked with the workspace's tsc. */
function writeTypeCheck(dir, packages) {
  const imports = packages.map((p, i) => `import type * as P${i} from '${p.name}';`).join('\n');
  const uses = `export type All = [${packages.map((_, i) => `typeof P${i}`).join(', ')}];\n`;
  const body = `const heap = createHeap({ maxBytes: 16 << 20 });\nconst p: number = heap.malloc(64);\nconst u8: Uint8Array = heap.u8(p, 64);\nu8[0] = 1;\nheap.free(p);\n`;
  writeFileSync(join(dir, 'types-esm.mts'), `${imports}\nimport { createHeap } from '@hakmem/allocator';\n${uses}${body}`);
  writeFileSync(join(dir, 'types-cjs.cts'), `${imports}\nimport allocator = require('@hakmem/allocator');\n${uses}${body.replace('createHeap(', 'allocator.createHeap(')}`);
  // Twice: with the DOM library (a browser project), and without it (a Node-only project,
  // where TypeScript has no WebAssembly namespace: the published types must not need one).
  for (const [file, lib] of [['tsconfig.json', ['ES2024', 'DOM']], ['tsconfig.nodom.json', ['ES2024']]]) {
    writeFileSync(join(dir, file), `${JSON.stringify({
      compilerOptions: {
        module: 'node16', moduleResolution: 'node16', target: 'ES2022', lib, types: [],
        strict: true, noEmit: true, skipLibCheck: false,
      },
      files: ['types-esm.mts', 'types-cjs.cts'],
    }, null, 2)}\n`);
  }
}

/**
 * The size budget a consumer's bundle is held to (esbuild, minified ESM, from the
 * installed tarballs; bytes). `helper`: one helper imported from @hakmem/allocator must
 * not pull in the boxes (`defaultBoxes` is pure); `heap`: createHeap + malloc + free, the
 * whole default composition. The allocator README quotes them.
 */
export const SIZE_BUDGET = {
  helper: { source: "import { layoutFor } from '@hakmem/allocator';\nconsole.log(layoutFor(16 << 20).heapStart);\n", minified: 4_000 },
  heap: { source: "import { createHeap } from '@hakmem/allocator';\nconst h = createHeap();\nh.free(h.malloc(64));\n", minified: 140_000, gzipped: 45_000 },
};

/** Step 8: bundles each SIZE_BUDGET entry in the consumer project and fails above its budget. */
async function checkSizes(app) {
  const { build } = await import('esbuild');
  const { gzipSync } = await import('node:zlib');
  for (const [name, b] of Object.entries(SIZE_BUDGET)) {
    const out = await build({
      stdin: { contents: b.source, resolveDir: app, loader: 'js' }, bundle: true, minify: true, write: false,
      format: 'esm', platform: 'neutral', mainFields: ['module', 'main'], conditions: ['import'], external: ['node:*'], logLevel: 'error',
    });
    const code = out.outputFiles[0].contents;
    const gz = gzipSync(code).length;
    const over = code.length > b.minified || (b.gzipped !== undefined && gz > b.gzipped);
    console.log(`${name}: ${code.length} B minified (budget ${b.minified}), ${gz} B gzipped${b.gzipped === undefined ? '' : ` (budget ${b.gzipped})`}${over ? '  OVER BUDGET' : ''}`);
    if (over) throw new ReleaseError(`size: the "${name}" bundle is over its budget (tools/release/release-dry.mjs, SIZE_BUDGET)`);
  }
}

async function main() {
  const t = timer();
  const packages = publishablePackages();
  console.log(`== release:dry — ${packages.length} publishable packages`);
  if (!args.has('--no-build')) {
    console.log('== build');
    buildAll();
    t.done('build');
  }
  console.log('== declared dependencies');
  checkDeclaredDeps(packages);
  t.done('deps');

  const tmp = mkdtempSync(join(tmpdir(), 'hakmem-release-'));
  let passed = false;
  try {
    console.log(`== pack (into ${tmp})`);
    const tarballs = packAll(packages, join(tmp, 'tarballs'));
    t.done('pack');

    console.log('== publint');
    await runPublint(packages, tarballs);
    t.done('publint');

    console.log('== attw');
    await runAttw(packages, tarballs);
    t.done('attw');

    console.log('== install into fresh projects');
    const app = join(tmp, 'app');
    const box = join(tmp, 'box');
    installProject(app, packages.map((p) => p.name), tarballs, { offline: false });
    installProject(box, BOX_DEPS, tarballs, { offline: true });
    t.done('install');

    console.log('== smoke');
    copyFileSync(join(CONSUMER, 'esm.mjs'), join(app, 'esm.mjs'));
    copyFileSync(join(CONSUMER, 'cjs.cjs'), join(app, 'cjs.cjs'));
    copyFileSync(join(CONSUMER, 'box.mjs'), join(box, 'box.mjs'));
    run(process.execPath, ['esm.mjs'], { cwd: app });
    run(process.execPath, ['cjs.cjs'], { cwd: app });
    run(process.execPath, ['box.mjs'], { cwd: box });
    writeTypeCheck(app, packages);
    for (const config of ['tsconfig.json', 'tsconfig.nodom.json']) {
      run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], { cwd: app });
    }
    console.log(`types: ok (tsc node16, ESM and CJS, ${packages.length} packages; lib ES2024 with and without DOM, skipLibCheck off)`);
    t.done('smoke');

    console.log('== size (esbuild, minified, from the installed tarballs)');
    await checkSizes(app);
    t.done('size');
    passed = true;
  } finally {
    if (args.has('--keep') || !passed) console.log(`(kept ${tmp} for inspection)`);
    else rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`\n✓ release:dry passed (${t.summary()})`);
}

runMain(main);
