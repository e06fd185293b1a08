import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// @ts-expect-error -- a plain .mjs module without declarations
import { CONTRACTS, README_SECTIONS, createBox, matchesWorkspaces, parseArgs, workspaceStatus } from '../create-box.mjs';
import { createHeap, type BoxFactories, type Heap } from '@hakmem/allocator';

// The scaffolder, end to end: every contract generated into a git-ignored folder of the
// repository (tmp/, so imports resolve through the workspace's node_modules) as a copy of
// its default box, and type-checked (with one thin --delegate box); two generated outside
// the workspace (os.tmpdir(), node_modules linked to the workspace's); the generated tests
// — the conformance suite, the heap model and one bench measurement — run by vitest in
// three of them; the generated conformance suites of all twelve copies, and of four copies
// broken on purpose (one line each), run by one vitest process: the copies pass, each
// broken one fails, named by the contract clause it broke.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = join(ROOT, 'tools/create-box/create-box.mjs');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const contracts = CONTRACTS as Record<string, { key: string; suite: unknown; pkg: string; factory: string; iface: string }>;

/** `fifo-cache` → `FifoCache` (as the scaffolder names factories). */
const pascal = (name: string): string => name.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');

/**
 * One deliberate bug per contract, in the copied source: `find` (exactly once in
 * src/broken-<contract>.ts) becomes `replace`, one line changed. `clause` is the
 * conformance case (testkit) that must fail, and `message` what its failure says.
 */
const BREAKS: ReadonlyArray<{ contract: string; find: string; replace: string; clause: string; message: RegExp }> = [
  {
    contract: 'unified-cache', // push drops every third block it is given (and says it cached it)
    find: '    if (t === a[m + 2]) return false;\n',
    replace: '    if (t === a[m + 2]) return false; if ((ptr >>> 4) % 3 === 0) return true; // broken: drops every third block\n',
    clause: 'unified-cache: push caches a block in its own class; pop hands each pushed block back exactly once',
    message: /unified-cache count: after 3 pushes to class 1 and 2 to class 2, counts are/,
  },
  {
    contract: 'page-box', // a batch one block longer than asked for (Contract C); the private path's carve loop (the one the lines after it single out)
    find: '      while (n < max && carve < end) {\n        out[offset + n++] = slab + carve;\n        i32[((slab + carve) >>> 2) + FREE_KEY_WORD] = key; // free from birth: only malloc clears it\n        carve += size;\n      }\n      i32[d + PD_CARVE] = carve;\n',
    replace: '      while (n <= max && carve < end) { // broken: carves one block past max\n        out[offset + n++] = slab + carve;\n        i32[((slab + carve) >>> 2) + FREE_KEY_WORD] = key; // free from birth: only malloc clears it\n        carve += size;\n      }\n      i32[d + PD_CARVE] = carve;\n',
    clause: 'page-box: batch bounds (Contract C) — 0 < n ≤ max for max 1, 7, MAX_BATCH, nothing written outside out[offset, offset + n)',
    message: /allocBatch\(max 1\) returned 2 \(BlockSource: 0 ≤ n ≤ max\)/,
  },
  {
    contract: 'l25-pool', // a freshly mapped block 16 bytes off its 64 KiB page
    find: '    if (!this.shared) return base;\n',
    replace: '    if (!this.shared) return base + 16; // broken: misaligned\n',
    clause: 'l25-pool: alloc gives a 64 KiB aligned block of the class: usableSize = class size, registry L25 / class / tid / page index on every page, head LIVE',
    message: /l25-pool alloc\(0\) returned 0x[0-9a-f]+, not a 64 KiB aligned heap address/,
  },
  {
    contract: 'bigcache', // evicts only once the cache holds twice its limit
    find: 'this.word(S_CACHED_PAGES) > lim && k >= 0; k--) {',
    replace: 'this.word(S_CACHED_PAGES) > 2 * lim && k >= 0; k--) { // broken: twice the limit',
    clause: 'bigcache: budget — cached bytes never exceed it (blocks are unmapped instead, registry cleared first); a block above it is unmapped at once; 0 caches nothing',
    message: /bigcache budget: \d+ B cached after free #\d, budget 3145728/,
  },
];

