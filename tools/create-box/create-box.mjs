#!/usr/bin/env node
// Scaffolds a new box: a private package that implements one box contract, starts as a
// copy of the default box's source (so its conformance suite passes from the first run;
// `--delegate`: a thin factory calling the default box instead), and comes with a README,
// a vitest test running the testkit conformance suite for the contract, and a composition
// file (src/heap.ts) for `hakmem-bench compare --b`. Plain Node, no build.
//
//   npm run new-box -- <contract> <name> [--dir <path>] [--delegate] [--force] [--no-link] [--no-install]
//   npm run new-box -- --list
//
// See tools/create-box/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTRACTS } from './contracts.mjs';

export { CONTRACTS };

/** The repository root (tools/create-box/../..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where a box goes without `--dir` (relative to the root; a workspaces glob of the root package.json). */
export const DEFAULT_PARENT = 'boxes-contrib';

/** The sections every box README has (packages/boxes/<box>/README.md), in order. */
export const README_SECTIONS = [
  'What it owns', 'Contract', 'Invariants', 'Layout', 'Complexity / memory overhead',
  'Options', 'Stats', 'Debug checks', 'Tests', 'Benchmark figures',
];

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** An error the CLI prints as one line (no stack) before exiting 1. */
export class CreateBoxError extends Error {}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const posix = (p) => p.split(sep).join('/');

/** Word-wraps `text` to `width` columns, each line starting with `prefix`. */
function wrap(text, prefix = '', width = 92) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && prefix.length + line.length + 1 + word.length > width) {
      lines.push(prefix + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(prefix + line);
  return lines.join('\n');
}

/** `fifo-cache` → `FifoCache`. */
export function pascal(name) {
  return name.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

/** True when `rel` (a path relative to the root, `/`-separated) is matched by one of the workspaces patterns (`dir` or `dir/*`). */
export function matchesWorkspaces(patterns, rel) {
  return patterns.some((p) => {
    if (p.endsWith('/*')) {
      const base = p.slice(0, -2);
      return rel.startsWith(`${base}/`) && !rel.slice(base.length + 1).includes('/');
    }
    return p === rel;
  });
}

/**
 * How `dir` relates to the workspace rooted at `root`:
 * - `outside`: not under the root;
 * - `workspace`: matched by a workspaces pattern of the root package.json already;
 * - `scratch`: under the root but git-ignored (e.g. `tmp/`): left out of the workspaces;
 * - `add`: under the root, neither: its path is to be added to the workspaces.
 */
export function workspaceStatus(root, dir) {
  const rel = posix(relative(root, dir));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return { status: 'outside', rel };
  const patterns = readJson(join(root, 'package.json')).workspaces ?? [];
  if (matchesWorkspaces(patterns, rel)) return { status: 'workspace', rel };
  const git = spawnSync('git', ['check-ignore', '-q', rel], { cwd: root });
  if (git.status === 0) return { status: 'scratch', rel };
  return { status: 'add', rel };
}

/** Versions of the workspace's packages (name → version) and of the root's dev tools. */
function versions(root) {
  const out = {};
  for (const base of ['packages', 'packages/boxes', 'apps']) {
    const abs = join(root, base);
    if (!existsSync(abs)) continue;
    for (const d of readdirSync(abs, { withFileTypes: true })) {
      const file = join(abs, d.name, 'package.json');
      if (d.isDirectory() && existsSync(file)) {
        const pkg = readJson(file);
        out[pkg.name] = pkg.version;
      }
    }
  }
  const dev = readJson(join(root, 'package.json')).devDependencies ?? {};
  for (const tool of ['vitest', 'typescript', '@types/node']) if (dev[tool] !== undefined) out[tool] = dev[tool];
  return out;
}

/** A section of a default box's README (its body, without the heading), or undefined. */
function readmeSection(root, contract, heading) {
  const file = join(root, 'packages', 'boxes', contract, 'README.md');
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}` || l.startsWith(`## ${heading} `));
  if (start < 0) return undefined;
  let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  if (end < 0) end = lines.length;
  return lines.slice(start + 1, end).join('\n').trim();
}

function importLines(imports) {
  const order = (pkg) => (pkg.startsWith('node:') ? `0${pkg}` : pkg === 'vitest' ? '1' : pkg.startsWith('@hakmem/') ? `3${pkg}` : `2${pkg}`);
  return Object.keys(imports).sort((a, b) => order(a).localeCompare(order(b))).map((pkg) => {
    const names = [...new Set(imports[pkg])];
    const types = names.every((n) => n.startsWith('type '));
    const list = (types ? names.map((n) => n.slice(5)) : names).sort((a, b) => a.replace(/^type /, '').localeCompare(b.replace(/^type /, '')));
    return `import ${types ? 'type ' : ''}{ ${list.join(', ')} } from '${pkg}';`;
  }).join('\n');
}

/** The relative modules (`./x.js` → `x.ts`) a source file imports or re-exports; comments (JSDoc `@example`s) are skipped. */
function relativeImports(text) {
  const out = [];
  for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*'\.\/([\w.-]+)\.js'/gms)) out.push(`${m[1]}.ts`);
  for (const m of text.matchAll(/^import\s*'\.\/([\w.-]+)\.js'/gm)) out.push(`${m[1]}.ts`);
  return out;
}

