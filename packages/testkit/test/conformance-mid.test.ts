import { describe, expect, test } from 'vitest';
import {
  ErrorCode, HakmemError, MAX_BATCH,
  type BigCache, type BlockSink, type BlockSource, type BoxContext, type L25Pool, type MemoryBackend, type PoolRefill, type PoolTls,
  type PoolTlsOptions, type PoolTlsStats, type Ptr,
} from '@hakmem/contracts';
import { attachHeap, createHeap, defaultBoxes, type BoxFactories } from '@hakmem/allocator';
import type { ConformanceCase } from '../src/conformance/types.js';
import { caseNamed, failureOf, failures, mirroredLists, runSuite, wrap } from './suite-helpers.js';
import { poolTlsConformance, type PoolTlsFactory } from '../src/conformance/pool-tls.js';
import { poolRefillConformance, type MidEnvFactory, type PoolRefillFactory } from '../src/conformance/pool-refill.js';
import { l25PoolConformance, type L25PoolFactory } from '../src/conformance/l25-pool.js';
import { bigCacheConformance, type BigCacheFactory } from '../src/conformance/bigcache.js';
import { sharedHeapWorld } from '../src/conformance/reclaim.js';

// The default boxes, as the composition root wires them (defaultBoxes.poolTls is
// createPoolTls of @hakmem/pool-tls, and so on: testkit declares only @hakmem/allocator
// among the boxes' wirings, so the factories are taken from there).
const createPoolTls: PoolTlsFactory = defaultBoxes.poolTls;
const createPoolRefill: PoolRefillFactory = defaultBoxes.poolRefill;
const createL25Pool: L25PoolFactory = defaultBoxes.l25Pool;
const createBigCache: BigCacheFactory = defaultBoxes.bigCache;

const NO_SOURCE: BlockSource & BlockSink = { allocBatch: () => 0, freeBatch: () => undefined };
/** The default mid class table (pool-tls's DEFAULT_POOL_CLASS_SIZES), as the composition root gives it to pool-refill. */
const POOL_CLASSES: readonly number[] = Array.from(createPoolTls({ source: NO_SOURCE }).classSizes);

/** Box slot 100: far from the slots the heap's own boxes use (its l25-pool starts at slot 2). */
const L25_SLOT = 64 + 100 * 64;

/**
 * A fresh heap per case; the suites use its memory, layout and os-boundary. Nothing in
 * the heap maps until a malloc (and the suites never call one), so os-boundary's bytes in
 * use are the boxes' under test. Threads 3 and 4: the heap's own pool-refill is thread 1
 * (its remote list is thread record 1), so the suites' instances have thread records of
 * their own; they also fall in different l25 shards ((3 − 1) % 8 ≠ (4 − 1) % 8).
 */
const env: MidEnvFactory = ({ maxBytes = 64 << 20 } = {}) => {
  const heap = createHeap({ maxBytes });
  const ctx: BoxContext = { backend: heap.backend, layout: heap.layout, tid: 3, shared: heap.backend.shared, slotOffset: L25_SLOT, debug: 0 };
  return { ctx, otherTid: 4, regions: heap.boxes.osBoundary };
};

/** A shared heap built with `boxes` for the clause "nothing is lost after reclaim". */
const world = (boxes: Partial<BoxFactories>) => sharedHeapWorld({ createHeap, attachHeap }, boxes);

/**
 * Cases the default boxes fail today: contract clauses they do not honour. `test.fails`
 * keeps the gap visible and turns red as soon as the box is fixed (then remove the entry).
 */
const KNOWN_GAPS = new Set<string>([]);

const run = (suite: readonly ConformanceCase[]): void => runSuite(suite, KNOWN_GAPS);

describe('conformance: the default mid-tier boxes', () => {
  describe('pool-tls (createPoolTls)', () => run(poolTlsConformance(createPoolTls, world({ poolTls: createPoolTls }))));
  describe('pool-refill (createPoolRefill)', () => run(poolRefillConformance(createPoolRefill, env, POOL_CLASSES, world({ poolRefill: createPoolRefill }))));
  describe('l25-pool (createL25Pool)', () => run(l25PoolConformance(createL25Pool, env, world({ l25Pool: createL25Pool }))));
  describe('bigcache (createBigCache)', () => run(bigCacheConformance(createBigCache, env, world({ bigCache: createBigCache }))));
});

