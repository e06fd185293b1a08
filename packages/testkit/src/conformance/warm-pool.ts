import {
  PAGE_SIZE, PageKind, PD_BLOCK_SIZE, PD_CAPACITY, PD_CARVE, PD_FREE_HEAD, PD_REGION_MASK, PD_REGION_OWNER,
  PD_REGION_STATE, PD_REMOTE_HEAD, PD_SLAB_NEXT, PD_SLAB_PREV, PD_USED, SUPERSLAB_ALL_FREE, SUPERSLAB_SLABS,
  SuperSlabState,
  type Ptr, type SharedPool, type SuperSlabTier, type WarmPool, type WarmPoolStats,
} from '@hakmem/contracts';
import type { SlabFixture, SlabFixtureFactory, WarmPoolFactory } from './fixture.js';
import {
  checkClean, checkStats, expectCorruption, hex, LenderProbe, pd, reg, regAux, regClass, regKind, regThread, Rng, setPd,
  slabIndexOf, superSlabOf,
} from './slab-probes.js';
import { check, type ConformanceCase } from './types.js';
import { reclaimCase, type ReclaimWorldFactory } from './reclaim.js';

/** What a warm-pool case works on. */
interface WarmEnv {
  readonly f: SlabFixture;
  readonly tier: SuperSlabTier;
  readonly pool: SharedPool;
  readonly lender: LenderProbe;
  readonly warm: WarmPool;
  readonly tid: number;
  /** Slabs the test holds (acquired, not released), with their class. */
  readonly slabs: Map<Ptr, number>;
}

interface WarmSetup {
  readonly capacity?: number;
  readonly maxBytes?: number;
  readonly shared?: boolean;
  readonly tid?: number;
}

const ZERO_STATS: WarmPoolStats = { hits: 0, misses: 0, prefilled: 0, returned: 0, held: 0, slabsAssigned: 0, slabsReleased: 0 };

/**
 * Conformance suite of the `WarmPool` contract (packages/contracts/src/boxes/warm-pool.ts:
 * `SlabSource` + `SlabSink` + `FlushableBox`, over a `SuperSlabLender`).
 *
 * `make` has the signature of `BoxFactories.warmPool`; it is given a thread context
 * without a state slot, the fixture's class sizes, and as `lender` the default shared
 * pool (slot 1, over the default tier in slot 0) behind a probe that records every
 * borrow, give-back and forwarded slab. Every slab handed out is checked against
 * layout.ts: its descriptor initialised for the class, its registry entry
 * `TINY | class | thread | slab index`, its bit cleared in a SuperSlab this thread owns.
 */
