import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  ErrorCode, PAGE_SHIFT, PAGE_SIZE, PD_BLOCK_SIZE, PD_CAPACITY, PD_CARVE, PD_FREE_HEAD, PD_REGION_OWNER, PD_REGION_PAGES, PD_USED,
  PageKind, REG_AUX_SHIFT, REG_CLASS_SHIFT, REG_THREAD_SHIFT, THREAD_RECORD_BYTES, THREAD_TABLE_OFFSET, TR_POOL_REMOTE_HEAD,
  type BoxContext, type OsBoundary, type PoolRefill, type PoolRefillOptions,
} from '@hakmem/contracts';
import { createHeap } from '@hakmem/allocator';
import { errorCodeOf } from '@hakmem/testkit';
import { createPoolRefill, DEFAULT_ARENA_INITIAL, DEFAULT_ARENA_MAX, EMPTY_SPAN_BUDGET, spanPagesFor } from '@hakmem/pool-refill';

const MiB = 1 << 20;
/** The default mid classes, as the composition root gives them to pool-refill (from its pool-tls). */
const SIZES = createHeap({ maxBytes: 16 * MiB }).boxes.poolTls.classSizes;
const DEFAULT_POOL_CLASS_SIZES: readonly number[] = Array.from(SIZES);

interface Fixture {
  readonly ctx: BoxContext;
  readonly os: OsBoundary;
  make(tid: number, options?: Partial<PoolRefillOptions>): PoolRefill;
  reg(addr: number): number;
  desc(addr: number): number;
  i32(): Int32Array;
}

/**
 * pool-refill instances over a heap's os-boundary (from the composition root). The
 * heap's own pool-refill is thread 1's and never used here; the tests use threads 5
 * and 6 (their own thread records), and nothing else maps until a malloc, so
 * os-boundary's bytes in use are these instances' alone.
 */
function fixture(maxBytes = 64 * MiB, shared = false): Fixture {
  const heap = createHeap({ maxBytes, shared });
  const { backend, layout } = heap;
  const ctx: BoxContext = { backend, layout, tid: 5, shared, slotOffset: -1, debug: 0 };
  const os = heap.boxes.osBoundary;
  return {
    ctx, os,
    make: (tid, options = {}) => createPoolRefill({ ...ctx, tid }, { classSizes: SIZES, regions: os, ...options }),
    reg: (addr) => backend.views.i32[(layout.registryOffset >>> 2) + (addr >>> PAGE_SHIFT)]!,
    desc: (addr) => (layout.pageTableOffset >>> 2) + ((addr >>> PAGE_SHIFT) << 4),
    i32: () => backend.views.i32,
  };
}

function take(r: PoolRefill, cls: number, n: number): number[] {
  const out = new Int32Array(n);
  let got = 0;
  while (got < n) {
    const k = r.allocBatch(cls, out, got, Math.min(256, n - got));
    if (k === 0) break;
    got += k;
  }
  return Array.from(out.subarray(0, got));
}

function give(r: PoolRefill, cls: number, blocks: readonly number[]): void {
  for (let i = 0; i < blocks.length; i += 256) r.freeBatch(cls, Int32Array.from(blocks.slice(i, i + 256)), 0, Math.min(256, blocks.length - i));
}

describe('span geometry', () => {
  test('every default class: the span holds at least one block and wastes at most 1/32 of its pages', () => {
    for (const size of DEFAULT_POOL_CLASS_SIZES) {
      const pages = spanPagesFor(size);
      const bytes = pages * PAGE_SIZE;
      const n = Math.floor(bytes / size);
      expect(n, `${size}`).toBeGreaterThanOrEqual(1);
      expect((bytes - n * size) / bytes, `${size}: ${pages} pages`).toBeLessThanOrEqual(1 / 32);
      expect(pages).toBeLessThanOrEqual(16);
    }
    expect([2560, 40960, 57344, 65536].map(spanPagesFor)).toEqual([1, 5, 7, 1]);
  });
});

