import {
  BigBlockState, ErrorCode, PAGE_SIZE, PageKind, PD_REGION_PAGES, PD_REGION_STATE, REG_AUX_MASK, REG_AUX_SHIFT,
  type BigCache, type BigCacheOptions, type BigCacheStats, type BoxContext, type Ptr,
} from '@hakmem/contracts';
import {
  fillBytes, firstByteNot, MidRegions, noThrow, pdOf, probeClean, regOf, setPdOf, setRegOf,
  type MidEnv, type MidEnvFactory, type MidEnvOptions,
} from './pool-refill.js';
import { checkStats, expectCorruption, hex, regAux, regKind } from './slab-probes.js';
import { check, expectHakmemError, fail, type ConformanceCase } from './types.js';
import { reclaimCase, type ReclaimWorldFactory } from './reclaim.js';

/** Factory of a big-block cache: the signature of `BoxFactories.bigCache` in `@hakmem/allocator`. */
export type BigCacheFactory = (ctx: BoxContext, options: BigCacheOptions) => BigCache;

const C = 'bigcache';
const P = PAGE_SIZE;
const MiB = 1 << 20;
const ZERO: BigCacheStats = {
  hits: 0, misses: 0, mapped: 0, unmapped: 0, resizedInPlace: 0, cachedBlocks: 0, cachedBytes: 0, liveBlocks: 0, liveBytes: 0,
};

type CacheOptions = Omit<BigCacheOptions, 'regions'>;

/** What a bigcache case works on. */
interface BigEnv {
  readonly env: MidEnv;
  /** The context (slotOffset -1: a slotless instance keeps its cache index JS-side; the composition root gives bigcache a slot, see its README). */
  readonly ctx: BoxContext;
  readonly regions: MidRegions;
  /** A cache over the probe (or over the probe without `mapAt`). */
  cache(options?: CacheOptions, withoutMapAt?: boolean): BigCache;
}

/**
 * Conformance suite of the `BigCache` contract (packages/contracts/src/boxes/bigcache.ts,
 * with the registry / descriptor layout of layout.ts and `BigBlockState`): every block
 * handed out is checked (at least `size` usable bytes in whole pages, 64 KiB aligned and
 * aligned to `align`, registry BIG with aux = page index on every page, head LIVE);
 * cached blocks stay BIG and say CACHED; unmapped pages have their entries cleared
 * first. Covers reuse without maps, budget eviction, the live-proportional limit, `resizeInPlace` (shrink, grow into
 * free pages, refusal with nothing changed), exhaustion (the cache emptied and the map
 * retried), `lastAllocZeroed`, trim, exact stats, `checkInvariants` and options.
 *
 * `make` has the signature of `BoxFactories.bigCache`; `env` builds a fresh heap per case.
 */