/** The packages (bare specifiers) a source file imports or re-exports; comments are skipped. */
function packageImports(text) {
  return [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*'((?:@[\w.-]+\/)?[\w.-]+)'/gms)].map((m) => m[1]);
}

/**
 * The source of a contract's default box: packages/boxes/<contract>/src of `root` (or, when
 * `root` has none — a throw-away root in the tests — of this checkout). `main` is the file
 * that exports the factory; `files` it and every module it imports, transitively (index.ts
 * only re-exports: it is never needed), as { file name → text }; `root` the checkout read.
 */
export function defaultSource(root, contract) {
  const c = CONTRACTS[contract];
  let from = root;
  if (!existsSync(join(from, 'packages', 'boxes', contract, 'src'))) from = ROOT;
  const src = join(from, 'packages', 'boxes', contract, 'src');
  if (!existsSync(src)) throw new CreateBoxError(`the default box's source (packages/boxes/${contract}/src) is missing; --delegate writes a box that calls ${c.pkg} instead`);
  const names = readdirSync(src).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'index.ts');
  const declares = new RegExp(`^export function ${c.factory}\\(`, 'm');
  const main = names.find((f) => declares.test(readFileSync(join(src, f), 'utf8')));
  if (main === undefined) throw new CreateBoxError(`no file of packages/boxes/${contract}/src declares export function ${c.factory}(…); --delegate writes a box that calls it instead`);
  const files = {};
  const todo = [main];
  while (todo.length > 0) {
    const f = todo.pop();
    if (Object.hasOwn(files, f)) continue;
    if (!names.includes(f)) throw new CreateBoxError(`packages/boxes/${contract}/src/${f} (imported by the default box) is missing`);
    files[f] = readFileSync(join(src, f), 'utf8');
    todo.push(...relativeImports(files[f]));
  }
  return { root: from, dir: src, main, files };
}

/** Where the copied source comes from: the commit of `root` (and whether the box's source differs from it), or undefined outside git. */
function gitState(root, contract) {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (head.status !== 0) return undefined;
  const dirty = spawnSync('git', ['status', '--porcelain', '--', `packages/boxes/${contract}/src`], { cwd: root, encoding: 'utf8' });
  return { commit: head.stdout.trim(), dirty: dirty.status === 0 && dirty.stdout.trim() !== '' };
}

/**
 * The default box's files rewritten for the new package: the factory file becomes
 * `src/<name>.ts`, with `create<Name>` for the default factory (also in its JSDoc), the new
 * package's name for the default's in `@example` imports, a header saying what it is a
 * copy of, and the `// your code here` seam above the box class. The other modules keep
 * their names (imports of the factory file follow its new name). Returns { files, main, others, boxClass }.
 */
function copiedSource({ root, contract, name, factory, pkgName, c, origin }) {
  const { root: from, main, files } = defaultSource(root, contract);
  const others = Object.keys(files).filter((f) => f !== main).sort();
  const mainBase = main.slice(0, -3);
  const rewrite = (text) => text
    .replace(new RegExp(`\\b${c.factory}\\b`, 'g'), factory)
    .replaceAll(`'${c.pkg}'`, `'${pkgName}'`)
    .replaceAll(`'./${mainBase}.js'`, `'./${name}.js'`);
  const out = {};
  let boxClass;
  for (const f of others) {
    out[`src/${f}`] = `// Copied with src/${name}.ts from ${origin}/src/${f}. Yours to change too.\n${rewrite(files[f])}`;
  }
  const lines = rewrite(files[main]).split('\n');
  const at = lines.findIndex((l) => new RegExp(`^(export )?class \\w+ implements ([\\w, ]+, )?${c.iface}\\b`).test(l));
  if (at >= 0) {
    boxClass = /class (\w+)/.exec(lines[at])[1];
    let start = at;
    if (lines[start - 1]?.trim().endsWith('*/')) while (start > 0 && !lines[start].trim().startsWith('/**')) start--;
    lines.splice(start, 0, ...wrap(`your code here: ${boxClass} is the box — change its methods (the policy, the state it keeps), keep \`name\` and every clause of the \`${c.iface}\` contract (test/${name}.test.ts runs the conformance suite on it), and keep \`checkInvariants\` in step with the state.`, '// ').split('\n'));
  }
  out[`src/${name}.ts`] = lines.join('\n');
  return { files: out, main, others, boxClass, from };
}

