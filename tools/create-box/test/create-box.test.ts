import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// @ts-expect-error -- a plain .mjs module without declarations
import { CONTRACTS, README_SECTIONS, createBox, matchesWorkspaces, parseArgs, workspaceStatus } from '../create-box.mjs';

// The scaffolder, end to end: every contract generated into a git-ignored folder of the
// repository (tmp/, so imports resolve through the workspace's node_modules) and
// type-checked; two generated outside the workspace (os.tmpdir(), node_modules linked to
// the workspace's); and the generated tests — the conformance suite, the heap model and
// one bench measurement — run by vitest in three of them.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = join(ROOT, 'tools/create-box/create-box.mjs');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const contracts = CONTRACTS as Record<string, { key: string; suite: unknown }>;

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

  test('every contract: a private package with the box README sections, in a git-ignored folder (not added to the workspaces), that type-checks', () => {
    const rootPkg = readFileSync(join(ROOT, 'package.json'), 'utf8');
    const dirs: string[] = [];
    for (const id of Object.keys(contracts)) {
      const dir = join(scratch, id);
      const r = cli([id, `my-${id}`, '--dir', dir]);
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain(`created @hakmem/contrib-my-${id}`);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { private: boolean; scripts: Record<string, string> };
      expect(pkg.private).toBe(true);
      expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(['typecheck', 'lint', 'test', 'compare']));
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
      expect(headings).toEqual(README_SECTIONS);
      expect(readFileSync(join(dir, `src/my-${id}.ts`), 'utf8')).toContain('// your code here');
      expect(readFileSync(join(dir, 'src/heap.ts'), 'utf8')).toContain(`boxes: { ${contracts[id]!.key}: `);
      dirs.push(dir);
    }
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

  test('the generated tests pass from the first run: conformance suite, heap model and a bench measurement (unified-cache here, page-box and bigcache outside)', async () => {
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

  test('bad input: an unknown contract, a name that is not kebab-case, a non-empty directory', () => {
    const unknown = cli(['free-list', 'x', '--dir', join(scratch, 'x')]);
    expect(unknown.status).toBe(1);
    expect(unknown.out).toMatch(/unknown contract "free-list"; one of: os-boundary, .*bigcache/);
    const badName = cli(['unified-cache', 'MyCache', '--dir', join(scratch, 'y')]);
    expect(badName.status).toBe(1);
    expect(badName.out).toMatch(/kebab-case/);
    const taken = cli(['unified-cache', 'again', '--dir', join(scratch, 'unified-cache')]);
    expect(taken.status).toBe(1);
    expect(taken.out).toMatch(/not empty/);
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
