import { describe, expect, test } from 'vitest';
import { expectAgreement, measureInChild as measure } from './helpers/mt.js';
import { workerExecArgv } from '../src/mt/threads.js';
import { NullSubject } from '../src/subjects/null.js';
import { runRandomMixed } from '../src/workloads/random-mixed.js';
import { runMtBench } from '../src/mt/runner.js';
import { findMtWorkload, paramsFor } from '../src/mt/workloads/index.js';

const SUBJECTS = ['null', 'thing-locked', 'hakmem'];

describe('multi-thread workloads, 2 workers, on null, thing-locked and hakmem (each in its own process)', () => {
  test('cross-thread: every block A mallocs, B verifies and frees; counters agree', async () => {
    const records = await Promise.all(SUBJECTS.map((s) => measure(s, 'cross-thread', 2, { blocks: 6000 })));
    expectAgreement(records);
    expect(records[0]).toMatchObject({ mallocs: 6000, frees: 6000 });
  });

  test('larson, fixed work: each lineage handed to a new worker, which frees the inherited blocks and drains; counters agree', async () => {
    const records = await Promise.all(SUBJECTS.map((s) => measure(s, 'larson', 2, { steps: 4000, rounds: 2000, warmSteps: 2000 })));
    expectAgreement(records);
    for (const r of records) {
      // 2 lineages × 4000 steps, each step a free and a malloc (the fill before and the drain after are not timed).
      expect(r).toMatchObject({ mallocs: 8000, frees: 8000 });
      expect(r.extra).toMatchObject({ handoffs: 2, generations: 4, 'fill.mallocs': 2000, 'drain.frees': 2000, 'live.end': 0 });
    }
  });

  test('mid-large-mt: each thread its own random-mixed pool; counters agree; one thread replays the pool band', async () => {
    const [records, single] = await Promise.all([
      Promise.all(SUBJECTS.map((s) => measure(s, 'mid-large-mt', 2, { cycles: 6000 }))),
      measure('null', 'mid-large-mt', 1, { cycles: 6000 }),
    ]);
    expectAgreement(records);
    const band = runRandomMixed(new NullSubject(), { variant: 'pool', ws: 256, minSize: 8192, maxSize: 53248, cycles: 6000, seed: 42 });
    expect(single).toMatchObject({ mallocs: band.mallocs, frees: band.frees, bytes: band.bytes, finalSeed: band.finalSeed, checksum: band.checksum });
    expect(records[0]!.mallocs).toBeGreaterThan(band.mallocs);
  });
});

describe('runMtBench', () => {
  test('interleaves workloads and thread counts as well as subjects; a thread count the workload does not take is skipped', async () => {
    const seen: string[] = [];
    const result = await runMtBench({
      subjects: ['null'], threads: [1, 2], runs: 2, seed: 42,
      workloads: [
        { name: 'cross-thread', params: paramsFor(findMtWorkload('cross-thread'), { blocks: 2000 }, false) },
        { name: 'mid-large-mt', params: paramsFor(findMtWorkload('mid-large-mt'), { cycles: 2000 }, false) },
      ],
      onRun: (r) => seen.push(`${r.workload} ×${r.threads} ${r.run}`),
      onWorkload: (groups) => seen.push(`done ${groups.map((g) => `${g.workload} ×${g.threads} ${g.records.length}`).join(', ')}`),
    });
    expect(seen).toEqual([
      'cross-thread ×2 0', 'mid-large-mt ×1 0', 'mid-large-mt ×2 0',
      'cross-thread ×2 1', 'done cross-thread ×1 0, cross-thread ×2 2',
      'mid-large-mt ×1 1', 'mid-large-mt ×2 1', 'done mid-large-mt ×1 2, mid-large-mt ×2 2',
    ]);
    expect(result.groups.map((g) => [g.workload, g.threads, g.records.length, g.failures.length, g.notRun !== undefined])).toEqual([
      ['cross-thread', 1, 0, 0, true], ['cross-thread', 2, 2, 0, false], ['mid-large-mt', 1, 2, 0, false], ['mid-large-mt', 2, 2, 0, false],
    ]);
  }, 120_000);
});

describe('worker options', () => {
  test("keep the resolution conditions, drop tsx's --import and V8 flags", () => {
    expect(workerExecArgv(['--import', 'file:///x/node_modules/tsx/dist/loader.mjs', '--conditions=@hakmem/source', '--expose-gc']))
      .toEqual(['--conditions=@hakmem/source']);
    expect(workerExecArgv([])).toEqual(['--conditions=@hakmem/source']);
  });
});
