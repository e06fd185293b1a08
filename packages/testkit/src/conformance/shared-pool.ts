import {
  PAGE_SIZE, PageKind, PD_REGION_MASK, PD_REGION_NEXT, PD_REGION_OWNER, PD_REGION_STATE, REG_AUX_SHIFT, REG_CLASS_SHIFT,
  REG_THREAD_SHIFT, SUPERSLAB_ALL_FREE, SUPERSLAB_SIZE, SUPERSLAB_SLABS, SuperSlabState,
  type Ptr, type SharedPool, type SharedPoolStats, type SuperSlabTier,
} from '@hakmem/contracts';
import type { SharedPoolFactory, SlabFixture, SlabFixtureFactory } from './fixture.js';
import {
  checkClean, checkStats, expectCorruption, hex, pd, reg, regClass, regKind, regThread, Rng, setPd, setReg, slabIndexOf,
  superSlabOf, TierProbe,
} from './slab-probes.js';
import { check, type ConformanceCase } from './types.js';
import { reclaimCase, type ReclaimWorldFactory } from './reclaim.js';

/** What a shared-pool case works on. */
interface PoolEnv {
  readonly f: SlabFixture;
  readonly tier: SuperSlabTier;
  readonly probe: TierProbe;
  readonly pool: SharedPool;
}

interface PoolSetup {
  readonly maxBytes?: number;
  readonly shared?: boolean;
  readonly retain?: number;
}

const ZERO_STATS: SharedPoolStats = { lent: 0, returned: 0, fromTier: 0, toTier: 0, held: 0, lockContended: 0 };

/**
 * Conformance suite of the `SharedPool` contract (packages/contracts/src/boxes/shared-pool.ts:
 * `SuperSlabLender` + `SlabSink` of chain.ts).
 *
 * `make` has the signature of `BoxFactories.sharedPool`; it is given a context with state
 * slot 1 and, as `superSlabs`, the fixture's default superslab tier (slot 0) behind a
 * probe that records every call, flags re-entrant calls and checks the pool's own
 * invariants at each call-out. The suite plays the borrowing warm pools: it assigns
 * slabs of a borrowed SuperSlab to classes the way layout.ts says (clear the slab's bit
 * in PD_REGION_MASK, stamp a TINY registry entry), gives SuperSlabs back, and releases
 * slabs into SuperSlabs it no longer owns.
 */