export function warmPoolConformance(make: WarmPoolFactory, fixture: SlabFixtureFactory, reclaim?: ReclaimWorldFactory): ConformanceCase[] {
  const setup = (o: WarmSetup = {}): WarmEnv => {
    const f = fixture({ ...(o.maxBytes === undefined ? {} : { maxBytes: o.maxBytes }), ...(o.shared === undefined ? {} : { shared: o.shared }) });
    const tid = o.tid ?? 1;
    const tier = f.superslabTier(f.context(0, tid), { regions: f.regions });
    const pool = f.sharedPool(f.context(1, tid), { superSlabs: tier });
    const lender = new LenderProbe(pool, f);
    const warm = make(f.context(-1, tid), { classSizes: f.classSizes, lender, ...(o.capacity === undefined ? {} : { capacity: o.capacity }) });
    return { f, tier, pool, lender, warm, tid, slabs: new Map() };
  };
  const numClasses = (e: WarmEnv): number => e.f.classSizes.length;

  /** Checks a freshly assigned slab against layout.ts. */
  const checkSlab = (e: WarmEnv, slab: Ptr, cls: number, when: string): void => {
    const size = e.f.classSizes[cls]!;
    const base = superSlabOf(slab);
    const idx = slabIndexOf(slab);
    check(slab % PAGE_SIZE === 0, `acquireSlab returned ${hex(slab)}, not a slab address (${when})`);
    check(!e.slabs.has(slab), `slab ${hex(slab)} handed out twice (${when})`);
    check(e.lender.holding.has(base), `slab ${hex(slab)} lies in SuperSlab ${hex(base)}, which this thread did not borrow (${when})`);
    check(pd(e.f, base, PD_REGION_OWNER) === e.tid, `slab ${hex(slab)}: its SuperSlab has owner ${pd(e.f, base, PD_REGION_OWNER)}, want ${e.tid} (${when})`);
    check(pd(e.f, base, PD_REGION_STATE) === SuperSlabState.HOT, `slab ${hex(slab)}: its SuperSlab is not HOT (${when})`);
    check((pd(e.f, base, PD_REGION_MASK) & (1 << idx)) === 0, `slab ${hex(slab)} is still marked free in its SuperSlab's PD_REGION_MASK (${when})`);
    const want: Array<[string, number, number]> = [
      ['PD_FREE_HEAD', PD_FREE_HEAD, 0], ['PD_CARVE', PD_CARVE, 0], ['PD_USED', PD_USED, 0],
      ['PD_CAPACITY', PD_CAPACITY, Math.floor(PAGE_SIZE / size)], ['PD_BLOCK_SIZE', PD_BLOCK_SIZE, size],
      ['PD_REMOTE_HEAD', PD_REMOTE_HEAD, 0], ['PD_SLAB_NEXT', PD_SLAB_NEXT, 0], ['PD_SLAB_PREV', PD_SLAB_PREV, 0],
    ];
    for (const [name, w, v] of want) check(pd(e.f, slab, w) === v, `slab ${hex(slab)} of class ${cls}: ${name} is ${pd(e.f, slab, w)}, want ${v} (${when})`);
    const r = reg(e.f, slab);
    check(regKind(r) === PageKind.TINY && regClass(r) === cls && regThread(r) === e.tid && regAux(r) === idx,
      `slab ${hex(slab)}: registry entry ${hex(r)}, want TINY | class ${cls} | thread ${e.tid} | slab index ${idx} (${when})`);
  };
  const acquire = (e: WarmEnv, cls: number, when: string): Ptr => {
    const s = e.warm.acquireSlab(cls, e.tid);
    check(s !== 0, `acquireSlab(${cls}) returned 0 with memory to spare (${when})`);
    checkSlab(e, s, cls, when);
    e.slabs.set(s, cls);
    return s;
  };
  const release = (e: WarmEnv, slab: Ptr): void => {
    e.slabs.delete(slab);
    e.warm.releaseSlab(slab);
  };
  const stats = (e: WarmEnv, want: Partial<WarmPoolStats>, when: string): void => {
    checkStats('warm-pool', e.warm.stats(), { ...e.warm.stats(), ...want }, when);
  };
  const valid = (e: WarmEnv, when: string): void => {
    e.warm.checkInvariants();
    e.pool.checkInvariants();
    checkClean(e.lender, when);
    const s = e.warm.stats();
    check(s.held === e.lender.holding.size, `warm-pool stats().held is ${s.held}, but it holds ${e.lender.holding.size} SuperSlabs borrowed and not given back (${when})`);
    check(s.returned === e.lender.returned.length, `warm-pool stats().returned is ${s.returned}, the lender saw ${e.lender.returned.length} give-backs (${when})`);
    check(s.prefilled === e.lender.borrowed.length, `warm-pool stats().prefilled is ${s.prefilled}, the lender lent ${e.lender.borrowed.length} (${when})`);
    for (const b of e.lender.holding) check(pd(e.f, b, PD_REGION_OWNER) === e.tid, `held SuperSlab ${hex(b)} has owner ${pd(e.f, b, PD_REGION_OWNER)} (${when})`);
    for (const [slab, cls] of e.slabs) {
      const r = reg(e.f, slab);
      check(regKind(r) === PageKind.TINY && regClass(r) === cls, `slab ${hex(slab)} of class ${cls} lost its registry entry (${hex(r)}) (${when})`);
      check((pd(e.f, superSlabOf(slab), PD_REGION_MASK) & (1 << slabIndexOf(slab))) === 0, `slab ${hex(slab)} in use is marked free (${when})`);
    }
  };
  const checkReleased = (e: WarmEnv, slab: Ptr, when: string): void => {
    check(regKind(reg(e.f, slab)) !== PageKind.TINY, `a released slab keeps its TINY registry entry ${hex(reg(e.f, slab))} (${when})`);
    const base = superSlabOf(slab);
    check(pd(e.f, base, PD_REGION_STATE) === SuperSlabState.FREE || (pd(e.f, base, PD_REGION_MASK) & (1 << slabIndexOf(slab))) !== 0, `a released slab is not marked free in its SuperSlab (${when})`);
  };

  const cases: ConformanceCase[] = [
    {
      name: 'warm-pool: acquireSlab assigns a free slab — descriptor initialised for the class, registry TINY | class | thread | index, bit cleared in an owned SuperSlab',
      run() {
        const e = setup({ tid: 7 });
        checkStats('warm-pool', e.warm.stats(), ZERO_STATS, 'fresh warm pool');
        for (let cls = 0; cls < numClasses(e); cls++) acquire(e, cls, `class ${cls}`);
        for (let cls = numClasses(e) - 1; cls >= 0; cls -= 3) acquire(e, cls, `class ${cls} again`);
        stats(e, { slabsAssigned: e.slabs.size }, 'after acquires');
        valid(e, 'after acquires');
      },
    },
    {
      name: 'warm-pool: hits and misses — one borrow per SuperSlab, all its slabs used (for any class) before the next borrow',
      run() {
        const e = setup();
        const first = acquire(e, 0, 'first');
        stats(e, { misses: 1, prefilled: 1, hits: 0, held: 1, slabsAssigned: 1 }, 'first acquire');
        check(e.lender.borrowed.length === 1 && e.lender.borrowed[0]![1] === e.tid, 'the first acquire did not borrow one SuperSlab for this thread');
        for (let i = 1; i < SUPERSLAB_SLABS; i++) {
          const s = acquire(e, i % numClasses(e), `slab ${i}`);
          check(superSlabOf(s) === superSlabOf(first), `slab ${i} (class ${i}) came from another SuperSlab while the held one had free slabs`);
        }
        stats(e, { misses: 1, prefilled: 1, hits: SUPERSLAB_SLABS - 1, held: 1, slabsAssigned: SUPERSLAB_SLABS }, 'one SuperSlab used up');
        const next = acquire(e, 3, 'slab 17');
        check(superSlabOf(next) !== superSlabOf(first), 'slab 17 came from a full SuperSlab');
        stats(e, { misses: 2, prefilled: 2, hits: SUPERSLAB_SLABS - 1, held: 2 }, 'second borrow');
        valid(e, 'after 17 acquires');
      },
    },
    {
      name: 'warm-pool: capacity bound (Contract C) — never more than `capacity` SuperSlabs; a full pool gives one back before borrowing',
      run() {
        const e = setup({ capacity: 2 });
        for (let i = 0; i < 5 * SUPERSLAB_SLABS; i++) {
          acquire(e, i % numClasses(e), `slab ${i}`);
          check(e.warm.stats().held <= 2 && e.lender.holding.size <= 2, `with capacity 2 the warm pool holds ${e.lender.holding.size} SuperSlabs (slab ${i})`);
        }
        stats(e, { held: 2, returned: 3, prefilled: 5, misses: 5 }, 'after 5 SuperSlabs');
        for (const [b] of e.lender.returned) check(pd(e.f, b, PD_REGION_OWNER) !== e.tid, `SuperSlab ${hex(b)} given back is still owned by this thread`);
        valid(e, 'capacity 2');
      },
    },
    {
      name: 'warm-pool: capacity bound — the default capacity is 16',
      run() {
        const e = setup();
        for (let i = 0; i < 17 * SUPERSLAB_SLABS; i++) {
          acquire(e, i % numClasses(e), `slab ${i}`);
          check(e.lender.holding.size <= 16, `the default warm pool holds ${e.lender.holding.size} SuperSlabs (slab ${i})`);
        }
        stats(e, { held: 16, prefilled: 17, returned: 1 }, 'after 17 SuperSlabs');
        valid(e, 'default capacity');
      },
    },
    {
      name: 'warm-pool: reuse by another class — a released slab is free for any class, handed out again before a borrow, descriptor re-initialised',
      run() {
        const e = setup();
        const slabs = [];
        for (let i = 0; i < SUPERSLAB_SLABS; i++) slabs.push(acquire(e, i, `slab ${i}`));
        const victim = slabs[6]!;
        // What the page box leaves in a slab it gives back: carved, free list, remote list, links.
        setPd(e.f, victim, PD_FREE_HEAD, victim + 96);
        setPd(e.f, victim, PD_CARVE, 96 * 100);
        setPd(e.f, victim, PD_REMOTE_HEAD, victim + 192);
        setPd(e.f, victim, PD_SLAB_NEXT, slabs[2]!);
        setPd(e.f, victim, PD_SLAB_PREV, slabs[3]!);
        release(e, victim);
        checkReleased(e, victim, 'after releaseSlab');
        stats(e, { slabsReleased: 1 }, 'after releaseSlab');
        valid(e, 'after releaseSlab');
        const borrows = e.lender.borrowed.length;
        const again = acquire(e, 20, 'class 20');
        check(again === victim, `class 20 got ${hex(again)}, not the slab class 6 released (the only free slab held)`);
        check(e.lender.borrowed.length === borrows, 'a borrow happened while a held SuperSlab had a free slab');
        stats(e, { hits: SUPERSLAB_SLABS, misses: 1 }, 'reuse');
        valid(e, 'after reuse');
      },
    },
    {
      name: 'warm-pool: entirely free SuperSlabs beyond the first few go back to the shared pool, entirely free',
      run() {
        const e = setup();
        for (let i = 0; i < 4 * SUPERSLAB_SLABS; i++) acquire(e, i % numClasses(e), `slab ${i}`);
        for (const s of [...e.slabs.keys()]) {
          release(e, s);
          checkReleased(e, s, 'release');
        }
        check(e.lender.returned.length >= 1 && e.lender.holding.size <= 3, `4 entirely free SuperSlabs: ${e.lender.returned.length} given back, ${e.lender.holding.size} kept`);
        for (const [b, mask] of e.lender.returned) check(mask === SUPERSLAB_ALL_FREE, `SuperSlab ${hex(b)} given back with mask ${hex(mask)} below capacity`);
        stats(e, { slabsReleased: 4 * SUPERSLAB_SLABS }, 'all released');
        valid(e, 'all released');
        acquire(e, 2, 'after');
        valid(e, 'after');
      },
    },
    {
      name: 'warm-pool: releaseSlab — a slab of a SuperSlab this thread gave back goes to the lender\'s releaseSlab',
      run() {
        const e = setup({ capacity: 1 });
        const old = [];
        for (let i = 0; i < SUPERSLAB_SLABS; i++) old.push(acquire(e, i, `slab ${i}`));
        acquire(e, 0, 'slab 17');
        const gone = superSlabOf(old[0]!);
        check(!e.lender.holding.has(gone), 'the full warm pool did not give its SuperSlab back');
        for (const s of old) {
          release(e, s);
          check(e.lender.slabs.includes(s), `slab ${hex(s)} of a SuperSlab given back did not go to the lender's releaseSlab`);
          checkReleased(e, s, 'forwarded release');
        }
        check(pd(e.f, gone, PD_REGION_STATE) === SuperSlabState.FREE, 'the given-back SuperSlab whose slabs all came back did not reach the tier');
        valid(e, 'after forwarded releases');
      },
    },
    {
      name: 'warm-pool: flush — every held SuperSlab goes back; the pool holds nothing and still works',
      run() {
        const e = setup();
        for (let i = 0; i < 40; i++) acquire(e, i % numClasses(e), `slab ${i}`);
        for (const s of [...e.slabs.keys()].slice(0, 5)) release(e, s);
        const held = [...e.lender.holding];
        e.warm.flush();
        check(e.lender.holding.size === 0, `after flush the warm pool still holds ${e.lender.holding.size} SuperSlabs`);
        stats(e, { held: 0 }, 'after flush');
        for (const b of held) check(pd(e.f, b, PD_REGION_OWNER) !== e.tid, `SuperSlab ${hex(b)} is still owned by this thread after flush`);
        valid(e, 'after flush');
        e.warm.flush();
        stats(e, { held: 0 }, 'second flush');
        const misses = e.warm.stats().misses;
        acquire(e, 1, 'after flush');
        stats(e, { misses: misses + 1 }, 'acquire after flush borrows');
        valid(e, 'acquire after flush');
      },
    },
    {
      name: 'warm-pool: exhaustion — acquireSlab returns 0 when no SuperSlab can be borrowed; no slab is lost; a released slab is handed out again',
      run() {
        const e = setup({ maxBytes: 4 << 20 });
        let n = 0;
        for (; n < 200; n++) {
          const s = e.warm.acquireSlab(n % numClasses(e), e.tid);
          if (s === 0) break;
          checkSlab(e, s, n % numClasses(e), `slab ${n}`);
          e.slabs.set(s, n % numClasses(e));
        }
        check(n >= SUPERSLAB_SLABS && n === SUPERSLAB_SLABS * e.lender.borrowed.length, `a 4 MiB memory gave ${n} slabs from ${e.lender.borrowed.length} SuperSlabs (every slab of a borrowed SuperSlab should be used first)`);
        const before = e.warm.stats();
        check(e.warm.acquireSlab(0, e.tid) === 0, 'a second acquire at exhaustion did not return 0');
        const after = e.warm.stats();
        checkStats('warm-pool', { ...after, misses: 0 }, { ...before, misses: 0 }, 'a failed acquire changed counters other than misses');
        valid(e, 'at exhaustion');
        const victim = [...e.slabs.keys()][5]!;
        release(e, victim);
        check(acquire(e, 24, 'after a release at exhaustion') === victim, 'the released slab was not handed out again');
        valid(e, 'after recovery');
      },
    },
    {
      name: 'warm-pool: stats — counters are exact over a seeded random acquire / release run (model run, capacity 3)',
      run() {
        const e = setup({ capacity: 3 });
        const rng = new Rng(0x0005_1ab5);
        const m: WarmPoolStats = { ...ZERO_STATS };
        let local = 0;
        let forwarded = 0;
        for (let step = 0; step < 1500; step++) {
          const when = `step ${step}`;
          if (rng.int(100) < 55 && e.slabs.size < 300) {
            const hit = [...e.lender.holding].some((b) => pd(e.f, b, PD_REGION_MASK) !== 0);
            const borrows = e.lender.borrowed.length;
            const backs = e.lender.returned.length;
            acquire(e, rng.int(numClasses(e)), when);
            m.slabsAssigned++;
            if (hit) {
              m.hits++;
              check(e.lender.borrowed.length === borrows, `acquire borrowed although a held SuperSlab had a free slab (${when})`);
            } else {
              m.misses++;
              m.prefilled++;
              check(e.lender.borrowed.length === borrows + 1, `a miss made ${e.lender.borrowed.length - borrows} borrows (${when})`);
            }
            m.returned += e.lender.returned.length - backs;
          } else if (e.slabs.size > 0) {
            const s = rng.pick([...e.slabs.keys()]);
            const mine = e.lender.holding.has(superSlabOf(s));
            const fwd = e.lender.slabs.length;
            const backs = e.lender.returned.length;
            release(e, s);
            checkReleased(e, s, when);
            if (mine) {
              local++;
              check(e.lender.slabs.length === fwd, `a slab of a held SuperSlab went to the lender (${when})`);
            } else {
              forwarded++;
              check(e.lender.slabs.length === fwd + 1, `a slab of a SuperSlab given back was not forwarded to the lender (${when})`);
            }
            m.returned += e.lender.returned.length - backs;
            for (const [b, mask] of e.lender.returned.slice(backs)) check(mask === SUPERSLAB_ALL_FREE, `releaseSlab gave back SuperSlab ${hex(b)} that is not entirely free (${when})`);
          }
          m.held = e.lender.holding.size;
          const s = e.warm.stats();
          checkStats('warm-pool', { ...s, slabsReleased: 0 }, { ...m, slabsReleased: 0 }, when);
          check(s.slabsReleased >= local && s.slabsReleased <= local + forwarded, `slabsReleased ${s.slabsReleased} outside [${local}, ${local + forwarded}] (${when})`);
          check(s.held <= 3, `held ${s.held} above capacity 3 (${when})`);
          if (step % 10 === 0) valid(e, when);
        }
        valid(e, 'end');
        check(m.hits > 0 && m.misses > 1 && m.returned > 0 && forwarded > 0, `model run did not reach every path (${JSON.stringify(m)}, forwarded ${forwarded})`);
      },
    },
    {
      name: 'warm-pool: no slab is taken from a SuperSlab marked DRAINING (superslab-tier: "no slab may be taken from it any more")',
      run() {
        const e = setup();
        const s = acquire(e, 2, 'first');
        const a = superSlabOf(s);
        e.tier.markDraining(a);
        const t = acquire(e, 3, 'after markDraining');
        check(superSlabOf(t) !== a, `slab ${hex(t)} was taken from DRAINING SuperSlab ${hex(a)}`);
        valid(e, 'after markDraining');
      },
    },
    {
      name: 'warm-pool: a held SuperSlab marked DRAINING is given back to the lender, and becomes FREE when its last slab comes back',
      run() {
        for (const shared of [false, true]) {
          const e = setup({ shared });
          const s = acquire(e, 2, `first, shared ${shared}`);
          const u = acquire(e, 5, `second, shared ${shared}`);
          const a = superSlabOf(s);
          check(superSlabOf(u) === a, 'two slabs did not come from one SuperSlab');
          e.tier.markDraining(a);
          release(e, u); // a released slab does not make a DRAINING SuperSlab serve again
          acquire(e, 7, `after markDraining, shared ${shared}`);
          check(!e.lender.holding.has(a), `the warm pool still holds DRAINING SuperSlab ${hex(a)} (it takes no slab from it: it should go back)`);
          valid(e, `DRAINING given back, shared ${shared}`);
          release(e, s);
          checkReleased(e, s, `last slab of the DRAINING SuperSlab, shared ${shared}`);
          check(pd(e.f, a, PD_REGION_STATE) === SuperSlabState.FREE, `the DRAINING SuperSlab whose last slab came back is in state ${pd(e.f, a, PD_REGION_STATE)}, want FREE`);
          valid(e, `after the last slab, shared ${shared}`);
        }
      },
    },
    {
      name: 'warm-pool: checkInvariants — detects a held SuperSlab owned by another thread, and changes nothing',
      run() {
        const e = setup();
        const s = acquire(e, 4, 'slab');
        const b = superSlabOf(s);
        e.warm.checkInvariants();
        setPd(e.f, b, PD_REGION_OWNER, e.tid + 1);
        const before = e.warm.stats();
        expectCorruption('warm-pool', `held SuperSlab ${hex(b)} owned by thread ${e.tid + 1}`, () => e.warm.checkInvariants());
        checkStats('warm-pool', e.warm.stats(), before, 'checkInvariants changed the counters');
        check(pd(e.f, b, PD_REGION_OWNER) === e.tid + 1, 'checkInvariants changed the corrupted owner');
        setPd(e.f, b, PD_REGION_OWNER, e.tid);
        e.warm.checkInvariants();
      },
    },
    {
      name: 'warm-pool: two threads — each lends from its own SuperSlabs; a SuperSlab one thread gives back serves the other',
      run() {
        const f = fixture();
        const mk = (tid: number): WarmEnv => {
          const tier = f.superslabTier(f.context(0, tid), { regions: f.regions });
          const pool = f.sharedPool(f.context(1, tid), { superSlabs: tier });
          const lender = new LenderProbe(pool, f);
          return { f, tier, pool, lender, warm: make(f.context(-1, tid), { classSizes: f.classSizes, lender }), tid, slabs: new Map() };
        };
        const t1 = mk(1);
        const t2 = mk(2);
        for (let i = 0; i < 20; i++) {
          acquire(t1, i % 25, `thread 1 slab ${i}`);
          acquire(t2, (i * 7) % 25, `thread 2 slab ${i}`);
        }
        for (const b of t1.lender.holding) check(!t2.lender.holding.has(b), `SuperSlab ${hex(b)} is held by both threads`);
        valid(t1, 'thread 1');
        valid(t2, 'thread 2');
        const given = new Set(t1.lender.holding);
        t1.warm.flush();
        for (let i = 0; i < 12; i++) acquire(t2, 3, `thread 2 fill ${i}`);
        const s = acquire(t2, 5, 'thread 2 after thread 1 flushed');
        check(given.has(superSlabOf(s)), 'thread 2 did not borrow a partly used SuperSlab thread 1 gave back');
        const shared = superSlabOf(s);
        const old = [...t1.slabs.keys()].find((x) => superSlabOf(x) === shared)!;
        check(regThread(reg(f, old)) === 1 && regThread(reg(f, s)) === 2, 'one SuperSlab does not hold slabs of both threads');
        release(t1, old);
        check(t1.lender.slabs.includes(old), 'thread 1\'s slab in a SuperSlab now owned by thread 2 was not forwarded to the shared pool');
        check(pd(f, shared, PD_REGION_OWNER) === 2, 'forwarding the slab changed the SuperSlab\'s owner');
        checkReleased(t1, old, 'forwarded');
        valid(t2, 'thread 2 after forward');
        t1.warm.checkInvariants();
      },
    },
    {
      name: 'warm-pool: shared memory — acquire, release, give-back and flush with atomics (BoxContext.shared)',
      run() {
        const e = setup({ shared: true, capacity: 2 });
        for (let i = 0; i < 3 * SUPERSLAB_SLABS + 4; i++) acquire(e, i % numClasses(e), `slab ${i}`);
        for (const s of [...e.slabs.keys()].filter((_, i) => i % 3 === 0)) release(e, s);
        valid(e, 'shared');
        e.warm.flush();
        stats(e, { held: 0 }, 'shared flush');
        valid(e, 'shared flush');
      },
    },
    reclaimCase('warm-pool', reclaim),
  ];
  return cases;
}
