import { describe, expect, it } from 'vitest';
import { GH_THREAD_LOCK } from '@hakmem/contracts';
import { attachHeap, createHeap, type BoxTuning, type ReclaimReport } from '../src/index.js';
import { threadLockHolder } from '../src/threads.js';
import { tsWorker } from '../../../tools/worker/ts-worker.js';
import { everyTier, expectedMapped, isAllocated, runKill, waitFor } from '../../../tools/fuzz/kill.js';
import {
  TRAP_GROW_AFTER, TRAP_MAP_AFTER, TRAP_MAP_BEFORE, TRAP_UNMAP_BEFORE, type TrapJob,
} from '../../../tools/fuzz/kill-trap-worker.js';

// Fault injection with workers (issue 9, "Hardening"): workers terminated at random points
// of a random malloc / free / realloc stress over every tier, most often inside a heap call
// and often holding a box lock (tools/fuzz/kill.ts says what every round checks); and
// workers stopped at chosen points inside a lock or between two boxes, then terminated
// (tools/fuzz/kill-trap-worker.ts), where the report of the reclaim is known exactly.

const TRAP = new URL('../../../tools/fuzz/kill-trap-worker.ts', import.meta.url);

describe('workers terminated at random points (fault injection)', () => {
  it('no deadlock, a valid heap, every block kept or given back: nothing lost, round after round', async () => {
    const stats = await runKill({
      kind: 'kill', seed: 20_240_905, rounds: 14, workers: 3, kills: 2, slots: 48, minDelay: 2, maxDelay: 40, debug: 0, maxBytes: 256 << 20,
    });
    console.log(`kill test: ${JSON.stringify(stats)}`);
    expect(stats.rounds).toBe(14);
    expect(stats.mismatches).toBe(0);
    expect(stats.kills).toBeGreaterThanOrEqual(14);
    // The kills land inside heap calls, or the test proves nothing.
    expect(stats.inCall / stats.kills).toBeGreaterThan(0.35);
    expect(stats.midOperation / stats.kills).toBeGreaterThan(0.35);
  }, 120_000);
});

interface TrapCase {
  readonly name: string;
  readonly trap: number;
  readonly minBytes: number;
  readonly sizes: readonly number[];
  readonly free?: boolean;
  readonly inDetach?: boolean;
  readonly tuning?: BoxTuning;
  /** The locks the reclaim must find held, in its order (innermost first). */
  readonly locks: readonly string[];
  /** At least this many bytes the worker had mapped and no box owned. */
  readonly stray: number;
}

const MiB = 1 << 20;
const CASES: readonly TrapCase[] = [
  { name: 'inside the superslab tier\'s lock, a SuperSlab mapped and not yet taken in', trap: TRAP_MAP_AFTER, minBytes: MiB, sizes: [24], locks: ['superslab-tier'], stray: MiB },
  { name: 'inside the superslab tier\'s lock, before os-boundary', trap: TRAP_MAP_BEFORE, minBytes: MiB, sizes: [24], locks: ['superslab-tier'], stray: 0 },
  { name: 'inside os-boundary\'s lock (and the tier\'s), the memory grown and the range not committed', trap: TRAP_GROW_AFTER, minBytes: 16, sizes: [24], locks: ['os-boundary', 'superslab-tier'], stray: 0 },
  { name: 'inside an L2.5 shard\'s lock, a block mapped and not yet stamped', trap: TRAP_MAP_AFTER, minBytes: 200_000, sizes: [200_000], locks: ['l25-pool'], stray: 200_000 },
  {
    name: 'between pool-refill and os-boundary (no lock), an arena chunk mapped', trap: TRAP_MAP_AFTER, minBytes: MiB, sizes: [5000],
    tuning: { poolRefill: { arenaInitial: MiB, arenaMax: MiB } }, locks: [], stray: MiB,
  },
  { name: 'between bigcache and os-boundary (no lock), a big block mapped', trap: TRAP_MAP_AFTER, minBytes: 3 * MiB, sizes: [3 * MiB], locks: [], stray: 3 * MiB },
  {
    name: 'inside bigcache\'s lock, a block evicted and not yet unmapped', trap: TRAP_UNMAP_BEFORE, minBytes: 3 * MiB, sizes: [3 * MiB, 3 * MiB, 3 * MiB], free: true,
    tuning: { bigCache: { budget: 4 * MiB } }, locks: ['bigcache'], stray: 3 * MiB,
  },
  { name: 'inside detach, a cache region on its way back to os-boundary', trap: TRAP_UNMAP_BEFORE, minBytes: 1, sizes: [], inDetach: true, locks: [], stray: 1 },
];