/** The files of a new box, as { relative path → text }. */
export function renderBox({ contract, name, root = ROOT, dirRel, linked, inRepo, rootRel, delegate = false }) {
  const c = CONTRACTS[contract];
  const Name = pascal(name);
  const factory = `create${Name}`;
  const pkgName = `@hakmem/contrib-${name}`;
  const v = versions(root);
  const ver = (p) => v[p] ?? '*';
  const where = dirRel ?? `path/to/${name}`;
  const sig = c.ctx ? `ctx: BoxContext, options: ${c.options}` : `options: ${c.options}`;
  const call = c.ctx ? `${c.factory}(ctx, options)` : `${c.factory}(options)`;
  const suiteFn = c.suite.expr.match(/^(\w+)\(/)[1];
  const passes = 'the conformance suite passes';
  const files = {};
  const intro = wrap(`${Name}: a box for the ${contract} slot of the heap — an implementation of the
\`${c.iface}\` contract of @hakmem/contracts (packages/contracts/src/boxes/${contract}.ts in the
hakmem-ts repository). The ${contract} box is ${c.summary}.`, '// ');

  // --- src/<name>.ts (and the modules it imports): the box ----------------------------------
  // Default: a copy of the default box's source. --delegate: a factory that calls it.
  let copy;
  if (!delegate) {
    const origin = `packages/boxes/${contract}`;
    const source = copiedSource({ root, contract, name, factory, pkgName, c, origin });
    const git = gitState(source.from, contract);
    const at = git === undefined ? '' : ` at commit ${git.commit}${git.dirty ? ' (with uncommitted changes)' : ''}`;
    const version = `${c.pkg} ${versions(source.from)[c.pkg] ?? ver(c.pkg)}`;
    copy = { ...source, version, at, origin };
    const also = copy.others.length === 0 ? '' : ` (and ${copy.others.join(', ')}, copied beside this file as ${copy.others.map((f) => `src/${f}`).join(', ')})`;
    Object.assign(files, copy.files);
    files[`src/${name}.ts`] = `${intro}
//
${wrap(`A copy of the default box, ${version}: ${origin}/src/${copy.main}${also}${at},
scaffolded by \`npm run new-box -- ${contract} ${name}\`. The code is the default's, with its
factory renamed \`${c.factory}\` → \`${factory}\`, so ${passes} and src/heap.ts measures like
the default heap from the first run. It is yours to change: start at "// your code here"
below${copy.boxClass === undefined ? '' : ` (the class ${copy.boxClass})`}, keep the factory's signature (\`BoxFactories.${c.key}\` of
@hakmem/allocator) and imports of @hakmem/contracts and @hakmem/primitives only (Contract D), then
\`npm test\` runs the suite on it and \`npm run compare\` measures it. The copy
does not follow later changes of the default box: diff it against ${origin}/src to see them.`, '// ')}
${copy.files[`src/${name}.ts`]}`;
  } else {
    files[`src/${name}.ts`] = `${intro}
//
${wrap(`It starts as the default box: the factory hands its arguments to \`${c.factory}\` of
${c.pkg}, so ${passes} and src/heap.ts measures like the default heap from the first run.
Replace that call with your own implementation — a class that \`implements ${c.iface}\`, as
examples/swap-unified-cache/src/fifo-cache.ts does for the unified cache — then \`npm test\`
runs the suite on it and \`npm run compare\` measures it. (Without --delegate the
scaffolder copies the default box's source in instead.)`, '// ')}
import type { ${c.ctx ? 'BoxContext, ' : ''}${c.iface}, ${c.options} } from '@hakmem/contracts';
import { ${c.factory} } from '${c.pkg}';

/**
 * Creates a ${Name}: the signature of \`BoxFactories.${c.key}\` in @hakmem/allocator, so
 * \`createHeap({ boxes: { ${c.key}: ${factory} } })\` swaps it in (every other box stays the
 * default); a worker of a shared heap passes it again, \`attachHeap(workerData, { boxes:
 * { ${c.key}: ${factory} } })\`, or runs the default box. Throws \`HakmemError(E_INVALID_OPTION)\` for options the contract rejects.
 */
export function ${factory}(${sig}): ${c.iface} {
  // your code here: build and return your own ${c.iface} from ${c.ctx ? '`ctx` and `options`' : '`options`'}.
  return ${call};
}
`;
  }

  // --- src/heap.ts: the composition for compare -------------------------------------------
  files['src/heap.ts'] = `// The composition \`hakmem-bench compare --b\` measures against the default heap:
//
//   npm run compare     (in this package; or from the repository root:)
//   npx hakmem-bench compare --b ${where}/src/heap.ts --workloads ${c.workloads} --runs 3
//
// A module for \`compare\` exports \`heap\`: a Heap, or a function ({ maxBytes }) => Heap
// (the bench sizes the heap for each workload). Swapping the box in is one line, the
// \`boxes\` option of createHeap (or compose): \`boxes: { ${c.key}: ${factory} }\`. Only the
// ${contract} box is swapped; every other box is the default.
import { createHeap, type Heap } from '@hakmem/allocator';
import { ${factory} } from './${name}.js';

export function heap({ maxBytes }: { maxBytes: number }): Heap {
  return createHeap({ maxBytes, boxes: { ${c.key}: ${factory} } }); // the one line: ${c.key} is ${factory}
}
`;

  files['src/index.ts'] = `export { ${factory} } from './${name}.js';
export { heap } from './heap.js';
`;

  // --- test/<name>.test.ts ------------------------------------------------------------------
  const imports = {
    vitest: ['describe', 'expect', 'test'],
    'node:child_process': ['execFile'],
    'node:module': ['createRequire'],
    'node:path': ['dirname', 'join'],
    'node:url': ['fileURLToPath'],
    'node:util': ['promisify'],
    '@hakmem/testkit': ['randomOps', 'runModel'],
  };
  for (const [pkg, names] of Object.entries(c.suite.imports)) imports[pkg] = [...(imports[pkg] ?? []), ...names];
  const suiteBlock = `${c.suite.setup === '' ? '' : `${c.suite.setup}\n\n`}/**
 * Cases ${factory} does not pass yet (contract clauses it does not honour): each runs as
 * \`test.fails\`, so the gap stays visible and turns red once it is fixed (then remove it).
 */
const KNOWN_GAPS = new Set<string>([]);

describe('${factory}: the testkit conformance suite of the ${c.iface} contract (${suiteFn})', () => {
  const suite = ${c.suite.expr.replaceAll('FACTORY', factory)};
  test('the suite has cases', () => expect(suite.length).toBeGreaterThan(0));
  for (const c of suite) {
    if (KNOWN_GAPS.has(c.name)) test.fails(\`\${c.name} [known gap]\`, () => c.run());
    else test(c.name, () => c.run());
  }
});
`;
  files[`test/${name}.test.ts`] = `${importLines(imports)}
import { ${factory} } from '../src/${name}.js';
import { heap } from '../src/heap.js';

${suiteBlock}
describe('src/heap.ts: a heap with ${factory} swapped in (the module hakmem-bench compare --b takes)', () => {
  test('random operations over every tier against the testkit reference model: contents, overlap, live bytes, validate', () => {
    const h = heap({ maxBytes: 64 << 20 });
    const ops = randomOps(1, 20_000, { maxSize: 2048, bigSizes: { min: 2049, max: 2 << 20, probability: 1 / 64, logUniform: true } });
    const report = runModel(h, ops, { memoryBytes: 64 << 20, validateEvery: 5_000 });
    expect(report.mallocs).toBeGreaterThan(5_000);
    expect(h.liveBytes()).toBe(0);
    h.trim();
    h.validate();
  });

  // The bench (@hakmem/bench, the hakmem-ts repository's apps/bench) when it can be found.
  const bench = (() => {
    try {
      return join(dirname(createRequire(import.meta.url).resolve('@hakmem/bench/package.json')), 'bin', 'hakmem-bench.mjs');
    } catch {
      return undefined;
    }
  })();

  test.skipIf(bench === undefined)('hakmem-bench accepts the file: one short measurement verifies ok', async () => {
    const file = fileURLToPath(new URL('../src/heap.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [
      bench!, 'measure', '--subject', file, '--workload', '${c.measure.workload}', '--cycles', '${c.measure.cycles}', '--seed', '42',
    ]);
    const record = JSON.parse(stdout.trim().split('\\n').pop()!) as { verify: string; mallocs: number; failed: number };
    expect(record.verify).toBe('ok');
    expect(record.failed).toBe(0);
    expect(record.mallocs).toBeGreaterThan(0);
  });
});
`;

  // --- package.json, tsconfig.json, vitest.config.ts ----------------------------------------
  const testImports = Object.keys(imports).filter((p) => p.startsWith('@hakmem/'));
  // The box's own imports: a copy needs what the default's source imports (@hakmem/contracts,
  // @hakmem/primitives); the thin form, the default box; src/heap.ts, @hakmem/allocator.
  const boxPkgs = copy === undefined ? [c.pkg] : Object.values(copy.files).flatMap(packageImports);
  const deps = { '@hakmem/allocator': ver('@hakmem/allocator'), '@hakmem/contracts': ver('@hakmem/contracts') };
  for (const p of boxPkgs) deps[p] = ver(p);
  const devDeps = {};
  for (const p of testImports) if (deps[p] === undefined) devDeps[p] = ver(p);
  if (inRepo || linked) devDeps['@hakmem/bench'] = ver('@hakmem/bench');
  if (!inRepo) for (const t of ['@types/node', 'typescript', 'vitest']) devDeps[t] = ver(t);
  const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  const scripts = { typecheck: 'tsc -p tsconfig.json' };
  if (inRepo) scripts.lint = 'eslint .';
  scripts.test = 'vitest run';
  if (inRepo || linked) scripts.compare = `hakmem-bench compare --b src/heap.ts --workloads ${c.workloads} --runs 3`;
  files['package.json'] = `${JSON.stringify({
    name: pkgName,
    version: '0.0.0',
    private: true,
    description: `A box for the ${contract} slot (the ${c.iface} contract of @hakmem/contracts), scaffolded by tools/create-box ${copy === undefined ? `over the default ${c.pkg}` : `as a copy of the default ${copy.version}`}.`,
    license: 'MIT',
    type: 'module',
    exports: { '.': './src/index.ts' },
    scripts,
    dependencies: sorted(deps),
    devDependencies: sorted(devDeps),
  }, null, 2)}\n`;

  // In the workspace (or linked to it) packages resolve to their src/ through the
  // "@hakmem/source" export condition; installed from the registry, to their dist/.
  const fromSource = inRepo || linked;
  if (inRepo) {
    files['tsconfig.json'] = `${JSON.stringify({ extends: `${rootRel}/tools/tsconfig.base.json`, include: ['src', 'test'] }, null, 2)}\n`;
  } else {
    files['tsconfig.json'] = `{
  // The repository's tools/tsconfig.base.json, inlined (this package lives outside it).
  "compilerOptions": {
    "target": "ES2022",
    "useDefineForClassFields": false,
    "lib": ["ES2024", "DOM"],
    "module": "ESNext",
    "moduleResolution": "Bundler",${fromSource ? `
    // Resolve @hakmem/* to their src/ (node_modules is linked to the hakmem-ts workspace).
    "customConditions": ["@hakmem/source"],` : ''}
    "types": ["node"],
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "exactOptionalPropertyTypes": true,
    "noImplicitOverride": true,
    "noImplicitReturns": true,
    "noFallthroughCasesInSwitch": true,
    "noUnusedLocals": true,
    "noUnusedParameters": true,
    "useUnknownInCatchVariables": true,
    "isolatedModules": true,
    "verbatimModuleSyntax": true,
    "esModuleInterop": true,
    "skipLibCheck": true,
    "forceConsistentCasingInFileNames": true,
    "resolveJsonModule": true,
    "noEmit": true
  },
  "include": ["src", "test"]
}
`;
    files['.gitignore'] = 'node_modules/\n';
  }
  files['vitest.config.ts'] = fromSource
    ? `import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their src/ through the "@hakmem/source" export condition,
// so no build is needed first (as in the hakmem-ts repository's vitest.config.ts).
export default defineConfig({
  resolve: { conditions: ['@hakmem/source'] },
  ssr: { resolve: { conditions: ['@hakmem/source'], externalConditions: ['@hakmem/source'] } },
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000 },
});
`
    : `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000 },
});
`;

  // --- README.md ---------------------------------------------------------------------------
  const dflt = (heading, fallback) => readmeSection(root, contract, heading) ?? fallback;
  // A copy starts with the default box's README sections (true of it as copied); the thin
  // form with what to write in each.
  const section = (heading, guidance) => (copy === undefined ? guidance : dflt(heading, guidance));
  const checkedBy = `the testkit suite \`${suiteFn}\``;
  const copied = copy === undefined ? [] : [`src/${name}.ts`, ...copy.others.map((f) => `src/${f}`)];
  const usage = `# ${pkgName}

${wrap(`A box for the ${contract} slot of the heap, which is ${c.summary}.`)}

Implements \`${c.iface}\` from \`@hakmem/contracts\` (\`packages/contracts/src/boxes/${contract}.ts\`).
The factory is \`${factory}\` (\`src/${name}.ts\`), the signature of \`BoxFactories.${c.key}\`;
swapping it into a heap is one line, the \`boxes\` option:

\`\`\`ts
import { createHeap } from '@hakmem/allocator';
import { ${factory} } from '${pkgName}';

const heap = createHeap({ boxes: { ${c.key}: ${factory} } });   // every other box: the default
\`\`\`

${wrap(`**Workers.** Functions do not travel in \`heap.share()\`'s handle: a worker of a shared heap
built with this box must pass the factory again, or it silently runs the default box:`)}

\`\`\`ts
// main thread: createHeap({ shared: true, boxes: { ${c.key}: ${factory} } }); new Worker(url, { workerData: heap.share() })
import { attachHeap } from '@hakmem/allocator';
const heap = attachHeap(workerData, { boxes: { ${c.key}: ${factory} } });   // the same boxes as the creator
\`\`\`
`;
  const note = copy === undefined
    ? wrap(`Scaffolded by \`npm run new-box -- ${contract} ${name} --delegate\` (tools/create-box). It starts as
the default box — \`${factory}\` returns \`${c.factory}(…)\` of \`${c.pkg}\` — so ${passes}
and it measures like the default from the first run. Write your implementation at the
\`// your code here\` seam in \`src/${name}.ts\`, then keep each section below true of it
(every box README in packages/boxes/*/README.md has them).`, '> ')
    : `${wrap(`Scaffolded by \`npm run new-box -- ${contract} ${name}\` (tools/create-box) as a copy of the
default box at this version: ${copied.map((f) => `\`${f}\``).join(', ')} ${copied.length === 1 ? 'is' : 'are'} the source of
\`${copy.version}\` (\`${copy.origin}/src/\`${copy.at}) with its factory renamed \`${c.factory}\` →
\`${factory}\`. So ${passes} and it measures like the default from the first run.`, '> ')}
>
${wrap(`What to change: the box is ${copy.boxClass === undefined ? 'the object the factory returns' : `the class \`${copy.boxClass}\``} in \`src/${name}.ts\`
(at \`// your code here\`): its methods are the policy — change them and the state they keep. Keep
\`name\` ('${contract}'), the factory's signature (\`BoxFactories.${c.key}\`), the option checks
the contract asks for, \`checkInvariants\` in step with the state, and imports of
\`@hakmem/contracts\` and \`@hakmem/primitives\` only (Contract D: a box imports no other box).
The copy does not follow later changes of the default box: diff it against
\`${copy.origin}/src\` to see them.`, '> ')}
>
${wrap(`The sections from "What it owns" to "Debug checks" are the default box's README at this
version (${copy.origin}/README.md has more): true of the copy as it is; rewrite each as your box departs from it.`, '> ')}`;
  files['README.md'] = `${usage}