// ---------------------------------------------------------------------------------------
// Broken implementations: each suite must catch them, by the case that names the flaw.
// ---------------------------------------------------------------------------------------

type PoolTlsFlaw = 'none' | 'fifo' | 'refill-ignores-max-batch' | 'spill-newest' | 'classOf-rounds-down' | 'checkInvariants-sees-nothing' | 'lenient-options' | 'ignores-storage' | 'ignores-budget' | 'ignores-classSizes';

/** A plain pool-tls (JS arrays per class) with one deliberate flaw. */
function brokenPoolTls(flaw: PoolTlsFlaw): PoolTlsFactory {
  return (options: PoolTlsOptions): PoolTls => {
    const sizes = [...(flaw === 'ignores-classSizes' ? POOL_CLASSES : options.classSizes ?? POOL_CLASSES)];
    const invalid = (m: string) => new HakmemError(ErrorCode.INVALID_OPTION, m, { box: 'pool-tls' });
    if (flaw !== 'lenient-options') {
      sizes.forEach((s, i) => {
        if (!Number.isInteger(s) || s % 512 !== 0 || s > 65536 || s <= (sizes[i - 1] ?? 0)) throw invalid(`class ${s}`);
      });
    }
    const caps = sizes.map((_, c) => (typeof options.capacity === 'number' ? options.capacity : options.capacity?.[c] ?? 32));
    if (flaw !== 'lenient-options' && caps.some((k) => !Number.isInteger(k) || k < 1 || k > 4096)) throw invalid('capacity');
    const budget = flaw === 'ignores-budget' ? false : options.budget ?? { minBytes: 131072, share: 0.25 };
    if (flaw !== 'lenient-options' && budget !== false && !(Number.isInteger(budget.minBytes) && budget.minBytes >= 0 && Number.isFinite(budget.share) && budget.share >= 0)) throw invalid('budget');
    // The budget: limit = minBytes / size + share × (blocks taken net of blocks given back − cached), within 1..capacity.
    const held = sizes.map(() => 0);
    const limitOf = (c: number): number => budget === false ? caps[c]!
      : Math.min(caps[c]!, Math.max(1, Math.floor(budget.minBytes / sizes[c]! + budget.share * Math.max(0, held[c]! - lists[c]!.length))));
    const src = options.source;
    const { lists, sync } = mirroredLists(caps, flaw === 'ignores-storage' ? undefined : options.storage);
    const limits = sizes.map((_, c) => limitOf(c));
    const synced = <T>(v: T): T => (sync(), v);
    const st = { refills: 0, refillBlocks: 0, spills: 0, spillBlocks: 0 };
    const classSizes = Int32Array.from(sizes);
    const box: PoolTls = {
      name: 'pool-tls', numClasses: sizes.length, classSizes,
      classOf(size) {
        let c = 0;
        const s = flaw === 'classOf-rounds-down' ? size & ~511 : size;
        while (c < sizes.length - 1 && sizes[c]! < s) c++;
        return c;
      },
      alloc(c) {
        const list = lists[c]!;
        if (list.length > 0) return synced((flaw === 'fifo' ? list.shift() : list.pop())!);
        limits[c] = limitOf(c);
        const max = flaw === 'refill-ignores-max-batch' ? Math.max(1, caps[c]! >>> 1) : Math.max(1, Math.min(caps[c]! >>> 1, limits[c]! >>> 1, MAX_BATCH));
        const out = new Int32Array(max);
        const got = src.allocBatch(c, out, 0, max);
        st.refills++;
        st.refillBlocks += got;
        held[c] = held[c]! + got;
        for (let i = 0; i < got - 1; i++) list.push(out[i]!);
        return synced(got === 0 ? 0 : out[got - 1]!);
      },
      free(c, p) {
        const list = lists[c]!;
        if (list.length < limits[c]!) {
          list.push(p);
          sync();
          return;
        }
        limits[c] = limitOf(c);
        if (list.length < limits[c]!) {
          list.push(p);
          sync();
          return;
        }
        const k = Math.max(list.length - limits[c]! + 1, Math.min(list.length - (limits[c]! - (limits[c]! >>> 1)), MAX_BATCH));
        held[c] = held[c]! - k;
        const gone = flaw === 'spill-newest' ? list.splice(list.length - k, k) : list.splice(0, k);
        src.freeBatch(c, Int32Array.from(gone), 0, gone.length);
        st.spills++;
        st.spillBlocks += k;
        list.push(p);
        sync();
      },
      flush() {
        lists.forEach((list, c) => {
          while (list.length > 0) {
            const part = list.splice(0, MAX_BATCH);
            held[c] = held[c]! - part.length;
            src.freeBatch(c, Int32Array.from(part), 0, part.length);
          }
        });
        sync();
      },
      holds: (c, p) => lists[c]!.includes(p),
      count: (c) => lists[c]!.length,
      capacity: (c) => caps[c]!,
      limit: (c) => limits[c]!,
      stats: (): PoolTlsStats => ({
        ...st, cached: lists.reduce((k, l) => k + l.length, 0), cachedBytes: lists.reduce((k, l, c) => k + l.length * sizes[c]!, 0),
        budgetBytes: limits.reduce((k, l, c) => k + l * sizes[c]!, 0),
      }),
      checkInvariants() {
        if (flaw === 'checkInvariants-sees-nothing') return;
        const seen = new Set<Ptr>();
        for (const list of lists) {
          for (const p of list) {
            if (p <= 0 || seen.has(p)) throw new HakmemError(ErrorCode.CORRUPTION, `block ${p}`, { box: 'pool-tls' });
            seen.add(p);
          }
        }
      },
    };
    return box;
  };
}