export function bigCacheConformance(make: BigCacheFactory, env: MidEnvFactory, reclaim?: ReclaimWorldFactory): ConformanceCase[] {
  const setup = (o: MidEnvOptions = {}): BigEnv => {
    const e = env(o);
    const ctx: BoxContext = { ...e.ctx, slotOffset: -1 };
    const regions = new MidRegions(e.regions, ctx);
    return {
      env: e, ctx, regions,
      cache: (options = {}, withoutMapAt = false) => make(ctx, { regions: withoutMapAt ? regions.withoutMapAt() : regions, ...options }),
    };
  };
  const inUse = (r: BigEnv): number => r.env.regions.stats().bytesInUse;

  /** The contract's facts about a live block of at least `size` bytes aligned to `align`. */
  const checkLive = (r: BigEnv, big: BigCache, p: Ptr, size: number, align: number, when: string): number => {
    check(Number.isInteger(p) && p > 0 && p >= r.ctx.layout.heapStart, `${C}: ${hex(p)} is not a heap address (${when})`);
    check(p % Math.max(align, P) === 0, `${C}: block ${hex(p)} is not aligned to ${Math.max(align, P)} (${when})`);
    const usable = big.usableSize(p);
    check(usable >= size && usable % P === 0, `${C} usableSize(${hex(p)}) = ${usable}: not whole pages holding ${size} B (${when})`);
    const pages = usable / P;
    for (let i = 0; i < pages; i++) {
      const e = regOf(r.ctx, p + i * P);
      check(regKind(e) === PageKind.BIG && regAux(e) === Math.min(i, REG_AUX_MASK),
        `${C}: block ${hex(p)} page ${i}: registry entry ${hex(e)}, want BIG with aux ${Math.min(i, REG_AUX_MASK)} (${when})`);
    }
    check(pdOf(r.ctx, p, PD_REGION_STATE) === BigBlockState.LIVE && pdOf(r.ctx, p, PD_REGION_PAGES) === pages,
      `${C}: block ${hex(p)} head descriptor state ${pdOf(r.ctx, p, PD_REGION_STATE)} / pages ${pdOf(r.ctx, p, PD_REGION_PAGES)}, want LIVE / ${pages} (${when})`);
    return usable;
  };
  const checkCached = (r: BigEnv, p: Ptr, pages: number, when: string): void => {
    check(pdOf(r.ctx, p, PD_REGION_STATE) === BigBlockState.CACHED, `${C}: freed block ${hex(p)} has state ${pdOf(r.ctx, p, PD_REGION_STATE)}, want CACHED (${when})`);
    for (let i = 0; i < pages; i++) {
      const e = regOf(r.ctx, p + i * P);
      check(regKind(e) === PageKind.BIG && regAux(e) === Math.min(i, REG_AUX_MASK), `${C}: cached block ${hex(p)} page ${i}: registry entry ${hex(e)} (stays BIG while cached) (${when})`);
    }
  };
  const checkGone = (r: BigEnv, p: Ptr, pages: number, when: string): void => {
    for (let i = 0; i < pages; i++) check(regOf(r.ctx, p + i * P) === 0, `${C}: unmapped page ${hex(p + i * P)} still has registry entry ${hex(regOf(r.ctx, p + i * P))} (${when})`);
    check(r.regions.unmaps.some(([a, n]) => a <= p && p + pages * P <= a + n) || pages === 0, `${C}: ${hex(p)} was not given back through regions.unmap (${when})`);
  };
  const alloc = (r: BigEnv, big: BigCache, size: number, when: string, align?: number): Ptr => {
    const p = noThrow(`${C} alloc`, () => (align === undefined ? big.alloc(size) : big.alloc(size, align)));
    check(p !== 0, `${C} alloc(${size}${align === undefined ? '' : `, ${align}`}) returned 0 with memory to spare (${when})`);
    checkLive(r, big, p, size, align ?? P, when);
    probeClean(r.regions, when);
    return p;
  };
  /** Registry entries and head words of `pages` pages from `p`, for "nothing changed". */
  const snapPages = (r: BigEnv, p: Ptr, pages: number): string => {
    const out: number[] = [pdOf(r.ctx, p, PD_REGION_STATE), pdOf(r.ctx, p, PD_REGION_PAGES)];
    for (let i = 0; i < pages; i++) out.push(regOf(r.ctx, p + i * P));
    return out.join();
  };

  return [
    {
      name: `${C}: name is '${C}', stats() start at zero and are a fresh snapshot; creating the cache maps nothing`,
      run() {
        const r = setup();
        const big = r.cache();
        check(big.name === C, `${C} Box.name: expected '${C}', got '${big.name}'`);
        checkStats(C, big.stats(), ZERO, 'fresh cache');
        const s = big.stats();
        s.liveBlocks = 9;
        check(big.stats() !== s && big.stats().liveBlocks === 0, `${C} Box.stats: must return a fresh snapshot, not live state`);
        check(r.regions.maps.length === 0, `${C}: creating the cache mapped memory`);
        big.checkInvariants();
      },
    },
    {
      name: `${C}: alloc rounds size up to a page class (usable >= size in whole pages, at most 25 % more), 64 KiB aligned, registry BIG / page index, head LIVE`,
      run() {
        const r = setup();
        const big = r.cache();
        const sizes = [1, P - 1, P, P + 1, 3 * P, MiB - 1, MiB, MiB + 1, 3 * MiB + 5, 5 * MiB, 9 * MiB + 1];
        const blocks: Array<[Ptr, number]> = [];
        for (const size of sizes) {
          const p = alloc(r, big, size, `size ${size}`);
          const usable = big.usableSize(p);
          const need = Math.ceil(size / P) * P;
          check(usable <= need * 1.25 + P, `${C} alloc(${size}): ${usable} usable B, more than a page class above the ${need} B the size needs`);
          blocks.push([p, usable]);
        }
        const sorted = [...blocks].sort((x, y) => x[0] - y[0]);
        for (let i = 1; i < sorted.length; i++) check(sorted[i - 1]![0] + sorted[i - 1]![1] <= sorted[i]![0], `${C} alloc: blocks ${hex(sorted[i - 1]![0])} and ${hex(sorted[i]![0])} overlap`);
        const bytes = blocks.reduce((k, [, u]) => k + u, 0);
        const s = big.stats();
        check(s.misses === sizes.length && s.mapped === sizes.length && s.hits === 0 && s.liveBlocks === sizes.length && s.liveBytes === bytes,
          `${C} stats after ${sizes.length} fresh allocs of ${bytes} B: ${JSON.stringify(s)}`);
        check(inUse(r) === bytes, `${C}: os-boundary holds ${inUse(r)} B for ${bytes} B of live blocks`);
        big.checkInvariants();
      },
    },
    {
      name: `${C}: alloc(size, align) returns a block aligned to align (1 MiB, 4 MiB, …); a cached block serves only a request it is aligned for`,
      run() {
        const r = setup({ maxBytes: 128 * MiB });
        const big = r.cache();
        alloc(r, big, P, 'offset the heap');
        for (const align of [P, 2 * P, MiB, 4 * MiB, 16 * MiB]) {
          for (const size of [P, MiB + 1, 3 * MiB]) alloc(r, big, size, `size ${size}, align ${align}`, align);
        }
        let odd = 0;
        for (let i = 0; i < 8 && odd === 0; i++) {
          const p = alloc(r, big, MiB, 'a block not 4 MiB aligned');
          if (p % (4 * MiB) !== 0) odd = p;
        }
        check(odd !== 0, `${C}: the suite found no 1 MiB block off a 4 MiB boundary`);
        big.free(odd);
        checkCached(r, odd, 16, 'the unaligned block');
        const q = alloc(r, big, MiB, 'aligned request with an unaligned block cached', 4 * MiB);
        check(q !== odd, `${C} alloc(1 MiB, 4 MiB) returned the cached block ${hex(odd)}, which is not 4 MiB aligned`);
        const maps = r.regions.maps.length;
        check(alloc(r, big, MiB, 'default alignment') === odd && r.regions.maps.length === maps, `${C}: the cached block did not serve a request with the default alignment`);
        big.checkInvariants();
      },
    },
    {
      name: `${C}: free caches the block within the budget (registry stays BIG, state CACHED); the next alloc of its class reuses it without a map`,
      run() {
        const r = setup();
        const big = r.cache();
        const p = alloc(r, big, 3 * MiB + 5, 'block');
        const usable = big.usableSize(p);
        const pages = usable / P;
        fillBytes(r.ctx, p, 4096, 0xcd);
        const held = inUse(r);
        noThrow(`${C} free`, () => big.free(p));
        checkCached(r, p, pages, 'after free');
        check(inUse(r) === held, `${C} free: a cached block must stay mapped (os-boundary ${held} → ${inUse(r)} B)`);
        const s = big.stats();
        check(s.cachedBlocks === 1 && s.cachedBytes === usable && s.liveBlocks === 0 && s.liveBytes === 0, `${C} stats after a free: ${JSON.stringify(s)}`);
        big.checkInvariants();
        const maps = r.regions.maps.length;
        const q = alloc(r, big, 3 * MiB + 5, 'same size');
        check(q === p && r.regions.maps.length === maps, `${C}: the next alloc of the class returned ${hex(q)}${r.regions.maps.length > maps ? ' and mapped' : ''}, not the cached ${hex(p)}`);
        check(!big.lastAllocZeroed(), `${C} lastAllocZeroed: true for a block from the cache`);
        check(big.stats().hits === 1, `${C} stats.hits ${big.stats().hits}, want 1`);
        big.free(q);
        const same = alloc(r, big, usable - P + 1, 'another size of the class');
        check(same === p && r.regions.maps.length === maps, `${C}: alloc(${usable - P + 1}), of the same page count, did not reuse the cached block`);
        big.checkInvariants();
      },
    },
    {
      name: `${C}: budget — cached bytes never exceed it (blocks are unmapped instead, registry cleared first); a block above it is unmapped at once; 0 caches nothing`,
      run() {
        const r = setup();
        const budget = 3 * MiB;
        const big = r.cache({ budget });
        const blocks = [MiB, MiB, 2 * MiB, 2 * MiB, 4 * MiB].map((s, i) => alloc(r, big, s, `block ${i}`));
        const pages = blocks.map((p) => big.usableSize(p) / P);
        for (const [i, p] of blocks.entries()) {
          big.free(p);
          const s = big.stats();
          check(s.cachedBytes <= budget, `${C} budget: ${s.cachedBytes} B cached after free #${i}, budget ${budget}`);
          check(inUse(r) === s.liveBytes + s.cachedBytes, `${C}: os-boundary holds ${inUse(r)} B, live + cached = ${s.liveBytes + s.cachedBytes} (free #${i})`);
          probeClean(r.regions, `free #${i}`);
          let cached = 0;
          blocks.slice(0, i + 1).forEach((b, k) => {
            if (pdOf(r.ctx, b, PD_REGION_STATE) === BigBlockState.CACHED) {
              checkCached(r, b, pages[k]!, `block ${k}`);
              cached += pages[k]! * P;
            } else {
              checkGone(r, b, pages[k]!, `block ${k}, evicted`);
            }
          });
          check(cached === s.cachedBytes, `${C} stats.cachedBytes ${s.cachedBytes}, the CACHED heads hold ${cached} B (free #${i})`);
        }
        checkGone(r, blocks[4]!, pages[4]!, 'a block above the budget');
        big.checkInvariants();
        const r0 = setup();
        const none = r0.cache({ budget: 0 });
        const p = alloc(r0, none, MiB, 'budget 0');
        none.free(p);
        checkGone(r0, p, 16, 'budget 0');
        check(none.stats().cachedBlocks === 0 && inUse(r0) === 0, `${C} budget 0 cached a block`);
      },
    },
    {
      name: `${C}: live-proportional limit — after every free the cached bytes are at most max(budgetFloor, liveShare × live bytes); a block within it is cached; a shrink in place lowers it too`,
      run() {
        const r = setup();
        const floor = 2 * MiB;
        const big = r.cache({ budgetFloor: floor, liveShare: 0.5 });
        const blocks = [MiB, 3 * MiB, MiB, 2 * MiB, 6 * MiB, MiB, 4 * MiB].map((s, i) => alloc(r, big, s, `block ${i}`));
        for (const i of [1, 0, 4, 2, 6, 3, 5]) {
          big.free(blocks[i]!);
          const s = big.stats();
          const limit = Math.max(floor, s.liveBytes / 2);
          check(s.cachedBytes <= limit, `${C} limit: ${s.cachedBytes} B cached after freeing block ${i}, live ${s.liveBytes} B: limit max(${floor}, ${s.liveBytes} / 2) = ${limit}`);
          check(inUse(r) === s.liveBytes + s.cachedBytes, `${C}: os-boundary holds ${inUse(r)} B, live + cached = ${s.liveBytes + s.cachedBytes} (block ${i})`);
          probeClean(r.regions, `free of block ${i}`);
        }
        check(big.stats().cachedBytes > 0, `${C} limit: nothing cached after every block was freed, the floor is ${floor} B`);
        big.checkInvariants();
        // Within the limit a freed block is cached.
        const r1 = setup();
        const keep = r1.cache({ budgetFloor: 4 * MiB, liveShare: 0 });
        const p = alloc(r1, keep, MiB, 'within the floor');
        const pages = keep.usableSize(p) / P;
        keep.free(p);
        checkCached(r1, p, pages, 'a block within the floor');
        // A shrink in place: the live bytes fall, and so does the limit.
        const r2 = setup();
        const shrink = r2.cache({ budgetFloor: 0, liveShare: 1 });
        const a = alloc(r2, shrink, MiB, 'a');
        const l = alloc(r2, shrink, 8 * MiB, 'l');
        shrink.free(a);
        check(shrink.stats().cachedBytes > 0, `${C} limit: a 1 MiB block beside 8 MiB live was not cached (liveShare 1)`);
        check(shrink.resizeInPlace(l, P), `${C} resizeInPlace(l, ${P}) refused a shrink`);
        const s = shrink.stats();
        check(s.cachedBytes <= s.liveBytes, `${C} limit: ${s.cachedBytes} B cached after a shrink in place to ${s.liveBytes} live B (liveShare 1, no floor)`);
        check(inUse(r2) === s.liveBytes + s.cachedBytes, `${C}: os-boundary holds ${inUse(r2)} B after the shrink, live + cached = ${s.liveBytes + s.cachedBytes}`);
        shrink.checkInvariants();
      },
    },
    {
      name: `${C}: resizeInPlace shrink — true, the tail pages go back (os-boundary's bytes drop, registry cleared), the head and its data stay`,
      run() {
        const r = setup();
        const big = r.cache();
        const p = alloc(r, big, 4 * MiB, '4 MiB');
        const old = big.usableSize(p);
        fillBytes(r.ctx, p, MiB + 1, 0x3c);
        const before = inUse(r);
        const ok = noThrow(`${C} resizeInPlace`, () => big.resizeInPlace(p, MiB + 1));
        check(ok, `${C} resizeInPlace(4 MiB → 1 MiB + 1): a shrink must succeed`);
        const usable = checkLive(r, big, p, MiB + 1, P, 'after the shrink');
        check(usable < old, `${C} resizeInPlace shrink: usableSize stayed ${usable}`);
        check(inUse(r) === before - (old - usable), `${C} resizeInPlace shrink: os-boundary holds ${inUse(r)} B, want ${before - (old - usable)} (the tail back)`);
        checkGone(r, p + usable, (old - usable) / P, 'the shrunk tail');
        check(firstByteNot(r.ctx, p, MiB + 1, 0x3c) < 0, `${C} resizeInPlace shrink: the kept bytes changed`);
        const s = big.stats();
        check(s.resizedInPlace === 1 && s.liveBytes === usable && s.liveBlocks === 1, `${C} stats after a shrink: ${JSON.stringify(s)}`);
        check(big.resizeInPlace(p, usable) && big.usableSize(p) === usable, `${C} resizeInPlace to its own usable size must succeed with nothing changed`);
        big.checkInvariants();
        big.free(p);
        big.checkInvariants();
      },
    },
    {
      name: `${C}: resizeInPlace grow — true when the pages after the block are free: usable grows, the block does not move, its data stays, the new pages are BIG`,
      run() {
        const r = setup();
        const big = r.cache();
        const p = alloc(r, big, MiB, '1 MiB at the end of the managed area');
        fillBytes(r.ctx, p, MiB, 0x77);
        const ok = noThrow(`${C} resizeInPlace`, () => big.resizeInPlace(p, 3 * MiB + 1));
        check(ok, `${C} resizeInPlace(1 MiB → 3 MiB + 1) with free pages after the block returned false`);
        const usable = checkLive(r, big, p, 3 * MiB + 1, P, 'after the grow');
        check(firstByteNot(r.ctx, p, MiB, 0x77) < 0, `${C} resizeInPlace grow: the block's bytes changed`);
        check(inUse(r) === usable, `${C} resizeInPlace grow: os-boundary holds ${inUse(r)} B, the block ${usable}`);
        const s = big.stats();
        check(s.resizedInPlace === 1 && s.liveBytes === usable, `${C} stats after a grow: ${JSON.stringify(s)}`);
        big.checkInvariants();
        big.free(p);
        check(alloc(r, big, 3 * MiB + 1, 'the grown block, cached') === p, `${C}: a grown block, freed, does not serve its new class`);
        big.checkInvariants();
      },
    },
    {
      name: `${C}: resizeInPlace grow — false with nothing changed when the next pages are not free, or the region source has no mapAt`,
      run() {
        const r = setup();
        const big = r.cache();
        const p = alloc(r, big, MiB, '1 MiB');
        const usable = big.usableSize(p);
        const blocker = p + usable;
        check(r.env.regions.mapAt(blocker, P), `${C}: the suite could not map the page after the block`);
        const osState = (e: MidEnv): string => { const o = e.regions.stats(); return [o.bytesInUse, o.maps, o.unmaps, o.bytesMapped, o.highWater].join(); };
        const snap = (): string => JSON.stringify([snapPages(r, p, usable / P + 2), big.stats(), osState(r.env)]);
        const before = snap();
        const ok = noThrow(`${C} resizeInPlace`, () => big.resizeInPlace(p, usable + 1));
        check(!ok, `${C} resizeInPlace: true although the page after the block is mapped`);
        check(snap() === before, `${C} resizeInPlace: "false with nothing changed": the block, the stats or os-boundary changed`);
        check(big.usableSize(p) === usable, `${C} resizeInPlace: usableSize changed on a refused grow`);
        r.env.regions.unmap(blocker, P);
        check(big.resizeInPlace(p, usable + 1), `${C} resizeInPlace: false once the page after the block is free again`);
        checkLive(r, big, p, usable + 1, P, 'grown after the blocker went');
        big.checkInvariants();
        const r2 = setup();
        const noMapAt = r2.cache({}, true);
        const q = alloc(r2, noMapAt, MiB, 'without mapAt');
        const b2 = JSON.stringify([snapPages(r2, q, 20), noMapAt.stats(), osState(r2.env)]);
        check(!noMapAt.resizeInPlace(q, 2 * MiB), `${C} resizeInPlace: true to grow over a region source without mapAt`);
        check(JSON.stringify([snapPages(r2, q, 20), noMapAt.stats(), osState(r2.env)]) === b2, `${C} resizeInPlace without mapAt changed something`);
        check(noMapAt.resizeInPlace(q, P), `${C} resizeInPlace: a shrink must work without mapAt`);
        noMapAt.checkInvariants();
      },
    },
    {
      name: `${C}: exhaustion — when map fails the cache is emptied and the map retried; then 0, never throwing, with live blocks and everything but misses unchanged`,
      run() {
        const r = setup({ maxBytes: 4 * MiB });
        const big = r.cache();
        const a = [0, 1, 2].map((i) => alloc(r, big, MiB, `1 MiB #${i}`));
        big.free(a[0]!);
        big.free(a[1]!);
        check(big.stats().cachedBlocks === 2, `${C}: two freed 1 MiB blocks are not cached within the default budget`);
        const b = noThrow(`${C} alloc`, () => big.alloc(2 * MiB));
        check(b !== 0, `${C} exhaustion: alloc(2 MiB) returned 0 while 2 MiB of cached blocks could have been given back (map retried after emptying the cache)`);
        checkLive(r, big, b, 2 * MiB, P, 'after the retry');
        check(big.stats().cachedBlocks === 0 && big.stats().cachedBytes === 0, `${C} exhaustion: the cache was not emptied before the retry (${JSON.stringify(big.stats())})`);
        probeClean(r.regions, 'retry');
        const live = [a[2]!, b];
        const snap = (): string => {
          const s = big.stats();
          return JSON.stringify([{ ...s, misses: 0 }, r.env.regions.stats().bytesInUse, live.map((p) => snapPages(r, p, big.usableSize(p) / P))]);
        };
        const before = snap();
        const misses = big.stats().misses;
        const z = noThrow(`${C} alloc`, () => big.alloc(MiB));
        check(z === 0, `${C} exhaustion: alloc(1 MiB) returned ${hex(z)} on a full heap`);
        check(snap() === before, `${C} exhaustion: "live blocks are untouched and nothing else changes but misses"`);
        check(big.stats().misses === misses + 1, `${C} stats.misses +${big.stats().misses - misses} for a failed alloc, want +1`);
        check(noThrow(`${C} alloc`, () => big.alloc(MiB, 4 * MiB)) === 0, `${C} exhaustion: an aligned alloc on a full heap did not return 0`);
        big.checkInvariants();
        big.free(b);
        check(alloc(r, big, MiB, 'after a free') !== 0, `${C} exhaustion: no recovery after a free`);
        big.checkInvariants();
      },
    },
    {
      name: `${C}: lastAllocZeroed — true for a block of fresh memory (and then it is zero), false for a block from the cache`,
      run() {
        const r = setup();
        const big = r.cache();
        const sound = (p: Ptr, when: string): void => {
          if (!big.lastAllocZeroed()) return;
          const at = firstByteNot(r.ctx, p, big.usableSize(p), 0);
          check(at < 0, `${C} lastAllocZeroed: true, but byte ${at} of ${hex(p)} is not zero (${when})`);
        };
        const p = alloc(r, big, 2 * MiB, 'fresh');
        check(big.lastAllocZeroed(), `${C} lastAllocZeroed: false for a block fresh from os-boundary growth`);
        sound(p, 'fresh');
        r.ctx.backend.views.u8[p + 2 * MiB - 1] = 9;
        big.free(p);
        const q = alloc(r, big, 2 * MiB, 'reused');
        check(q === p && !big.lastAllocZeroed(), `${C} lastAllocZeroed: true for a reused block`);
        fillBytes(r.ctx, q, 2 * MiB, 0xee);
        big.free(q);
        big.trim();
        for (const size of [MiB, 2 * MiB, 5 * MiB]) sound(alloc(r, big, size, `after trim, ${size}`), `after trim, ${size}`);
      },
    },
    {
      name: `${C}: trim unmaps every cached block and returns the bytes; live blocks stay`,
      run() {
        const r = setup();
        const big = r.cache();
        const live = alloc(r, big, 2 * MiB, 'live');
        const cached = [MiB, 3 * MiB, 6 * MiB + 1].map((s, i) => alloc(r, big, s, `cached #${i}`));
        const pages = cached.map((p) => big.usableSize(p) / P);
        for (const p of cached) big.free(p);
        const bytes = big.stats().cachedBytes;
        const before = inUse(r);
        const got = noThrow(`${C} trim`, () => big.trim());
        check(got === bytes && inUse(r) === before - bytes, `${C} trim returned ${got} and os-boundary fell by ${before - inUse(r)}; ${bytes} B were cached`);
        cached.forEach((p, i) => checkGone(r, p, pages[i]!, `trimmed #${i}`));
        checkLive(r, big, live, 2 * MiB, P, 'the live block after trim');
        const s = big.stats();
        check(s.cachedBlocks === 0 && s.cachedBytes === 0 && s.liveBlocks === 1, `${C} stats after trim: ${JSON.stringify(s)}`);
        check(big.trim() === 0, `${C} trim: a second trim returned bytes`);
        big.checkInvariants();
        probeClean(r.regions, 'trim');
      },
    },
    {
      name: `${C}: stats are exact — hits + misses = allocs, unmapped = regions.unmap calls, live / cached gauges = the blocks — through a random mix with resizes`,
      run() {
        const r = setup({ maxBytes: 128 * MiB });
        const big = r.cache({ budget: 8 * MiB });
        const live = new Map<Ptr, number>();
        let allocs = 0;
        let resized = 0;
        let x = 0x51ed270b;
        const rnd = (k: number): number => {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          return (x >>> 0) % k;
        };
        for (let step = 0; step < 500; step++) {
          const op = rnd(10);
          const when = `step ${step}`;
          if (op < 4 || live.size === 0) {
            if (live.size < 8) {
              const size = 1 + rnd(6 * MiB);
              const align = rnd(4) === 0 ? MiB : P;
              const p = alloc(r, big, size, when, align);
              check(!live.has(p), `${C} alloc returned the live block ${hex(p)} (${when})`);
              live.set(p, size);
              allocs++;
            }
          } else if (op < 7) {
            const p = [...live.keys()][rnd(live.size)]!;
            live.delete(p);
            big.free(p);
          } else if (op < 9) {
            const p = [...live.keys()][rnd(live.size)]!;
            const size = 1 + rnd(6 * MiB);
            if (big.resizeInPlace(p, size)) {
              resized++;
              live.set(p, size);
            }
            checkLive(r, big, p, live.get(p)!, P, `${when} resize`);
          } else {
            big.trim();
          }
          probeClean(r.regions, when);
          const s = big.stats();
          const liveBytes = [...live.keys()].reduce((k, p) => k + big.usableSize(p), 0);
          check(s.hits + s.misses === allocs, `${C} stats: hits ${s.hits} + misses ${s.misses} ≠ ${allocs} allocs (${when})`);
          check(s.liveBlocks === live.size && s.liveBytes === liveBytes, `${C} stats: liveBlocks ${s.liveBlocks} / liveBytes ${s.liveBytes}, the test holds ${live.size} / ${liveBytes} (${when})`);
          check(s.cachedBytes <= 8 * MiB, `${C} budget: ${s.cachedBytes} B cached (${when})`);
          check(inUse(r) === liveBytes + s.cachedBytes, `${C}: os-boundary holds ${inUse(r)} B, live + cached = ${liveBytes + s.cachedBytes} (${when})`);
          check(s.unmapped === r.regions.unmaps.length, `${C} stats.unmapped ${s.unmapped}, regions.unmap was called ${r.regions.unmaps.length} times (${when})`);
          check(s.resizedInPlace === resized, `${C} stats.resizedInPlace ${s.resizedInPlace}, ${resized} resizes succeeded (${when})`);
          check(s.misses >= r.regions.maps.length, `${C} stats.misses ${s.misses} < ${r.regions.maps.length} maps (${when})`);
          if (step % 50 === 0) big.checkInvariants();
        }
        big.checkInvariants();
      },
    },
    {
      name: `${C}: stats.mapped counts the successful regions.map calls`,
      run() {
        const r = setup();
        const big = r.cache();
        const p = alloc(r, big, MiB, 'fresh');
        alloc(r, big, 2 * MiB, 'fresh');
        big.free(p);
        alloc(r, big, MiB, 'reused');
        const q = alloc(r, big, MiB, 'fresh, at the end');
        check(big.resizeInPlace(q, 2 * MiB), `${C}: the suite could not grow a block at the end of the managed area`);
        check(big.stats().mapped === r.regions.maps.length, `${C} stats.mapped ${big.stats().mapped}, regions.map succeeded ${r.regions.maps.length} times (and mapAt ${r.regions.mapAts.length} times)`);
      },
    },
    {
      name: `${C}: checkInvariants passes on a consistent cache and changes nothing`,
      run() {
        const r = setup();
        const big = r.cache();
        const ps = [MiB, 2 * MiB, 5 * MiB].map((s) => alloc(r, big, s, `size ${s}`));
        big.free(ps[1]!);
        big.resizeInPlace(ps[2]!, MiB);
        big.checkInvariants();
        const snap = (): string => JSON.stringify([big.stats(), r.env.regions.stats(), ps.map((p) => snapPages(r, p, 4))]);
        const before = snap();
        big.checkInvariants();
        check(snap() === before, `${C} checkInvariants: "never changes state"`);
      },
    },
    {
      name: `${C}: checkInvariants throws E_CORRUPTION naming the box for a corrupted state word, length or registry entry`,
      run() {
        const corrupt = (what: string, damage: (r: BigEnv, live: Ptr, cached: Ptr) => void): void => {
          const r = setup();
          const big = r.cache();
          const live = alloc(r, big, 2 * MiB, what);
          const cached = alloc(r, big, MiB, what);
          big.free(cached);
          big.checkInvariants();
          damage(r, live, cached);
          expectCorruption(C, what, () => big.checkInvariants());
        };
        corrupt('a cached block whose state says LIVE', (r, _l, c) => setPdOf(r.ctx, c, PD_REGION_STATE, BigBlockState.LIVE));
        corrupt('a live block whose state is not a BigBlockState', (r, l) => setPdOf(r.ctx, l, PD_REGION_STATE, 7));
        corrupt('a live block whose state says CACHED (in no list)', (r, l) => setPdOf(r.ctx, l, PD_REGION_STATE, BigBlockState.CACHED));
        corrupt('a live block head with the wrong length', (r, l) => setPdOf(r.ctx, l, PD_REGION_PAGES, 31));
        corrupt('a cached block with the wrong length', (r, _l, c) => setPdOf(r.ctx, c, PD_REGION_PAGES, 17));
        corrupt('a continuation page with the wrong page index', (r, l) => setRegOf(r.ctx, l + 5 * P, regOf(r.ctx, l + 5 * P) ^ (1 << REG_AUX_SHIFT)));
        corrupt('a continuation page that is not BIG', (r, l) => setRegOf(r.ctx, l + 3 * P, PageKind.L25 | (3 << REG_AUX_SHIFT)));
      },
    },
    {
      name: `${C}: bad options throw E_INVALID_OPTION (budget or budgetFloor not a non-negative integer, liveShare not a number in 0..64)`,
      run() {
        const r = setup();
        for (const budget of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          expectHakmemError(() => r.cache({ budget }), ErrorCode.INVALID_OPTION, `${C} options (budget ${budget})`);
          expectHakmemError(() => r.cache({ budgetFloor: budget }), ErrorCode.INVALID_OPTION, `${C} options (budgetFloor ${budget})`);
        }
        for (const liveShare of [-1, 65, Number.NaN, Number.POSITIVE_INFINITY]) {
          expectHakmemError(() => r.cache({ liveShare }), ErrorCode.INVALID_OPTION, `${C} options (liveShare ${liveShare})`);
        }
        r.cache({ budget: 0 });
        r.cache({ budget: 1 << 30 });
        r.cache({ budgetFloor: 0, liveShare: 0 });
        r.cache({ budgetFloor: 1 << 30, liveShare: 64 });
        if (r.regions.maps.length !== 0) fail(`${C} options: creating caches mapped memory`);
      },
    },
    reclaimCase(C, reclaim),
  ];
}