${note}

## What it owns
${section('What it owns', `While it delegates: what \`${c.pkg}\` owns (see its README). Say here which state this box
keeps — JS-side (thread-local) or in the linear memory (any thread may read it) — and
who else reads or writes it.`)}

## Contract
${copy === undefined
    ? wrap(`\`${c.iface}\` in \`@hakmem/contracts\`: every clause there, checked by ${checkedBy}. List here what this
box adds within the contract (its policy: order, batch sizes, when it gives memory back).`)
    : `${dflt('Contract', `\`${c.iface}\` in \`@hakmem/contracts\`.`)}

${wrap(`Every clause is checked by ${checkedBy} (test/${name}.test.ts).`)}`}

## Invariants
${section('Invariants', `What \`checkInvariants()\` proves and the conformance suite relies on (bounds, no block
held twice, ownership). Contract C: every batch and every cache is bounded.`)}

## Layout
${section('Layout', 'The words this box keeps and where (a diagram as in packages/boxes/*/README.md).')}

## Complexity / memory overhead
${section('Complexity / memory overhead', 'The cost of each operation on the hot path and the bytes kept per class, slab or block.')}

## Options
\`${c.options}\`. ${copy === undefined ? 'While it delegates, the default\'s' : 'As copied, the default\'s'}:

${dflt('Options', `See the README of ${c.pkg}.`)}

## Stats
${copy === undefined ? 'While it delegates, the default\'s' : 'As copied, the default\'s'} (the counters \`hakmem-bench compare\` shows):

${dflt('Stats', `See the README of ${c.pkg}.`)}

## Debug checks
${section('Debug checks', '`checkInvariants()` throws `HakmemError(E_CORRUPTION)`; `heap.validate()` calls it.')}

## Tests
\`\`\`sh
npm test            # vitest: test/${name}.test.ts
npm run typecheck
\`\`\`
${wrap(`\`test/${name}.test.ts\` runs every case of the testkit conformance suite of the contract
(\`${suiteFn}\`) on \`${factory}\` (a case it cannot pass yet goes into \`KNOWN_GAPS\`,
where it runs as \`test.fails\`), then 20 000 random operations over every tier on the
heap of \`src/heap.ts\` against the testkit's reference model, and one short
\`hakmem-bench measure\` of \`src/heap.ts\` (skipped when the bench cannot be found).${copy === undefined ? '' : ` A failing suite case is named by its contract clause, e.g. \`vitest run -t "conformance suite"\` runs the suite alone.`}`)}

## Benchmark figures
\`src/heap.ts\` is the default heap with this box swapped in: what
\`hakmem-bench compare --b\` takes (apps/bench/README.md, "Comparing two compositions").

\`\`\`sh
npm run compare     # hakmem-bench compare --b src/heap.ts --workloads ${c.workloads} --runs 3
\`\`\`
Paste the tables here with the machine, the Node version and how to read them (see
examples/swap-unified-cache/README.md, "Measure it"). ${copy === undefined ? 'While it delegates' : 'While it is the unchanged copy'}, B is the
default: expect B/A near 1 and \`counters: identical\`.
`;
  return { files, pkgName, factory, copied };
}

