import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, test } from 'vitest';

// Every `@example` of the packages' JSDoc (packages/**/src/**/*.ts) is a program: each
// ```ts block is written to a file under tmp/ (git-ignored; inside the repository, so
// its imports of @hakmem/* resolve to the workspace's src/ like any test's), type-checked
// with the workspace's compiler options, and run by importing it here. An example checks
// itself with `if (…) throw new Error(…)`; running it must not throw. These are what
// `npm run docs` shows in docs/api.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The APIs whose JSDoc must keep an example (the main public surface). */
const REQUIRED = [
  'createHeap', 'compose', 'attachHeap', 'malloc', 'free', 'realloc', 'calloc', 'memalign', 'share', 'detach',
  'createUnifiedCache', 'createTinyRoute',
];

interface Example { readonly file: string; readonly line: number; readonly symbol: string; readonly code: string }

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (d.name === 'node_modules' || d.name === 'dist') continue;
    const abs = join(dir, d.name);
    if (d.isDirectory()) out.push(...sourceFiles(abs));
    else if (d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') && /[\\/]src[\\/]/.test(relative(ROOT, abs))) out.push(abs);
  }
  return out;
}

/** The ```ts blocks of every @example tag in `file`, with the name of the declaration each documents. */
function examplesOf(file: string, text: string): Example[] {
  const out: Example[] = [];
  for (const m of text.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
    const lines = m[1]!.split('\n').map((l) => l.replace(/^\s*\* ?/, ''));
    const after = text.slice(m.index! + m[0].length).split('\n').find((l) => l.trim() !== '') ?? '';
    const symbol = /(?:function|class|const|let|interface|type)\s+(\w+)|^\s*(?:(?:export|readonly|static|async|override|get|set)\s+)*(\w+)\s*[(<:=]/.exec(after);
    const firstLine = text.slice(0, m.index!).split('\n').length;
    let inExample = false;
    let fence: string[] | undefined;
    let fenceLine = 0;
    lines.forEach((l, i) => {
      if (fence !== undefined) {
        if (/^```\s*$/.test(l)) {
          out.push({ file: relative(ROOT, file), line: fenceLine, symbol: symbol?.[1] ?? symbol?.[2] ?? '?', code: fence.join('\n') });
          fence = undefined;
        } else fence.push(l);
        return;
      }
      if (/^@example\b/.test(l)) inExample = true;
      else if (/^@\w+/.test(l)) inExample = false;
      else if (inExample && /^```(ts|typescript)\s*$/.test(l)) {
        fence = [];
        fenceLine = firstLine + i + 1;
      }
    });
  }
  return out;
}

const examples = sourceFiles(join(ROOT, 'packages')).flatMap((f) => examplesOf(f, readFileSync(f, 'utf8')));
mkdirSync(join(ROOT, 'tmp'), { recursive: true });
const dir = mkdtempSync(join(ROOT, 'tmp', 'examples-'));
const files = examples.map((e, i) => {
  const file = join(dir, `${String(i).padStart(2, '0')}-${e.symbol}.ts`);
  writeFileSync(file, `// ${e.file}:${e.line} (${e.symbol})\n${e.code}\nexport {};\n`);
  return file;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the @example blocks of the packages\' JSDoc', () => {
  test('the main public APIs have one; each imports from a workspace package and checks itself without console.assert', () => {
    const symbols = new Set(examples.map((e) => e.symbol));
    expect(REQUIRED.filter((s) => !symbols.has(s))).toEqual([]);
    for (const e of examples) {
      expect(e.code, `${e.file}:${e.line}`).toMatch(/from '@hakmem\/[\w-]+'/);
      expect(e.code, `${e.file}:${e.line}`).not.toMatch(/console\.assert/);
      expect(e.code, `${e.file}:${e.line}`).toMatch(/throw /);
    }
  });

  test('they type-check (the workspace\'s compiler options, tools/tsconfig.base.json)', () => {
    const config = ts.readConfigFile(join(ROOT, 'tools/tsconfig.base.json'), (p) => ts.sys.readFile(p));
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, join(ROOT, 'tools'));
    const program = ts.createProgram({ rootNames: files, options });
    const diagnostics = files.flatMap((f) => {
      const sf = program.getSourceFile(f)!;
      return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    });
    const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' };
    expect(diagnostics.map((d) => ts.formatDiagnostic(d, host))).toEqual([]);
  });

  examples.forEach((e, i) => {
    test(`${e.file}:${e.line} (${e.symbol}) runs without throwing`, async () => {
      await import(pathToFileURL(files[i]!).href);
    });
  });
});