let scratch = '';
let outside = '';

function cli(args: string[], cwd = ROOT): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, INIT_CWD: cwd } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Type-checks the packages in `dirs` with their own tsconfig.json: one program per distinct set of options, diagnostics of their own files. */
function typecheck(dirs: string[]): string[] {
  const groups = new Map<string, { options: ts.CompilerOptions; roots: string[] }>();
  const diagnostics: ts.Diagnostic[] = [];
  for (const dir of dirs) {
    const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d: ts.Diagnostic) => diagnostics.push(d) };
    const parsed = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), {}, host)!;
    diagnostics.push(...parsed.errors);
    const { configFilePath: _path, ...options } = parsed.options;
    const key = JSON.stringify(options);
    const group = groups.get(key) ?? { options, roots: [] };
    group.roots.push(...parsed.fileNames);
    groups.set(key, group);
  }
  for (const { options, roots } of groups.values()) {
    const program = ts.createProgram({ rootNames: roots, options });
    diagnostics.push(...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics());
    for (const sf of program.getSourceFiles()) {
      if (!dirs.some((d) => resolve(sf.fileName).startsWith(`${d}/`))) continue;
      diagnostics.push(...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf));
    }
  }
  return diagnostics.map((d) => ts.formatDiagnostic(d, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' }));
}

beforeAll(() => {
  mkdirSync(join(ROOT, 'tmp'), { recursive: true });
  scratch = mkdtempSync(join(ROOT, 'tmp', 'create-box-'));
  outside = mkdtempSync(join(tmpdir(), 'hakmem-create-box-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('npm run new-box (tools/create-box/create-box.mjs)', () => {
  test('knows every box contract: one entry per key of BoxFactories (packages/allocator/src/api.ts)', () => {
    const api = readFileSync(join(ROOT, 'packages/allocator/src/api.ts'), 'utf8');
    const body = /export interface BoxFactories \{([^}]*)\}/.exec(api)![1]!;
    const keys = [...body.matchAll(/^\s*(\w+)\(/gm)].map((m) => m[1]);
    expect(keys).toHaveLength(12);
    expect(Object.values(contracts).map((c) => c.key).sort()).toEqual([...keys].sort());
    for (const id of Object.keys(contracts)) expect(existsSync(join(ROOT, 'packages/contracts/src/boxes', `${id}.ts`)), id).toBe(true);
  });

  test('every contract: a private package with the box README sections, in a git-ignored folder (not added to the workspaces), its src/ a copy of the default box importing only @hakmem/contracts and @hakmem/primitives, that type-checks (with one --delegate box)', () => {
    const rootPkg = readFileSync(join(ROOT, 'package.json'), 'utf8');
    const dirs: string[] = [];
    for (const id of Object.keys(contracts)) {
      const c = contracts[id]!;
      const dir = join(scratch, id);
      const factory = `createMy${pascal(id)}`;
      const r = cli([id, `my-${id}`, '--dir', dir]);
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain(`created @hakmem/contrib-my-${id} (${id}: ${factory}, a copy of ${c.pkg})`);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { private: boolean; scripts: Record<string, string>; dependencies: Record<string, string> };
      expect(pkg.private).toBe(true);
      expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(['typecheck', 'lint', 'test', 'compare']));
      // A copy depends on no box (Contract D): the contracts, primitives, and the composition root for src/heap.ts.
      expect(Object.keys(pkg.dependencies).filter((d) => !['@hakmem/contracts', '@hakmem/primitives', '@hakmem/allocator'].includes(d)), id).toEqual([]);
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
      expect(headings).toEqual(README_SECTIONS);
      const flat = readme.replace(/\n> ?/g, ' ');
      expect(flat).toContain(`(tools/create-box) as a copy of the default box at this version:`);
      expect(flat).toMatch(new RegExp(`the source of \`${c.pkg} \\d+\\.\\d+\\.\\d+\` \\(\`packages/boxes/${id}/src/\` at commit [0-9a-f]{7,}`));
      expect(flat).toContain('What to change:');
      expect(readme).toContain(`const heap = createHeap({ boxes: { ${c.key}: ${factory} } });`);

      // The box: the default's source, its factory renamed (the signature of BoxFactories.<key>), the seam marked.
      const main = readFileSync(join(dir, `src/my-${id}.ts`), 'utf8');
      expect(main).toContain('// your code here');
      expect(main.replace(/\n\/\/ ?/g, ' ')).toContain(`A copy of the default box, ${c.pkg} `);
      expect(main).toMatch(new RegExp(`^export function ${factory}\\((ctx: BoxContext, )?options: \\w+( = \\{\\})?\\): ${c.iface} \\{$`, 'm'));
      expect(main.slice(main.indexOf('\nimport '))).not.toMatch(new RegExp(`\\b${c.factory}\\b`)); // renamed everywhere (the header says from what)
      expect(main).toMatch(new RegExp(`^(export )?class \\w+ implements ${c.iface} \\{$`, 'm'));
      const srcFiles = readdirSync(join(dir, 'src'));
      for (const f of srcFiles.filter((n) => n !== 'heap.ts' && n !== 'index.ts')) {
        for (const { fileName } of ts.preProcessFile(readFileSync(join(dir, 'src', f), 'utf8'), true, true).importedFiles) {
          if (fileName.startsWith('./')) expect(srcFiles, `${id}: src/${f} imports ${fileName}`).toContain(fileName.slice(2).replace(/\.js$/, '.ts'));
          else expect(['@hakmem/contracts', '@hakmem/primitives'], `${id}: src/${f} imports ${fileName}`).toContain(fileName);
        }
      }
      // The swap: one line of src/heap.ts.
      expect(readFileSync(join(dir, 'src/heap.ts'), 'utf8')).toContain(`createHeap({ maxBytes, boxes: { ${c.key}: ${factory} } }); // the one line`);
      dirs.push(dir);
    }

    // --delegate: the thin form, a factory calling the default box's.
    const thin = join(scratch, 'delegate');
    const r = cli(['unified-cache', 'thin-cache', '--dir', thin, '--delegate']);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('delegating to @hakmem/unified-cache');
    expect(readdirSync(join(thin, 'src')).sort()).toEqual(['heap.ts', 'index.ts', 'thin-cache.ts']);
    const thinSrc = readFileSync(join(thin, 'src/thin-cache.ts'), 'utf8');
    expect(thinSrc).toContain("import { createUnifiedCache } from '@hakmem/unified-cache';");
    expect(thinSrc).toContain('// your code here');
    expect(thinSrc).toContain('return createUnifiedCache(options);');
    expect(JSON.parse(readFileSync(join(thin, 'package.json'), 'utf8')).dependencies).toHaveProperty('@hakmem/unified-cache');
    dirs.push(thin);

    expect(readFileSync(join(ROOT, 'package.json'), 'utf8')).toBe(rootPkg);
    expect(typecheck(dirs)).toEqual([]);
  });

  test('outside the workspace: node_modules linked to the workspace\'s, its own tsconfig, type-checks', () => {
    const dirs = ['page-box', 'bigcache'].map((id) => {
      const dir = join(outside, id);
      const r = cli([id, `lazy-${id}`, '--dir', dir], outside);
      expect(r.status, r.out).toBe(0);
      expect(resolve(outside, readlinkSync(join(dir, 'node_modules')))).toBe(join(ROOT, 'node_modules'));
      expect(readFileSync(join(dir, 'tsconfig.json'), 'utf8')).not.toContain('extends');
      return dir;
    });
    expect(typecheck(dirs)).toEqual([]);
  });

  test('the generated tests pass from the first run, on the copies: conformance suite, heap model and a bench measurement (unified-cache here, page-box and bigcache outside)', async () => {
    const dirs = [join(scratch, 'unified-cache'), join(outside, 'page-box'), join(outside, 'bigcache')];
    const runs = await Promise.all(dirs.map((cwd) => promisify(execFile)(process.execPath, [VITEST, 'run', '--reporter=json'], {
      cwd, maxBuffer: 64 << 20, env: { ...process.env, CI: 'true' },
    }).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? String(e) }))));
    runs.forEach(({ stdout, stderr }, i) => {
      const json = stdout.slice(stdout.indexOf('{'));
      const report = JSON.parse(json) as { success: boolean; numPassedTests: number; numFailedTests: number; numPendingTests: number };
      expect(report.success, `${dirs[i]}\n${stderr}`).toBe(true);
      expect(report.numFailedTests).toBe(0);
      expect(report.numPendingTests).toBe(0); // the bench measurement ran (it skips when the bench is missing)
      expect(report.numPassedTests).toBeGreaterThan(10);
    });
  });

  test('the copy is what src/heap.ts swaps in: the heap\'s unified cache is an instance of the copied class, not of the default box', async () => {
    const dir = join(scratch, 'unified-cache');
    const { heap } = (await import(join(dir, 'src/heap.ts'))) as { heap: (o: { maxBytes: number }) => Heap };
    const { createMyUnifiedCache } = (await import(join(dir, 'src/my-unified-cache.ts'))) as { createMyUnifiedCache: BoxFactories['unifiedCache'] };
    const swapped = heap({ maxBytes: 16 << 20 }).boxes.unifiedCache;
    const copied = createMyUnifiedCache({ numClasses: 1, source: { allocBatch: () => 0, freeBatch: () => {} } });
    expect(swapped.constructor).toBe(copied.constructor);
    expect(swapped.constructor).not.toBe(createHeap({ maxBytes: 16 << 20 }).boxes.unifiedCache.constructor);
    expect(swapped.name).toBe('unified-cache');
  });

  test('the generated conformance suites in one vitest run: the other nine copies pass (l25-pool among them); a copy broken in one line fails, named by the contract clause it broke (unified-cache, page-box, l25-pool, bigcache)', async () => {
    for (const b of BREAKS) {
      const dir = join(scratch, `broken-${b.contract}`);
      createBox({ contract: b.contract, name: `broken-${b.contract}`, dir, install: false });
      const file = join(dir, `src/broken-${b.contract}.ts`);
      const text = readFileSync(file, 'utf8');
      expect(text.split(b.find).length - 1, `${b.contract}: the line to break occurs once in the copy`).toBe(1);
      const broken = text.replace(b.find, b.replace);
      const changed = broken.split('\n').filter((l, i) => l !== text.split('\n')[i]);
      expect(changed, `${b.contract}: one line changed`).toHaveLength(1);
      writeFileSync(file, broken);
    }
    // One process (no isolation: each package's modules are its own) for thirteen packages: the
    // copies the test above did not run and the broken ones, with each one's vitest.config.ts
    // settings; only the conformance describe blocks.
    const ranAbove = ['unified-cache', 'page-box', 'bigcache'];
    writeFileSync(join(scratch, 'vitest.config.ts'), `import { defineConfig } from 'vitest/config';
export default defineConfig({
  resolve: { conditions: ['@hakmem/source'] },
  ssr: { resolve: { conditions: ['@hakmem/source'], externalConditions: ['@hakmem/source'] } },
  test: { include: ['*/test/**/*.test.ts'], exclude: ${JSON.stringify(['**/node_modules/**', 'delegate/**', ...ranAbove.map((d) => `${d}/**`)])}, testTimeout: 60_000 },
});
`);
    const report = join(scratch, 'conformance.json');
    const run = await promisify(execFile)(process.execPath, [
      VITEST, 'run', '--no-isolate', '-t', 'conformance suite', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`,
    ], { cwd: scratch, maxBuffer: 64 << 20, env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' } })
      .then((r) => ({ ...r, failed: false }), (e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? String(e), failed: true }));
    const output = `${run.stdout}${run.stderr}`;
    expect(run.failed, output).toBe(true); // the broken copies fail
    type Assertion = { title: string; ancestorTitles: string[]; status: string; failureMessages: string[] };
    const results = (JSON.parse(readFileSync(report, 'utf8')) as { testResults: Array<{ name: string; assertionResults: Assertion[] }> }).testResults;
    const suiteOf = (pkg: string): Assertion[] => {
      const file = results.find((f) => f.name === join(scratch, pkg, 'test', `${pkg.startsWith('broken-') ? pkg : `my-${pkg}`}.test.ts`));
      expect(file, `${pkg}: its test file ran`).toBeDefined();
      return file!.assertionResults.filter((a) => a.status !== 'skipped');
    };
    for (const id of Object.keys(contracts).filter((c) => !ranAbove.includes(c))) {
      const cases = suiteOf(id);
      expect(cases.length, id).toBeGreaterThan(5);
      expect(cases.filter((a) => a.status !== 'passed').map((a) => a.title), `${id}: the copy passes its suite`).toEqual([]);
    }
    for (const b of BREAKS) {
      const cases = suiteOf(`broken-${b.contract}`);
      const failed = cases.filter((a) => a.status === 'failed');
      expect(failed.map((a) => a.title), `broken ${b.contract}`).toContain(b.clause);
      expect(failed.find((a) => a.title === b.clause)!.failureMessages.join('\n')).toMatch(b.message);
      expect(cases.some((a) => a.status === 'passed'), `broken ${b.contract}: other clauses still pass`).toBe(true);
      // What a user sees: vitest's own output names the file, the suite and the clause, then the message.
      expect(output).toContain(`FAIL  broken-${b.contract}/test/broken-${b.contract}.test.ts > `);
      expect(output).toContain(` > ${b.clause}\n`);
      expect(output).toMatch(b.message);
    }
  });

  test('bad input: an unknown contract, a name that is not kebab-case, a non-empty directory, a name that is another file of the box', () => {
    const unknown = cli(['free-list', 'x', '--dir', join(scratch, 'x')]);
    expect(unknown.status).toBe(1);
    expect(unknown.out).toMatch(/unknown contract "free-list"; one of: os-boundary, .*bigcache/);
    const badName = cli(['unified-cache', 'MyCache', '--dir', join(scratch, 'y')]);
    expect(badName.status).toBe(1);
    expect(badName.out).toMatch(/kebab-case/);
    const taken = cli(['unified-cache', 'again', '--dir', join(scratch, 'unified-cache')]);
    expect(taken.status).toBe(1);
    expect(taken.out).toMatch(/not empty/);
    const clash = cli(['l25-pool', 'layout', '--dir', join(scratch, 'z')]);
    expect(clash.status).toBe(1);
    expect(clash.out).toMatch(/the name "layout" would make src\/layout.ts, which is another file of the box \(src\/heap.ts, src\/index.ts, src\/api.ts, src\/layout.ts\)/);
    expect(cli(['--list']).out.split('\n').filter((l) => l.trim() !== '')).toHaveLength(12);
  });

  test('workspaces: a path inside the root that no pattern covers is added (in a throw-away root)', () => {
    expect(matchesWorkspaces(['packages/*', 'boxes-contrib/*', 'apps/one'], 'boxes-contrib/a')).toBe(true);
    expect(matchesWorkspaces(['boxes-contrib/*'], 'boxes-contrib/a/b')).toBe(false);
    expect(matchesWorkspaces(['apps/one'], 'apps/one')).toBe(true);
    expect(workspaceStatus(ROOT, join(ROOT, 'boxes-contrib', 'a')).status).toBe('workspace');
    expect(workspaceStatus(ROOT, join(ROOT, 'tmp', 'a')).status).toBe('scratch');
    expect(workspaceStatus(ROOT, outside).status).toBe('outside');
    expect(parseArgs(['unified-cache', 'a', '--dir', 'b'], outside)).toMatchObject({ positional: ['unified-cache', 'a'], dir: join(outside, 'b') });

    const fake = join(outside, 'fake-root');
    mkdirSync(fake);
    writeFileSync(join(fake, 'package.json'), JSON.stringify({ name: 'fake', private: true, workspaces: ['packages/*'] }));
    const r = createBox({ contract: 'tiny-route', name: 'wide-route', root: fake, dir: join(fake, 'boxes', 'wide-route'), install: false });
    expect(r.status).toBe('add');
    expect(JSON.parse(readFileSync(join(fake, 'package.json'), 'utf8')).workspaces).toEqual(['packages/*', 'boxes/wide-route']);
    expect(JSON.parse(readFileSync(join(fake, 'boxes/wide-route/tsconfig.json'), 'utf8')).extends).toBe('../../tools/tsconfig.base.json');
  });
});
