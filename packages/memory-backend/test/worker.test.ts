import { afterEach, describe, expect, test } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { PAGE_SIZE, type BackendOptions } from '@hakmem/contracts';
import { createNativeBackend, createWasmBackend } from '@hakmem/memory-backend';
import { tsWorker } from '../../../tools/worker/ts-worker.js';
import type { GrowWorkerData, Reply, Request } from './fixtures/grow-protocol.js';

const entry = new URL('./fixtures/grow-worker.ts', import.meta.url);
const workers: Worker[] = [];

function nextReply(w: Worker): Promise<Reply> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

function request(w: Worker, req: Request): Promise<Reply> {
  const reply = nextReply(w);
  w.postMessage(req);
  return reply;
}

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

describe.each([
  ['wasm', createWasmBackend],
  ['native (growable)', (o: BackendOptions) => createNativeBackend({ ...o, growable: true })],
] as const)('%s backend shared with a worker', (_label, create) => {
  test('growth by main is seen by the worker, growth by the worker is seen by main', async () => {
    const main = create({ shared: true, maxBytes: 16 * PAGE_SIZE });
    const w = tsWorker(entry, { data: { handle: main.share() } satisfies GrowWorkerData });
    workers.push(w);
    const hello = await nextReply(w);
    expect(hello.byteLength).toBe(PAGE_SIZE);
    expect(hello.viewsBytes).toBe(PAGE_SIZE);

    // Main grows 1 → 3 pages and writes near the new end; the worker reads it.
    expect(main.grow(2)).toBe(1);
    const index = (3 * PAGE_SIZE) / 4 - 1;
    Atomics.store(main.views.i32, index, 0x5eed);
    const read = await request(w, { op: 'read', index });
    expect(read.lengthBefore).toBe(PAGE_SIZE / 4);
    expect(read.refreshed).toBe(true);
    expect(read.result).toBe(0x5eed);
    expect(read.byteLength).toBe(3 * PAGE_SIZE);
    expect(read.viewsBytes).toBe(3 * PAGE_SIZE);

    // The worker grows 3 → 8 pages and writes the last word; main reads it.
    const grown = await request(w, { op: 'grow', pages: 5, value: 0xbeef });
    expect(grown.result).toBe(3);
    expect(grown.byteLength).toBe(8 * PAGE_SIZE);
    expect(grown.viewsBytes).toBe(8 * PAGE_SIZE);
    expect(main.byteLength()).toBe(8 * PAGE_SIZE);
    const version = main.views.version;
    expect(main.views.u8.length).toBe(3 * PAGE_SIZE);
    expect(main.refresh()).toBe(true);
    expect(main.views.version).toBe(version + 1);
    expect(main.refresh()).toBe(false);
    expect(main.views.u8.length).toBe(8 * PAGE_SIZE);
    expect(Atomics.load(main.views.i32, (8 * PAGE_SIZE) / 4 - 1)).toBe(0xbeef);
    expect(Atomics.load(main.views.i32, index)).toBe(0x5eed);

    // Past the maximum, from the worker: -1 and nothing changes for either side.
    const refused = await request(w, { op: 'grow', pages: 9, value: 1 });
    expect(refused.result).toBe(-1);
    expect(refused.byteLength).toBe(8 * PAGE_SIZE);
    expect(main.byteLength()).toBe(8 * PAGE_SIZE);
    expect(main.refresh()).toBe(false);
    expect(Atomics.load(main.views.i32, (8 * PAGE_SIZE) / 4 - 1)).toBe(0xbeef);
  });
});

describe('native backend (reserved, the default) shared with a worker', () => {
  test('each side sees the other\'s growth and writes at once: one length cell, views over the whole buffer', async () => {
    const main = createNativeBackend({ shared: true, maxBytes: 16 * PAGE_SIZE });
    const w = tsWorker(entry, { data: { handle: main.share() } satisfies GrowWorkerData });
    workers.push(w);
    const hello = await nextReply(w);
    expect([hello.byteLength, hello.viewsBytes]).toEqual([PAGE_SIZE, 16 * PAGE_SIZE]);

    expect(main.grow(2)).toBe(1);
    const index = (3 * PAGE_SIZE) / 4 - 1;
    Atomics.store(main.views.i32, index, 0x5eed);
    const read = await request(w, { op: 'read', index });
    expect([read.refreshed, read.result, read.byteLength]).toEqual([false, 0x5eed, 3 * PAGE_SIZE]);

    const grown = await request(w, { op: 'grow', pages: 5, value: 0xbeef });
    expect(grown.result).toBe(3);
    expect(main.byteLength()).toBe(8 * PAGE_SIZE);
    expect(main.refresh()).toBe(false);
    expect(Atomics.load(main.views.i32, (8 * PAGE_SIZE) / 4 - 1)).toBe(0xbeef);

    const refused = await request(w, { op: 'grow', pages: 9, value: 1 });
    expect(refused.result).toBe(-1);
    expect(main.byteLength()).toBe(8 * PAGE_SIZE);
  });
});
