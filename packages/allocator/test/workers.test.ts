import type { Worker } from 'node:worker_threads';
import { tsWorker } from '../../../tools/worker/ts-worker.js';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isHakmemError, PAGE_SHIFT, PageKind, REG_KIND_MASK } from '@hakmem/contracts';
import { attachHeap, createHeap, type Heap } from '../src/index.js';
import type { WorkerJob } from '../../../tools/fuzz/stress-worker.js';

// Workers run the fixture's TypeScript through tsx (tools/worker), with workspace
// packages resolved to their sources.
const SCRIPT = new URL('../../../tools/fuzz/stress-worker.ts', import.meta.url);

interface Report {
  ops: number;
  mismatches: number;
  tid: number;
  codes?: string[];
  handOff?: number[];
  live?: number[];
  footprint?: number;
}

function start(job: WorkerJob): { worker: Worker; report: Promise<Report> } {
  const worker = tsWorker(SCRIPT, { data: job });
  const report = new Promise<Report>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => { if (code !== 0) reject(new Error(`worker exited with ${code}`)); });
  });
  return { worker, report };
}

function run(job: WorkerJob): Promise<Report> {
  return start(job).report;
}

/** After every worker left: nothing live, nothing cached by a thread, every box's invariants hold. */
function expectEmpty(heap: Heap): void {
  heap.trim();
  heap.validate();
  const s = heap.stats();
  expect({ tiny: s.tiny.blocksInUse, pool: s.pool.blocksInUse, l25: s.l25.blocksInUse, big: s.big.blocksInUse }).toEqual({ tiny: 0, pool: 0, l25: 0, big: 0 });
  expect(heap.liveBytes()).toBe(0);
  expect(heap.threads().map((t) => t.tid)).toEqual([heap.tid]);
  expect(s.boxes.superslabTier.hot + s.boxes.superslabTier.draining).toBe(0);
}

const ring = (): SharedArrayBuffer => new SharedArrayBuffer((2 + 1024 * 2) * 4);

