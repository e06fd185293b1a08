import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const CLI = fileURLToPath(new URL('../bin/hakmem-bench.mjs', import.meta.url));

describe('hakmem-bench run --quick (the CI smoke run)', () => {
  test('one short run per subject and workload, every check on: exit 0, counters agree, no verify failed', () => {
    const r = spawnSync(process.execPath, [CLI, 'run', '--quick', '--subjects', 'hakmem,thing,null', '--workloads', 'default,pool,large,json,vm'], {
      encoding: 'utf8', timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    for (const w of ['default', 'pool', 'large', 'json', 'vm']) expect(r.stdout).toContain(`## ${w} (`);
    expect(r.stdout.match(/no verify failed/g)).toHaveLength(5);
    expect(r.stdout).toContain('20000 cycles'); // default: 1 000 000 / 50
    expect(r.stdout).not.toContain('!!!');
  });
});
