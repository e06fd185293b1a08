import {
  ErrorCode, L25BlockState, PAGE_SIZE, PageKind, PD_REGION_PAGES, PD_REGION_STATE, REG_AUX_MASK, REG_AUX_SHIFT,
  REG_CLASS_SHIFT, REG_THREAD_SHIFT,
  type BoxContext, type L25Pool, type L25PoolOptions, type L25PoolStats, type Ptr,
} from '@hakmem/contracts';
import {
  fillBytes, firstByteNot, MidRegions, noThrow, pdOf, probeClean, regOf, setPdOf, setRegOf,
  type MidEnv, type MidEnvFactory, type MidEnvOptions,
} from './pool-refill.js';
import { checkStats, expectCorruption, hex, regKind } from './slab-probes.js';
import { check, expectHakmemError, fail, type ConformanceCase } from './types.js';
import { reclaimCase, type ReclaimWorldFactory } from './reclaim.js';

/** Factory of an L2.5 pool handle: the signature of `BoxFactories.l25Pool` in `@hakmem/allocator`. */
export type L25PoolFactory = (ctx: BoxContext, options: L25PoolOptions) => L25Pool;

const C = 'l25-pool';
const P = PAGE_SIZE;
const MiB = 1 << 20;
const ZERO: L25PoolStats = {
  hits: 0, misses: 0, splits: 0, mapped: 0, unmapped: 0, cachedBlocks: 0, cachedBytes: 0, liveBlocks: 0, liveBytes: 0, lockContended: 0,
};

type PoolOptions = Omit<L25PoolOptions, 'regions'>;

/** What an l25-pool case works on. */
interface L25Env {
  readonly env: MidEnv;
  readonly ctx: BoxContext;
  readonly regions: MidRegions;
  /** The first thread's tid, and a second thread's whose shard differs under `shards`. */
  readonly tidA: number;
  readonly tidB: number;
  /** A shard count under which tidA and tidB use different shards (8, the default, when it does). */
  readonly shards: number;
  /** A handle of thread `tid` (default tidA) on the pool's state, over the probe. */
  pool(tid?: number, options?: PoolOptions): L25Pool;
}

/**
 * Conformance suite of the `L25Pool` contract (packages/contracts/src/boxes/l25-pool.ts,
 * with the registry / descriptor layout of layout.ts and `L25BlockState`): what a caller
 * can observe, not the shard records' layout. Every block handed out is checked (64 KiB
 * aligned, `usableSize` = its class, registry L25 / class / tid / page index on every
 * page, head LIVE); cached blocks keep their L25 entries and say CACHED; unmapped blocks
 * have their entries cleared first. Covers reuse without maps, shards by the freeing
 * thread, splits within `splitSpan`, `keepPerClass`, `budget` and the live-proportional limit, trim, `lastAllocZeroed`,
 * exhaustion (after draining the caller's shard), exact stats, `checkInvariants` and
 * option validation.
 *
 * `make` has the signature of `BoxFactories.l25Pool`; `env` builds a fresh heap per case
 * (`ctx.slotOffset`: the box slots the pool's state may take, far from the heap's own).
 */
