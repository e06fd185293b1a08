import { describe, expect, test } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { canBlockHere, LOCK_FREE, LOCK_HELD, LOCK_SLEEPERS, lockAcquire, lockRelease } from '@hakmem/primitives';
import { tsWorker } from '../../../tools/worker/ts-worker.js';
import { W_COUNTER, WORDS, type LockWorkerData } from './fixtures/lock-words.js';

const entry = new URL('./fixtures/lock-worker.ts', import.meta.url);

interface Report { contended: number; overlaps: number; block: boolean }

function run(w: Worker): Promise<Report> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

async function race(iterations: number, canBlock: readonly [boolean, boolean]): Promise<{ count: number; reports: Report[] }> {
  const sab = new SharedArrayBuffer(WORDS * 4);
  const workers = canBlock.map((b) => tsWorker(entry, { data: { sab, iterations, canBlock: b } satisfies LockWorkerData }));
  try {
    const reports = await Promise.all(workers.map(run));
    return { count: new Int32Array(sab)[W_COUNTER]!, reports };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

describe('lock', () => {
  test('uncontended acquire returns 0 and leaves the word held; release frees it', () => {
    const i32 = new Int32Array(new SharedArrayBuffer(8));
    expect(lockAcquire(i32, 1, true)).toBe(0);
    expect(i32[1]).toBe(LOCK_HELD);
    lockRelease(i32, 1);
    expect(i32[1]).toBe(LOCK_FREE);
    expect(i32[0]).toBe(0);
  });

  test('release of a word marked with sleepers frees it (notify with nobody waiting is harmless)', () => {
    const i32 = new Int32Array(new SharedArrayBuffer(4));
    i32[0] = LOCK_SLEEPERS;
    lockRelease(i32, 0);
    expect(i32[0]).toBe(LOCK_FREE);
  });

  test('canBlockHere is true on Node\'s main thread, and cached', () => {
    expect(canBlockHere()).toBe(true);
    expect(canBlockHere()).toBe(true);
  });

  test('two blocking workers: a plain counter incremented under the lock is exact', async () => {
    const iterations = 200_000;
    const { count, reports } = await race(iterations, [true, true]);
    expect(count).toBe(2 * iterations);
    for (const r of reports) {
      expect(r.overlaps).toBe(0);
      expect(r.block).toBe(true);
    }
  });

  test('a spinning worker (cannot block) against a blocking one: still exact', async () => {
    const iterations = 200_000;
    const { count, reports } = await race(iterations, [false, true]);
    expect(count).toBe(2 * iterations);
    expect(reports.map((r) => r.overlaps)).toEqual([0, 0]);
    expect(reports.map((r) => r.block)).toEqual([false, true]);
  });
});
