import {
  MAX_BATCH, PAGE_SIZE, PageKind, PD_BLOCK_SIZE, PD_CAPACITY, PD_CARVE, PD_FREE_HEAD, PD_REMOTE_HEAD, PD_USED,
  TR_TINY_REMOTE_HEAD, threadWord,
  type PageBox, type PageBoxOptions, type PageBoxStats, type Ptr, type SharedPool, type WarmPool,
} from '@hakmem/contracts';
import type { PageBoxFactory, SlabFixture, SlabFixtureFactory } from './fixture.js';
import {
  checkClean, checkStats, expectCorruption, hex, pd, reg, regClass, regKind, regThread, Rng, setPd, SlabProbe,
} from './slab-probes.js';
import { check, fail, type ConformanceCase } from './types.js';
import { reclaimCase, type ReclaimWorldFactory } from './reclaim.js';

/** What a page-box case works on. */
interface PageEnv {
  readonly f: SlabFixture;
  readonly pool: SharedPool;
  readonly warm: WarmPool;
  readonly slabs: SlabProbe;
  readonly pb: PageBox;
  readonly tid: number;
  /** Blocks the test holds (handed out, not freed) → class. */
  readonly live: Map<Ptr, number>;
  /** Blocks of a slab that someone else holds (a partly used slab from the slab source). */
  readonly foreign: Map<Ptr, number>;
}

interface PageSetup {
  readonly maxBytes?: number;
  readonly shared?: boolean;
  readonly tid?: number;
  readonly pooledClasses?: readonly number[];
  readonly pagesPerClass?: number;
}

const SENTINEL = -7;
const ZERO_STATS: PageBoxStats = { fromFreeList: 0, carved: 0, slabsAcquired: 0, slabsReleased: 0, freed: 0, remoteFreed: 0, remotePushes: 0, remoteDrained: 0 };

/**
 * Conformance suite of the `PageBox` contract (packages/contracts/src/boxes/page-box.ts:
 * `BlockSource` + `BlockSink` + `FlushableBox` of chain.ts, over a `SlabSource & SlabSink`).
 *
 * `make` has the signature of `BoxFactories.pageBox`; it is given a thread context, the
 * fixture's class sizes and, as `slabs`, the default warm pool (over the default shared
 * pool and tier) behind a probe that keeps the set of slabs the page box holds, checks
 * that only empty slabs go back, and can hand out partly used slabs. Every block handed
 * out is checked: inside a held slab of its class (registry), on a block boundary,
 * aligned, not live twice; every slab's `PD_USED` / `PD_CARVE` agree with the blocks the
 * test holds.
 */