describe('conformance: the mid-tier suites catch broken boxes', () => {
  test('a correct stand-in pool-tls passes every case (the suite is not tied to the default)', async () => {
    expect([...(await failures(poolTlsConformance(brokenPoolTls('none'), world({ poolTls: brokenPoolTls('none') }))))]).toEqual([]);
  });

  test.each([
    ['fifo', 'alloc pops LIFO what free pushed'],
    ['refill-ignores-max-batch', 'alloc on an empty class refills one bounded batch'],
    ['spill-newest', 'free beyond capacity spills about half the class'],
    ['classOf-rounds-down', 'classOf(s) is the smallest class holding s'],
    ['checkInvariants-sees-nothing', 'checkInvariants throws E_CORRUPTION'],
    ['lenient-options', 'bad options throw E_INVALID_OPTION'],
    ['ignores-storage', 'storage — the cache keeps its blocks in the Int32Array'],
    ['ignores-budget', 'budget — a class caches minBytes plus share'],
    ['ignores-classSizes', 'class table — numClasses = classSizes.length'],
  ] as const)('pool-tls with flaw %s fails the case "%s"', async (flaw, fragment) => {
    const suite = poolTlsConformance(brokenPoolTls(flaw), world({ poolTls: brokenPoolTls(flaw) }));
    const failed = await failures(suite);
    expect(failed.has(caseNamed(suite, fragment)), [...failed.keys()].join('\n')).toBe(true);
  });

  test('pool-tls that ignores its storage option fails the case "nothing is lost after reclaim" (its cached blocks die with the thread)', async () => {
    const broken = brokenPoolTls('ignores-storage');
    const msg = await failureOf(poolTlsConformance(broken, world({ poolTls: broken })), 'nothing is lost after reclaim');
    expect(msg).toMatch(/liveBytes\(\) is \d+ after the reclaim, but the dead thread left \d+ bytes live/);
  });

  // pool-refill ------------------------------------------------------------------------

  test('pool-refill that stamps its spans with another thread id', async () => {
    const broken: PoolRefillFactory = (ctx, o) => createPoolRefill({ ...ctx, tid: ctx.tid === 1 ? 2 : 1 }, o);
    const msg = await failureOf(poolRefillConformance(broken, env, POOL_CLASSES), 'allocBatch hands out up to max distinct blocks');
    expect(msg).toMatch(/registry entry/);
  });

  test('pool-refill that over-fills a batch by one (Contract C)', async () => {
    const broken: PoolRefillFactory = (ctx, o) => {
      const inner = createPoolRefill(ctx, o);
      return wrap(inner, { allocBatch: (cls: number, out: Int32Array, offset: number, max: number) => inner.allocBatch(cls, out, offset, max + 1) });
    };
    const msg = await failureOf(poolRefillConformance(broken, env, POOL_CLASSES), 'allocBatch hands out up to max distinct blocks');
    expect(msg).toMatch(/0 ≤ n ≤ max/);
  });

  test('pool-refill that applies remote frees at once (touches the owner\'s spans from another thread)', async () => {
    const owners = new WeakMap<MemoryBackend, Map<number, PoolRefill>>();
    const broken: PoolRefillFactory = (ctx, o) => {
      const inner = createPoolRefill(ctx, o);
      const mine = owners.get(ctx.backend) ?? new Map<number, PoolRefill>();
      owners.set(ctx.backend, mine);
      mine.set(ctx.tid, inner);
      return wrap(inner, {
        freeBatch(cls: number, blocks: Int32Array, offset: number, n: number): void {
          inner.freeBatch(cls, blocks, offset, n);
          for (const [tid, owner] of mine) if (tid !== ctx.tid) owner.drainRemote();
        },
      });
    };
    const msg = await failureOf(poolRefillConformance(broken, env, POOL_CLASSES), 'remote free — blocks of thread A');
    expect(msg).toMatch(/remote list|free list/);
  });

  test('pool-refill whose trim does nothing', async () => {
    const broken: PoolRefillFactory = (ctx, o) => wrap(createPoolRefill(ctx, o), { trim: () => 0 });
    const msg = await failureOf(poolRefillConformance(broken, env, POOL_CLASSES), 'trim drains remote frees');
    expect(msg).toMatch(/remote list|fell by|holds/);
  });

  test('pool-refill whose spans are always one page (tail waste above 1/32)', async () => {
    const broken: PoolRefillFactory = (ctx, o) => wrap(createPoolRefill(ctx, o), { spanPages: () => 1 });
    const msg = await failureOf(poolRefillConformance(broken, env, POOL_CLASSES), 'spanPages(cls) is 1..16 pages');
    expect(msg).toMatch(/waste|hold no block/);
  });

  test('pool-refill whose holds sees nothing', async () => {
    const broken: PoolRefillFactory = (ctx, o) => wrap(createPoolRefill(ctx, o), { holds: () => false });
    const msg = await failureOf(poolRefillConformance(broken, env, POOL_CLASSES), 'holds(p) — true exactly');
    expect(msg).toMatch(/false for a block on its span free list/);
  });

  test('pool-refill whose checkInvariants sees nothing', async () => {
    const broken: PoolRefillFactory = (ctx, o) => wrap(createPoolRefill(ctx, o), { checkInvariants: () => undefined });
    const msg = await failureOf(poolRefillConformance(broken, env, POOL_CLASSES), 'checkInvariants throws E_CORRUPTION');
    expect(msg).toMatch(/did not detect/);
  });

  test('pool-refill that keeps freed blocks in JS-side lists (given back on trim) loses them with a dead thread', async () => {
    const broken: PoolRefillFactory = (ctx, o) => {
      const inner = createPoolRefill(ctx, o);
      const quick: number[][] = Array.from(o.classSizes, () => []);
      return wrap(inner, {
        allocBatch(cls: number, out: Int32Array, offset: number, max: number): number {
          const q = quick[cls]!;
          let n = 0;
          while (n < max && q.length > 0) out[offset + n++] = q.pop()!;
          return n > 0 ? n : inner.allocBatch(cls, out, offset, max);
        },
        freeBatch(cls: number, blocks: Int32Array, offset: number, n: number): void {
          for (let i = 0; i < n; i++) quick[cls]!.push(blocks[offset + i]!);
        },
        holds: (p: Ptr) => quick.some((q) => q.includes(p)) || inner.holds(p),
        trim(): number {
          quick.forEach((q, c) => {
            while (q.length > 0) {
              const part = q.splice(0, MAX_BATCH);
              inner.freeBatch(c, Int32Array.from(part), 0, part.length);
            }
          });
          return inner.trim();
        },
      });
    };
    const msg = await failureOf(poolRefillConformance(broken, env, POOL_CLASSES, world({ poolRefill: broken })), 'nothing is lost after reclaim');
    expect(msg).toMatch(/liveBytes\(\) is \d+ after the reclaim|os-boundary maps/);
  });

  // l25-pool ---------------------------------------------------------------------------

  test('l25-pool that caches nothing (every free unmaps)', async () => {
    const broken: L25PoolFactory = (ctx, o) => createL25Pool(ctx, { ...o, keepPerClass: 0 });
    const msg = await failureOf(l25PoolConformance(broken, env), 'free caches the block');
    expect(msg).toMatch(/CACHED/);
  });

  test('l25-pool with one shard for every thread', async () => {
    const broken: L25PoolFactory = (ctx, o) => createL25Pool(ctx, { ...o, shards: 1 });
    const msg = await failureOf(l25PoolConformance(broken, env), 'shards — a block freed by another thread');
    expect(msg).toMatch(/thread B's shard/);
  });

  test('l25-pool that ignores keepPerClass', async () => {
    const broken: L25PoolFactory = (ctx, o) => createL25Pool(ctx, { ...o, keepPerClass: 1000 });
    const msg = await failureOf(l25PoolConformance(broken, env), 'keepPerClass — a free beyond');
    expect(msg).toMatch(/unmapped block|CACHED|cached a block/);
  });

  test('l25-pool that splits beyond splitSpan', async () => {
    const broken: L25PoolFactory = (ctx, o) => createL25Pool(ctx, { ...o, splitSpan: 64 });
    const msg = await failureOf(l25PoolConformance(broken, env), 'split — an empty class takes');
    expect(msg).toMatch(/split an 8-page block|never split/);
  });

  test('l25-pool that reports every block zeroed', async () => {
    const broken: L25PoolFactory = (ctx, o) => wrap(createL25Pool(ctx, o), { lastAllocZeroed: () => true });
    const msg = await failureOf(l25PoolConformance(broken, env), 'lastAllocZeroed — true for a fresh block');
    expect(msg).toMatch(/reused block/);
  });

  test('l25-pool whose checkInvariants sees nothing', async () => {
    const broken: L25PoolFactory = (ctx, o) => wrap<L25Pool>(createL25Pool(ctx, o), { checkInvariants: () => undefined });
    const msg = await failureOf(l25PoolConformance(broken, env), 'checkInvariants throws E_CORRUPTION');
    expect(msg).toMatch(/did not detect/);
  });

  test('l25-pool that keeps freed blocks in a JS-side per-thread cache (given back on trim) loses them with a dead thread', async () => {
    const broken: L25PoolFactory = (ctx, o) => {
      const inner = createL25Pool(ctx, o);
      const kept = new Map<number, Ptr[]>();
      let fromKept = false;
      return wrap<L25Pool>(inner, {
        alloc(cls: number): Ptr {
          const p = kept.get(cls)?.pop();
          fromKept = p !== undefined;
          return p ?? inner.alloc(cls);
        },
        lastAllocZeroed: () => !fromKept && inner.lastAllocZeroed(),
        free(p: Ptr): void {
          const list = kept.get(inner.classOf(inner.usableSize(p))) ?? [];
          kept.set(inner.classOf(inner.usableSize(p)), list);
          if (list.length < 2) list.push(p);
          else inner.free(p);
        },
        trim(): number {
          for (const list of kept.values()) while (list.length > 0) inner.free(list.pop()!);
          return inner.trim();
        },
      });
    };
    const msg = await failureOf(l25PoolConformance(broken, env, world({ l25Pool: broken })), 'nothing is lost after reclaim');
    expect(msg).toMatch(/liveBytes\(\) is \d+ after the reclaim/);
  });

  // bigcache ---------------------------------------------------------------------------

  test('bigcache that ignores its budget', async () => {
    const broken: BigCacheFactory = (ctx, o) => createBigCache(ctx, { ...o, budget: 1 << 30 });
    const msg = await failureOf(bigCacheConformance(broken, env), 'budget — cached bytes never exceed it');
    expect(msg).toMatch(/budget/);
  });

  test('bigcache that ignores the alignment', async () => {
    const broken: BigCacheFactory = (ctx, o) => {
      const inner = createBigCache(ctx, o);
      return wrap(inner, { alloc: (size: number) => inner.alloc(size) });
    };
    const msg = await failureOf(bigCacheConformance(broken, env), 'alloc(size, align) returns a block aligned to align');
    expect(msg).toMatch(/not aligned|not 4 MiB aligned/);
  });

  test('bigcache whose resizeInPlace claims every grow succeeded', async () => {
    const broken: BigCacheFactory = (ctx, o) => {
      const inner = createBigCache(ctx, o);
      return wrap<BigCache>(inner, { resizeInPlace: (p: number, size: number) => inner.resizeInPlace(p, size) || size > inner.usableSize(p) });
    };
    const msg = await failureOf(bigCacheConformance(broken, env), 'false with nothing changed when the next pages are not free');
    expect(msg).toMatch(/true although|without mapAt/);
  });

  test('bigcache that reports every block zeroed', async () => {
    const broken: BigCacheFactory = (ctx, o) => wrap(createBigCache(ctx, o), { lastAllocZeroed: () => true });
    const msg = await failureOf(bigCacheConformance(broken, env), 'lastAllocZeroed — true for a block of fresh memory');
    expect(msg).toMatch(/reused block/);
  });

  test('bigcache whose checkInvariants sees nothing', async () => {
    const broken: BigCacheFactory = (ctx, o) => wrap(createBigCache(ctx, o), { checkInvariants: () => undefined });
    const msg = await failureOf(bigCacheConformance(broken, env), 'checkInvariants throws E_CORRUPTION');
    expect(msg).toMatch(/did not detect/);
  });
  test('bigcache that keeps freed blocks in a JS-side per-thread cache (given back on trim) loses them with a dead thread', async () => {
    const broken: BigCacheFactory = (ctx, o) => {
      const inner = createBigCache(ctx, o);
      const kept: Ptr[] = [];
      let fromKept = false;
      return wrap<BigCache>(inner, {
        alloc(size: number, align = 65536): Ptr {
          const i = kept.findIndex((p) => inner.usableSize(p) >= size && p % align === 0);
          fromKept = i >= 0;
          return i >= 0 ? kept.splice(i, 1)[0]! : inner.alloc(size, align);
        },
        lastAllocZeroed: () => !fromKept && inner.lastAllocZeroed(),
        free(p: Ptr): void {
          if (kept.length < 4) kept.push(p);
          else inner.free(p);
        },
        trim(): number {
          while (kept.length > 0) inner.free(kept.pop()!);
          return inner.trim();
        },
      });
    };
    const msg = await failureOf(bigCacheConformance(broken, env, world({ bigCache: broken })), 'nothing is lost after reclaim');
    expect(msg).toMatch(/liveBytes\(\) is \d+ after the reclaim/);
  });
  // Every option of the contract is a clause: a box that ignores one fails it. ------------

  /** `o` without the keys `drop`: the box under test never sees those options. */
  const without = <O extends object>(o: O, ...drop: Array<keyof O>): O => {
    const rest = { ...o };
    for (const k of drop) delete rest[k];
    return rest;
  };

  test.each([
    ['arenaInitial and arenaMax', ['arenaInitial', 'arenaMax'], 'arena chunks follow the spans in use'],
    ['prewarm', ['prewarm'], 'prewarm carves the given blocks per class'],
  ] as const)('pool-refill that ignores %s fails its clause', async (_what, drop, fragment) => {
    const broken: PoolRefillFactory = (ctx, o) => createPoolRefill(ctx, without(o, ...drop));
    await failureOf(poolRefillConformance(broken, env, POOL_CLASSES), fragment);
  });

  test.each([
    ['classSizes', ['classSizes'], 'class table (default every page count 1..16)'],
    ['budget', ['budget'], 'budget — a free that would take the shard'],
    ['budgetFloor and liveShare', ['budgetFloor', 'liveShare'], 'live-proportional limit — a free never takes'],
  ] as const)('l25-pool that ignores %s fails its clause', async (_what, drop, fragment) => {
    const broken: L25PoolFactory = (ctx, o) => createL25Pool(ctx, without(o, ...drop));
    await failureOf(l25PoolConformance(broken, env), fragment);
  });

  test('bigcache that ignores budgetFloor and liveShare fails its clause', async () => {
    const broken: BigCacheFactory = (ctx, o) => createBigCache(ctx, without(o, 'budgetFloor', 'liveShare'));
    await failureOf(bigCacheConformance(broken, env), 'live-proportional limit — after every free');
  });
});
