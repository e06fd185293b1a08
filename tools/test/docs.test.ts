import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
// @ts-expect-error -- a plain .mjs module without declarations
import { publishablePackages } from '../release/workspace.mjs';

// `npm run docs` (typedoc.json, entryPointStrategy "packages") must cover every package
// that is published, each with its README as the package's page.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('typedoc.json', () => {
  const config = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8')) as {
    entryPoints: string[]; out: string; packageOptions: { readme?: string; entryPoints?: string[] };
  };
  const covered = (rel: string): boolean => config.entryPoints.some((p) => (p.endsWith('/*')
    ? rel.startsWith(p.slice(0, -1)) && !rel.slice(p.length - 1).includes('/')
    : p === rel));

  test('its entry points cover every publishable package, each with a README and src/index.ts', () => {
    const packages = (publishablePackages(ROOT) as Array<{ rel: string }>).map((p) => p.rel.split('\\').join('/'));
    expect(packages.length).toBeGreaterThan(15);
    expect(packages.filter((rel) => !covered(rel))).toEqual([]);
    expect(config.packageOptions.readme).toBe('README.md');
    for (const rel of packages) {
      expect(existsSync(join(ROOT, rel, 'README.md')), rel).toBe(true);
      expect(existsSync(join(ROOT, rel, 'src/index.ts')), rel).toBe(true);
    }
  });

  test('it writes docs/api, which is git-ignored (generated, never committed)', () => {
    expect(config.out).toBe('docs/api');
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain('docs/api/');
  });
});
