import { describe, expect, test } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { PAGE_SIZE, type BackendOptions, type MemoryBackend } from '@hakmem/contracts';
import { createNativeBackend, createWasmBackend } from '@hakmem/memory-backend';
import { osBoundaryStateBytes } from '@hakmem/os-boundary';
import { tsWorker } from '../../../../tools/worker/ts-worker.js';
import { createFakeBackend } from './fake-backend.js';
import { STATE_OFFSET, boundaryOver } from './helpers.js';
import type { SharedWorkerData, SharedWorkerReport } from './fixtures/shared-words.js';

const entry = new URL('./fixtures/shared-worker.ts', import.meta.url);
const MAX_PAGES = 256;

function report(w: Worker): Promise<SharedWorkerReport> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

const backends: Array<{ name: string; kind: SharedWorkerData['backend']; create: (o: BackendOptions & { maxBytes: number }) => MemoryBackend }> = [
  { name: 'fake (growable SharedArrayBuffer)', kind: 'fake', create: createFakeBackend },
  { name: 'native (growable SharedArrayBuffer)', kind: 'real', create: createNativeBackend },
  { name: 'wasm (shared WebAssembly.Memory)', kind: 'real', create: createWasmBackend },
];

describe('os-boundary: shared', () => {
  test.each(backends)('$name: two workers map and unmap at once; no overlap, invariants hold, counters add up', async ({ kind, create }) => {
    const backend = create({ initialBytes: PAGE_SIZE, maxBytes: MAX_PAGES * PAGE_SIZE, shared: true });
    const os = boundaryOver(backend, 1, true);
    const owners = new SharedArrayBuffer(MAX_PAGES * 4);
    const sync = new SharedArrayBuffer(4);
    const workers = [1, 2].map((id) => tsWorker(entry, {
      data: {
        backend: kind, handle: backend.share(), owners, sync, id, workers: 2, ops: 20_000, seed: id * 7919,
        stateOffset: STATE_OFFSET, stateBytes: osBoundaryStateBytes(MAX_PAGES), heapStart: PAGE_SIZE,
      } satisfies SharedWorkerData,
    }));
    let reports: SharedWorkerReport[];
    try {
      reports = await Promise.all(workers.map(report));
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
    for (const rep of reports) {
      expect(rep).toMatchObject({ overlaps: 0, stolen: 0, misaligned: 0, clobbered: 0 });
      expect(rep.maps).toBeGreaterThan(1000);
    }
    backend.refresh();
    os.checkInvariants();
    const sum = (k: keyof SharedWorkerReport): number => reports.reduce((s, rep) => s + rep[k], 0);
    const s = os.stats();
    expect(s).toMatchObject({
      maps: sum('maps'), mapFailures: sum('mapFailures'), unmaps: sum('unmaps'),
      bytesMapped: sum('bytesMapped'), bytesUnmapped: sum('bytesUnmapped'), bytesInUse: 0, freeRanges: 1,
    });
    expect(os.freeRanges()).toEqual([[PAGE_SIZE, s.highWater - PAGE_SIZE]]);
    expect(backend.byteLength()).toBe(s.highWater);
    expect(new Int32Array(owners).every((x) => x === 0)).toBe(true);
  });
});
