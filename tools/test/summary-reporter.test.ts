import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

// tools/vitest-summary-reporter.ts in real vitest runs: test files that fail in each way
// vitest knows — a failed test, and failures outside any test (a file that does not load,
// a describe body, a beforeAll or afterAll hook that throws, an unhandled rejection) —
// each run alone by a vitest child process with the reporter. The plain line must never
// say 0 failed when vitest exits non-zero. The files are written under tmp/ (git-ignored;
// inside the repository, so `vitest` resolves through the workspace's node_modules).

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const REPORTER = join(ROOT, 'tools/vitest-summary-reporter.ts');

const FILES: Record<string, string> = {
  'pass.test.ts': `import { test } from 'vitest';
test('passes', () => {});
test.skip('skipped', () => {});
`,
  'fail.test.ts': `import { expect, test } from 'vitest';
test('fails', () => { expect(1).toBe(2); });
test('passes', () => {});
`,
  'import-error.test.ts': `import { test } from 'vitest';
import './missing.js';
test('never collected', () => {});
`,
  'describe-error.test.ts': `import { describe, test } from 'vitest';
describe('a describe body that throws', () => {
  test('never collected', () => {});
  throw new Error('describe body');
});
`,
  'before-all.test.ts': `import { beforeAll, describe, test } from 'vitest';
describe('a suite whose beforeAll throws', () => {
  beforeAll(() => { throw new Error('beforeAll'); });
  test('skipped by vitest', () => {});
  test('skipped by vitest too', () => {});
});
`,
  'after-all.test.ts': `import { afterAll, test } from 'vitest';
afterAll(() => { throw new Error('afterAll'); });
test('passes', () => {});
`,
  'unhandled.test.ts': `import { test } from 'vitest';
test('passes, and leaves a rejection nobody handles', () => { void Promise.reject(new Error('unhandled')); });
`,
};

let scratch = '';

beforeAll(() => {
  mkdirSync(join(ROOT, 'tmp'), { recursive: true });
  scratch = mkdtempSync(join(ROOT, 'tmp', 'summary-reporter-'));
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(scratch, name), text);
  writeFileSync(join(scratch, 'vitest.config.ts'), `import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['*.test.ts'], reporters: ['default', ${JSON.stringify(REPORTER)}] } });
`);
});

afterAll(() => {
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

/** vitest run on `files` (all of them when empty): its exit code and the reporter's line. */
async function run(files: readonly string[]): Promise<{ code: number; line: string; output: string }> {
  const r = await promisify(execFile)(process.execPath, [VITEST, 'run', '--config', join(scratch, 'vitest.config.ts'), ...files], {
    cwd: scratch, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  }).then((o) => ({ ...o, code: 0 }), (e: { stdout?: string; stderr?: string; code?: number }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? String(e), code: e.code ?? -1 }));
  const output = `${r.stdout}${r.stderr}`;
  return { code: r.code, line: /^Tests: .*$/m.exec(r.stdout)?.[0] ?? '(no line)', output };
}

describe('the plain summary line (tools/vitest-summary-reporter.ts)', () => {
  const cases: ReadonlyArray<{ file: string; code: number; line: string }> = [
    { file: 'pass.test.ts', code: 0, line: 'Tests: 1 passed, 0 failed, 1 skipped' },
    { file: 'fail.test.ts', code: 1, line: 'Tests: 1 passed, 1 failed, 0 skipped' },
    { file: 'import-error.test.ts', code: 1, line: 'Tests: 0 passed, 1 failed (1 outside a test), 0 skipped' },
    { file: 'describe-error.test.ts', code: 1, line: 'Tests: 0 passed, 1 failed (1 outside a test), 0 skipped' },
    { file: 'before-all.test.ts', code: 1, line: 'Tests: 0 passed, 1 failed (1 outside a test), 2 skipped' },
    { file: 'after-all.test.ts', code: 1, line: 'Tests: 1 passed, 1 failed (1 outside a test), 0 skipped' },
    { file: 'unhandled.test.ts', code: 1, line: 'Tests: 1 passed, 1 failed (1 outside a test), 0 skipped' },
  ];

  test('each kind of failure alone: the line counts it, as vitest\'s exit code does', async () => {
    // Two vitest processes at a time: each starts its own workers.
    const results: Array<Awaited<ReturnType<typeof run>>> = [];
    for (let i = 0; i < cases.length; i += 2) results.push(...await Promise.all(cases.slice(i, i + 2).map((c) => run([c.file]))));
    const got = cases.map((c, i) => ({ file: c.file, code: results[i]!.code, line: results[i]!.line }));
    const wrong = got.flatMap((g, i) => (g.code === cases[i]!.code && g.line === cases[i]!.line ? [] : [results[i]!.output]));
    expect(got, wrong.join('\n')).toEqual(cases);
  });

  test('all of them in one run: the failures add up', async () => {
    const r = await run([]);
    expect({ code: r.code, line: r.line }, r.output).toEqual({ code: 1, line: 'Tests: 4 passed, 6 failed (5 outside a test), 3 skipped' });
  });
});
