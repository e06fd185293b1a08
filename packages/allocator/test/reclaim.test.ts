import { describe, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { ErrorCode } from '@hakmem/contracts';
import { attachHeap, createHeap, type Heap } from '../src/index.js';
import { tsWorker } from '../../../tools/worker/ts-worker.js';
import type { IdleJob, IdleReport } from './fixtures/idle-worker.js';
import { codeOf } from './helpers/code-of.js';

// reclaim() of a thread that is alive (issue 19, "Safe by default"): an idle worker looks
// like a dead one from the heap's metadata, and taking back its caches and slabs would hand
// its blocks out twice once it goes on. Only `watch` — the worker's 'exit' event — proves a
// LIVE thread id gone; `reclaim(tid)` takes back only ids no thread holds (ABANDONED).

const SCRIPT = new URL('./fixtures/idle-worker.ts', import.meta.url);


function next(worker: Worker): Promise<IdleReport> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

function expectEmpty(heap: Heap): void {
  heap.trim();
  heap.validate();
  expect(heap.liveBytes()).toBe(0);
  expect(heap.threads().map((t) => t.tid)).toEqual([heap.tid]);
}

describe('reclaim refuses a thread that is alive', () => {
  it('an idle worker: reclaim(tid) throws E_INVALID_OPTION and changes nothing; the worker goes on with no block handed out twice', async () => {
    const heap = createHeap({ shared: true, maxBytes: 64 << 20 });
    const table = new SharedArrayBuffer(4 * 260);
    const t = new Int32Array(table);
    const worker = tsWorker(SCRIPT, { data: { handle: heap.share(), table } satisfies IdleJob });
    heap.watch(worker);
    const exited = new Promise((res) => worker.once('exit', res));
    const { tid } = await next(worker);
    expect(heap.threads().find((r) => r.tid === tid)?.state).toBe('live');

    const code = codeOf(() => heap.reclaim(tid));
    expect(code).toBe(ErrorCode.INVALID_OPTION);
    let message = '';
    try {
      heap.reclaim(tid);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`thread ${tid} is live`);
    expect(message).toContain('watch');
    expect(heap.threads().find((r) => r.tid === tid)?.state).toBe('live');
    heap.validate();

    // The creator allocates what a reclaim would have freed; then the worker goes on.
    const mine: number[] = [];
    for (let i = 0; i < 250; i++) {
      const p = heap.malloc(24);
      heap.u8(p, 24).fill(0x5a);
      mine.push(p);
    }
    t.set(mine, 2);
    t[1] = mine.length;
    Atomics.store(t, 0, 1);
    Atomics.notify(t, 0);
    const done = await next(worker);
    await exited;
    expect({ duplicates: done.duplicates, mismatches: done.mismatches }).toEqual({ duplicates: 0, mismatches: 0 });
    expect(mine.every((p) => heap.u8(p, 24).every((b) => b === 0x5a))).toBe(true);
    for (const p of mine) heap.free(p);
    expect(heap.lastReclaim).toBeUndefined(); // it detached: watch found nothing to reclaim
    expectEmpty(heap);
  });

  it('a LIVE id attached from this very thread is refused too; an ABANDONED id is collected; a FREE one is false', () => {
    const heap = createHeap({ shared: true, maxBytes: 64 << 20 });
    const other = attachHeap(heap.share());
    const p = other.malloc(3000);
    expect(codeOf(() => heap.reclaim(other.tid))).toBe(ErrorCode.INVALID_OPTION);
    other.u8(p, 3000).fill(1); // still its own
    other.detach(); // ABANDONED: p is live
    expect(heap.threads().find((r) => r.tid === other.tid)?.state).toBe('abandoned');
    heap.free(p);
    heap.boxes.poolTls.flush(); // the free queues on the abandoned id's remote list
    expect(heap.reclaim(other.tid)).toBe(true); // no thread holds it: collected now
    expect(heap.reclaim(other.tid)).toBe(false);
    expectEmpty(heap);
  });

  it('a worker killed without detach is reclaimed by watch on its exit, and only then', async () => {
    const heap = createHeap({ shared: true, maxBytes: 64 << 20 });
    const table = new SharedArrayBuffer(4 * 260);
    const worker = tsWorker(SCRIPT, { data: { handle: heap.share(), table } satisfies IdleJob });
    let reclaimed = -1;
    heap.watch(worker, (r) => { reclaimed = r.tid; });
    const exited = new Promise((res) => worker.once('exit', res));
    const { tid } = await next(worker);
    expect(codeOf(() => heap.reclaim(tid))).toBe(ErrorCode.INVALID_OPTION);
    await worker.terminate();
    await exited;
    expect(reclaimed).toBe(tid);
    heap.validate();
    // Its blocks stay live, so its id is ABANDONED: reclaim(tid) may collect it again (it
    // stays ABANDONED while they live), and is no longer refused.
    expect(heap.threads().find((r) => r.tid === tid)?.state).toBe('abandoned');
    expect(codeOf(() => heap.reclaim(tid))).toBe('returned true');
    expect(heap.threads().find((r) => r.tid === tid)?.state).toBe('abandoned');
    heap.validate();
  });
});
