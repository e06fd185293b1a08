import { mkdtempSync, mkdirSync, writeFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';
// @ts-expect-error -- plain .mjs modules without declarations
import { elements, elementTypesRule } from '../boundaries.mjs';
// @ts-expect-error -- plain .mjs modules without declarations
import { checkBoxDeps } from '../check-box-deps.mjs';

// A throw-away workspace with the repository's layout: two boxes, the contracts and
// the composition root. The lint configuration is the repository's own.
let root = '';

function write(rel: string, text: string): void {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function pkg(name: string, deps: Record<string, string> = {}): string {
  return JSON.stringify({
    name,
    version: '0.0.0',
    type: 'module',
    exports: { '.': { '@hakmem/source': './src/index.ts', default: './src/index.ts' } },
    dependencies: deps,
  });
}

function link(name: string, dir: string): void {
  mkdirSync(join(root, 'node_modules', '@hakmem'), { recursive: true });
  symlinkSync(join(root, dir), join(root, 'node_modules', name), 'dir');
}

async function lint(rel: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser, sourceType: 'module' },
        plugins: { boundaries },
        settings: {
          'boundaries/elements': elements,
          'import/resolver': { typescript: { conditionNames: ['@hakmem/source', 'import', 'default'] } },
        },
        rules: { 'boundaries/element-types': elementTypesRule },
      },
    ],
  });
  const [result] = await eslint.lintFiles([join(root, rel)]);
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hakmem-contract-d-'));
  write('package.json', JSON.stringify({ name: 'fixture', private: true, type: 'module' }));
  write('packages/contracts/package.json', pkg('@hakmem/contracts'));
  write('packages/contracts/src/index.ts', 'export const PAGE_SIZE = 65536;\n');
  write('packages/boxes/box-b/package.json', pkg('@hakmem/box-b', { '@hakmem/contracts': '0.0.0' }));
  write('packages/boxes/box-b/src/index.ts', 'export const b = 2;\n');
  write('packages/boxes/box-a/package.json', pkg('@hakmem/box-a', { '@hakmem/contracts': '0.0.0' }));
  write('packages/boxes/box-a/src/index.ts', "export { ok } from './ok.js';\n");
  write('packages/boxes/box-a/src/ok.ts', "import { PAGE_SIZE } from '@hakmem/contracts';\nexport const ok = PAGE_SIZE;\n");
  write('packages/boxes/box-a/src/by-name.ts', "import { b } from '@hakmem/box-b';\nexport const x = b;\n");
  write('packages/boxes/box-a/src/by-path.ts', "import { b } from '../../box-b/src/index.js';\nexport const y = b;\n");
  write('packages/boxes/box-a/test/own.test.ts', "import { ok } from '@hakmem/box-a';\nimport { z } from '@hakmem/allocator';\nexport const t = ok + z;\n");
  write('packages/boxes/box-a/test/other.test.ts', "import { b } from '@hakmem/box-b';\nexport const u = b;\n");
  write('packages/allocator/package.json', pkg('@hakmem/allocator'));
  write('packages/allocator/src/index.ts', "import { b } from '@hakmem/box-b';\nimport { ok } from '@hakmem/box-a';\nexport const z = b + ok;\n");
  link('@hakmem/contracts', 'packages/contracts');
  link('@hakmem/box-a', 'packages/boxes/box-a');
  link('@hakmem/box-b', 'packages/boxes/box-b');
  link('@hakmem/allocator', 'packages/allocator');
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('Contract D: no box imports another box', () => {
  test('a box importing another box by package name fails lint', async () => {
    const messages = await lint('packages/boxes/box-a/src/by-name.ts');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^boundaries\/element-types: Contract D: box box-a may not import box box-b;/);
  });

  test('a box importing another box by relative path fails lint', async () => {
    const messages = await lint('packages/boxes/box-a/src/by-path.ts');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/Contract D: box box-a may not import box box-b;/);
  });

  test('a box may import the contracts, and its own files', async () => {
    expect(await lint('packages/boxes/box-a/src/ok.ts')).toEqual([]);
    expect(await lint('packages/boxes/box-a/src/index.ts')).toEqual([]);
  });

  test('a box\'s test importing another box fails lint; its own box and the composition root are fine', async () => {
    const messages = await lint('packages/boxes/box-a/test/other.test.ts');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/Contract D: the tests of box box-a may not import box box-b;/);
    expect(await lint('packages/boxes/box-a/test/own.test.ts')).toEqual([]);
  });

  test('the composition root may import boxes', async () => {
    expect(await lint('packages/allocator/src/index.ts')).toEqual([]);
  });

  test('a box whose package.json depends on another box fails the dependency check', () => {
    expect(checkBoxDeps(root)).toEqual([]);
    write('packages/boxes/box-a/package.json', pkg('@hakmem/box-a', { '@hakmem/contracts': '0.0.0', '@hakmem/box-b': '0.0.0' }));
    const violations = checkBoxDeps(root) as string[];
    expect(violations).toHaveLength(1);
    expect(violations[0]).toContain('packages/boxes/box-a/package.json: dependencies names the box @hakmem/box-b');
  });

  test('the repository itself has no box depending on a box', () => {
    expect(checkBoxDeps(join(__dirname, '..', '..'))).toEqual([]);
  });
});
