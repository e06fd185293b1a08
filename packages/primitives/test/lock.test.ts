import { describe, expect, test } from 'vitest';
import type { Worker } from 'node:worker_threads';
import {
  canBlockHere, LOCK_FREE, LOCK_HELD, LOCK_HOLDER_SHIFT, LOCK_SLEEPERS, lockAcquire, lockBreak, lockHolder, lockRelease, MAX_LOCK_HOLDER,
} from '@hakmem/primitives';
import { tsWorker } from '../../../tools/worker/ts-worker.js';
import { W_COUNTER, W_LOCK, WORDS, type LockWorkerData } from './fixtures/lock-words.js';

const entry = new URL('./fixtures/lock-worker.ts', import.meta.url);

interface Report { contended: number; overlaps: number; wrongHolder: number; block: boolean }

function run(w: Worker): Promise<Report> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

async function race(iterations: number, canBlock: readonly [boolean, boolean], holders: readonly [number, number] = [0, 0]): Promise<{ count: number; reports: Report[] }> {
  const sab = new SharedArrayBuffer(WORDS * 4);
  const workers = canBlock.map((b, k) => tsWorker(entry, { data: { sab, iterations, canBlock: b, holder: holders[k]! } satisfies LockWorkerData }));
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

  test('the word records the holder: acquire with a holder id, lockHolder reads it, release clears it', () => {
    const i32 = new Int32Array(new SharedArrayBuffer(8));
    expect(lockHolder(i32, 0)).toBe(-1);
    expect(lockAcquire(i32, 0, true, 7)).toBe(0);
    expect(i32[0]).toBe((7 << LOCK_HOLDER_SHIFT) | LOCK_HELD);
    expect(lockHolder(i32, 0)).toBe(7);
    lockRelease(i32, 0);
    expect(i32[0]).toBe(LOCK_FREE);
    expect(lockAcquire(i32, 1, true, MAX_LOCK_HOLDER)).toBe(0);
    expect(lockHolder(i32, 1)).toBe(MAX_LOCK_HOLDER);
    lockRelease(i32, 1);
    // Anonymous (holder 0): the plain futex values.
    lockAcquire(i32, 0, true);
    expect(lockHolder(i32, 0)).toBe(0);
    expect(lockBreak(i32, 0, 3)).toBe(false); // another holder's lock is not broken
    expect(i32[0]).toBe(LOCK_HELD);
    lockRelease(i32, 0);
  });

  test('lockBreak releases a lock only for the holder it names, keeping the sleepers protocol', () => {
    const i32 = new Int32Array(new SharedArrayBuffer(4));
    expect(lockBreak(i32, 0, 5)).toBe(false); // free
    i32[0] = (5 << LOCK_HOLDER_SHIFT) | LOCK_SLEEPERS;
    expect(lockBreak(i32, 0, 4)).toBe(false);
    expect(lockHolder(i32, 0)).toBe(5);
    expect(lockBreak(i32, 0, 5)).toBe(true); // notifies (nobody waits here: harmless)
    expect(i32[0]).toBe(LOCK_FREE);
  });

  test('a worker terminated inside its critical section leaves the lock naming it; lockBreak lets a sleeping waiter in', async () => {
    const sab = new SharedArrayBuffer(WORDS * 4);
    const i32 = new Int32Array(sab);
    const dying = tsWorker(entry, { data: { sab, iterations: 0, canBlock: true, holder: 42, die: true } satisfies LockWorkerData });
    await new Promise((resolve, reject) => { dying.once('message', resolve); dying.once('error', reject); });
    await dying.terminate();
    expect(lockHolder(i32, W_LOCK)).toBe(42); // held forever by a thread that is gone
    // A waiter: it spins, marks the word "sleepers possible" (keeping the holder) and sleeps.
    const waiter = tsWorker(entry, { data: { sab, iterations: 1000, canBlock: true, holder: 9 } satisfies LockWorkerData });
    Atomics.add(i32, 3, 1); // the waiter's barrier expects two workers
    const report = run(waiter);
    for (let i = 0; i < 200 && (i32[W_LOCK]! & 3) !== LOCK_SLEEPERS; i++) await new Promise((res) => setTimeout(res, 5));
    expect(i32[W_LOCK]).toBe((42 << LOCK_HOLDER_SHIFT) | LOCK_SLEEPERS);
    i32[2] = 0; // the repair: what the lock protects made consistent again (here: "inside" cleared)
    expect(lockBreak(i32, W_LOCK, 42)).toBe(true);
    const r = await report;
    await waiter.terminate();
    expect(r.overlaps).toBe(0);
    expect(r.wrongHolder).toBe(0);
    expect(i32[1]).toBe(1000);
    expect(i32[W_LOCK]).toBe(LOCK_FREE);
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

  test('two blocking workers with holder ids: exact, and the word names the holder inside the critical section', async () => {
    const iterations = 100_000;
    const { count, reports } = await race(iterations, [true, true], [1, 255]);
    expect(count).toBe(2 * iterations);
    expect(reports.map((r) => [r.overlaps, r.wrongHolder])).toEqual([[0, 0], [0, 0]]);
  });

  test('a spinning worker (cannot block) against a blocking one: still exact', async () => {
    const iterations = 200_000;
    const { count, reports } = await race(iterations, [false, true]);
    expect(count).toBe(2 * iterations);
    expect(reports.map((r) => r.overlaps)).toEqual([0, 0]);
    expect(reports.map((r) => r.block)).toEqual([false, true]);
  });
});