export function l25PoolConformance(make: L25PoolFactory, env: MidEnvFactory, reclaim?: ReclaimWorldFactory): ConformanceCase[] {
  const setup = (o: MidEnvOptions = {}): L25Env => {
    const e = env(o);
    const ctx = e.ctx;
    const regions = new MidRegions(e.regions, ctx);
    const tidA = ctx.tid;
    const tidB = e.otherTid;
    const shards = (tidA - 1) % 8 !== (tidB - 1) % 8 ? 8 : 64;
    check(tidA !== tidB && (tidA - 1) % shards !== (tidB - 1) % shards, `${C} suite: env's ctx.tid ${tidA} and otherTid ${tidB} must fall in different shards`);
    return {
      env: e, ctx, regions, tidA, tidB, shards,
      pool: (tid = tidA, options = {}) => make({ ...ctx, tid }, { regions, ...(shards === 8 ? {} : { shards }), ...options }),
    };
  };
  const pagesOfClass = (pool: L25Pool, cls: number): number => pool.classSizes[cls]! / P;

  /** Registry entries of every page of the block: L25 / cls / tid / page index (saturating). */
  const checkEntries = (r: L25Env, p: Ptr, pages: number, cls: number, tid: number, when: string): void => {
    for (let i = 0; i < pages; i++) {
      const e = regOf(r.ctx, p + i * P);
      const want = PageKind.L25 | (cls << REG_CLASS_SHIFT) | (tid << REG_THREAD_SHIFT) | (Math.min(i, REG_AUX_MASK) << REG_AUX_SHIFT);
      check(e === want, `${C}: block ${hex(p)} page ${i}: registry entry ${hex(e)}, want ${hex(want)} (L25, class ${cls}, thread ${tid}, aux = page index) (${when})`);
    }
  };
  /** The contract's facts about a block `alloc(cls)` returned to thread `tid`. */
  const checkLive = (r: L25Env, pool: L25Pool, p: Ptr, cls: number, tid: number, when: string): void => {
    check(Number.isInteger(p) && p > 0 && p % P === 0 && p >= r.ctx.layout.heapStart, `${C} alloc(${cls}) returned ${hex(p)}, not a 64 KiB aligned heap address (${when})`);
    const pages = pagesOfClass(pool, cls);
    check(pool.usableSize(p) === pool.classSizes[cls], `${C} usableSize(${hex(p)}) is ${pool.usableSize(p)}, class ${cls} is ${pool.classSizes[cls]} B (${when})`);
    checkEntries(r, p, pages, cls, tid, when);
    check(pdOf(r.ctx, p, PD_REGION_STATE) === L25BlockState.LIVE, `${C}: block ${hex(p)} head state ${pdOf(r.ctx, p, PD_REGION_STATE)}, want LIVE (${when})`);
    check(pdOf(r.ctx, p, PD_REGION_PAGES) === pages, `${C}: block ${hex(p)} head PD_REGION_PAGES ${pdOf(r.ctx, p, PD_REGION_PAGES)}, want ${pages} (${when})`);
  };
  const checkCached = (r: L25Env, p: Ptr, pages: number, cls: number, when: string): void => {
    check(pdOf(r.ctx, p, PD_REGION_STATE) === L25BlockState.CACHED, `${C}: freed block ${hex(p)} has state ${pdOf(r.ctx, p, PD_REGION_STATE)}, want CACHED (${when})`);
    check(pdOf(r.ctx, p, PD_REGION_PAGES) === pages, `${C}: cached block ${hex(p)} PD_REGION_PAGES ${pdOf(r.ctx, p, PD_REGION_PAGES)}, want ${pages} (${when})`);
    for (let i = 0; i < pages; i++) {
      const e = regOf(r.ctx, p + i * P);
      check(regKind(e) === PageKind.L25 && ((e >>> REG_CLASS_SHIFT) & 0xff) === cls && ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) === i,
        `${C}: cached block ${hex(p)} page ${i}: registry entry ${hex(e)} (the registry stays L25 / class ${cls} / page index while cached) (${when})`);
    }
  };
  const checkGone = (r: L25Env, p: Ptr, pages: number, when: string): void => {
    for (let i = 0; i < pages; i++) check(regOf(r.ctx, p + i * P) === 0, `${C}: unmapped block ${hex(p)} page ${i} still has registry entry ${hex(regOf(r.ctx, p + i * P))} (${when})`);
    check(pdOf(r.ctx, p, PD_REGION_STATE) === L25BlockState.NONE, `${C}: unmapped block ${hex(p)} has state ${pdOf(r.ctx, p, PD_REGION_STATE)}, want NONE (${when})`);
    check(r.regions.unmaps.some(([a, n]) => a <= p && p + pages * P <= a + n), `${C}: block ${hex(p)} was not given back through regions.unmap (${when})`);
  };
  const alloc = (r: L25Env, pool: L25Pool, cls: number, tid: number, when: string): Ptr => {
    const p = noThrow(`${C} alloc`, () => pool.alloc(cls));
    check(p !== 0, `${C} alloc(${cls}) returned 0 with memory to spare (${when})`);
    checkLive(r, pool, p, cls, tid, when);
    probeClean(r.regions, when);
    return p;
  };
  const inUse = (r: L25Env): number => r.env.regions.stats().bytesInUse;

  return [
    {
      name: `${C}: name is '${C}', stats() start at zero and are a fresh snapshot; creating a handle maps nothing`,
      run() {
        const r = setup();
        const pool = r.pool();
        check(pool.name === C, `${C} Box.name: expected '${C}', got '${pool.name}'`);
        checkStats(C, pool.stats(), ZERO, 'fresh pool');
        const s = pool.stats();
        s.cachedBlocks = 99;
        check(pool.stats() !== s && pool.stats().cachedBlocks === 0, `${C} Box.stats: must return a fresh snapshot, not live state`);
        r.pool(r.tidB);
        check(r.regions.maps.length === 0, `${C}: creating handles mapped memory`);
        pool.checkInvariants();
      },
    },
    {
      name: `${C}: class table (default every page count 1..16) and classOf(s) = the smallest class holding s, for 1 ..= the last class`,
      run() {
        const r = setup();
        const dflt = r.pool();
        check(dflt.numClasses === 16 && dflt.classSizes.length === 16 && Array.from(dflt.classSizes).every((s, i) => s === (i + 1) * P),
          `${C} default classSizes: [${Array.from(dflt.classSizes).join(', ')}], want every page count 1..16`);
        const tables = [undefined, [P], [P, 3 * P, 16 * P], [2 * P, 4 * P, 8 * P, 32 * P]];
        for (const t of tables) {
          const pool = t === undefined ? dflt : r.pool(r.tidA, { classSizes: t });
          const what = t === undefined ? 'default' : `[${t.join(', ')}]`;
          if (t !== undefined) check(Array.from(pool.classSizes).join() === t.join() && pool.numClasses === t.length, `${C} options.classSizes ${what}: the table is [${Array.from(pool.classSizes).join(', ')}]`);
          const last = pool.classSizes[pool.numClasses - 1]!;
          for (let s = 1; s <= last; s += s % 4096 === 0 ? 1 : s % 4096 === 1 ? 4094 : 1) {
            const c = pool.classOf(s);
            if (!Number.isInteger(c) || c < 0 || c >= pool.numClasses) fail(`${C} classOf(${s}) = ${c} is not a class (${what})`);
            if (pool.classSizes[c]! < s) fail(`${C} classOf(${s}) = ${c} holds only ${pool.classSizes[c]} B (${what})`);
            if (c > 0 && pool.classSizes[c - 1]! >= s) fail(`${C} classOf(${s}) = ${c}, but class ${c - 1} (${pool.classSizes[c - 1]} B) holds it (${what})`);
          }
        }
      },
    },
    {
      name: `${C}: alloc gives a 64 KiB aligned block of the class: usableSize = class size, registry L25 / class / tid / page index on every page, head LIVE`,
      run() {
        const r = setup();
        const pool = r.pool();
        const blocks: Array<[Ptr, number]> = [];
        for (let c = 0; c < pool.numClasses; c++) blocks.push([alloc(r, pool, c, r.tidA, `class ${c}`), c]);
        for (let c = pool.numClasses - 1; c >= 0; c -= 3) blocks.push([alloc(r, pool, c, r.tidA, `class ${c} again`), c]);
        const sorted = [...blocks].sort((x, y) => x[0] - y[0]);
        for (let i = 1; i < sorted.length; i++) {
          const [p, c] = sorted[i - 1]!;
          check(p + pool.classSizes[c]! <= sorted[i]![0], `${C} alloc: blocks ${hex(p)} and ${hex(sorted[i]![0])} overlap`);
        }
        const bytes = blocks.reduce((k, [, c]) => k + pool.classSizes[c]!, 0);
        const s = pool.stats();
        check(s.misses === blocks.length && s.mapped === blocks.length && s.hits === 0 && s.liveBlocks === blocks.length && s.liveBytes === bytes,
          `${C} stats after ${blocks.length} fresh allocs of ${bytes} B: ${JSON.stringify(s)}`);
        check(inUse(r) === bytes, `${C}: os-boundary holds ${inUse(r)} B for ${bytes} B of live blocks`);
        pool.checkInvariants();
      },
    },
    {
      name: `${C}: free caches the block (registry still L25, state CACHED) and the next alloc of the class reuses it without a map`,
      run() {
        const r = setup();
        const pool = r.pool();
        const p = alloc(r, pool, 3, r.tidA, 'class 3');
        const q = alloc(r, pool, 3, r.tidA, 'class 3, second');
        fillBytes(r.ctx, p, 4 * P, 0xab);
        noThrow(`${C} free`, () => pool.free(p));
        checkCached(r, p, 4, 3, 'after free');
        const s = pool.stats();
        check(s.cachedBlocks === 1 && s.cachedBytes === 4 * P && s.liveBlocks === 1 && s.liveBytes === 4 * P, `${C} stats after one free: ${JSON.stringify(s)}`);
        check(inUse(r) === 8 * P, `${C} free: a cached block must stay mapped (os-boundary holds ${inUse(r)} B, want ${8 * P})`);
        const maps = r.regions.maps.length;
        const again = alloc(r, pool, 3, r.tidA, 'reuse');
        check(again === p, `${C}: the next alloc of class 3 returned ${hex(again)}, not the cached ${hex(p)}`);
        check(r.regions.maps.length === maps, `${C}: reusing a cached block mapped memory`);
        check(!pool.lastAllocZeroed(), `${C} lastAllocZeroed: true for a reused block whose bytes are 0xab`);
        check(pool.stats().hits === 1, `${C} stats.hits ${pool.stats().hits} after a reuse, want 1`);
        pool.free(q);
        pool.free(again);
        const third = alloc(r, pool, 3, r.tidA, 'two cached');
        check(third === p || third === q, `${C}: with two blocks of class 3 cached, alloc mapped a third (${hex(third)})`);
        check(r.regions.maps.length === maps, `${C}: reuse mapped memory`);
        pool.checkInvariants();
      },
    },
    {
      name: `${C}: shards — a block freed by another thread is cached in that thread's shard: it serves that thread's next alloc, not the first thread's`,
      run() {
        const r = setup();
        const a = r.pool(r.tidA);
        const b = r.pool(r.tidB);
        const p = alloc(r, a, 2, r.tidA, 'thread A');
        b.free(p);
        checkCached(r, p, 3, 2, 'freed by thread B');
        check(a.stats().cachedBlocks === 1 && b.stats().cachedBlocks === 1, `${C} stats.cachedBlocks must sum all shards: A sees ${a.stats().cachedBlocks}, B sees ${b.stats().cachedBlocks}`);
        const maps = r.regions.maps.length;
        const q = alloc(r, a, 2, r.tidA, 'thread A again');
        check(q !== p, `${C}: thread A's alloc took ${hex(p)} from thread B's shard (a free goes to the freeing thread's shard)`);
        check(r.regions.maps.length === maps + 1, `${C}: thread A's alloc with its shard empty should map (maps ${maps} → ${r.regions.maps.length})`);
        checkCached(r, p, 3, 2, 'still in B\'s shard');
        const p2 = alloc(r, b, 2, r.tidB, 'thread B');
        check(p2 === p, `${C}: thread B's alloc returned ${hex(p2)}, not ${hex(p)} from its own shard`);
        check(r.regions.maps.length === maps + 1, `${C}: thread B's alloc mapped while its shard held a block`);
        a.free(q);
        check(alloc(r, a, 2, r.tidA, 'A reuses') === q, `${C}: thread A's own freed block did not serve its next alloc`);
        a.checkInvariants();
      },
    },
    {
      name: `${C}: split — an empty class takes the smallest larger cached block within splitSpan × its pages; the tail is cached in its own class; beyond splitSpan it maps`,
      run() {
        {
          const r = setup();
          const pool = r.pool(r.tidA, { splitSpan: 2 });
          const p = alloc(r, pool, 3, r.tidA, '4 pages');
          pool.free(p);
          const maps = r.regions.maps.length;
          const q = alloc(r, pool, 1, r.tidA, '2 pages from the 4-page block');
          check(q === p && r.regions.maps.length === maps, `${C} split: a 2-page alloc with a 4-page block cached (splitSpan 2) returned ${hex(q)}${r.regions.maps.length > maps ? ' and mapped' : ''}, want ${hex(p)} split`);
          const tail = p + 2 * P;
          checkCached(r, tail, 2, 1, 'the split tail');
          let s = pool.stats();
          check(s.splits === 1 && s.cachedBlocks === 1 && s.cachedBytes === 2 * P && s.liveBytes === 2 * P, `${C} stats after a split: ${JSON.stringify(s)}`);
          check(inUse(r) === 4 * P, `${C} split: os-boundary holds ${inUse(r)} B, want the 4 pages`);
          pool.checkInvariants();
          check(alloc(r, pool, 1, r.tidA, 'the tail') === tail && r.regions.maps.length === maps, `${C} split: the cached tail did not serve the next 2-page alloc`);
          // Beyond splitSpan: an 8-page block does not serve a 2-page alloc (8 > 2 × 2).
          const big = alloc(r, pool, 7, r.tidA, '8 pages');
          pool.free(big);
          const m2 = r.regions.maps.length;
          const small = alloc(r, pool, 1, r.tidA, '2 pages, 8 cached');
          check(small !== big && r.regions.maps.length === m2 + 1, `${C} split: a 2-page alloc split an 8-page block with splitSpan 2`);
          checkCached(r, big, 8, 7, 'beyond splitSpan');
          s = pool.stats();
          check(s.splits === 1, `${C} stats.splits ${s.splits}, want 1`);
          pool.checkInvariants();
        }
        {
          const r = setup();
          const pool = r.pool(r.tidA, { splitSpan: 4 });
          const x3 = alloc(r, pool, 2, r.tidA, '3 pages');
          const x4 = alloc(r, pool, 3, r.tidA, '4 pages');
          pool.free(x4);
          pool.free(x3);
          const got = alloc(r, pool, 0, r.tidA, '1 page, 3 and 4 cached');
          check(got === x3, `${C} split: a 1-page alloc (splitSpan 4) with 3- and 4-page blocks cached took ${hex(got)}, not the smallest (${hex(x3)})`);
          checkCached(r, x3 + P, 2, 1, 'the 2-page tail');
          checkCached(r, x4, 4, 3, 'the untouched 4-page block');
          pool.checkInvariants();
        }
        {
          const r = setup();
          const pool = r.pool(r.tidA, { splitSpan: 1 });
          const p = alloc(r, pool, 1, r.tidA, '2 pages');
          pool.free(p);
          const q = alloc(r, pool, 0, r.tidA, '1 page, splitSpan 1');
          check(q !== p && pool.stats().splits === 0, `${C} split: splitSpan 1 must never split (got ${hex(q)}, splits ${pool.stats().splits})`);
          checkCached(r, p, 2, 1, 'splitSpan 1');
        }
      },
    },
    {
      name: `${C}: keepPerClass — a free beyond keepPerClass blocks of its class in the shard unmaps the block (registry cleared first); 0 caches nothing`,
      run() {
        const r = setup();
        const pool = r.pool(r.tidA, { keepPerClass: 2 });
        const blocks = [0, 1, 2].map((i) => alloc(r, pool, 1, r.tidA, `block ${i}`));
        const before = inUse(r);
        for (const p of blocks) pool.free(p);
        checkCached(r, blocks[0]!, 2, 1, 'first');
        checkCached(r, blocks[1]!, 2, 1, 'second');
        checkGone(r, blocks[2]!, 2, 'third, beyond keepPerClass 2');
        check(inUse(r) === before - 2 * P, `${C} keepPerClass: os-boundary holds ${inUse(r)} B, want ${before - 2 * P}`);
        const s = pool.stats();
        check(s.cachedBlocks === 2 && s.unmapped === 1 && s.liveBlocks === 0, `${C} stats after 3 frees with keepPerClass 2: ${JSON.stringify(s)}`);
        pool.checkInvariants();
        probeClean(r.regions, 'keepPerClass');
        const r0 = setup();
        const none = r0.pool(r0.tidA, { keepPerClass: 0 });
        const p = alloc(r0, none, 0, r0.tidA, 'keep 0');
        none.free(p);
        checkGone(r0, p, 1, 'keepPerClass 0');
        check(none.stats().cachedBlocks === 0 && inUse(r0) === 0, `${C} keepPerClass 0 cached a block`);
        probeClean(r0.regions, 'keepPerClass 0');
      },
    },
    {
      name: `${C}: budget — a free that would take the shard's cached bytes above budget unmaps the block; cached bytes never exceed it; 0 caches nothing`,
      run() {
        const r = setup();
        const a = r.pool(r.tidA, { budget: 3 * P });
        const b = r.pool(r.tidB, { budget: 3 * P });
        const x = alloc(r, a, 1, r.tidA, 'x');
        const y = alloc(r, a, 1, r.tidA, 'y');
        const z = alloc(r, a, 0, r.tidA, 'z');
        const w = alloc(r, a, 1, r.tidA, 'w');
        a.free(x);
        checkCached(r, x, 2, 1, 'x within budget');
        a.free(y);
        checkGone(r, y, 2, 'y beyond the budget of 3 pages');
        a.free(z);
        checkCached(r, z, 1, 0, 'z fills the budget');
        check(a.stats().cachedBytes <= 3 * P, `${C} budget: ${a.stats().cachedBytes} B cached, budget ${3 * P}`);
        b.free(w);
        checkCached(r, w, 2, 1, 'w in thread B\'s shard (the budget is per shard)');
        check(a.stats().cachedBytes === 5 * P, `${C} stats.cachedBytes ${a.stats().cachedBytes}, want ${5 * P} over two shards`);
        a.checkInvariants();
        probeClean(r.regions, 'budget');
        const r0 = setup();
        const none = r0.pool(r0.tidA, { budget: 0 });
        const p = alloc(r0, none, 0, r0.tidA, 'budget 0');
        none.free(p);
        checkGone(r0, p, 1, 'budget 0');
        check(none.stats().cachedBlocks === 0, `${C} budget 0 cached a block`);
      },
    },
    {
      name: `${C}: live-proportional limit — a free never takes the shard's cached bytes above max(budgetFloor, liveShare × its live bytes); a free over it while the shard is above it lowers them; a block within it is cached`,
      run() {
        const r = setup();
        const floor = 2 * P;
        const a = r.pool(r.tidA, { budgetFloor: floor, liveShare: 0.5 });
        // 1, 4, 2, 8, 1, 16, 3 pages: 35 live in thread A's shard (the only one used).
        const blocks = [0, 3, 1, 7, 0, 15, 2].map((c, i) => alloc(r, a, c, r.tidA, `block ${i}`));
        for (const i of [0, 1, 2, 4, 6, 3, 5]) {
          const before = a.stats().cachedBytes;
          a.free(blocks[i]!);
          const s = a.stats();
          const limit = Math.max(floor, Math.floor(s.liveBytes / P / 2) * P);
          check(s.cachedBytes <= limit || s.cachedBytes < before,
            `${C} limit: ${s.cachedBytes} B cached after freeing block ${i} (${before} B before), live ${s.liveBytes} B: limit max(${floor}, live / 2) = ${limit}`);
          check(inUse(r) === s.liveBytes + s.cachedBytes, `${C}: os-boundary holds ${inUse(r)} B, live + cached = ${s.liveBytes + s.cachedBytes} (block ${i})`);
          probeClean(r.regions, `free of block ${i}`);
        }
        // Live 0 now: frees over the floor bring the cache down to it.
        for (let k = 0; k < 8 && a.stats().cachedBytes > floor; k++) a.free(alloc(r, a, 15, r.tidA, `a block over the floor #${k}`));
        check(a.stats().cachedBytes <= floor, `${C} limit: ${a.stats().cachedBytes} B stay cached with nothing live after frees over the floor of ${floor} B`);
        a.checkInvariants();
        // Within the limit a freed block is cached.
        const r1 = setup();
        const keep = r1.pool(r1.tidA, { budgetFloor: 4 * P, liveShare: 0 });
        const p = alloc(r1, keep, 2, r1.tidA, 'within the floor');
        keep.free(p);
        checkCached(r1, p, 3, 2, 'a block within the floor');
      },
    },
    {
      name: `${C}: trim unmaps every cached block of every shard and returns the bytes; live blocks stay`,
      run() {
        const r = setup();
        const a = r.pool(r.tidA);
        const b = r.pool(r.tidB);
        const live = alloc(r, a, 4, r.tidA, 'live');
        const mine = [alloc(r, a, 0, r.tidA, 'a0'), alloc(r, a, 3, r.tidA, 'a3'), alloc(r, a, 3, r.tidA, 'a3b')];
        const theirs = alloc(r, b, 5, r.tidB, 'b5');
        for (const p of mine) a.free(p);
        b.free(theirs);
        const cached = a.stats().cachedBytes;
        check(cached === 15 * P, `${C} stats.cachedBytes ${cached}, want ${15 * P}`);
        const before = inUse(r);
        const bytes = noThrow(`${C} trim`, () => a.trim());
        check(bytes === cached && inUse(r) === before - cached, `${C} trim returned ${bytes} and os-boundary fell by ${before - inUse(r)}; ${cached} B were cached in two shards`);
        mine.forEach((p, i) => checkGone(r, p, [1, 4, 4][i]!, 'trimmed'));
        checkGone(r, theirs, 6, 'trimmed from thread B\'s shard');
        checkLive(r, a, live, 4, r.tidA, 'the live block after trim');
        const s = a.stats();
        check(s.cachedBlocks === 0 && s.cachedBytes === 0 && s.liveBlocks === 1 && b.stats().cachedBlocks === 0, `${C} stats after trim: ${JSON.stringify(s)}`);
        check(a.trim() === 0, `${C} trim: a second trim returned bytes`);
        a.checkInvariants();
        alloc(r, b, 5, r.tidB, 'after trim');
        probeClean(r.regions, 'trim');
      },
    },
    {
      name: `${C}: lastAllocZeroed — true for a fresh block of fresh memory, false for a reused one; never true for a block with a non-zero byte`,
      run() {
        const r = setup();
        const pool = r.pool();
        const sound = (p: Ptr, cls: number, when: string): void => {
          if (!pool.lastAllocZeroed()) return;
          const at = firstByteNot(r.ctx, p, pool.classSizes[cls]!, 0);
          check(at < 0, `${C} lastAllocZeroed: true, but byte ${at} of ${hex(p)} is not zero (${when})`);
        };
        const p = alloc(r, pool, 2, r.tidA, 'fresh');
        check(pool.lastAllocZeroed(), `${C} lastAllocZeroed: false for a block fresh from os-boundary growth (lastMapZeroed ${r.regions.lastMapZeroed()})`);
        sound(p, 2, 'fresh');
        r.ctx.backend.views.u8[p + 3 * P - 1] = 1;
        pool.free(p);
        const q = alloc(r, pool, 2, r.tidA, 'reused');
        check(q === p && !pool.lastAllocZeroed(), `${C} lastAllocZeroed: true for a reused block with a dirty byte`);
        fillBytes(r.ctx, q, 3 * P, 0x5a);
        pool.free(q);
        pool.trim();
        for (const cls of [0, 1, 2, 5]) sound(alloc(r, pool, cls, r.tidA, `after trim, class ${cls}`), cls, `after trim, class ${cls}`);
      },
    },
    {
      name: `${C}: exhaustion — alloc returns 0 (never throws) after giving back this shard's cached blocks and retrying; live blocks and other shards intact`,
      run() {
        const r = setup({ maxBytes: 4 * MiB });
        const a = r.pool(r.tidA, { keepPerClass: 64 });
        const b = r.pool(r.tidB, { keepPerClass: 64 });
        const managed = r.ctx.layout.maxBytes - r.ctx.layout.heapStart;
        const bigCls = 15;
        const big: Ptr[] = [];
        for (let i = 0; i < 2; i++) big.push(alloc(r, a, bigCls, r.tidA, `16 pages #${i}`));
        const small: Ptr[] = [];
        for (;;) {
          const p = noThrow(`${C} alloc`, () => a.alloc(0));
          if (p === 0) break;
          checkLive(r, a, p, 0, r.tidA, 'filling');
          small.push(p);
          check(small.length <= managed / P, `${C} exhaustion: more 1-page blocks than the heap holds`);
        }
        check(inUse(r) === managed, `${C} exhaustion: alloc(0) returned 0 with ${managed - inUse(r)} B free in os-boundary`);
        b.free(small[0]!);
        for (const p of small.slice(1)) a.free(p);
        const cachedA = (small.length - 1) * P;
        check(a.stats().cachedBytes === small.length * P, `${C} stats.cachedBytes ${a.stats().cachedBytes}, want ${small.length * P}`);
        // A 16-page block needs the room of this shard's cached 1-page blocks: drained, then mapped.
        const before = a.stats();
        const got = noThrow(`${C} alloc`, () => a.alloc(bigCls));
        check(got !== 0, `${C} exhaustion: alloc returned 0 while this shard held ${cachedA} B of cached blocks (it must give them back and retry the map once)`);
        checkLive(r, a, got, bigCls, r.tidA, 'after the drain');
        checkCached(r, small[0]!, 1, 0, 'thread B\'s cached block (only the caller\'s shard is drained)');
        check(a.stats().cachedBlocks === 1, `${C} exhaustion: ${a.stats().cachedBlocks} blocks cached after the drain, want thread B's 1`);
        check(a.stats().misses === before.misses + 1, `${C} stats.misses +${a.stats().misses - before.misses} for one alloc that went to map`);
        // Now nothing fits: 0, nothing changed but the counters of the attempt.
        const liveBlocks = [...big, got];
        const snap = (): string => JSON.stringify([r.env.regions.stats().bytesInUse, a.stats().liveBlocks, a.stats().liveBytes, a.stats().cachedBlocks,
          liveBlocks.map((p) => [pdOf(r.ctx, p, PD_REGION_STATE), pdOf(r.ctx, p, PD_REGION_PAGES), regOf(r.ctx, p)])]);
        const s0 = snap();
        const zero = noThrow(`${C} alloc`, () => a.alloc(bigCls));
        check(zero === 0, `${C} exhaustion: alloc returned ${hex(zero)} on a full heap`);
        check(snap() === s0, `${C} exhaustion: "0 with nothing changed": live blocks / os-boundary / cache changed`);
        for (const p of liveBlocks) checkLive(r, a, p, bigCls, r.tidA, 'live block after exhaustion');
        a.checkInvariants();
        a.free(got);
        check(alloc(r, a, bigCls, r.tidA, 'after a free') === got, `${C} exhaustion: the freed 16-page block did not serve the next alloc`);
        probeClean(r.regions, 'exhaustion');
      },
    },
    {
      name: `${C}: stats are exact — per-handle hits / misses / splits / mapped / unmapped, all-shard cached and live gauges — through a random mix of two threads`,
      run() {
        const r = setup();
        const opts: PoolOptions = { keepPerClass: 3, budget: 24 * P, splitSpan: 3 };
        const h = [r.pool(r.tidA, opts), r.pool(r.tidB, opts)];
        const tids = [r.tidA, r.tidB];
        const allocs = [0, 0];
        const live = new Map<Ptr, number>();
        let x = 0x7f4a7c15;
        const rnd = (k: number): number => {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          return (x >>> 0) % k;
        };
        for (let step = 0; step < 600; step++) {
          const t = rnd(2);
          const pool = h[t]!;
          const op = rnd(10);
          const when = `step ${step}`;
          if (op < 4 || live.size === 0) {
            const cls = rnd(pool.numClasses);
            const p = alloc(r, pool, cls, tids[t]!, when);
            check(!live.has(p), `${C} alloc returned the live block ${hex(p)} (${when})`);
            live.set(p, cls);
            allocs[t]!++;
          } else if (op < 9) {
            const p = [...live.keys()][rnd(live.size)]!;
            live.delete(p);
            pool.free(p);
          } else {
            pool.trim();
          }
          probeClean(r.regions, when);
          const s = [h[0]!.stats(), h[1]!.stats()];
          for (const k of [0, 1]) {
            check(s[k]!.hits + s[k]!.misses === allocs[k], `${C} stats: thread ${tids[k]} hits ${s[k]!.hits} + misses ${s[k]!.misses} ≠ ${allocs[k]} allocs (${when})`);
            check(s[k]!.misses === s[k]!.mapped, `${C} stats: thread ${tids[k]} misses ${s[k]!.misses} ≠ mapped ${s[k]!.mapped} with every map succeeding (${when})`);
          }
          const liveBytes = [...live.values()].reduce((k, c) => k + h[0]!.classSizes[c]!, 0);
          for (const k of [0, 1]) {
            check(s[k]!.liveBlocks === live.size && s[k]!.liveBytes === liveBytes, `${C} stats (thread ${tids[k]}): liveBlocks ${s[k]!.liveBlocks} / liveBytes ${s[k]!.liveBytes}, the test holds ${live.size} / ${liveBytes} (${when})`);
            check(s[k]!.cachedBlocks === s[0]!.cachedBlocks && s[k]!.cachedBytes === s[0]!.cachedBytes, `${C} stats: the handles disagree on the cached gauges (${when})`);
          }
          check(s[0]!.cachedBytes <= 2 * 24 * P, `${C} budget: ${s[0]!.cachedBytes} B cached in two shards of budget ${24 * P} (${when})`);
          check(r.env.regions.stats().bytesInUse === liveBytes + s[0]!.cachedBytes, `${C}: os-boundary holds ${r.env.regions.stats().bytesInUse} B, live + cached = ${liveBytes + s[0]!.cachedBytes} (${when})`);
          check(s[0]!.mapped + s[1]!.mapped === r.regions.maps.length, `${C} stats.mapped: ${s[0]!.mapped} + ${s[1]!.mapped}, regions.map succeeded ${r.regions.maps.length} times (${when})`);
          check(s[0]!.unmapped + s[1]!.unmapped === r.regions.unmaps.length, `${C} stats.unmapped: ${s[0]!.unmapped} + ${s[1]!.unmapped}, regions.unmap was called ${r.regions.unmaps.length} times (${when})`);
          check(s[0]!.splits + s[1]!.splits <= s[0]!.hits + s[1]!.hits, `${C} stats: more splits than hits (${when})`);
          if (step % 60 === 0) h[0]!.checkInvariants();
        }
        h[1]!.checkInvariants();
      },
    },
    {
      name: `${C}: checkInvariants passes on a consistent pool and changes nothing`,
      run() {
        const r = setup();
        const a = r.pool(r.tidA);
        const b = r.pool(r.tidB);
        const ps = [0, 3, 3, 7, 15].map((c) => alloc(r, a, c, r.tidA, `class ${c}`));
        a.free(ps[1]!);
        b.free(ps[2]!);
        alloc(r, a, 1, r.tidA, 'split');
        a.checkInvariants();
        b.checkInvariants();
        const snap = (): string => JSON.stringify([a.stats(), r.env.regions.stats(), ps.map((p) => [regOf(r.ctx, p), pdOf(r.ctx, p, PD_REGION_STATE), pdOf(r.ctx, p, PD_REGION_PAGES)])]);
        const before = snap();
        a.checkInvariants();
        check(snap() === before, `${C} checkInvariants: "never changes state"`);
      },
    },
    {
      name: `${C}: checkInvariants throws E_CORRUPTION naming the box for a corrupted state word, length or registry entry`,
      run() {
        const corrupt = (what: string, damage: (r: L25Env, live: Ptr, cached: Ptr) => void): void => {
          const r = setup();
          const a = r.pool();
          const live = alloc(r, a, 3, r.tidA, what);
          const cached = alloc(r, a, 2, r.tidA, what);
          a.free(cached);
          a.checkInvariants();
          damage(r, live, cached);
          expectCorruption(C, what, () => a.checkInvariants());
        };
        corrupt('a cached block whose state says LIVE', (r, _l, c) => setPdOf(r.ctx, c, PD_REGION_STATE, L25BlockState.LIVE));
        corrupt('a live block whose state is not an L25BlockState', (r, l) => setPdOf(r.ctx, l, PD_REGION_STATE, 7));
        corrupt('a live block whose state says CACHED (in no list)', (r, l) => setPdOf(r.ctx, l, PD_REGION_STATE, L25BlockState.CACHED));
        corrupt('a live block head with the wrong length', (r, l) => setPdOf(r.ctx, l, PD_REGION_PAGES, 3));
        corrupt('a cached block with the wrong length', (r, _l, c) => setPdOf(r.ctx, c, PD_REGION_PAGES, 2));
        corrupt('a continuation page with the wrong page index', (r, l) => setRegOf(r.ctx, l + 2 * P, regOf(r.ctx, l + 2 * P) ^ (1 << REG_AUX_SHIFT)));
        corrupt('a continuation page of another class', (r, l) => setRegOf(r.ctx, l + P, regOf(r.ctx, l + P) ^ (1 << REG_CLASS_SHIFT)));
      },
    },
    {
      name: `${C}: bad options throw E_INVALID_OPTION (class sizes not ascending multiples of 64 KiB or more than 32; shards outside 1..64; budget, budgetFloor or splitSpan not integers in range; liveShare not in 0..64)`,
      run() {
        const r = setup();
        const bad: Array<[string, PoolOptions]> = [
          ['a class not a multiple of 64 KiB', { classSizes: [P, 100_000] }],
          ['descending classes', { classSizes: [2 * P, P] }],
          ['a repeated class', { classSizes: [P, P] }],
          ['33 classes', { classSizes: Array.from({ length: 33 }, (_, i) => (i + 1) * P) }],
          ['shards 0', { shards: 0 }],
          ['shards 65', { shards: 65 }],
          ['shards 1.5', { shards: 1.5 }],
          ['budget -1', { budget: -1 }],
          ['budget 1.5', { budget: 1.5 }],
          ['splitSpan 0', { splitSpan: 0 }],
          ['splitSpan 1.5', { splitSpan: 1.5 }],
          ['budgetFloor -1', { budgetFloor: -1 }],
          ['budgetFloor 1.5', { budgetFloor: 1.5 }],
          ['liveShare -1', { liveShare: -1 }],
          ['liveShare 65', { liveShare: 65 }],
          ['liveShare NaN', { liveShare: Number.NaN }],
        ];
        for (const [what, o] of bad) expectHakmemError(() => r.pool(r.tidA, o), ErrorCode.INVALID_OPTION, `${C} options (${what})`);
        r.pool(r.tidA, { classSizes: Array.from({ length: 32 }, (_, i) => (i + 1) * P), shards: 1, budget: 0, splitSpan: 1 });
        r.pool(r.tidA, { budgetFloor: 0, liveShare: 0 });
        r.pool(r.tidA, { budgetFloor: 1 << 30, liveShare: 64 });
      },
    },
    reclaimCase(C, reclaim),
  ];
}
