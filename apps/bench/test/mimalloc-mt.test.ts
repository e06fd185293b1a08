import { describe, expect, test } from 'vitest';
import { COUNTERS, expectAgreement, measureInChild as measure } from './helpers/mt.js';
import { sharedLines } from '../src/mt/workloads/cache-scratch.js';
import { findMtWorkload, mtWorkloads, paramsFor } from '../src/mt/workloads/index.js';
import { NullSubject } from '../src/subjects/null.js';
import { runAllocTest } from '../src/workloads/alloc-test.js';

/**
 * Each workload with 2 workers on null and hakmem, and on thing-locked where its free
 * (a walk of every live block) keeps the run short; each measurement in its own process,
 * a workload's side by side.
 */
describe('mimalloc-bench shapes on worker_threads', () => {
  test('alloc-test-mt: each thread its own share of the slots; counters agree; one thread replays the single-thread workload', async () => {
    const params = { cycles: 6000, items: 2048 };
    const [records, single] = await Promise.all([
      Promise.all(['null', 'hakmem'].map((s) => measure(s, 'alloc-test-mt', 2, params))),
      measure('null', 'alloc-test-mt', 1, params),
    ]);
    expectAgreement(records, true);
    const here = runAllocTest(new NullSubject(), { cycles: 6000, items: 2048, maxLog2: 10, seed: 42 });
    for (const key of COUNTERS) expect(single[key], key).toBe(here[key]);
    expect(records[0]!.mallocs).toBeGreaterThan(here.mallocs);
  });

  test('cache-scratch: each worker frees the object handed to it, then mallocs, writes and frees its own; counters agree', async () => {
    const records = await Promise.all(['null', 'thing-locked', 'hakmem'].map((s) => measure(s, 'cache-scratch', 2, { iterations: 50, repetitions: 200 })));
    expectAgreement(records, true);
    for (const r of records) {
      expect(r).toMatchObject({ mallocs: 100, frees: 102, bytes: 800 });
      expect(r.extra).toMatchObject({ 'setup.mallocs': 2, 'setup.failed': 0, 'live.end': 0 });
      // How many workers' first blocks share a cache line with another's: 0..2 (n/a for null's one address).
      if (r.subject === 'null') expect(r.extra['lines.shared']).toBeUndefined();
      else expect([0, 1, 2]).toContain(r.extra['lines.shared']);
    }
    expect(sharedLines([64, 100, 200, 0])).toBe(2);
    expect(sharedLines([64, 128, 0, 0])).toBe(0);
  });

  test('mstress: blocks swapped through the shared table are freed by whichever thread holds them; counters agree', async () => {
    const records = await Promise.all(['null', 'hakmem'].map((s) => measure(s, 'mstress', 2, { scale: 5, rounds: 3 })));
    expectAgreement(records, true);
    // 2 threads × 3 rounds × (500 short-lived + 250 retained).
    expect(records[0]).toMatchObject({ mallocs: 4500, frees: 4500 });
  });

  test('xmalloc: a producer mallocs batches, a consumer frees them; counters agree', async () => {
    const records = await Promise.all(['null', 'thing-locked', 'hakmem'].map((s) => measure(s, 'xmalloc', 2, { batches: 4, batch: 256 })));
    expectAgreement(records, true);
    // 4 batches of 256 objects and their batch records.
    for (const r of records) expect(r).toMatchObject({ mallocs: 4 * 257, frees: 4 * 257 });
  });

  test('are registered with their parameters; xmalloc needs pairs, cache-scratch a setup thread; thing-locked is slow on the large live sets', () => {
    const names = mtWorkloads.map((w) => w.name);
    expect(names).toEqual(['cross-thread', 'larson', 'mid-large-mt', 'alloc-test-mt', 'cache-scratch', 'mstress', 'xmalloc']);
    expect(findMtWorkload('xmalloc').notFor(1)).toMatch(/even/);
    expect(findMtWorkload('xmalloc').notFor(2)).toBeUndefined();
    expect(findMtWorkload('cache-scratch').attachedThreads(2)).toBe(3);
    for (const name of ['alloc-test-mt', 'mstress', 'xmalloc']) expect(findMtWorkload(name).slowSubjects?.['thing-locked']).toBeDefined();
    expect(findMtWorkload('cache-scratch').slowSubjects).toBeUndefined();
    expect(() => paramsFor(findMtWorkload('mstress'), { bogus: 1 }, false)).toThrow(/no parameter "bogus"/);
  });
});