export function pageBoxConformance(make: PageBoxFactory, fixture: SlabFixtureFactory, reclaim?: ReclaimWorldFactory): ConformanceCase[] {
  const setup = (o: PageSetup = {}): PageEnv => {
    const f = fixture({ ...(o.maxBytes === undefined ? {} : { maxBytes: o.maxBytes }), ...(o.shared === undefined ? {} : { shared: o.shared }) });
    const tid = o.tid ?? 1;
    return build(f, tid, o);
  };
  const build = (f: SlabFixture, tid: number, o: PageSetup = {}): PageEnv => {
    const tier = f.superslabTier(f.context(0, tid), { regions: f.regions });
    const pool = f.sharedPool(f.context(1, tid), { superSlabs: tier });
    const warm = f.warmPool(f.context(-1, tid), { classSizes: f.classSizes, lender: pool });
    const slabs = new SlabProbe(warm, f, tid);
    const options: PageBoxOptions = {
      classSizes: f.classSizes, slabs,
      ...(o.pooledClasses === undefined ? {} : { pooledClasses: o.pooledClasses }),
      ...(o.pagesPerClass === undefined ? {} : { pagesPerClass: o.pagesPerClass }),
    };
    return { f, pool, warm, slabs, pb: make(f.context(-1, tid), options), tid, live: new Map(), foreign: new Map() };
  };
  const size = (e: PageEnv, cls: number): number => e.f.classSizes[cls]!;
  /** The blocks of a list linked through their first words, from `head` (at most `max`). */
  const walk = (f: SlabFixture, head: Ptr, max: number): Ptr[] => {
    const out: Ptr[] = [];
    for (let b = head; b !== 0 && out.length <= max; b = f.backend.views.i32[b >>> 2]!) out.push(b);
    return out;
  };
  const slabOf = (b: Ptr): Ptr => b - (b % PAGE_SIZE);

  const checkBlock = (e: PageEnv, b: number, cls: number, when: string): void => {
    const sz = size(e, cls);
    check(Number.isInteger(b) && b > 0, `allocBatch wrote ${b}, not a block address (${when})`);
    const slab = slabOf(b);
    check(e.slabs.owned.has(slab), `block ${hex(b)} lies in page ${hex(slab)}, not in a slab the page box holds (acquired and not released) (${when})`);
    const r = reg(e.f, slab);
    check(regKind(r) === PageKind.TINY && regClass(r) === cls && regThread(r) === e.tid, `block ${hex(b)} of class ${cls}: its page's registry entry is ${hex(r)} (${when})`);
    check((b - slab) % sz === 0 && b - slab + sz <= PAGE_SIZE, `block ${hex(b)} is not a class-${cls} (${sz} B) block of its slab (${when})`);
    check(b % 8 === 0 && (sz < 16 || b % 16 === 0), `block ${hex(b)} of ${sz} B is misaligned (${when})`);
    check(!e.live.has(b), `block ${hex(b)} handed out while live (${when})`);
    const fo = e.foreign.get(slab) ?? 0;
    check((b - slab) / sz >= fo, `block ${hex(b)} is one of the blocks another owner holds in a partly used slab (${when})`);
  };
  /** allocBatch into a fresh `out` with sentinels around; checks bounds and every block. */
  const allocRaw = (e: PageEnv, cls: number, max: number, when: string, offset = 3): Ptr[] => {
    const out = new Int32Array(offset + max + 16).fill(SENTINEL);
    const n = e.pb.allocBatch(cls, out, offset, max);
    check(Number.isInteger(n) && n >= 0 && n <= max, `allocBatch(max ${max}) returned ${n} (BlockSource: 0 ≤ n ≤ max) (${when})`);
    for (let i = 0; i < out.length; i++) {
      if (i < offset || i >= offset + n) check(out[i] === SENTINEL, `allocBatch(offset ${offset}, max ${max}) returned ${n} but wrote out[${i}] (${when})`);
    }
    const blocks = Array.from(out.subarray(offset, offset + n));
    for (const b of blocks) {
      checkBlock(e, b, cls, when);
      e.live.set(b, cls);
    }
    checkClean(e.slabs, when);
    return blocks;
  };
  const alloc = (e: PageEnv, cls: number, max: number, when: string): Ptr[] => {
    const blocks = allocRaw(e, cls, max, when);
    check(blocks.length > 0, `allocBatch returned 0 with memory to spare (${when})`);
    return blocks;
  };
  /** Exactly `count` blocks, in as many calls as it takes. */
  const allocN = (e: PageEnv, cls: number, count: number, when: string): Ptr[] => {
    const all: Ptr[] = [];
    while (all.length < count) all.push(...alloc(e, cls, Math.min(MAX_BATCH, count - all.length), when));
    return all;
  };
  const free = (e: PageEnv, cls: number, blocks: readonly Ptr[], pb = e.pb): void => {
    for (let i = 0; i < blocks.length; i += MAX_BATCH) {
      const chunk = blocks.slice(i, i + MAX_BATCH);
      const arr = new Int32Array(chunk.length + 4).fill(SENTINEL);
      arr.set(chunk, 2);
      for (const b of chunk) e.live.delete(b);
      pb.freeBatch(cls, arr, 2, chunk.length);
    }
  };
  /** Every held slab's descriptor agrees with the blocks the test holds. */
  const checkSlabs = (e: PageEnv, when: string): void => {
    const perSlab = new Map<Ptr, number>();
    for (const b of e.live.keys()) perSlab.set(slabOf(b), (perSlab.get(slabOf(b)) ?? 0) + 1);
    for (const [slab, cls] of e.slabs.owned) {
      const sz = size(e, cls);
      const used = pd(e.f, slab, PD_USED);
      const carve = pd(e.f, slab, PD_CARVE);
      const want = (perSlab.get(slab) ?? 0) + (e.foreign.get(slab) ?? 0);
      check(used === want, `slab ${hex(slab)} (class ${cls}): PD_USED ${used}, but ${want} of its blocks are handed out (${when})`);
      check(pd(e.f, slab, PD_BLOCK_SIZE) === sz && pd(e.f, slab, PD_CAPACITY) === Math.floor(PAGE_SIZE / sz), `slab ${hex(slab)}: block size / capacity changed (${when})`);
      check(carve % sz === 0 && carve <= pd(e.f, slab, PD_CAPACITY) * sz && used <= carve / sz, `slab ${hex(slab)}: PD_CARVE ${carve} inconsistent with ${sz}-byte blocks and ${used} used (${when})`);
    }
    for (const b of e.live.keys()) check(b - slabOf(b) < pd(e.f, slabOf(b), PD_CARVE), `live block ${hex(b)} lies beyond its slab's carve offset (${when})`);
    const s = e.pb.stats();
    check(s.slabsAcquired === e.slabs.acquired.length, `stats().slabsAcquired ${s.slabsAcquired}, the slab source handed out ${e.slabs.acquired.length} (${when})`);
    check(s.slabsReleased === e.slabs.released.length, `stats().slabsReleased ${s.slabsReleased}, the slab source took back ${e.slabs.released.length} (${when})`);
  };
  const valid = (e: PageEnv, when: string): void => {
    e.pb.checkInvariants();
    e.warm.checkInvariants();
    checkClean(e.slabs, when);
    checkSlabs(e, when);
  };
  /** Free blocks of the slab as its descriptor says (carved − used). */
  const freeIn = (e: PageEnv, slab: Ptr): number => pd(e.f, slab, PD_CARVE) / pd(e.f, slab, PD_BLOCK_SIZE) - pd(e.f, slab, PD_USED);
  const uncarvedIn = (e: PageEnv, slab: Ptr): number => pd(e.f, slab, PD_CAPACITY) - pd(e.f, slab, PD_CARVE) / pd(e.f, slab, PD_BLOCK_SIZE);

  const cases: ConformanceCase[] = [
    {
      name: 'page-box: allocBatch hands out distinct, aligned blocks of the class, inside slabs assigned to it',
      run() {
        const e = setup({ tid: 9 });
        checkStats('page-box', e.pb.stats(), ZERO_STATS, 'fresh page box');
        const n = e.f.classSizes.length;
        for (const cls of [0, 1, 3, 9, 13, 17, 21, n - 1]) {
          let got = 0;
          for (let k = 0; k < 3; k++) got += alloc(e, cls, 64, `class ${cls} batch ${k}`).length;
          const slabs = e.slabs.acquired.filter(([, c]) => c === cls).length;
          const need = Math.ceil(got / Math.floor(PAGE_SIZE / size(e, cls)));
          check(slabs === need, `${got} blocks of class ${cls} took ${slabs} slabs, want ${need} (held slabs are used up before a new one)`);
        }
        valid(e, 'after batches');
      },
    },
    {
      name: 'page-box: batch bounds (Contract C) — 0 < n ≤ max for max 1, 7, MAX_BATCH, nothing written outside out[offset, offset + n)',
      run() {
        const e = setup();
        const top = e.f.classSizes.length - 1;
        for (const cls of [0, 8, top]) {
          for (const max of [1, 7, MAX_BATCH, MAX_BATCH, 1]) alloc(e, cls, max, `class ${cls}, max ${max}`);
        }
        const out = new Int32Array(MAX_BATCH).fill(SENTINEL); // offset 0, exactly max slots
        const n = e.pb.allocBatch(4, out, 0, MAX_BATCH);
        check(n > 0 && n <= MAX_BATCH && out.subarray(n).every((x) => x === SENTINEL), `allocBatch(offset 0, max ${MAX_BATCH}) into ${MAX_BATCH} slots returned ${n}`);
        for (const b of out.subarray(0, n)) {
          checkBlock(e, b, 4, 'offset 0');
          e.live.set(b, 4);
        }
        valid(e, 'after bounded batches');
      },
    },
    {
      name: 'page-box: refill order — the slab\'s free list, then carving, before another slab is acquired',
      run() {
        const e = setup();
        const cls = 9;
        const first = alloc(e, cls, 10, 'carve 10');
        checkStats('page-box', e.pb.stats(), { ...ZERO_STATS, carved: 10, slabsAcquired: 1 }, 'first batch');
        const back = [first[1]!, first[4]!, first[7]!, first[9]!];
        free(e, cls, back);
        checkStats('page-box', e.pb.stats(), { ...ZERO_STATS, carved: 10, slabsAcquired: 1, freed: 4 }, 'after freeBatch');
        const got = alloc(e, cls, 6, 'batch of 6');
        check(back.every((b) => got.includes(b)), `a batch of 6 after 4 frees did not hand the 4 freed blocks back first (got ${got.map(hex).join(' ')})`);
        check(got.length < 6 || got.filter((b) => !back.includes(b)).every((b) => !first.includes(b)), 'the rest of the batch was not freshly carved');
        checkStats('page-box', e.pb.stats(), { ...ZERO_STATS, carved: 10 + got.length - 4, fromFreeList: 4, slabsAcquired: 1, freed: 4 }, 'after the batch of 6');
        valid(e, 'refill order');
      },
    },
    {
      name: 'page-box: holds on to its slabs — the last uncarved block, and a freed block of a full slab, come before a new slab',
      run() {
        const e = setup();
        const cls = e.f.classSizes.length - 1;
        const cap = Math.floor(PAGE_SIZE / size(e, cls));
        const a = allocN(e, cls, cap - 1, 'all but one block of slab A');
        const slabA = slabOf(a[0]!);
        const got = alloc(e, cls, 5, 'batch across the slab end');
        check(got.some((b) => slabOf(b) === slabA), 'the last uncarved block of the held slab was skipped for a new slab');
        allocN(e, cls, 2 * cap - (cap - 1) - got.length, 'fill slab B');
        const acquired = e.slabs.acquired.length;
        const x = a[3]!;
        free(e, cls, [x]);
        const again = alloc(e, cls, 1, 'one block after a free into a full slab');
        check(again[0] === x && e.slabs.acquired.length === acquired, `after freeing ${hex(x)} of a full slab, allocBatch returned ${hex(again[0]!)} and acquired ${e.slabs.acquired.length - acquired} slabs`);
        valid(e, 'after reuse');
      },
    },
    {
      name: 'page-box: empty slabs — `pagesPerClass` are kept per pooled class (default 1), the rest go back at once; a class not pooled keeps none',
      run() {
        const cls = 24;
        const variants: Array<[PageSetup, number]> = [[{}, 1], [{ pagesPerClass: 0 }, 0], [{ pagesPerClass: 2 }, 2], [{ pooledClasses: [0, 5], pagesPerClass: 2 }, 0], [{ pooledClasses: [cls] }, 1]];
        for (const [o, keep] of variants) {
          const when = JSON.stringify(o);
          const e = setup(o);
          const cap = Math.floor(PAGE_SIZE / size(e, cls));
          const blocks = allocN(e, cls, 3 * cap, when);
          check(e.slabs.acquired.length === 3, `${3 * cap} blocks of class ${cls} took ${e.slabs.acquired.length} slabs (${when})`);
          free(e, cls, blocks);
          check(e.slabs.released.length === 3 - keep, `3 slabs emptied with ${when}: ${e.slabs.released.length} went back, want ${3 - keep}`);
          valid(e, `emptied, ${when}`);
          if (keep > 0) {
            allocN(e, cls, keep * cap, `reuse the kept slabs, ${when}`);
            check(e.slabs.acquired.length === 3, `the ${keep} kept empty slab(s) were not used before acquiring (${when})`);
          }
          valid(e, `end, ${when}`);
        }
      },
    },
    {
      name: 'page-box: flush — every empty slab goes back; slabs with live blocks stay and keep serving',
      run() {
        const e = setup({ pagesPerClass: 2 });
        const big = e.f.classSizes.length - 1;
        const cap = Math.floor(PAGE_SIZE / size(e, big));
        free(e, big, allocN(e, big, 2 * cap, 'two slabs'));
        const keep = alloc(e, 3, 20, 'a live slab');
        check(e.slabs.released.length < 1, 'a kept empty slab went back before flush');
        e.pb.flush();
        check(e.slabs.released.length === 2, `flush gave back ${e.slabs.released.length} slabs, want the 2 empty ones`);
        check(e.slabs.owned.has(slabOf(keep[0]!)), 'flush gave back a slab with live blocks');
        valid(e, 'after flush');
        const acquired = e.slabs.acquired.length;
        alloc(e, 3, 20, 'after flush');
        check(e.slabs.acquired.length === acquired, 'after flush the class with a live slab acquired a new one');
        valid(e, 'after flush and alloc');
      },
    },
    {
      name: 'page-box: memory freed in one class is reused by another, with no new memory from os-boundary',
      run() {
        const e = setup({ pagesPerClass: 0 });
        const big = e.f.classSizes.length - 1;
        const capBig = Math.floor(PAGE_SIZE / size(e, big));
        const first = allocN(e, big, 16 * capBig, 'phase 1');
        const pages = new Set(first.map(slabOf));
        const highWater = e.f.regions.stats().highWater;
        free(e, big, first);
        check(e.slabs.owned.size === 0, 'slabs emptied with pagesPerClass 0 were kept');
        const small = 4;
        const capSmall = Math.floor(PAGE_SIZE / size(e, small));
        const second = allocN(e, small, 16 * capSmall, 'phase 2');
        check(e.f.regions.stats().highWater === highWater, `phase 2 grew the footprint from ${highWater} to ${e.f.regions.stats().highWater}`);
        const pages2 = new Set(second.map(slabOf));
        check([...pages2].every((p) => pages.has(p)), 'class 4 did not reuse the pages class 24 gave back');
        valid(e, 'phase 2');
      },
    },
    {
      name: 'page-box: stats — counters exact, free list before carving, held slabs before a new one (seeded random alloc / free run)',
      run() {
        const e = setup();
        const rng = new Rng(0x00c0_ffee);
        const classes = [0, 4, 13, 24];
        let handed = 0;
        let freed = 0;
        for (let step = 0; step < 500; step++) {
          const when = `step ${step}`;
          const cls = rng.pick(classes);
          const mine = [...e.live].filter(([, c]) => c === cls).map(([b]) => b);
          if (rng.int(100) < 55 && e.live.size < 6000) {
            const max = rng.pick([1, 7, 32, 100, MAX_BATCH]);
            const before = new Map<Ptr, [number, number]>();
            let available = 0;
            for (const [s, c] of e.slabs.owned) {
              if (c !== cls) continue;
              before.set(s, [freeIn(e, s), pd(e.f, s, PD_CARVE)]);
              available += freeIn(e, s) + uncarvedIn(e, s);
            }
            const acquired = e.slabs.acquired.length;
            const got = alloc(e, cls, max, when);
            handed += got.length;
            const fromOld = got.filter((b) => before.has(slabOf(b)));
            if (e.slabs.acquired.length > acquired) {
              check(available < max && fromOld.length === available, `allocBatch(max ${max}) acquired a slab while its held slabs of class ${cls} had ${available} blocks and it took ${fromOld.length} of them (${when})`);
            }
            for (const [s, [fr, carve]] of before) {
              const taken = got.filter((b) => slabOf(b) === s);
              const fresh = taken.filter((b) => b - s >= carve).length;
              check(fresh === 0 || taken.length - fresh === fr, `slab ${hex(s)}: carved ${fresh} fresh blocks but took ${taken.length - fresh} of its ${fr} free ones (free list first) (${when})`);
            }
          } else if (mine.length > 0) {
            const k = 1 + rng.int(Math.min(mine.length, 300));
            const pick: Ptr[] = [];
            for (let i = 0; i < k; i++) pick.push(mine.splice(rng.int(mine.length), 1)[0]!);
            free(e, cls, pick);
            freed += pick.length;
          }
          const s = e.pb.stats();
          check(s.fromFreeList + s.carved === handed, `fromFreeList ${s.fromFreeList} + carved ${s.carved} ≠ ${handed} blocks handed out (${when})`);
          check(s.freed === freed, `freed ${s.freed}, want ${freed} (${when})`);
          check(s.remoteFreed === 0 && s.remoteDrained === 0, `remote counters ${s.remoteFreed}/${s.remoteDrained} with one thread (${when})`);
          checkClean(e.slabs, when);
          checkSlabs(e, when);
          if (step % 25 === 0) valid(e, when);
        }
        for (const cls of classes) free(e, cls, [...e.live].filter(([, c]) => c === cls).map(([b]) => b));
        e.pb.flush();
        check(e.slabs.owned.size === 0, `with every block freed and flushed the page box still holds ${e.slabs.owned.size} slabs`);
        valid(e, 'end');
        const s = e.pb.stats();
        check(s.fromFreeList > 0 && s.carved > 0 && s.slabsReleased > 0, `model run did not reach every path (${JSON.stringify(s)})`);
      },
    },
    {
      name: 'page-box: free list format — free blocks are linked through their first word from PD_FREE_HEAD (what heap.validate() walks)',
      run() {
        const e = setup();
        const cls = 6;
        const blocks = alloc(e, cls, 50, 'batch');
        const slab = slabOf(blocks[0]!);
        const back = blocks.filter((_, i) => i % 3 === 0 && slabOf(blocks[i]!) === slab);
        free(e, cls, back);
        const i32 = e.f.backend.views.i32;
        const seen = new Set<Ptr>();
        for (let p = pd(e.f, slab, PD_FREE_HEAD); p !== 0; p = i32[p >>> 2]!) {
          if (!back.includes(p) || seen.has(p)) fail(`the free list of slab ${hex(slab)} reaches ${hex(p)}, not one of the ${back.length} freed blocks (or a cycle)`);
          seen.add(p);
        }
        check(seen.size === back.length, `the free list of slab ${hex(slab)} holds ${seen.size} blocks, ${back.length} were freed`);
        check(pd(e.f, slab, PD_REMOTE_HEAD) === 0, 'a local free touched PD_REMOTE_HEAD');
      },
    },
    {
      name: 'page-box: checkInvariants — detects a used count that disagrees with the free list, and a free-list head off the block grid',
      run() {
        const e = setup();
        const cls = 9;
        const blocks = alloc(e, cls, 20, 'batch');
        free(e, cls, blocks.slice(0, 5));
        const slab = slabOf(blocks[0]!);
        e.pb.checkInvariants();
        const used = pd(e.f, slab, PD_USED);
        setPd(e.f, slab, PD_USED, used + 1);
        const before = e.pb.stats();
        expectCorruption('page-box', `slab ${hex(slab)} with PD_USED one too high`, () => e.pb.checkInvariants());
        checkStats('page-box', e.pb.stats(), before, 'checkInvariants changed the counters');
        check(pd(e.f, slab, PD_USED) === used + 1, 'checkInvariants changed the corrupted descriptor');
        setPd(e.f, slab, PD_USED, used);
        e.pb.checkInvariants();
        const head = pd(e.f, slab, PD_FREE_HEAD);
        setPd(e.f, slab, PD_FREE_HEAD, slab + 4);
        expectCorruption('page-box', `slab ${hex(slab)} whose free list starts inside a block`, () => e.pb.checkInvariants());
        setPd(e.f, slab, PD_FREE_HEAD, head);
        valid(e, 'restored');
      },
    },
    {
      name: 'page-box: checkInvariants — also walks full slabs (in no queue): detects a full slab whose used count or free list is corrupt',
      run() {
        const e = setup();
        const cls = e.f.classSizes.length - 1;
        const cap = Math.floor(PAGE_SIZE / size(e, cls));
        const blocks = allocN(e, cls, cap, 'one full slab');
        const slab = slabOf(blocks[0]!);
        check(blocks.every((b) => slabOf(b) === slab) && pd(e.f, slab, PD_USED) === cap, `${cap} blocks of class ${cls} did not fill one slab`);
        alloc(e, cls, 3, 'a second, open slab');
        e.pb.checkInvariants();
        setPd(e.f, slab, PD_USED, cap - 1);
        expectCorruption('page-box', `full slab ${hex(slab)} with PD_USED one too low`, () => e.pb.checkInvariants());
        check(pd(e.f, slab, PD_USED) === cap - 1, 'checkInvariants changed the corrupted descriptor');
        setPd(e.f, slab, PD_USED, cap);
        e.pb.checkInvariants();
        setPd(e.f, slab, PD_FREE_HEAD, slab + 4);
        expectCorruption('page-box', `full slab ${hex(slab)} with a free-list head inside a block`, () => e.pb.checkInvariants());
        setPd(e.f, slab, PD_FREE_HEAD, 0);
        valid(e, 'restored');
      },
    },
    {
      name: 'page-box: exhaustion — allocBatch returns what is left, then 0, with state intact; freed blocks are handed out again, an emptied slab serves another class',
      run() {
        const e = setup({ maxBytes: 4 << 20, pagesPerClass: 0 });
        const cls = e.f.classSizes.length - 1;
        const cap = Math.floor(PAGE_SIZE / size(e, cls));
        let total = 0;
        for (let i = 0; i < 1000; i++) {
          const got = allocRaw(e, cls, MAX_BATCH, `batch ${i}`);
          if (got.length === 0) break;
          total += got.length;
        }
        check(total > 0 && total % cap === 0 && total === e.slabs.acquired.length * cap, `at exhaustion ${total} blocks from ${e.slabs.acquired.length} slabs of ${cap}: every slab held should be used up first`);
        const before = e.pb.stats();
        check(allocRaw(e, cls, MAX_BATCH, 'again').length === 0 && allocRaw(e, 0, 1, 'another class').length === 0, 'allocBatch at exhaustion did not return 0');
        checkStats('page-box', e.pb.stats(), before, 'a failed allocBatch changed the counters');
        valid(e, 'at exhaustion');
        const live = [...e.live.keys()];
        const back = live.filter((_, i) => i % 37 === 1);
        free(e, cls, back);
        const again: Ptr[] = [];
        for (let i = 0; i < 100; i++) {
          const got = allocRaw(e, cls, MAX_BATCH, `refill ${i}`);
          if (got.length === 0) break;
          again.push(...got);
        }
        check(again.length === back.length && back.every((b) => again.includes(b)), `after freeing ${back.length} blocks at exhaustion, ${again.length} came back`);
        const slab = slabOf(live[0]!);
        free(e, cls, [...e.live.keys()].filter((b) => slabOf(b) === slab));
        check(e.slabs.released.includes(slab), 'a slab emptied at exhaustion (pagesPerClass 0) did not go back');
        const small = alloc(e, 0, MAX_BATCH, 'class 0 at exhaustion');
        check(small.every((b) => slabOf(b) === slab), 'class 0 did not get the page class 24 gave back');
        valid(e, 'after recovery');
      },
    },
    {
      name: 'page-box: a partly used slab from the slab source (SlabSource: "the slab may be partly used") is served correctly',
      run() {
        const e = setup();
        const cls = 13;
        const sz = size(e, cls);
        e.slabs.onAcquire = (slab) => {
          // Five blocks carved and held elsewhere (e.g. a slab adopted from another thread).
          setPd(e.f, slab, PD_CARVE, 5 * sz);
          setPd(e.f, slab, PD_USED, 5);
          e.foreign.set(slab, 5);
        };
        const blocks = allocN(e, cls, 200, 'across two partly used slabs');
        valid(e, 'partly used slabs');
        free(e, cls, blocks);
        check(e.slabs.released.length === 0, 'a slab still holding 5 blocks of another owner went back');
        valid(e, 'after freeing ours');
      },
    },
    {
      name: 'page-box: remote free — blocks freed by a thread that does not own their slab go, one chain per owner, onto the owner\'s remote-free list (TR_TINY_REMOTE_HEAD) and are drained by the owner',
      run() {
        const f = fixture();
        const t1 = build(f, 1);
        const t2 = build(f, 2);
        const cls = 5;
        const blocks = alloc(t1, cls, 10, 'thread 1');
        const mine = alloc(t2, cls, 2, 'thread 2');
        const gone = [blocks[4]!, blocks[7]!];
        const slab = slabOf(gone[0]!);
        const used = pd(f, slab, PD_USED);
        for (const b of gone) t1.live.delete(b);
        for (const b of mine) t2.live.delete(b);
        const arr = Int32Array.of(gone[0]!, mine[0]!, gone[1]!, mine[1]!);
        t2.pb.freeBatch(cls, arr, 0, 4);
        const s2 = t2.pb.stats();
        check(s2.remoteFreed === 2 && s2.remotePushes === 1, `thread 2 freeing two of thread 1's blocks in one batch: remoteFreed ${s2.remoteFreed}, remotePushes ${s2.remotePushes}, want 2 and 1 (one chain)`);
        const list = walk(f, f.backend.views.i32[threadWord(1, TR_TINY_REMOTE_HEAD)]!, 10);
        check(list.length === 2 && list.includes(gone[0]!) && list.includes(gone[1]!), `thread 1's remote list holds ${list.map(hex).join(', ')}, want ${gone.map(hex).join(', ')}`);
        check(f.backend.views.i32[threadWord(2, TR_TINY_REMOTE_HEAD)] === 0, 'thread 2 freeing its own blocks used its remote list');
        check(pd(f, slab, PD_USED) === used, 'a remote free changed the owner\'s PD_USED (owner thread only)');
        check(pd(f, slab, PD_REMOTE_HEAD) === 0, 'a remote free wrote the slab\'s descriptor (owner thread only)');
        t2.pb.checkInvariants();
        const got = alloc(t1, cls, 2, 'thread 1 refill');
        check(gone.every((b) => got.includes(b)) && t1.pb.stats().remoteDrained === 2, `the owner's refill did not drain the remote frees first (got ${got.map(hex).join(', ')}, remoteDrained ${t1.pb.stats().remoteDrained})`);
        check(f.backend.views.i32[threadWord(1, TR_TINY_REMOTE_HEAD)] === 0, 'the remote-free list was not emptied by the drain');
        valid(t1, 'after drain');
        valid(t2, 'after drain');
      },
    },
    {
      name: 'page-box: holds(p) — true exactly for the blocks free on their slab\'s free list or on a thread\'s remote-free list (the heap\'s exact double-free check), as any thread\'s instance sees them',
      run() {
        const f = fixture();
        const t1 = build(f, 1);
        const t2 = build(f, 2);
        const cls = 5;
        const blocks = alloc(t1, cls, 12, 'thread 1');
        for (const b of blocks) check(!t1.pb.holds(b) && !t2.pb.holds(b), `holds(${hex(b)}): true for a block handed out and not freed`);
        const local = [blocks[1]!, blocks[2]!, blocks[9]!];
        free(t1, cls, local);
        const remote = [blocks[4]!, blocks[7]!];
        for (const b of remote) t1.live.delete(b);
        t2.pb.freeBatch(cls, Int32Array.from(remote), 0, remote.length);
        for (const b of [...local, ...remote]) {
          check(t1.pb.holds(b), `holds(${hex(b)}): false for a block on ${local.includes(b) ? 'its slab\'s free list' : 'thread 1\'s remote-free list'}`);
          check(t2.pb.holds(b), `holds(${hex(b)}) asked of another thread's instance: false for a free block`);
        }
        for (const b of blocks) if (!local.includes(b) && !remote.includes(b)) check(!t1.pb.holds(b), `holds(${hex(b)}): true for a live block beside free ones`);
        const got = allocN(t1, cls, 5, 'thread 1 takes the free blocks back');
        for (const b of got) check(!t1.pb.holds(b), `holds(${hex(b)}): still true after allocBatch handed it out again`);
        free(t1, cls, [...t1.live.keys()]);
        valid(t1, 'after holds');
        valid(t2, 'after holds');
      },
    },
    {
      name: 'page-box: adopt — a fresh instance for the same thread id rebuilds the queues of the slabs the thread owns and drains its remote list',
      run() {
        const f = fixture();
        const t1 = build(f, 1);
        const t2 = build(f, 2);
        const cls = 9;
        const blocks = alloc(t1, cls, 300, 'thread 1');
        const gone = blocks.slice(0, 50);
        for (const b of gone) t1.live.delete(b);
        t2.pb.freeBatch(cls, Int32Array.from(gone), 0, gone.length);
        const again = build(f, 1);
        for (const [slab, c] of t1.slabs.owned) again.slabs.owned.set(slab, c);
        for (const [b, c] of t1.live) again.live.set(b, c);
        again.pb.adopt();
        valid(again, 'after adopt');
        check(again.pb.stats().remoteDrained === 50, `adopt drained ${again.pb.stats().remoteDrained} remote frees, want 50`);
        const more = alloc(again, cls, 60, 'the adopter');
        check(gone.every((b) => more.includes(b)), 'the adopter did not reuse the blocks freed remotely');
        valid(again, 'after the adopter allocates');
      },
    },
    {
      name: 'page-box: shared memory — batches, frees, spares and flush with BoxContext.shared',
      run() {
        const e = setup({ shared: true });
        for (const cls of [0, 12, 24]) {
          const blocks = allocN(e, cls, 700, `class ${cls}`);
          free(e, cls, blocks.filter((_, i) => i % 2 === 0));
        }
        valid(e, 'shared');
        for (const cls of [0, 12, 24]) free(e, cls, [...e.live].filter(([, c]) => c === cls).map(([x]) => x));
        e.pb.flush();
        check(e.slabs.owned.size === 0, 'shared: flush kept empty slabs');
        valid(e, 'shared flush');
      },
    },
    reclaimCase('page-box', reclaim),
  ];
  return cases;
}
