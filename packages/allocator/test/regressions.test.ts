import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runModelCase, type ModelCase } from '../../../tools/fuzz/campaign.js';
import { runStress, type StressCase } from '../../../tools/fuzz/stress.js';
import { runKill, type KillCase } from '../../../tools/fuzz/kill.js';

// Every failure a fuzz campaign saved (packages/testkit/regressions/*.json, see
// tools/fuzz/campaign.ts) is replayed here, so a fixed bug stays fixed. One fixed case
// always runs, so the replay path itself is tested.
const DIR = new URL('../../testkit/regressions/', import.meta.url);
const saved = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('fuzz regressions', () => {
  it('the replay of a model case runs (seed 1, debug 2, grow faults)', () => {
    expect(() => runModelCase({ kind: 'model', seed: 1, ops: 5_000, debug: 2, faults: 0.3, maxBytes: 64 << 20 })).not.toThrow();
  });
  for (const f of saved) {
    it(`replays ${f}`, async () => {
      const c = JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as ModelCase | StressCase | KillCase;
      if (c.kind === 'model') runModelCase(c);
      else if (c.kind === 'stress') await runStress(c);
      else await runKill(c);
    }, 120_000);
  }
});
