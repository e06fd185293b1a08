import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { attachHeap, createHeap } from '@hakmem/allocator';
import { randomOps, RecordingBlockSource, runModel, sharedHeapWorld, unifiedCacheConformance } from '@hakmem/testkit';
import { createFifoUnifiedCache, FifoUnifiedCache } from '../src/fifo-cache.js';
import { heap as composedHeap } from '../src/heap.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

describe('FifoUnifiedCache: the testkit conformance suite of the UnifiedCache contract', () => {
  // With a shared heap built with the FIFO cache: the clause "nothing is lost after reclaim".
  const suite = unifiedCacheConformance(createFifoUnifiedCache, sharedHeapWorld({ createHeap, attachHeap }, { unifiedCache: createFifoUnifiedCache }));
  test('the suite has cases', () => expect(suite.length).toBeGreaterThan(10));
  for (const c of suite) test(c.name, () => c.run());
});

describe('FifoUnifiedCache: its own policy', () => {
  test('pop hands out the block cached longest ago; spill sends the oldest half', () => {
    const src = new RecordingBlockSource();
    const cache = createFifoUnifiedCache({ numClasses: 2, capacity: 4, source: src });
    expect(cache).toBeInstanceOf(FifoUnifiedCache);
    const [a, b, c, d, e] = src.mint(0, 5) as [number, number, number, number, number];
    for (const p of [a, b, c]) expect(cache.push(0, p)).toBe(true);
    expect(cache.pop(0)).toBe(a); // a LIFO cache would hand out c
    expect(cache.push(0, d)).toBe(true);
    expect(cache.push(0, a)).toBe(true);
    expect(cache.push(0, e)).toBe(false);
    cache.spill(0, e); // ring b c d a: the oldest half (b, c) goes
    expect(src.freedBlocks()).toEqual([b, c]);
    expect([cache.pop(0), cache.pop(0), cache.pop(0), cache.pop(0)]).toEqual([d, a, e, 0]);
    expect(src.violations).toEqual([]);
  });

  test('storage: a region that already holds its layout keeps its blocks (an adopted thread\'s cache)', () => {
    const src = new RecordingBlockSource();
    let region: Int32Array | undefined;
    const storage = (words: number): Int32Array => (region ??= new Int32Array(words));
    const first = createFifoUnifiedCache({ numClasses: 3, capacity: 8, source: src, storage });
    const blocks = src.mint(1, 5);
    for (const p of blocks) first.push(1, p);
    first.pop(1);
    const again = createFifoUnifiedCache({ numClasses: 3, capacity: 8, source: src, storage });
    expect(again.count(1)).toBe(4);
    again.checkInvariants();
    again.flush();
    expect(src.freedBlocks()).toEqual(blocks.slice(1));
    // Another layout (other capacities) starts empty.
    const other = createFifoUnifiedCache({ numClasses: 3, capacity: [8, 8, 4], source: src, storage: () => new Int32Array(region!.length - 4) });
    expect(other.stats().cached).toBe(0);
  });
});

describe('a heap with the FIFO cache swapped in (src/heap.ts, the module compare --b takes)', () => {
  test('exports heap({ maxBytes }) → a Heap whose unified cache is the FIFO one, every other box the default', () => {
    const heap = composedHeap({ maxBytes: 32 << 20 });
    const dflt = createHeap({ maxBytes: 32 << 20 });
    expect(heap.boxes.unifiedCache).toBeInstanceOf(FifoUnifiedCache);
    expect(dflt.boxes.unifiedCache).not.toBeInstanceOf(FifoUnifiedCache);
    expect(heap.backend.maxBytes).toBe(32 << 20);
    for (const key of Object.keys(dflt.boxes) as Array<keyof typeof dflt.boxes>) {
      if (key !== 'unifiedCache') expect(Object.getPrototypeOf(heap.boxes[key]), key).toBe(Object.getPrototypeOf(dflt.boxes[key]));
    }
  });

  test('reuse is first-freed first: a freed block comes back after the blocks cached before it', () => {
    for (const [heap, expected] of [[composedHeap({ maxBytes: 32 << 20 }), 'fifo'], [createHeap({ maxBytes: 32 << 20 }), 'lifo']] as const) {
      const warm = heap.malloc(48); // refills the class with one batch: the rest is cached
      const cachedBefore = heap.boxes.unifiedCache.count(heap.boxes.tinyRoute.classOf(48));
      const a = heap.malloc(48);
      heap.free(a);
      const got: number[] = [];
      for (let i = 0; i <= cachedBefore; i++) got.push(heap.malloc(48));
      expect(got.indexOf(a)).toBe(expected === 'fifo' ? cachedBefore - 1 : 0);
      for (const p of [warm, ...got]) heap.free(p);
      heap.validate();
    }
  });

  test('10^5 random operations against the testkit reference model (contents, overlap, live bytes), validate', () => {
    const heap = composedHeap({ maxBytes: 64 << 20 });
    const report = runModel(heap, randomOps(7, 100_000, { maxSize: 2048, maxAlign: 256 }), {
      memoryBytes: 64 << 20, validateEvery: 20_000, liveBytesEvery: 5_000,
    });
    expect(report.mallocs).toBeGreaterThan(40_000);
    const s = heap.stats().boxes.unifiedCache;
    // The model's live set is large enough to make the FIFO cache refill and spill.
    expect(s.refills).toBeGreaterThan(10);
    expect(s.spills).toBeGreaterThan(0);
    expect(heap.liveBytes()).toBe(0);
    heap.trim();
    heap.validate();
    expect(heap.stats().tiny.slabs).toBe(0);
  });

  test('hakmem-bench accepts the file: one measurement of the tiny band verifies ok and shows the cache\'s counters', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      'apps/bench/bin/hakmem-bench.mjs', 'measure', '--subject', 'examples/swap-unified-cache/src/heap.ts',
      '--workload', 'tiny', '--cycles', '20000', '--seed', '42',
    ], { cwd: ROOT });
    const record = JSON.parse(stdout.trim().split('\n').pop()!) as { verify: string; mallocs: number; failed: number; stats: Record<string, number> };
    expect(record.verify).toBe('ok');
    expect(record.failed).toBe(0);
    expect(record.mallocs).toBeGreaterThan(5000);
    expect(record.stats['unifiedCache.refills']).toBeGreaterThan(0);
  });
});