describe('a heap shared by workers', () => {
  it('debug level 0: the creator allocates, worker B frees, worker C frees again: E_DOUBLE_FREE in every tier (an L2.5 or big block B\'s free gave back to the backend: E_INVALID_POINTER)', async () => {
    const heap = createHeap({ shared: true, maxBytes: 128 << 20 });
    const sizes = [8, 48, 700, 2048, 3000, 9000, 40_000, 65_535, 200_000, 3 << 20];
    const blocks = sizes.flatMap((n) => Array.from({ length: n < 4096 ? 200 : 8 }, () => heap.malloc(n)));
    for (const [detachFirst, label] of [[false, 'B still attached (the blocks in its cache region)'], [true, 'B detached (the blocks back in their slabs or on the creator\'s remote-free lists)']] as const) {
      const ps = detachFirst ? blocks.slice(0, blocks.length >>> 1) : blocks.slice(blocks.length >>> 1);
      const hold = new SharedArrayBuffer(4);
      const b = start({ handle: heap.share(), role: 'free-each', count: 0, seed: 1, inherited: ps, ...(detachFirst ? {} : { hold }) });
      const first = await b.report;
      expect(first.codes!.every((c) => c === 'ok'), label).toBe(true);
      if (detachFirst) await new Promise((res) => b.worker.once('exit', res));
      // A cache over its live-set limit unmaps a freed L2.5 or big block at once: its pages
      // are then nobody's, and a free of it is a pointer into no block.
      heap.refresh();
      const reg = heap.layout.registryOffset >>> 2;
      const gone = new Set(ps.filter((p) => (heap.views.i32[reg + (p >>> PAGE_SHIFT)]! & REG_KIND_MASK) === PageKind.NONE));
      const second = await run({ handle: heap.share(), role: 'free-each', count: 0, seed: 2, inherited: ps });
      const wrong = second.codes!.map((c, i) => [c, ps[i]!] as const)
        .filter(([c, p]) => c !== (gone.has(p) ? ErrorCode.INVALID_POINTER : ErrorCode.DOUBLE_FREE));
      expect(wrong, label).toEqual([]);
      for (const p of ps) expect(heap.isAllocated(p), label).toBe(false);
      if (!detachFirst) {
        Atomics.store(new Int32Array(hold), 0, 1);
        Atomics.notify(new Int32Array(hold), 0);
        await new Promise((res) => b.worker.once('exit', res));
      }
    }
    expectEmpty(heap);
  });

  it('share() / attachHeap: a worker gets its own thread id and its blocks are usable by the creator', async () => {
    const heap = createHeap({ shared: true, maxBytes: 64 << 20 });
    expect(heap.tid).toBe(1);
    const r = ring();
    const producer = run({ handle: heap.share(), role: 'producer', ring: r, count: 2000, seed: 7 });
    // The creator consumes on the main thread.
    const ri = new Int32Array(r);
    let bad = 0;
    for (let i = 0; i < 2000; i++) {
      while (Atomics.load(ri, 1) === Atomics.load(ri, 0)) await new Promise((res) => setTimeout(res, 0));
      const t = Atomics.load(ri, 1);
      const p = ri[2 + (t % 1024) * 2]!;
      const n = ri[3 + (t % 1024) * 2]!;
      Atomics.store(ri, 1, t + 1);
      const u8 = heap.views.u8;
      if (u8[p + n - 1] !== ((n * 7 + p) & 255)) bad++;
      heap.free(p);
    }
    const rep = await producer;
    expect(rep.tid).toBe(2);
    expect(rep.mismatches + bad).toBe(0);
    expect(heap.stats().boxes.pageBox.remoteFreed).toBeGreaterThan(0);
    expectEmpty(heap);
  });

  it('xmalloc shape: 2 producers allocate, 2 consumers verify and free, all detach: zero live bytes, every SuperSlab accounted for', async () => {
    const heap = createHeap({ shared: true, maxBytes: 256 << 20 });
    const handle = heap.share();
    const rings = [ring(), ring()];
    const count = 20_000;
    const reports = await Promise.all([
      run({ handle, role: 'producer', ring: rings[0]!, count, seed: 11 }),
      run({ handle, role: 'consumer', ring: rings[0]!, count, seed: 12 }),
      run({ handle, role: 'producer', ring: rings[1]!, count, seed: 13 }),
      run({ handle, role: 'consumer', ring: rings[1]!, count, seed: 14 }),
    ]);
    expect(reports.reduce((a, r) => a + r.mismatches, 0)).toBe(0);
    // Each worker had its own id while it ran (an id a worker gave back may be taken again by a later one).
    expect(reports.every((r) => r.tid >= 2)).toBe(true);
    expectEmpty(heap);
  });

  it('larson shape: each round a fresh worker inherits and frees the previous one\'s blocks', async () => {
    const heap = createHeap({ shared: true, maxBytes: 64 << 20 });
    const handle = heap.share();
    let handOff = [[] as number[], [] as number[]];
    let mismatches = 0;
    for (let round = 0; round < 4; round++) {
      const reps = await Promise.all(handOff.map((inherited, k) => run({ handle, role: 'larson', count: 3000, seed: 100 + round * 2 + k, inherited })));
      mismatches += reps.reduce((a, r) => a + r.mismatches, 0);
      // Thread k's blocks go to the other worker next round: frees of memory another thread allocated.
      handOff = [reps[1]!.handOff!, reps[0]!.handOff!];
    }
    for (const list of handOff) for (let i = 0; i < list.length; i += 2) heap.free(list[i]!);
    expect(mismatches).toBe(0);
    expectEmpty(heap);
  });

  it('a worker terminated without detach is reclaimed: its caches and slabs come back, its live blocks stay valid, the memory is reused', async () => {
    const heap = createHeap({ shared: true, maxBytes: 128 << 20 });
    const { worker, report } = start({ handle: heap.share(), role: 'hold', count: 3000, seed: 5 });
    heap.watch(worker);
    const rep = await report;
    expect(rep.mismatches).toBe(0);
    const exited = new Promise((res) => worker.once('exit', res));
    await worker.terminate();
    await exited;
    // watch() reclaimed it on exit: its id is ABANDONED (blocks of its slabs are still live).
    expect(heap.threads().find((t) => t.tid === rep.tid)?.state).toBe('abandoned');
    heap.validate();
    // Its live blocks are intact and can be freed by the creator.
    const live = rep.live!;
    for (let i = 0; i < live.length; i += 2) {
      const p = live[i]!;
      const n = live[i + 1]!;
      expect(heap.views.u8[p + n - 1]).toBe((n * 7 + p) & 255);
      heap.free(p);
    }
    expectEmpty(heap);
    expect(heap.reclaim(rep.tid)).toBe(false); // collected by trim: FREE now
    // Its memory is reused: the same population again does not grow the footprint.
    const before = heap.stats().footprint;
    const again: number[] = [];
    for (let i = 0; i < live.length; i += 2) again.push(heap.malloc(live[i + 1]!));
    expect(again.every((p) => p !== 0)).toBe(true);
    expect(heap.stats().footprint).toBe(before);
    for (const p of again) heap.free(p);
    expectEmpty(heap);
  });

  it('an id abandoned with live blocks is adopted by the next attach, and reclaim / detach errors are typed', async () => {
    const heap = createHeap({ shared: true, maxBytes: 64 << 20 });
    const w = attachHeap(heap.share());
    expect(w.tid).toBe(2);
    const kept = [w.malloc(100), w.malloc(5000), w.malloc(200_000)];
    w.detach();
    expect(heap.threads().find((t) => t.tid === 2)?.state).toBe('abandoned');
    expect(() => w.malloc(8)).toThrowError(expect.objectContaining({ code: ErrorCode.HEAP_CLOSED }) as Error);
    // The creator frees them; flushed from its caches, they queue on thread 2's remote lists.
    for (const p of kept) heap.free(p);
    heap.boxes.unifiedCache.flush();
    heap.boxes.poolTls.flush();
    const again = attachHeap(heap.share());
    expect(again.tid).toBe(2);
    expect(again.stats().boxes.pageBox.remoteDrained + again.stats().boxes.poolRefill.remoteDrained).toBeGreaterThan(0);
    again.detach();
    expect(() => heap.reclaim(1)).toThrowError(expect.objectContaining({ code: ErrorCode.INVALID_OPTION }) as Error);
    expect(() => heap.reclaim(0)).toThrowError(expect.objectContaining({ code: ErrorCode.INVALID_OPTION }) as Error);
    expectEmpty(heap);
    let err: unknown;
    try {
      createHeap().share();
    } catch (e) {
      err = e;
    }
    expect(isHakmemError(err, ErrorCode.INVALID_OPTION)).toBe(true);
  });

  it('works on a growable SharedArrayBuffer and on a shared wasm memory (views refreshed after growth elsewhere)', async () => {
    for (const options of [{ growable: true }, { backend: 'wasm' as const }]) {
      const heap = createHeap({ shared: true, maxBytes: 128 << 20, ...options });
      const handle = heap.share();
      const r = ring();
      const reps = await Promise.all([
        run({ handle, role: 'producer', ring: r, count: 5000, seed: 21 }),
        run({ handle, role: 'consumer', ring: r, count: 5000, seed: 22 }),
      ]);
      expect(reps[0]!.mismatches + reps[1]!.mismatches).toBe(0);
      heap.refresh();
      expectEmpty(heap);
    }
  });
});
