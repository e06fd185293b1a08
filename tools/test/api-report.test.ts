import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
// @ts-expect-error -- plain .mjs modules without declarations
import { apiReport, diffReports, reportChunks } from '../release/api-report.mjs';
// @ts-expect-error -- plain .mjs modules without declarations
import { pendingChangesets } from '../release/api-check.mjs';

const DTS = `import { B, A } from '@hakmem/contracts';

/** Docs are not API. */
interface Zeta {
    /** nor are member docs */
    readonly z: number;
}
declare class Alpha {
    readonly a: A;
    private secret;
    #hidden;
    constructor(b: B);
    run(): void;
    private helper;
}
declare function f(x: number): number;
declare function f(x: string): string;

export { Alpha, type Zeta, f };
`;

describe('API report', () => {
  test('drops comments and private members, sorts imports, declarations and exports', () => {
    const report: string = apiReport('@hakmem/x', DTS);
    expect(report).not.toContain('Docs');
    expect(report).not.toContain('secret');
    expect(report).not.toContain('#hidden');
    expect(report).not.toContain('helper');
    const chunks: string[] = reportChunks(report);
    expect(chunks[0]).toBe('import { A, B } from "@hakmem/contracts";');
    // By name in code-unit order (capitals first); overloads keep their order.
    expect(chunks.slice(1, 5).map((c) => c.split('\n')[0])).toEqual([
      'declare class Alpha {', 'interface Zeta {', 'declare function f(x: number): number;', 'declare function f(x: string): string;',
    ]);
    expect(chunks.slice(5)).toEqual(['export { Alpha };', 'export { f };', 'export { type Zeta };']);
  });

  test('is the same for the same API however it is documented or laid out', () => {
    const relaid = DTS.replace(/\/\*\*[^]*?\*\/\n/g, '').replace('export { Alpha, type Zeta, f };', 'export { f, type Zeta, Alpha };')
      .replace("import { B, A } from '@hakmem/contracts';", 'import { A, B } from "@hakmem/contracts";');
    expect(apiReport('@hakmem/x', relaid)).toBe(apiReport('@hakmem/x', DTS));
  });

  test('tells a change or removal from an addition', () => {
    const before = apiReport('@hakmem/x', DTS);
    const added = apiReport('@hakmem/x', `${DTS}declare const NEW = 1;\nexport { NEW };\n`);
    expect(diffReports(before, added)).toEqual({ removed: [], added: ['declare const NEW = 1;', 'export { NEW };'] });
    const changed = apiReport('@hakmem/x', DTS.replace('readonly z: number;', 'readonly z: string;'));
    const diff = diffReports(before, changed);
    expect(diff.removed).toHaveLength(1);
    expect(diff.removed[0]).toContain('readonly z: number;');
    expect(diff.added[0]).toContain('readonly z: string;');
  });
});

describe('pending changesets', () => {
  test('maps each named package to its highest bump; README.md is not a changeset', () => {
    const root = mkdtempSync(join(tmpdir(), 'hakmem-changesets-'));
    try {
      mkdirSync(join(root, '.changeset'));
      writeFileSync(join(root, '.changeset', 'README.md'), '---\n"@hakmem/readme": major\n---\n');
      writeFileSync(join(root, '.changeset', 'a.md'), '---\n"@hakmem/contracts": minor\n\'@hakmem/os-boundary\': patch\n---\n\nText.\n');
      writeFileSync(join(root, '.changeset', 'b.md'), '---\n"@hakmem/contracts": major\n---\n\nMore.\n');
      writeFileSync(join(root, '.changeset', 'empty.md'), '---\n---\n');
      const named: Map<string, { bump: string; files: string[] }> = pendingChangesets(root);
      expect(Object.fromEntries([...named].map(([k, v]) => [k, v.bump]))).toEqual({
        '@hakmem/contracts': 'major', '@hakmem/os-boundary': 'patch',
      });
      expect(named.get('@hakmem/contracts')!.files).toEqual(['a.md', 'b.md']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
