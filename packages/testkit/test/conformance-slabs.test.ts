import { describe, expect, test } from 'vitest';
import {
  PAGE_SHIFT, PD_FREE_HEAD, PD_REGION_GUARD, PD_REGION_OWNER, REG_CLASS_MASK, REG_CLASS_SHIFT,
  type BoxContext,
} from '@hakmem/contracts';
import { createNativeBackend } from '@hakmem/memory-backend';
import { createOsBoundary } from '@hakmem/os-boundary';
import { createTinyRoute } from '@hakmem/tiny-route';
import { attachHeap, createHeap, defaultBoxes, initHeader, layoutFor, type BoxFactories } from '@hakmem/allocator';
import { failureOfCase, runSuite, wrap } from './suite-helpers.js';
import type { ConformanceCase } from '../src/conformance/types.js';
import {
  createSlabFixture, type PageBoxFactory, type SharedPoolFactory, type SuperSlabTierFactory, type WarmPoolFactory,
} from '../src/conformance/fixture.js';
import { superSlabTierConformance } from '../src/conformance/superslab-tier.js';
import { sharedPoolConformance } from '../src/conformance/shared-pool.js';
import { warmPoolConformance } from '../src/conformance/warm-pool.js';
import { pageBoxConformance } from '../src/conformance/page-box.js';
import { sharedHeapWorld } from '../src/conformance/reclaim.js';

// The fixture: default packages under the box under test.
const fixture = createSlabFixture({
  backend: (o) => createNativeBackend(o),
  layout: layoutFor,
  initHeader,
  osBoundary: createOsBoundary,
  superslabTier: defaultBoxes.superslabTier,
  sharedPool: defaultBoxes.sharedPool,
  warmPool: defaultBoxes.warmPool,
  classSizes: createTinyRoute({}).classSizes,
});

/** A shared heap built with `boxes` for the clause "nothing is lost after reclaim". */
const world = (boxes: Partial<BoxFactories>) => sharedHeapWorld({ createHeap, attachHeap }, boxes);

/** Page-descriptor word of `addr`'s page, as the broken wrappers below need it. */
function pdIndex(ctx: BoxContext, addr: number, word: number): number {
  return (ctx.layout.pageTableOffset >>> 2) + ((addr >>> PAGE_SHIFT) << 4) + word;
}

/**
 * Cases the default boxes fail today: contract clauses the defaults do not honour yet
 * (see the conformance report). `test.fails` keeps the suite green and turns red as soon
 * as a default is fixed, so the entry is then removed.
 */
const KNOWN_DEFAULT_FAILURES = new Set<string>([]);

const runAll = (suite: readonly ConformanceCase[]): void => runSuite(suite, KNOWN_DEFAULT_FAILURES);

/** Runs the case whose name starts with `name` and returns its failure message (fails the test if it passes). */
async function failureOf(suite: readonly ConformanceCase[], name: string): Promise<string> {
  const c = suite.find((x) => x.name.startsWith(name));
  if (c === undefined) throw new Error(`no case named ${name}`);
  return failureOfCase(c);
}

describe('conformance: superslab-tier (default)', () => {
  runAll(superSlabTierConformance(defaultBoxes.superslabTier, fixture, world({ superslabTier: defaultBoxes.superslabTier })));
});
describe('conformance: shared-pool (default)', () => {
  runAll(sharedPoolConformance(defaultBoxes.sharedPool, fixture, world({ sharedPool: defaultBoxes.sharedPool })));
});
describe('conformance: warm-pool (default)', () => {
  runAll(warmPoolConformance(defaultBoxes.warmPool, fixture, world({ warmPool: defaultBoxes.warmPool })));
});
describe('conformance: page-box (default)', () => {
  runAll(pageBoxConformance(defaultBoxes.pageBox, fixture, world({ pageBox: defaultBoxes.pageBox })));
});