/**
 * Creates the box. Options: contract, name, dir (absolute; default <root>/boxes-contrib/<name>),
 * delegate (a thin factory calling the default box instead of a copy of its source; default
 * false), force (write into a non-empty dir), link (outside the workspace: symlink node_modules to
 * the workspace's; default true), install (a workspace package: run npm install; default true),
 * root, log. Returns { dir, status, files, pkgName, factory, linked, installed, copied }
 * (copied: the files of src/ copied from the default box; [] with delegate).
 */
export function createBox(options) {
  const { contract, name, root = ROOT, delegate = false, force = false, link = true, install = true, log = () => {} } = options;
  if (!Object.hasOwn(CONTRACTS, contract)) {
    throw new CreateBoxError(`unknown contract "${contract}"; one of: ${Object.keys(CONTRACTS).join(', ')}`);
  }
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new CreateBoxError(`the name must be kebab-case (a-z, 0-9, single dashes; starting with a letter), got "${name}"`);
  }
  // src/<name>.ts must not be one of the other files of src/: heap.ts, index.ts, or a module
  // copied from the default box (api.ts, layout.ts).
  const taken = ['heap.ts', 'index.ts'];
  if (!delegate) {
    const { main, files } = defaultSource(root, contract);
    taken.push(...Object.keys(files).filter((f) => f !== main).sort());
  }
  if (taken.includes(`${name}.ts`)) {
    throw new CreateBoxError(`the name "${name}" would make src/${name}.ts, which is another file of the box (${taken.map((f) => `src/${f}`).join(', ')}); pick another`);
  }
  const dir = resolve(options.dir ?? join(root, DEFAULT_PARENT, name));
  if (existsSync(dir) && readdirSync(dir).length > 0 && !force) {
    throw new CreateBoxError(`${dir} exists and is not empty (--force writes into it)`);
  }
  const { status, rel } = workspaceStatus(root, dir);
  const inRepo = status !== 'outside';
  const linked = !inRepo && link;
  if (status === 'workspace' || status === 'add') {
    const pkgName = `@hakmem/contrib-${name}`;
    const taken = existsSync(join(root, 'node_modules', ...pkgName.split('/')));
    if (taken && !force) throw new CreateBoxError(`a workspace package ${pkgName} exists already (pick another name)`);
  }
  const rendered = renderBox({
    contract, name, root, linked, inRepo, delegate,
    dirRel: inRepo ? rel : dir,
    rootRel: inRepo ? posix(relative(dir, root)) : undefined,
  });
  for (const [file, text] of Object.entries(rendered.files)) {
    const abs = join(dir, file);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text);
  }
  if (linked && !existsSync(join(dir, 'node_modules'))) {
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), process.platform === 'win32' ? 'junction' : 'dir');
  }
  if (status === 'add') {
    const file = join(root, 'package.json');
    const pkg = readJson(file);
    pkg.workspaces = [...(pkg.workspaces ?? []), rel];
    writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
    log(`added "${rel}" to the workspaces of package.json`);
  }
  let installed = false;
  if ((status === 'workspace' || status === 'add') && install) {
    log('npm install (links the new workspace package, updates package-lock.json)');
    const npm = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: root, stdio: 'inherit',
    });
    if (npm.status !== 0) throw new CreateBoxError('npm install failed (the box is written; run npm install again)');
    installed = true;
  }
  return { dir, status, files: Object.keys(rendered.files), pkgName: rendered.pkgName, factory: rendered.factory, linked, installed, copied: rendered.copied };
}