export function sharedPoolConformance(make: SharedPoolFactory, fixture: SlabFixtureFactory, reclaim?: ReclaimWorldFactory): ConformanceCase[] {
  const setup = (o: PoolSetup = {}): PoolEnv => {
    const f = fixture({ ...(o.maxBytes === undefined ? {} : { maxBytes: o.maxBytes }), ...(o.shared === undefined ? {} : { shared: o.shared }) });
    const tier = f.superslabTier(f.context(0), { regions: f.regions, ...(o.retain === undefined ? {} : { retain: o.retain }) });
    const probe = new TierProbe(tier, f);
    const pool = make(f.context(1), { superSlabs: probe });
    probe.onCall = () => pool.checkInvariants();
    return { f, tier, probe, pool };
  };

  const borrow = (e: PoolEnv, tid: number, when: string, pool = e.pool): Ptr => {
    const b = pool.acquireSuperSlab(tid);
    check(b !== 0, `acquireSuperSlab(${tid}) returned 0 with memory to spare (${when})`);
    check(b % SUPERSLAB_SIZE === 0, `acquireSuperSlab returned ${hex(b)}, not a SuperSlab base (${when})`);
    check(pd(e.f, b, PD_REGION_OWNER) === tid, `a SuperSlab lent to thread ${tid} has PD_REGION_OWNER ${pd(e.f, b, PD_REGION_OWNER)} (${when})`);
    check(pd(e.f, b, PD_REGION_MASK) !== 0, `a SuperSlab lent to thread ${tid} has no free slab (${when})`);
    check(pd(e.f, b, PD_REGION_STATE) === SuperSlabState.HOT, `a lent SuperSlab is in state ${pd(e.f, b, PD_REGION_STATE)}, want HOT (${when})`);
    return b;
  };
  /** What the borrower does to assign slab `idx` to class `cls` (layout.ts). */
  const assign = (e: PoolEnv, base: Ptr, idx: number, cls: number, tid: number): Ptr => {
    const mask = pd(e.f, base, PD_REGION_MASK);
    check((mask & (1 << idx)) !== 0, `slab ${idx} of ${hex(base)} is not free`);
    setPd(e.f, base, PD_REGION_MASK, mask & ~(1 << idx));
    const slab = base + idx * PAGE_SIZE;
    setReg(e.f, slab, PageKind.TINY | (cls << REG_CLASS_SHIFT) | (tid << REG_THREAD_SHIFT) | (idx << REG_AUX_SHIFT));
    return slab;
  };
  /** Lowest free slab of a SuperSlab, assigned. */
  const assignNext = (e: PoolEnv, base: Ptr, cls: number, tid: number): Ptr => {
    const mask = pd(e.f, base, PD_REGION_MASK);
    check(mask !== 0, `no free slab in ${hex(base)}`);
    return assign(e, base, 31 - Math.clz32(mask & -mask), cls, tid);
  };
  /** What the owner does when one of its slabs becomes empty while it still owns the SuperSlab. */
  const freeLocal = (e: PoolEnv, slab: Ptr): void => {
    const base = superSlabOf(slab);
    const idx = slabIndexOf(slab);
    setReg(e.f, slab, PageKind.MAPPED | (idx << REG_AUX_SHIFT));
    setPd(e.f, base, PD_REGION_MASK, pd(e.f, base, PD_REGION_MASK) | (1 << idx));
  };
  const stats = (e: PoolEnv, want: Partial<SharedPoolStats>, when: string, pool = e.pool): void => {
    checkStats('shared-pool', pool.stats(), { ...pool.stats(), ...want }, when);
  };
  const valid = (e: PoolEnv, when: string): void => {
    e.pool.checkInvariants();
    e.tier.checkInvariants();
    checkClean(e.probe, when);
  };

  const cases: ConformanceCase[] = [
    {
      name: 'shared-pool: acquireSuperSlab(tid) lends a HOT SuperSlab owned by tid with every slab free; the first comes from the tier',
      run() {
        const e = setup();
        checkStats('shared-pool', e.pool.stats(), ZERO_STATS, 'fresh pool');
        const b = borrow(e, 3, 'first borrow');
        check(pd(e.f, b, PD_REGION_MASK) === SUPERSLAB_ALL_FREE, 'a fresh SuperSlab from the tier is lent with slabs in use');
        check(e.probe.acquired.length === 1 && e.probe.acquired[0] === b, 'the first borrow did not take its SuperSlab from the tier');
        stats(e, { lent: 1, fromTier: 1, held: 0, returned: 0, toTier: 0 }, 'after the first borrow');
        const c = borrow(e, 4, 'second borrow');
        check(c !== b, 'a SuperSlab owned by thread 3 was lent to thread 4');
        stats(e, { lent: 2, fromTier: 2 }, 'after the second borrow');
        valid(e, 'after borrows');
      },
    },
    {
      name: 'shared-pool: several classes share one SuperSlab — given back with live slabs it is held (owner 0, slabs untouched) and lent again for other classes',
      run() {
        const e = setup();
        const a = borrow(e, 1, 'thread 1');
        const s0 = assign(e, a, 0, 3, 1);
        const s1 = assign(e, a, 1, 7, 1);
        const e0 = reg(e.f, s0);
        const e1 = reg(e.f, s1);
        e.pool.releaseSuperSlab(a);
        check(pd(e.f, a, PD_REGION_OWNER) === 0, `a SuperSlab given back has owner ${pd(e.f, a, PD_REGION_OWNER)}, want 0`);
        check(e.probe.released.length === 0, 'a SuperSlab with live slabs went back to the tier');
        check(reg(e.f, s0) === e0 && reg(e.f, s1) === e1 && (pd(e.f, a, PD_REGION_MASK) & 3) === 0, 'giving a SuperSlab back changed its live slabs');
        stats(e, { held: 1, returned: 1, toTier: 0 }, 'after give-back');
        valid(e, 'after give-back');
        const again = borrow(e, 2, 'thread 2');
        check(again === a, `thread 2 got ${hex(again)}, not the held SuperSlab ${hex(a)} with 14 free slabs (a fresh SuperSlab per borrower is what phase 12 fixed)`);
        stats(e, { held: 0, lent: 2, fromTier: 1 }, 'after the second borrow');
        const s2 = assignNext(e, again, 12, 2);
        const classes = new Set([s0, s1, s2].map((s) => regClass(reg(e.f, s))));
        check(classes.size === 3 && regThread(reg(e.f, s0)) === 1 && regThread(reg(e.f, s2)) === 2, 'one SuperSlab does not hold slabs of three classes');
        valid(e, 'three classes in one SuperSlab');
      },
    },
    {
      name: 'shared-pool: an entirely free SuperSlab given back goes to the tier',
      run() {
        const e = setup();
        const a = borrow(e, 1, 'borrow');
        const s = assign(e, a, 4, 2, 1);
        freeLocal(e, s);
        e.pool.releaseSuperSlab(a);
        check(e.probe.released.length === 1 && e.probe.released[0] === a, 'an entirely free SuperSlab given back did not go to the tier');
        check(pd(e.f, a, PD_REGION_STATE) === SuperSlabState.FREE, `the tier did not take it back (state ${pd(e.f, a, PD_REGION_STATE)})`);
        stats(e, { held: 0, returned: 1, toTier: 1 }, 'after give-back');
        valid(e, 'after give-back');
        borrow(e, 1, 'borrow again');
        stats(e, { fromTier: 2, lent: 2 }, 'the next borrow comes from the tier');
        valid(e, 'after borrow');
      },
    },
    {
      name: 'shared-pool: never lends a SuperSlab without a free slab',
      run() {
        const e = setup();
        const a = borrow(e, 1, 'borrow');
        for (let i = 0; i < SUPERSLAB_SLABS; i++) assign(e, a, i, i, 1);
        e.pool.releaseSuperSlab(a);
        stats(e, { held: 1 }, 'a full SuperSlab given back');
        const b = borrow(e, 2, 'borrow with only a full one held');
        check(b !== a, 'a SuperSlab without a free slab was lent');
        stats(e, { held: 1, fromTier: 2 }, 'after borrow');
        valid(e, 'after borrow');
      },
    },
    {
      name: 'shared-pool: never lends a SuperSlab marked DRAINING (superslab-tier: "no slab may be taken from it any more")',
      run() {
        const e = setup();
        const a = borrow(e, 1, 'borrow');
        const s = assign(e, a, 0, 2, 1);
        e.pool.releaseSuperSlab(a);
        e.tier.markDraining(a);
        const b = borrow(e, 2, 'borrow with only a DRAINING SuperSlab held');
        check(b !== a, `DRAINING SuperSlab ${hex(a)} was lent (its free slabs would be assigned)`);
        e.pool.releaseSlab(s);
        check(pd(e.f, a, PD_REGION_STATE) === SuperSlabState.FREE, 'the DRAINING SuperSlab whose last slab came back did not become FREE');
        valid(e, 'after');
      },
    },
    {
      name: 'shared-pool: releaseSlab — slabs of an unowned SuperSlab come back free for any class; the last one sends it to the tier',
      run() {
        const e = setup();
        const a = borrow(e, 1, 'borrow');
        const s0 = assign(e, a, 0, 5, 1);
        const s1 = assign(e, a, 1, 6, 1);
        e.pool.releaseSuperSlab(a);
        e.pool.releaseSlab(s0);
        check((pd(e.f, a, PD_REGION_MASK) & 1) !== 0, 'releaseSlab did not mark the slab free in its SuperSlab');
        check(regKind(reg(e.f, s0)) !== PageKind.TINY, `a released slab keeps its TINY registry entry ${hex(reg(e.f, s0))} (its class assignment ends)`);
        check(e.probe.released.length < 1, 'a SuperSlab with a live slab went to the tier');
        stats(e, { held: 1, toTier: 0 }, 'one slab back');
        valid(e, 'one slab back');
        e.pool.releaseSlab(s1);
        check(e.probe.released.length === 1 && e.probe.released[0] === a, 'an unowned SuperSlab that became entirely free did not go to the tier');
        stats(e, { held: 0, toTier: 1 }, 'last slab back');
        valid(e, 'last slab back');
      },
    },
    {
      name: 'shared-pool: releaseSlab — a slab freed into a held SuperSlab is lent again for another class',
      run() {
        const e = setup();
        const a = borrow(e, 1, 'borrow');
        for (let i = 0; i < SUPERSLAB_SLABS; i++) assign(e, a, i, 1, 1);
        e.pool.releaseSuperSlab(a);
        e.pool.releaseSlab(a + 9 * PAGE_SIZE);
        const b = borrow(e, 2, 'borrow');
        check(b === a, 'the held SuperSlab with a freed slab was not lent; a new one came from the tier');
        const s = assignNext(e, b, 20, 2);
        check(s === a + 9 * PAGE_SIZE, 'the freed slab was not the free one');
        stats(e, { fromTier: 1, lent: 2, held: 0 }, 'after borrow');
        valid(e, 'after borrow');
      },
    },
    {
      name: 'shared-pool: releaseSlab — a slab released into a SuperSlab lent again meanwhile stays with its new owner',
      run() {
        const e = setup();
        const a = borrow(e, 1, 'thread 1');
        const old = assign(e, a, 0, 3, 1);
        assign(e, a, 1, 3, 1);
        e.pool.releaseSuperSlab(a);
        check(borrow(e, 2, 'thread 2') === a, 'the held SuperSlab was not lent to thread 2');
        assign(e, a, 2, 8, 2);
        e.pool.releaseSlab(old); // thread 1's old slab became empty
        check(pd(e.f, a, PD_REGION_OWNER) === 2, `releaseSlab changed the owner to ${pd(e.f, a, PD_REGION_OWNER)}`);
        check((pd(e.f, a, PD_REGION_MASK) & 1) !== 0, 'the slab was not marked free');
        check(e.probe.released.length === 0, 'an owned SuperSlab went to the tier');
        stats(e, { held: 0, toTier: 0 }, 'after releaseSlab');
        const again = assign(e, a, 0, 9, 2);
        check(regClass(reg(e.f, again)) === 9, 'the new owner could not assign the freed slab');
        valid(e, 'after releaseSlab');
      },
    },
    {
      name: 'shared-pool: no pool that runs dry — 100 SuperSlabs held at once are all lent again',
      run() {
        const e = setup({ maxBytes: 128 << 20 });
        const lent: Ptr[] = [];
        for (let i = 0; i < 100; i++) {
          const b = borrow(e, 1 + (i % 4), `borrow ${i}`);
          assign(e, b, i % SUPERSLAB_SLABS, i % 25, 1 + (i % 4));
          lent.push(b);
        }
        for (const b of lent) e.pool.releaseSuperSlab(b);
        stats(e, { held: 100, returned: 100, fromTier: 100, toTier: 0 }, '100 held');
        valid(e, '100 held');
        const again = new Set<Ptr>();
        for (let i = 0; i < 100; i++) again.add(borrow(e, 5, `re-borrow ${i}`));
        check(again.size === 100 && lent.every((b) => again.has(b)), 'the 100 held SuperSlabs were not all lent again');
        stats(e, { held: 0, lent: 200, fromTier: 100 }, 'all lent again');
        valid(e, 'all lent again');
      },
    },
    {
      name: 'shared-pool: lock discipline — the tier is never called re-entrantly, and the pool is consistent whenever it calls out',
      run() {
        for (const shared of [false, true]) {
          const e = setup({ shared });
          const a = borrow(e, 1, 'a');
          const b = borrow(e, 1, 'b');
          const s = assign(e, a, 0, 1, 1);
          e.pool.releaseSuperSlab(a);
          e.pool.releaseSuperSlab(b); // entirely free: to the tier
          e.pool.releaseSlab(s); // last slab of an unowned one: to the tier
          borrow(e, 2, 'c');
          check(e.probe.acquired.length === 3 && e.probe.released.length === 2, `tier calls: ${e.probe.acquired.length} acquires, ${e.probe.released.length} releases; want 3 and 2`);
          valid(e, `shared ${shared}`);
        }
      },
    },
    {
      name: 'shared-pool: stats — counters are exact over a seeded random borrow / assign / give-back / releaseSlab run (model run)',
      run() {
        const e = setup({ maxBytes: 64 << 20 });
        const rng = new Rng(0x0bad_cafe);
        const m: SharedPoolStats = { ...ZERO_STATS };
        const owned = new Map<Ptr, number>(); // SuperSlab → owning thread
        const held = new Set<Ptr>(); // held by the pool
        const assigned = new Map<Ptr, number>(); // slab → thread that assigned it
        const alive = (): number => owned.size + held.size;
        let maxHeld = 0;
        for (let step = 0; step < 800; step++) {
          const when = `step ${step}`;
          const r = rng.int(100);
          if (r < 22 && alive() < 40) {
            const tid = 1 + rng.int(4);
            const lendable = [...held].filter((b) => pd(e.f, b, PD_REGION_MASK) !== 0);
            const calls = e.probe.acquired.length;
            const b = borrow(e, tid, when);
            if (lendable.length > 0) {
              check(lendable.includes(b), `borrow returned ${hex(b)}, not a held SuperSlab with a free slab (${when})`);
              check(e.probe.acquired.length === calls, `borrow went to the tier with a lendable SuperSlab held (${when})`);
              held.delete(b);
              m.held--;
            } else {
              check(e.probe.acquired.length === calls + 1, `borrow with nothing lendable did not take a SuperSlab from the tier (${when})`);
              m.fromTier++;
            }
            m.lent++;
            owned.set(b, tid);
          } else if (r < 55 && owned.size > 0) {
            const b = rng.pick([...owned.keys()]);
            if (pd(e.f, b, PD_REGION_MASK) === 0) continue;
            assigned.set(assignNext(e, b, rng.int(25), owned.get(b)!), owned.get(b)!);
          } else if (r < 67) {
            const mine = [...assigned].filter(([s, t]) => owned.get(superSlabOf(s)) === t);
            if (mine.length === 0) continue;
            const [s] = rng.pick(mine);
            freeLocal(e, s);
            assigned.delete(s);
          } else if (r < 82 && owned.size > 0) {
            const b = rng.pick([...owned.keys()]);
            owned.delete(b);
            const calls = e.probe.released.length;
            e.pool.releaseSuperSlab(b);
            m.returned++;
            check(pd(e.f, b, PD_REGION_OWNER) === 0 || pd(e.f, b, PD_REGION_STATE) === SuperSlabState.FREE, `a SuperSlab given back kept owner ${pd(e.f, b, PD_REGION_OWNER)} (${when})`);
            if (pd(e.f, b, PD_REGION_MASK) === SUPERSLAB_ALL_FREE) {
              check(e.probe.released.length === calls + 1, `an entirely free SuperSlab given back did not go to the tier (${when})`);
              m.toTier++;
            } else {
              check(e.probe.released.length === calls, `a SuperSlab with live slabs went to the tier (${when})`);
              held.add(b);
              m.held++;
            }
          } else {
            const stale = [...assigned].filter(([s, t]) => owned.get(superSlabOf(s)) !== t);
            if (stale.length === 0) continue;
            const [s] = rng.pick(stale);
            assigned.delete(s);
            const b = superSlabOf(s);
            const calls = e.probe.released.length;
            e.pool.releaseSlab(s);
            check(regKind(reg(e.f, s)) !== PageKind.TINY, `releaseSlab left a TINY registry entry (${when})`);
            if (held.has(b) && pd(e.f, b, PD_REGION_STATE) === SuperSlabState.FREE) {
              check(e.probe.released.length === calls + 1, `(${when})`);
              held.delete(b);
              m.held--;
              m.toTier++;
            } else {
              check(e.probe.released.length === calls, `releaseSlab sent a SuperSlab that is owned or not empty to the tier (${when})`);
              check(!held.has(b) || pd(e.f, b, PD_REGION_MASK) !== SUPERSLAB_ALL_FREE, `an unowned SuperSlab became entirely free and stayed in the pool (${when})`);
            }
          }
          checkStats('shared-pool', e.pool.stats(), m, when);
          maxHeld = Math.max(maxHeld, m.held);
          for (const b of held) check(pd(e.f, b, PD_REGION_OWNER) === 0, `held SuperSlab ${hex(b)} has owner ${pd(e.f, b, PD_REGION_OWNER)} (${when})`);
          for (const [b, t] of owned) check(pd(e.f, b, PD_REGION_OWNER) === t, `SuperSlab ${hex(b)} lent to ${t} has owner ${pd(e.f, b, PD_REGION_OWNER)} (${when})`);
          valid(e, when);
        }
        check(m.toTier > 0 && m.fromTier < m.lent && maxHeld > 1, `model run did not reach every path (${JSON.stringify(m)})`);
      },
    },
    {
      name: 'shared-pool: checkInvariants — detects a held SuperSlab that has an owner, and changes nothing',
      run() {
        const e = setup();
        const a = borrow(e, 1, 'a');
        assign(e, a, 0, 1, 1);
        e.pool.releaseSuperSlab(a);
        setPd(e.f, a, PD_REGION_OWNER, 5);
        const before = e.pool.stats();
        expectCorruption('shared-pool', 'a held SuperSlab with owner 5', () => e.pool.checkInvariants());
        checkStats('shared-pool', e.pool.stats(), before, 'checkInvariants changed the counters');
        check(pd(e.f, a, PD_REGION_OWNER) === 5, 'checkInvariants changed the corrupted owner');
        setPd(e.f, a, PD_REGION_OWNER, 0);
        e.pool.checkInvariants();
      },
    },
    {
      name: 'shared-pool: checkInvariants — detects a cycle in the held list (PD_REGION_NEXT) without hanging',
      run() {
        const e = setup();
        const bs = [0, 1, 2].map((i) => borrow(e, 1, `borrow ${i}`));
        for (const b of bs) assign(e, b, 0, 1, 1);
        for (const b of bs) e.pool.releaseSuperSlab(b);
        e.pool.checkInvariants();
        for (const b of bs) {
          const saved = pd(e.f, b, PD_REGION_NEXT);
          setPd(e.f, b, PD_REGION_NEXT, b);
          expectCorruption('shared-pool', `held SuperSlab ${hex(b)} linked to itself`, () => e.pool.checkInvariants());
          setPd(e.f, b, PD_REGION_NEXT, saved);
          e.pool.checkInvariants();
        }
      },
    },
    {
      name: 'shared-pool: exhaustion — acquireSuperSlab returns 0 with state intact, and never lends a full SuperSlab instead',
      run() {
        const e = setup({ maxBytes: 4 << 20 });
        const all: Ptr[] = [];
        for (let i = 0; i < 16; i++) {
          const b = e.pool.acquireSuperSlab(1);
          if (b === 0) break;
          for (let s = 0; s < SUPERSLAB_SLABS; s++) assign(e, b, s, s, 1);
          all.push(b);
        }
        check(all.length >= 2 && all.length < 4, `a 4 MiB backend lent ${all.length} SuperSlabs`);
        for (const b of all.slice(1)) e.pool.releaseSuperSlab(b);
        const before = e.pool.stats();
        check(e.pool.acquireSuperSlab(2) === 0, 'with only full SuperSlabs held and the backend at its maximum, acquireSuperSlab did not return 0');
        checkStats('shared-pool', e.pool.stats(), before, 'a failed borrow changed the counters');
        check(pd(e.f, all[0]!, PD_REGION_OWNER) === 1, 'a failed borrow changed an owner');
        for (const b of all.slice(1)) check(pd(e.f, b, PD_REGION_OWNER) === 0 && pd(e.f, b, PD_REGION_MASK) === 0, 'a failed borrow changed a held SuperSlab');
        valid(e, 'at exhaustion');
        e.pool.releaseSlab(all[1]! + 5 * PAGE_SIZE);
        check(borrow(e, 2, 'after a slab came back') === all[1], 'the SuperSlab with a freed slab was not lent at exhaustion');
        valid(e, 'after recovery');
      },
    },
    {
      name: 'shared-pool: shared state — two handles on one slot (two threads) share the held list',
      run() {
        const e = setup();
        const p2 = make(e.f.context(1, 2), { superSlabs: e.probe });
        const a = borrow(e, 1, 'thread 1');
        assign(e, a, 0, 4, 1);
        e.pool.releaseSuperSlab(a);
        check(borrow(e, 2, 'thread 2', p2) === a, 'thread 2\'s handle did not lend the SuperSlab thread 1 gave back');
        checkStats('shared-pool', p2.stats(), e.pool.stats(), 'two handles report different counters');
        stats(e, { lent: 2, returned: 1, fromTier: 1, held: 0 }, 'two handles', p2);
        p2.releaseSuperSlab(a);
        e.pool.checkInvariants();
        p2.checkInvariants();
        stats(e, { held: 1 }, 'given back through thread 2');
      },
    },
    reclaimCase('shared-pool', reclaim),
  ];
  return cases;
}