describe('conformance suites catch broken implementations', () => {
  test('the factory types are BoxFactories\' entries', () => {
    const f: [SuperSlabTierFactory, SharedPoolFactory, WarmPoolFactory, PageBoxFactory] = [
      defaultBoxes.superslabTier, defaultBoxes.sharedPool, defaultBoxes.warmPool, defaultBoxes.pageBox,
    ];
    expect(f).toHaveLength(4);
  });

  test('superslab-tier that ignores the release guard', async () => {
    const broken: SuperSlabTierFactory = (ctx, options) => {
      const inner = defaultBoxes.superslabTier(ctx, options);
      return wrap(inner, {
        releaseSuperSlab(base: number): void {
          const i = pdIndex(ctx, base, PD_REGION_GUARD);
          const pins = ctx.backend.views.i32[i]!;
          ctx.backend.views.i32[i] = 0; // "nobody can still be touching it"
          inner.releaseSuperSlab(base);
          ctx.backend.views.i32[i] = pins;
        },
      });
    };
    const msg = await failureOf(superSlabTierConformance(broken, fixture), 'superslab-tier: release guard — a pinned SuperSlab');
    expect(msg).toMatch(/unmapped while in use or pinned|want DRAINING/);
  });

  test('superslab-tier that retains without a bound', async () => {
    const broken: SuperSlabTierFactory = (ctx, options) => defaultBoxes.superslabTier(ctx, { ...options, retain: 1000 });
    const msg = await failureOf(superSlabTierConformance(broken, fixture), 'superslab-tier: retention — at most');
    expect(msg).toMatch(/unmapped|want 3/);
  });

  test('shared-pool that takes a fresh SuperSlab from the tier for every borrower', async () => {
    const broken: SharedPoolFactory = (ctx, options) => {
      const inner = defaultBoxes.sharedPool(ctx, options);
      return wrap(inner, {
        acquireSuperSlab(tid: number): number {
          const b = options.superSlabs.acquireSuperSlab();
          if (b !== 0) ctx.backend.views.i32[pdIndex(ctx, b, PD_REGION_OWNER)] = tid;
          return b;
        },
      });
    };
    const msg = await failureOf(sharedPoolConformance(broken, fixture), 'shared-pool: several classes share one SuperSlab');
    expect(msg).toMatch(/not the held SuperSlab/);
  });

  test('shared-pool that does not record the borrower as owner', async () => {
    const broken: SharedPoolFactory = (ctx, options) => {
      const inner = defaultBoxes.sharedPool(ctx, options);
      return wrap(inner, {
        acquireSuperSlab(tid: number): number {
          const b = inner.acquireSuperSlab(tid);
          if (b !== 0) ctx.backend.views.i32[pdIndex(ctx, b, PD_REGION_OWNER)] = 0;
          return b;
        },
      });
    };
    const msg = await failureOf(sharedPoolConformance(broken, fixture), 'shared-pool: acquireSuperSlab(tid) lends');
    expect(msg).toMatch(/PD_REGION_OWNER 0/);
  });

  test('warm-pool that ignores its capacity (Contract C)', async () => {
    const broken: WarmPoolFactory = (ctx, options) => defaultBoxes.warmPool(ctx, { ...options, capacity: 64 });
    const msg = await failureOf(warmPoolConformance(broken, fixture), 'warm-pool: capacity bound (Contract C)');
    expect(msg).toMatch(/with capacity 2 the warm pool holds 3/);
  });

  test('warm-pool that stamps the wrong class in the registry', async () => {
    const broken: WarmPoolFactory = (ctx, options) => {
      const inner = defaultBoxes.warmPool(ctx, options);
      return wrap(inner, {
        acquireSlab(cls: number, tid: number): number {
          const s = inner.acquireSlab(cls, tid);
          const i = (ctx.layout.registryOffset >>> 2) + (s >>> PAGE_SHIFT);
          if (s !== 0) ctx.backend.views.i32[i] = ctx.backend.views.i32[i]! & ~(REG_CLASS_MASK << REG_CLASS_SHIFT);
          return s;
        },
      });
    };
    const msg = await failureOf(warmPoolConformance(broken, fixture), 'warm-pool: acquireSlab assigns a free slab');
    expect(msg).toMatch(/registry entry/);
  });

  test('page-box that over-fills a batch by one', async () => {
    const broken: PageBoxFactory = (ctx, options) => {
      const inner = defaultBoxes.pageBox(ctx, options);
      return wrap(inner, {
        allocBatch(cls: number, out: Int32Array, offset: number, max: number): number {
          return inner.allocBatch(cls, out, offset, max + 1);
        },
      });
    };
    const msg = await failureOf(pageBoxConformance(broken, fixture), 'page-box: batch bounds (Contract C)');
    expect(msg).toMatch(/0 ≤ n ≤ max/);
  });

  test('page-box whose holds sees only the slab free list (not the remote-free lists)', async () => {
    const broken: PageBoxFactory = (ctx, options) => {
      const inner = defaultBoxes.pageBox(ctx, options);
      const i32 = (): Int32Array => ctx.backend.views.i32;
      return wrap(inner, {
        holds(p: number): boolean {
          for (let b = i32()[pdIndex(ctx, p, PD_FREE_HEAD)]!; b !== 0; b = i32()[b >>> 2]!) if (b === p) return true;
          return false;
        },
      });
    };
    const msg = await failureOf(pageBoxConformance(broken, fixture), 'page-box: holds(p)');
    expect(msg).toMatch(/remote-free list/);
  });

  test('page-box that keeps no spare empty slab', async () => {
    const broken: PageBoxFactory = (ctx, options) => defaultBoxes.pageBox(ctx, { ...options, pagesPerClass: 0 });
    const msg = await failureOf(pageBoxConformance(broken, fixture), 'page-box: empty slabs');
    expect(msg).toMatch(/went back, want 2/);
  });
  // "Nothing is lost after reclaim": a rebuild that ignores what the dead thread owned, or
  // state kept JS-side where the reclaim cannot find it.

  test('page-box whose adopt() rebuilds nothing: the dead thread\'s slabs are never collected', async () => {
    const broken: PageBoxFactory = (ctx, options) => wrap(defaultBoxes.pageBox(ctx, options), { adopt: () => undefined });
    const msg = await failureOf(pageBoxConformance(broken, fixture, world({ pageBox: broken })), 'page-box: nothing is lost after reclaim');
    expect(msg).toMatch(/still held|liveBytes|os-boundary maps/);
  });

  test('warm-pool whose adopt() rebuilds nothing: the dead thread\'s SuperSlabs stay mapped', async () => {
    const broken: WarmPoolFactory = (ctx, options) => wrap(defaultBoxes.warmPool(ctx, options), { adopt: () => undefined });
    const msg = await failureOf(warmPoolConformance(broken, fixture, world({ warmPool: broken })), 'warm-pool: nothing is lost after reclaim');
    expect(msg).toMatch(/os-boundary maps \d+ bytes after trim\(\)/);
  });

  test('superslab-tier that retains released SuperSlabs in a JS-side list of the releasing instance', async () => {
    const broken: SuperSlabTierFactory = (ctx, options) => {
      const inner = defaultBoxes.superslabTier(ctx, options);
      const kept: number[] = [];
      return wrap(inner, {
        acquireSuperSlab(): number {
          const b = kept.pop();
          if (b === undefined) return inner.acquireSuperSlab();
          ctx.backend.views.i32[pdIndex(ctx, b, PD_REGION_OWNER)] = ctx.tid;
          return b;
        },
        releaseSuperSlab(base: number): void {
          kept.push(base);
        },
        trim(): number {
          while (kept.length > 0) inner.releaseSuperSlab(kept.pop()!);
          return inner.trim();
        },
      });
    };
    const msg = await failureOf(superSlabTierConformance(broken, fixture, world({ superslabTier: broken })), 'superslab-tier: nothing is lost after reclaim');
    expect(msg).toMatch(/os-boundary maps|validate/);
  });

  test('shared-pool that holds given-back SuperSlabs in a JS-side list of the instance they were given to', async () => {
    const broken: SharedPoolFactory = (ctx, options) => {
      const inner = defaultBoxes.sharedPool(ctx, options);
      const kept: number[] = [];
      return wrap(inner, {
        acquireSuperSlab(tid: number): number {
          const b = kept.pop();
          if (b === undefined) return inner.acquireSuperSlab(tid);
          ctx.backend.views.i32[pdIndex(ctx, b, PD_REGION_OWNER)] = tid;
          return b;
        },
        releaseSuperSlab(base: number): void {
          ctx.backend.views.i32[pdIndex(ctx, base, PD_REGION_OWNER)] = 0;
          kept.push(base);
        },
      });
    };
    const msg = await failureOf(sharedPoolConformance(broken, fixture, world({ sharedPool: broken })), 'shared-pool: nothing is lost after reclaim');
    expect(msg).toMatch(/os-boundary maps|validate/);
  });
  test('page-box that ignores pooledClasses (pools every class) fails its clause', async () => {
    const broken: PageBoxFactory = (ctx, options) => {
      const { pooledClasses: _ignored, ...rest } = options;
      return defaultBoxes.pageBox(ctx, rest);
    };
    const msg = await failureOf(pageBoxConformance(broken, fixture), 'page-box: empty slabs');
    expect(msg).toMatch(/went back, want/);
  });
});