const USAGE = `usage: npm run new-box -- <contract> <name> [--dir <path>] [--delegate] [--force] [--no-link] [--no-install]
       npm run new-box -- --list

Creates a private package implementing the box contract <contract>, named
@hakmem/contrib-<name>, in boxes-contrib/<name>/ (a workspace) or in --dir <path>
(relative to the current directory; anywhere, e.g. a temp dir). Its src/<name>.ts is a
copy of the default box's source (packages/boxes/<contract>/src), factory renamed
create<Name>: yours to change.

  --dir <path>   where to write it. Inside the repository: a path no workspaces pattern
                 covers is added to the workspaces (unless it is git-ignored, e.g. tmp/).
                 Outside: node_modules is linked to the workspace's (see --no-link).
  --delegate     instead of the copy, a thin create<Name> that calls the default box's
                 factory (of its package) behind a "// your code here" seam
  --force        write into a non-empty directory
  --no-link      outside the repository, do not link node_modules (install the @hakmem
                 packages from a registry yourself; they then resolve to their dist/)
  --no-install   do not run npm install after creating a workspace package
  --list         the contracts, with the default box each starts as

contracts: ${Object.keys(CONTRACTS).join(', ')}`;

/** Parses the CLI arguments; throws CreateBoxError on a bad one. */
export function parseArgs(argv, cwd = process.env.INIT_CWD ?? process.cwd()) {
  const out = { positional: [], delegate: false, force: false, link: true, install: true, list: false, help: false, dir: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dir') {
      const v = argv[++i];
      if (v === undefined) throw new CreateBoxError('--dir needs a path');
      out.dir = resolve(cwd, v);
    } else if (a.startsWith('--dir=')) out.dir = resolve(cwd, a.slice(6));
    else if (a === '--force') out.force = true;
    else if (a === '--delegate') out.delegate = true;
    else if (a === '--no-link') out.link = false;
    else if (a === '--no-install') out.install = false;
    else if (a === '--list') out.list = true;
    else if (a === '--help' || a === '-h') out.help = true;
    else if (a.startsWith('-')) throw new CreateBoxError(`unknown option ${a}\n\n${USAGE}`);
    else out.positional.push(a);
  }
  return out;
}