describe('pool-refill', () => {
  test('allocBatch carves a span: registry POOL / class / owner / page index, descriptor, blocks at multiples of the size', () => {
    const f = fixture();
    const r = f.make(5);
    const cls = DEFAULT_POOL_CLASS_SIZES.indexOf(40960); // 5-page spans of 8 blocks
    const got = take(r, cls, 8);
    expect(got).toHaveLength(8);
    const span = got[0]!;
    expect(span % PAGE_SIZE).toBe(0);
    expect(got).toEqual(Array.from({ length: 8 }, (_, i) => span + i * 40960));
    for (let i = 0; i < 5; i++) {
      expect(f.reg(span + i * PAGE_SIZE)).toBe(PageKind.POOL | (cls << REG_CLASS_SHIFT) | (5 << REG_THREAD_SHIFT) | (i << REG_AUX_SHIFT));
    }
    const d = f.desc(span);
    const i32 = f.i32();
    expect([i32[d + PD_BLOCK_SIZE], i32[d + PD_CAPACITY], i32[d + PD_CARVE], i32[d + PD_USED], i32[d + PD_REGION_PAGES], i32[d + PD_REGION_OWNER]])
      .toEqual([40960, 8, 8 * 40960, 8, 5, 5]);
    expect(r.stats()).toMatchObject({ chunks: 1, arenaBytes: 5 * PAGE_SIZE, spansCreated: 1, spans: 1, carved: 8, reused: 0, usedBlocks: 8, usedBytes: 8 * 40960 });
    r.checkInvariants();
    // The next block comes from a second span, right after the first (mapped on its own, first fit).
    expect(take(r, cls, 1)).toEqual([span + 5 * PAGE_SIZE]);
    r.checkInvariants();
  });

  test('freed blocks go on their span\'s free list and come back first (LIFO), with no new map', () => {
    const f = fixture();
    const r = f.make(5);
    const a = take(r, 3, 10);
    const maps = f.os.stats().maps;
    give(r, 3, [a[4]!, a[7]!]);
    expect(f.i32()[f.desc(a[0]! & ~0xffff) + PD_FREE_HEAD]).toBe(a[7]);
    expect(take(r, 3, 2)).toEqual([a[7], a[4]]);
    expect(r.stats()).toMatchObject({ reused: 2, usedBlocks: 10 });
    expect(f.os.stats().maps).toBe(maps);
    r.checkInvariants();
  });

  test('arena chunks follow the spans in use (by default each span is mapped on its own); the rest of a chunk serves shorter spans', () => {
    expect([DEFAULT_ARENA_INITIAL, DEFAULT_ARENA_MAX]).toEqual([PAGE_SIZE, PAGE_SIZE]);
    const f = fixture(256 * MiB);
    const r = f.make(5);
    const cls = DEFAULT_POOL_CLASS_SIZES.indexOf(65536); // one-page spans of one block
    take(r, cls, 100);
    expect(r.stats()).toMatchObject({ chunks: 100, arenaBytes: 100 * PAGE_SIZE, arenaFree: 0 });
    expect(f.os.stats().bytesInUse).toBe(100 * PAGE_SIZE);
    // With arenaMax, a chunk is a sixty-fourth of the spans in use, within arenaInitial..arenaMax.
    const g = fixture(256 * MiB);
    const q = g.make(5, { arenaInitial: PAGE_SIZE, arenaMax: 4 * PAGE_SIZE });
    const sizes: number[] = [];
    for (let i = 0; i < 400; i++) {
      take(q, cls, 1);
      const s = q.stats();
      if (s.chunks > sizes.length) sizes.push((s.arenaBytes - sizes.reduce((x, y) => x + y, 0)) / PAGE_SIZE);
    }
    console.log(JSON.stringify(sizes));
    q.checkInvariants();
    // 7-page spans do not fit the 2 pages left in a 9-page chunk: those 2 pages are pooled and serve a 2-page span.
    const h = fixture(64 * MiB);
    const b = h.make(5, { arenaInitial: 9 * PAGE_SIZE, arenaMax: 9 * PAGE_SIZE });
    const big = DEFAULT_POOL_CLASS_SIZES.indexOf(57344);
    const first = take(b, big, 8)[0]!; // one 7-page span
    take(b, big, 1); // a second span: a new 9-page chunk
    expect(b.stats()).toMatchObject({ chunks: 2, spans: 2, emptySpanBytes: 2 * PAGE_SIZE });
    const two = DEFAULT_POOL_CLASS_SIZES.indexOf(5120); // 2-page spans
    expect(take(b, two, 1)[0]).toBe(first + 7 * PAGE_SIZE);
    expect(b.stats()).toMatchObject({ chunks: 2, spans: 3, emptySpanBytes: 0 });
    expect(h.os.stats().bytesInUse).toBe(18 * PAGE_SIZE);
    b.checkInvariants();
  });

  test('empty spans: the lowest-addressed pooled span serves the next span (a longer one is split); the pool stays within an eighth of the spans in use', () => {
    const f = fixture(128 * MiB);
    const r = f.make(5);
    const one = DEFAULT_POOL_CLASS_SIZES.indexOf(65536);
    const blocks = take(r, one, 64); // 64 one-page spans, in address order
    // Four empty spans: the last to empty stays (its class's only span with room; each
    // span that regained room retired the one kept before it), the other three are pooled
    // (the pool's budget: an eighth of 61 pages in use).
    give(r, one, blocks.slice(8, 12));
    expect(r.stats().emptySpanBytes).toBe(3 * PAGE_SIZE);
    // A five-page span (40960 B) finds no pooled run that long: mapped at the top.
    const five = DEFAULT_POOL_CLASS_SIZES.indexOf(40960);
    expect(take(r, five, 1)[0]).toBe(blocks[63]! + PAGE_SIZE);
    // A one-page span takes the lowest pooled page.
    const two = DEFAULT_POOL_CLASS_SIZES.indexOf(32768);
    expect(take(r, two, 1)[0]).toBe(blocks[8]);
    r.checkInvariants();
    // Everything back: the pool keeps at most an eighth of what stays in use; the rest is unmapped.
    give(r, one, [...blocks.slice(0, 8), ...blocks.slice(12)]);
    const s = r.stats();
    expect(s.emptySpanBytes).toBeLessThanOrEqual(s.spanBytes / 8);
    expect(f.os.stats().bytesInUse).toBe(s.spanBytes + s.emptySpanBytes);
    r.checkInvariants();
  });

  test('the empty span a class keeps is retired once another of its spans regains room; a batch takes a new span only when it has nothing yet', () => {
    for (const shared of [false, true]) {
      const f = fixture(128 * MiB, shared);
      const r = f.make(5);
      const before = f.os.stats().bytesInUse;
      const cls = DEFAULT_POOL_CLASS_SIZES.indexOf(2560); // 25 blocks in a one-page span
      const out = new Int32Array(40);
      // A fresh class: the first batch gets one new span's 25 blocks, not 40 (a second span
      // would be carved only for the cache); the next batch, with nothing yet, takes a span.
      expect(r.allocBatch(cls, out, 0, 40)).toBe(25);
      expect(r.allocBatch(cls, out, 25, 15)).toBe(15);
      expect(r.stats().spans).toBe(2);
      const low = Array.from(out.subarray(0, 25));
      const high = Array.from(out.subarray(25, 40));
      const more = take(r, cls, 10); // fills the second span
      expect(r.stats().spans).toBe(2);
      // The low span empties: the class's only span with room, so it stays.
      give(r, cls, low);
      expect(r.stats().spans).toBe(2);
      expect(f.os.stats().bytesInUse - before).toBe(2 * PAGE_SIZE);
      // A block of the high span back: it has room now, so the kept span goes (an eighth
      // of one span in use pools nothing: back to os-boundary).
      give(r, cls, high.slice(0, 1));
      expect(r.stats().spans).toBe(1);
      expect(r.stats().emptySpanBytes).toBe(0);
      expect(f.os.stats().bytesInUse - before).toBe(PAGE_SIZE);
      r.checkInvariants();
      give(r, cls, [...high.slice(1), ...more]);
      expect(r.stats().usedBlocks).toBe(0);
      r.checkInvariants();
    }
  });

  test('phase: memory freed in one class is reused by another (the os-boundary footprint does not grow)', () => {
    const f = fixture(128 * MiB);
    const r = f.make(5);
    const round = (cls: number): void => {
      const got = take(r, cls, 1000);
      expect(got).toHaveLength(1000);
      give(r, cls, got);
      r.checkInvariants();
    };
    // 2560, 3072, 3584 B: 40, 48 and 56 one-page spans; the empty ones are pooled, so
    // after the largest round every later round of any of them is served from the pool.
    for (const cls of [0, 1, 2]) round(cls);
    const high = f.os.stats().highWater;
    const maps = f.os.stats().maps;
    for (const cls of [1, 0, 2, 1, 0]) round(cls);
    expect(f.os.stats().highWater).toBe(high);
    expect(f.os.stats().maps).toBeGreaterThan(maps); // empty spans beyond the pool's budget went back and were mapped again
    expect(r.stats().usedBlocks).toBe(0);
    // Spans beyond the empty-span pool's budget went back to os-boundary at once.
    expect(r.stats().spans * PAGE_SIZE).toBeLessThanOrEqual(DEFAULT_POOL_CLASS_SIZES.length * 16 * PAGE_SIZE);
    expect(r.stats().emptySpanBytes).toBeLessThanOrEqual(r.stats().spanBytes / 8);
    expect(EMPTY_SPAN_BUDGET).toBe(4 * MiB);
  });

  test('remote free: a block of thread 5\'s span freed by thread 6 waits on 5\'s remote list until 5 drains it', () => {
    const f = fixture();
    const owner = f.make(5);
    const other = f.make(6);
    const blocks = take(owner, 2, 20);
    const d = f.desc(blocks[0]! & ~0xffff);
    give(other, 2, blocks.slice(0, 5));
    const head = ((THREAD_TABLE_OFFSET + 5 * THREAD_RECORD_BYTES) >>> 2) + TR_POOL_REMOTE_HEAD;
    expect(f.i32()[head]).toBe(blocks[4]); // pushed, newest first
    expect(f.i32()[d + PD_USED]).toBe(18); // a full span (18 blocks of 3584 B): the five are not on it yet
    expect(other.stats()).toMatchObject({ remoteFreed: 5, usedBlocks: 0 });
    owner.checkInvariants();
    other.checkInvariants();
    // The owner's next refill drains first: the five come back before any carving.
    expect(new Set(take(owner, 2, 5))).toEqual(new Set(blocks.slice(0, 5)));
    expect(f.i32()[head]).toBe(0);
    expect(owner.stats()).toMatchObject({ remoteDrained: 5, usedBlocks: 20 });
    give(other, 2, blocks);
    expect(owner.drainRemote()).toBe(20);
    expect(owner.stats().usedBlocks).toBe(0);
    owner.checkInvariants();
  });

  test('remote free in a shared heap: workers\' CAS pushes onto one list lose nothing', async () => {
    const f = fixture(64 * MiB, true);
    const owner = f.make(5);
    const blocks = take(owner, 0, 400);
    const head = ((THREAD_TABLE_OFFSET + 5 * THREAD_RECORD_BYTES) >>> 2) + TR_POOL_REMOTE_HEAD;
    const { Worker } = await import('node:worker_threads');
    // Two workers push disjoint halves with the same CAS loop pool-refill uses (a box
    // instance cannot be built in a plain worker script without the TS loader).
    const src = `
      const { workerData, parentPort } = require('node:worker_threads');
      const i32 = new Int32Array(workerData.buffer);
      for (const p of workerData.blocks) {
        let old;
        do { old = Atomics.load(i32, workerData.head); i32[p >>> 2] = old; } while (Atomics.compareExchange(i32, workerData.head, old, p) !== old);
      }
      parentPort.postMessage('done');`;
    const buffer = f.ctx.backend.buffer();
    const run = (part: number[]) => new Promise((resolve, reject) => {
      const w = new Worker(src, { eval: true, workerData: { buffer, blocks: part, head } });
      w.once('message', resolve);
      w.once('error', reject);
    });
    await Promise.all([run(blocks.slice(0, 200)), run(blocks.slice(200))]);
    expect(owner.drainRemote()).toBe(400);
    expect(owner.stats().usedBlocks).toBe(0);
    owner.checkInvariants();
  });

  test('trim drains remote frees, unmaps every empty span and the arena rest; spans with live blocks stay', () => {
    const f = fixture();
    const r = f.make(5);
    const a = take(r, 0, 100);
    const b = take(r, 7, 30);
    give(r, 0, a);
    give(f.make(6), 7, b.slice(1));
    const bytes = r.trim();
    expect(bytes).toBeGreaterThan(0);
    const s = r.stats();
    expect(s.spans).toBe(1); // b[0]'s span
    expect(s.usedBlocks).toBe(1);
    expect(f.os.stats().bytesInUse).toBe(r.spanPages(7) * PAGE_SIZE);
    r.checkInvariants();
    give(r, 7, [b[0]!]);
    r.trim();
    expect(f.os.stats().bytesInUse).toBe(0);
    expect(r.stats().spans).toBe(0);
    r.checkInvariants();
  });

  test('exhaustion: allocBatch returns what fits (then 0), never throws; after frees it works again', () => {
    const f = fixture(4 * MiB);
    const r = f.make(5, { arenaInitial: PAGE_SIZE, arenaMax: PAGE_SIZE });
    const cls = DEFAULT_POOL_CLASS_SIZES.indexOf(65536);
    const got = take(r, cls, 1000);
    expect(got.length).toBeGreaterThan(10);
    expect(got.length).toBeLessThan(64);
    expect(take(r, cls, 1)).toEqual([]);
    r.checkInvariants();
    give(r, cls, got.slice(0, 3));
    expect(take(r, cls, 3)).toHaveLength(3);
    r.checkInvariants();
  });

  test('prewarm carves the given blocks per class at creation', () => {
    const f = fixture();
    const r = f.make(5, { prewarm: [30, 0, 4] });
    expect(r.stats()).toMatchObject({ carved: 34, usedBlocks: 0 });
    const maps = f.os.stats().maps;
    expect(take(r, 2, 4)).toHaveLength(4);
    expect(r.stats().reused).toBe(4);
    expect(f.os.stats().maps).toBe(maps);
    r.checkInvariants();
  });

  test('options are validated', () => {
    const f = fixture();
    for (const o of [{ arenaInitial: 1000 }, { arenaMax: 0 }, { arenaInitial: 2 * MiB, arenaMax: MiB }, { prewarm: [-1] }, { prewarm: [1.5] }, { classSizes: Int32Array.of(700) }] as Partial<PoolRefillOptions>[]) {
      expect(errorCodeOf(() => f.make(5, o)), JSON.stringify(o)).toBe(ErrorCode.INVALID_OPTION);
    }
  });

  test('checkInvariants names a corrupted descriptor, a free-list cycle and a registry entry', () => {
    const corrupt = (mutate: (f: Fixture, blocks: number[]) => void): string => {
      const f = fixture();
      const r = f.make(5);
      const blocks = take(r, 4, 12);
      give(r, 4, blocks.slice(0, 4));
      r.checkInvariants();
      mutate(f, blocks);
      try {
        r.checkInvariants();
      } catch (e) {
        expect(errorCodeOf(() => { throw e; })).toBe(ErrorCode.CORRUPTION);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(corrupt((f, b) => { f.i32()[f.desc(b[0]! & ~0xffff) + PD_USED] = 3; })).toMatch(/free \+ 3 used/);
    expect(corrupt((f, b) => { f.i32()[b[0]! >>> 2] = b[3]!; })).toMatch(/cycle in the free list/);
    expect(corrupt((f, b) => { f.i32()[f.desc(b[0]! & ~0xffff) + PD_BLOCK_SIZE] = 4096; })).toMatch(/descriptor says size 4096/);
  });
});

describe('model', () => {
  test('random batches of alloc / free / remote free / trim over several classes: no block twice, counters exact, invariants hold', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(3), fc.nat(19), fc.integer({ min: 1, max: 40 })), { maxLength: 60 }), (steps) => {
      const f = fixture(128 * MiB);
      const r = f.make(5);
      const other = f.make(6);
      const live = new Map<number, number>(); // block → class
      for (const [op, cls, n] of steps) {
        if (op === 0 || live.size === 0) {
          for (const p of take(r, cls, n)) {
            expect(live.has(p)).toBe(false);
            expect(p % 512).toBe(0);
            live.set(p, cls);
          }
        } else if (op === 1 || op === 2) {
          const victims = [...live.entries()].slice(0, n);
          for (const [p, c] of victims) {
            give(op === 1 ? r : other, c, [p]);
            live.delete(p);
          }
        } else {
          r.trim();
        }
        r.checkInvariants();
        const pending = r.stats().usedBlocks - live.size;
        expect(pending).toBe(other.stats().remoteFreed - r.stats().remoteDrained);
      }
      give(r, 0, []);
      for (const [p, c] of live) give(r, c, [p]);
      r.trim();
      expect(r.stats()).toMatchObject({ usedBlocks: 0, spans: 0 });
      expect(f.os.stats().bytesInUse).toBe(0);
    }), { numRuns: 40 });
  });
});