describe('a worker stopped at a chosen point inside a heap call, then terminated', () => {
  for (const c of CASES) {
    it(`${c.name}: the reclaim releases ${c.locks.length === 0 ? 'no lock' : c.locks.join(' and ')} and gives the pages back`, async () => {
      const heap = createHeap({ shared: true, maxBytes: 128 << 20, ...(c.tuning === undefined ? {} : { tuning: c.tuning }) });
      const table = new SharedArrayBuffer(64 * 4);
      const t = new Int32Array(table);
      const job: TrapJob = { handle: heap.share(), table, trap: c.trap, minBytes: c.minBytes, sizes: c.sizes, free: c.free ?? false, inDetach: c.inDetach ?? false };
      const w = tsWorker(TRAP, { data: job });
      let report: ReclaimReport | undefined;
      heap.watch(w, (r) => { report = r; });
      const exited = new Promise((res) => w.once('exit', res));
      await waitFor(() => Atomics.load(t, 0) >= 2, 30_000, 'the trap');
      expect(Atomics.load(t, 0)).toBe(2); // stopped inside the call, not run to its end
      await w.terminate();
      await exited;
      expect(report).toBeDefined();
      expect(report!.tid).toBe(t[1]);
      expect(report!.locks).toEqual(c.locks);
      expect(report!.strayBytes).toBeGreaterThanOrEqual(c.stray);
      heap.validate();
      // Its live blocks are the creator's to free now; the one being freed when it stopped is found freed or not, exactly.
      for (let i = 0; i < c.sizes.length; i++) if (t[8 + i] !== 0 && isAllocated(heap, t[8 + i]!)) heap.free(t[8 + i]!);
      everyTier(heap); // every tier works: no lock left held
      heap.trim();
      heap.validate();
      expect(heap.liveBytes()).toBe(0);
      expect(heap.threads().map((r) => r.tid)).toEqual([heap.tid]);
      expect(heap.stats().boxes.osBoundary.bytesInUse).toBe(expectedMapped(heap)); // nothing lost
    }, 60_000);
  }
});

describe('a thread that died holding the thread registry\'s lock (inside attach, detach or a reclaim)', () => {
  it('watch() releases it for the dead host thread, then reclaims its record', () => {
    const heap = createHeap({ shared: true, maxBytes: 64 << 20 });
    const host = 777;
    const other = attachHeap(heap.share(), { hostThreadId: host }); // "a worker": its record names host 777
    const p = other.malloc(100);
    other.u8(p, 100).fill(7);
    // It died inside detach, holding the thread lock (the lock word names its host).
    const i32 = heap.views.i32;
    Atomics.store(i32, GH_THREAD_LOCK, (threadLockHolder(host) << 2) | 1);
    let exit: (() => void) | undefined;
    let report: ReclaimReport | undefined;
    heap.watch({ threadId: host, once: (_e: 'exit', fn: () => void) => { exit = fn; } }, (r) => { report = r; });
    exit!();
    expect(Atomics.load(i32, GH_THREAD_LOCK)).toBe(0);
    expect(report?.tid).toBe(other.tid);
    expect(report?.locks).toContain('thread registry');
    expect(heap.threads().find((r) => r.tid === other.tid)?.state).toBe('abandoned'); // its block is still live
    expect(Array.from(heap.u8(p, 100)).every((x) => x === 7)).toBe(true);
    heap.free(p);
    heap.trim();
    heap.validate();
    expect(heap.liveBytes()).toBe(0);
    expect(heap.threads().map((r) => r.tid)).toEqual([heap.tid]);
    expect(heap.stats().boxes.osBoundary.bytesInUse).toBe(expectedMapped(heap));
  });

  it('a thread killed before its record named it (inside attach): only the host id says it held the lock', () => {
    const heap = createHeap({ shared: true, maxBytes: 64 << 20 });
    const i32 = heap.views.i32;
    Atomics.store(i32, GH_THREAD_LOCK, (threadLockHolder(4242) << 2) | 2);
    let exit: (() => void) | undefined;
    let report: ReclaimReport | undefined;
    heap.watch({ threadId: 4242, once: (_e: 'exit', fn: () => void) => { exit = fn; } }, (r) => { report = r; });
    exit!();
    expect(Atomics.load(i32, GH_THREAD_LOCK)).toBe(0);
    expect(report?.locks).toEqual(['thread registry']);
    const w = attachHeap(heap.share()); // the registry works again
    w.detach();
  });
});