function main(argv) {
  const args = parseArgs(argv);
  if (args.help) {
    console.log(USAGE);
    return;
  }
  if (args.list) {
    for (const [id, c] of Object.entries(CONTRACTS)) {
      console.log(`${id.padEnd(15)} ${c.iface.padEnd(14)} starts as a copy of ${c.pkg} (${c.factory}); suite: ${c.suite.expr.match(/^(\w+)\(/)[1]}`);
    }
    return;
  }
  if (args.positional.length !== 2) throw new CreateBoxError(`expected <contract> <name>\n\n${USAGE}`);
  const [contract, name] = args.positional;
  const r = createBox({ contract, name, dir: args.dir, delegate: args.delegate, force: args.force, link: args.link, install: args.install, log: (m) => console.log(m) });
  const shown = r.status === 'outside' ? r.dir : posix(relative(ROOT, r.dir));
  console.log(`created ${r.pkgName} (${contract}: ${r.factory}${r.copied.length > 0 ? `, a copy of ${CONTRACTS[contract].pkg}` : `, delegating to ${CONTRACTS[contract].pkg}`}) in ${shown}`);
  for (const f of r.files) console.log(`  ${f}`);
  if (r.linked) console.log(`  node_modules -> ${join(ROOT, 'node_modules')}`);
  const cd = `cd ${r.status === 'outside' ? r.dir : shown}`;
  console.log(`\nnext:\n  ${cd}${r.status === 'outside' && !r.linked ? '\n  npm install' : ''}
  npm test             # the conformance suite of the contract, the heap model, one bench measurement
  npm run typecheck${r.linked || r.status !== 'outside' ? '\n  npm run compare      # hakmem-bench compare --b src/heap.ts against the default heap' : ''}
then ${r.copied.length > 0 ? `change the copy, starting at "// your code here" in src/${name}.ts` : `write your implementation at "// your code here" in src/${name}.ts`}.
In a shared heap, each worker passes the factory again: attachHeap(workerData, { boxes: { … } })
(functions do not travel in heap.share()'s handle; without it the worker runs the default box).`);
  if (r.status === 'add' && !r.installed) console.log('(run npm install to link the new workspace package)');
  if (r.status === 'workspace' && !r.installed) console.log('(run npm install to link it and update package-lock.json)');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof CreateBoxError)) throw e;
    console.error(`new-box: ${e.message}`);
    process.exit(1);
  }
}
