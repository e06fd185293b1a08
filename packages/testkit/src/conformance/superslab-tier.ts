import {
  isHakmemError, PAGE_SIZE, PageKind, PD_REGION_GUARD, PD_REGION_MASK, PD_REGION_OWNER, PD_REGION_PAGES, PD_REGION_STATE,
  REG_CLASS_SHIFT, REG_THREAD_SHIFT, SUPERSLAB_ALL_FREE, SUPERSLAB_SIZE, SUPERSLAB_SLABS, SuperSlabState,
  type Ptr, type SuperSlabTier, type SuperSlabTierStats,
} from '@hakmem/contracts';
import type { SlabFixture, SlabFixtureFactory, SuperSlabTierFactory } from './fixture.js';
import {
  checkClean, checkStats, expectCorruption, hex, pd, RegionProbe, reg, regKind, Rng, setPd, setReg, thrown,
} from './slab-probes.js';
import { check, type ConformanceCase } from './types.js';
import { reclaimCase, type ReclaimWorldFactory } from './reclaim.js';

/** What a tier case works on: a fresh fixture, the probe over its os-boundary, the tier under test. */
interface TierEnv {
  readonly f: SlabFixture;
  readonly regions: RegionProbe;
  readonly tier: SuperSlabTier;
}

interface TierSetup {
  readonly retain?: number;
  readonly maxBytes?: number;
  readonly shared?: boolean;
}

const ZERO_STATS: SuperSlabTierStats = { mapped: 0, unmapped: 0, reused: 0, hot: 0, draining: 0, free: 0, guardDeferred: 0 };

/**
 * Conformance suite of the `SuperSlabTier` contract (packages/contracts/src/boxes/superslab-tier.ts,
 * with `SuperSlabSource`/`SuperSlabSink` of chain.ts and the PD_REGION_* / registry layout of layout.ts).
 *
 * `make` has the signature of `BoxFactories.superslabTier`; it is given a context with
 * state slot 0 and a region source that forwards to the fixture's os-boundary and
 * checks, at every unmap, that nothing in use, pinned or still registered goes back.
 * Cases cover geometry and alignment, the HOT → DRAINING → FREE lifecycle with the
 * release guard, the retention policy and `trim`, exhaustion, exact counters (a model
 * run), shared state across handles and threads' memory, and `checkInvariants` on
 * deliberate corruptions of the invariants the contract lists.
 */
export function superSlabTierConformance(make: SuperSlabTierFactory, fixture: SlabFixtureFactory, reclaim?: ReclaimWorldFactory): ConformanceCase[] {
  const setup = (o: TierSetup = {}): TierEnv => {
    const f = fixture({ ...(o.maxBytes === undefined ? {} : { maxBytes: o.maxBytes }), ...(o.shared === undefined ? {} : { shared: o.shared }) });
    const regions = new RegionProbe(f.regions, f);
    const tier = make(f.context(0), o.retain === undefined ? { regions } : { regions, retain: o.retain });
    return { f, regions, tier };
  };

  /** Acquires a SuperSlab the test then holds (the probe refuses to see it unmapped). */
  const acquire = (e: TierEnv, when: string): Ptr => {
    const b = e.tier.acquireSuperSlab();
    check(b !== 0, `acquireSuperSlab returned 0 with memory to spare (${when})`);
    e.regions.inUse.add(b);
    return b;
  };
  /** Releases a SuperSlab the test held (every slab free). */
  const release = (e: TierEnv, b: Ptr): void => {
    e.regions.inUse.delete(b);
    e.tier.releaseSuperSlab(b);
  };
  const stats = (e: TierEnv, want: Partial<SuperSlabTierStats>, when: string): void => {
    checkStats('superslab-tier', e.tier.stats(), { ...e.tier.stats(), ...want }, when);
  };
  const valid = (e: TierEnv, when: string): void => {
    e.tier.checkInvariants();
    checkClean(e.regions, when);
    const s = e.tier.stats();
    check(s.mapped - s.unmapped === s.free + s.hot + s.draining, `superslab-tier stats: mapped ${s.mapped} − unmapped ${s.unmapped} ≠ free ${s.free} + hot ${s.hot} + draining ${s.draining} (${when})`);
  };
  const state = (e: TierEnv, b: Ptr): number => pd(e.f, b, PD_REGION_STATE);

  const cases: ConformanceCase[] = [
    {
      name: 'superslab-tier: geometry — acquireSuperSlab maps SUPERSLAB_SIZE bytes aligned to SUPERSLAB_SIZE through the region source',
      run() {
        const e = setup();
        const bases: Ptr[] = [];
        for (let i = 0; i < 3; i++) bases.push(acquire(e, `SuperSlab ${i}`));
        check(e.regions.maps.length === 3, `3 fresh SuperSlabs took ${e.regions.maps.length} maps from the region source, want 3`);
        const sorted = [...bases].sort((a, b) => a - b);
        for (let i = 0; i < sorted.length; i++) {
          const b = sorted[i]!;
          check(b % SUPERSLAB_SIZE === 0, `SuperSlab ${hex(b)} is not aligned to ${SUPERSLAB_SIZE}`);
          check(b >= e.f.layout.heapStart && b + SUPERSLAB_SIZE <= e.f.backend.byteLength(), `SuperSlab ${hex(b)} lies outside the managed memory`);
          check(i === 0 || sorted[i - 1]! + SUPERSLAB_SIZE <= b, `SuperSlabs ${hex(sorted[i - 1]!)} and ${hex(b)} overlap`);
          check(e.regions.maps.some(([a, n]) => a <= b && b + SUPERSLAB_SIZE <= a + n), `SuperSlab ${hex(b)} does not lie in a range mapped through the region source`);
          const u32 = e.f.backend.views.u32;
          for (let s = 0; s < SUPERSLAB_SLABS; s++) {
            const first = (b + s * PAGE_SIZE) >>> 2;
            const last = (b + (s + 1) * PAGE_SIZE - 4) >>> 2;
            u32[first] = 0xa5a5_0000 + s;
            u32[last] = 0x5a5a_0000 + s;
            check(u32[first] === 0xa5a5_0000 + s && u32[last] === 0x5a5a_0000 + s, `slab ${s} of SuperSlab ${hex(b)} is not writable`);
          }
        }
        valid(e, 'after 3 acquires');
      },
    },
    {
      name: 'superslab-tier: header — a fresh SuperSlab is HOT, owned by the taking thread, guard 0, every slab free, 16 pages, registry entries MAPPED',
      run() {
        const e = setup();
        checkStats('superslab-tier', e.tier.stats(), ZERO_STATS, 'fresh tier');
        const b = acquire(e, 'first');
        check(state(e, b) === SuperSlabState.HOT, `PD_REGION_STATE of a fresh SuperSlab is ${state(e, b)}, want HOT (${SuperSlabState.HOT})`);
        check(pd(e.f, b, PD_REGION_OWNER) === e.f.context(0).tid, `PD_REGION_OWNER of a fresh SuperSlab is ${pd(e.f, b, PD_REGION_OWNER)}, want the taking thread's id ${e.f.context(0).tid} (never unowned on its way to the lender)`);
        check(pd(e.f, b, PD_REGION_MASK) === SUPERSLAB_ALL_FREE, `PD_REGION_MASK of a fresh SuperSlab is ${hex(pd(e.f, b, PD_REGION_MASK))}, want SUPERSLAB_ALL_FREE`);
        check(pd(e.f, b, PD_REGION_GUARD) === 0, `PD_REGION_GUARD of a fresh SuperSlab is ${pd(e.f, b, PD_REGION_GUARD)}, want 0`);
        check(pd(e.f, b, PD_REGION_PAGES) === SUPERSLAB_SLABS, `PD_REGION_PAGES of a fresh SuperSlab is ${pd(e.f, b, PD_REGION_PAGES)}, want ${SUPERSLAB_SLABS}`);
        for (let s = 0; s < SUPERSLAB_SLABS; s++) {
          const k = regKind(reg(e.f, b + s * PAGE_SIZE));
          check(k === PageKind.MAPPED, `registry entry of slab ${s} of a fresh SuperSlab has kind ${k}, want MAPPED (${PageKind.MAPPED}): the box that takes pages from os-boundary stamps them`);
        }
        stats(e, { mapped: 1, hot: 1, unmapped: 0, reused: 0, free: 0, draining: 0, guardDeferred: 0 }, 'after one acquire');
        valid(e, 'after one acquire');
      },
    },
    {
      name: 'superslab-tier: lifecycle — release makes a SuperSlab FREE and retained; the next acquire reuses it (re-initialised) before mapping',
      run() {
        const e = setup({ retain: 1 });
        const b = acquire(e, 'first');
        setPd(e.f, b, PD_REGION_OWNER, 3); // an owner left by the shared pool's last borrower
        release(e, b);
        check(state(e, b) === SuperSlabState.FREE, `a released SuperSlab is in state ${state(e, b)}, want FREE`);
        for (let s = 0; s < SUPERSLAB_SLABS; s++) check(regKind(reg(e.f, b + s * PAGE_SIZE)) !== PageKind.TINY, `a FREE SuperSlab has a TINY registry entry (slab ${s})`);
        check(e.regions.unmaps.length === 0, 'a SuperSlab within the retention limit was unmapped');
        stats(e, { hot: 0, free: 1, mapped: 1, unmapped: 0 }, 'after release');
        valid(e, 'after release');
        const again = acquire(e, 'reuse');
        check(again === b, `acquire after a release returned ${hex(again)}, want the retained ${hex(b)} (a retained SuperSlab is handed out before a new one is mapped)`);
        check(e.regions.maps.length === 1, 'acquire mapped a new SuperSlab although one was retained');
        check(state(e, b) === SuperSlabState.HOT && pd(e.f, b, PD_REGION_MASK) === SUPERSLAB_ALL_FREE && pd(e.f, b, PD_REGION_GUARD) === 0, 'a reused SuperSlab is not re-initialised HOT with every slab free');
        check(pd(e.f, b, PD_REGION_OWNER) === e.f.context(0).tid, `a reused SuperSlab has owner ${pd(e.f, b, PD_REGION_OWNER)}, want the taking thread's id ${e.f.context(0).tid}`);
        stats(e, { hot: 1, free: 0, mapped: 1, reused: 1 }, 'after reuse');
        valid(e, 'after reuse');
      },
    },
    {
      name: 'superslab-tier: retention — at most `retain` FREE SuperSlabs are kept; the others are unmapped with their registry entries cleared',
      run() {
        const e = setup({ retain: 2 });
        const bases = [0, 1, 2, 3, 4].map((i) => acquire(e, `SuperSlab ${i}`));
        for (const b of bases) release(e, b);
        stats(e, { mapped: 5, unmapped: 3, free: 2, hot: 0 }, 'after releasing 5 with retain 2');
        check(e.regions.unmaps.length === 3, `releasing 5 SuperSlabs with retain 2 made ${e.regions.unmaps.length} unmaps, want 3`);
        const gone = bases.filter((b) => e.regions.unmapped(b));
        const kept = bases.filter((b) => !e.regions.unmapped(b));
        check(gone.length === 3 && kept.length === 2, `${gone.length} of 5 released SuperSlabs were unmapped whole, want 3`);
        for (const b of gone) for (let s = 0; s < SUPERSLAB_SLABS; s++) check(reg(e.f, b + s * PAGE_SIZE) === 0, `unmapped SuperSlab ${hex(b)} kept registry entry ${hex(reg(e.f, b + s * PAGE_SIZE))}`);
        for (const b of kept) check(state(e, b) === SuperSlabState.FREE, `retained SuperSlab ${hex(b)} is in state ${state(e, b)}, want FREE`);
        valid(e, 'after releases');
        const again = [0, 1, 2].map((i) => acquire(e, `re-acquire ${i}`));
        check(kept.every((b) => again.includes(b)), 'the retained SuperSlabs were not handed out before a new one was mapped');
        stats(e, { reused: 2, mapped: 6, hot: 3, free: 0 }, 'after 3 re-acquires');
        valid(e, 'after re-acquires');
      },
    },
    {
      name: 'superslab-tier: retention — retain 0 unmaps at once; the default keeps 4',
      run() {
        const z = setup({ retain: 0 });
        const b = acquire(z, 'retain 0');
        release(z, b);
        check(z.regions.unmapped(b), 'with retain 0 a released SuperSlab was not unmapped');
        stats(z, { free: 0, unmapped: 1, hot: 0 }, 'retain 0');
        valid(z, 'retain 0');
        const d = setup();
        const bases = [0, 1, 2, 3, 4, 5].map((i) => acquire(d, `SuperSlab ${i}`));
        for (const x of bases) release(d, x);
        stats(d, { free: 4, unmapped: 2 }, 'default retain after releasing 6');
        valid(d, 'default retain');
      },
    },
    {
      name: 'superslab-tier: trim — unmaps every retained SuperSlab, returns the bytes, leaves HOT ones alone',
      run() {
        const e = setup({ retain: 4 });
        const bases = [0, 1, 2, 3].map((i) => acquire(e, `SuperSlab ${i}`));
        for (const b of bases.slice(1)) release(e, b);
        const bytes = e.tier.trim();
        check(bytes === 3 * SUPERSLAB_SIZE, `trim returned ${bytes}, want ${3 * SUPERSLAB_SIZE} (3 retained SuperSlabs)`);
        for (const b of bases.slice(1)) check(e.regions.unmapped(b), `trim did not unmap retained SuperSlab ${hex(b)}`);
        check(!e.regions.unmapped(bases[0]!) && state(e, bases[0]!) === SuperSlabState.HOT, 'trim touched a HOT SuperSlab');
        stats(e, { free: 0, unmapped: 3, hot: 1 }, 'after trim');
        check(e.tier.trim() === 0, 'a second trim returned bytes with nothing retained');
        valid(e, 'after trim');
        acquire(e, 'after trim');
        stats(e, { mapped: 5, reused: 0, hot: 2 }, 'acquire after trim maps anew');
      },
    },
    {
      name: 'superslab-tier: release guard — a pinned SuperSlab goes DRAINING on release and goes back only at the last guardExit',
      run() {
        for (const retain of [0, 1]) {
          const e = setup({ retain });
          const b = acquire(e, 'guarded');
          e.tier.guardEnter(b);
          e.tier.guardEnter(b);
          check(pd(e.f, b, PD_REGION_GUARD) === 2, `PD_REGION_GUARD after two guardEnter is ${pd(e.f, b, PD_REGION_GUARD)}, want 2`);
          release(e, b);
          e.regions.inUse.add(b); // pinned: must not reach os-boundary
          check(state(e, b) === SuperSlabState.DRAINING, `a guarded SuperSlab released is in state ${state(e, b)}, want DRAINING`);
          stats(e, { hot: 0, draining: 1, free: 0, guardDeferred: 1, unmapped: 0 }, `guarded release, retain ${retain}`);
          const other = acquire(e, 'while draining');
          check(other !== b, 'a DRAINING SuperSlab was handed out again');
          check(e.tier.trim() === 0 || !e.regions.unmapped(b), 'trim unmapped a DRAINING SuperSlab');
          valid(e, 'guarded release');
          e.tier.guardExit(b);
          check(state(e, b) === SuperSlabState.DRAINING, 'the release completed while a pin was still held');
          stats(e, { draining: 1, free: 0 }, 'one pin left');
          valid(e, 'one pin left');
          e.regions.inUse.delete(b);
          e.tier.guardExit(b);
          stats(e, { draining: 0, hot: 1 }, `last guardExit, retain ${retain}`);
          if (retain === 0) {
            check(e.regions.unmapped(b), 'with retain 0 the deferred release did not unmap at the last guardExit');
            stats(e, { unmapped: 1, free: 0 }, 'deferred release, retain 0');
          } else {
            check(state(e, b) === SuperSlabState.FREE && !e.regions.unmapped(b), 'with retain 1 the deferred release did not make the SuperSlab FREE and retained');
            stats(e, { unmapped: 0, free: 1 }, 'deferred release, retain 1');
            check(acquire(e, 'reuse after deferred release') === b, 'the SuperSlab freed at the last guardExit was not reused');
          }
          valid(e, 'after last guardExit');
        }
      },
    },
    {
      name: 'superslab-tier: release guard — a pin taken on a DRAINING SuperSlab also holds back its release',
      run() {
        const e = setup({ retain: 0 });
        const b = acquire(e, 'draining');
        e.tier.markDraining(b);
        e.tier.guardEnter(b);
        release(e, b);
        e.regions.inUse.add(b);
        stats(e, { draining: 1, guardDeferred: 1, unmapped: 0 }, 'release of a pinned DRAINING SuperSlab');
        check(state(e, b) === SuperSlabState.DRAINING, `state ${state(e, b)}, want DRAINING`);
        valid(e, 'pinned DRAINING');
        e.regions.inUse.delete(b);
        e.tier.guardExit(b);
        check(e.regions.unmapped(b), 'the deferred release of a DRAINING SuperSlab did not happen at the last guardExit');
        stats(e, { draining: 0, unmapped: 1 }, 'after guardExit');
        valid(e, 'after guardExit');
      },
    },
    {
      name: 'superslab-tier: markDraining — a DRAINING SuperSlab is never handed out; its release makes it FREE',
      run() {
        const e = setup({ retain: 2 });
        const a = acquire(e, 'A');
        e.tier.markDraining(a);
        check(state(e, a) === SuperSlabState.DRAINING, `markDraining left state ${state(e, a)}, want DRAINING`);
        stats(e, { hot: 0, draining: 1 }, 'after markDraining');
        valid(e, 'after markDraining');
        const others = [acquire(e, 'B'), acquire(e, 'C')];
        check(!others.includes(a), 'a DRAINING SuperSlab was handed out');
        release(e, a);
        check(state(e, a) === SuperSlabState.FREE, `releasing an unpinned DRAINING SuperSlab left state ${state(e, a)}, want FREE`);
        stats(e, { draining: 0, free: 1, hot: 2, guardDeferred: 0 }, 'after release');
        valid(e, 'after release');
      },
    },
    {
      name: 'superslab-tier: release guard — guardExit completes only a deferred release, not a SuperSlab merely marked DRAINING',
      run() {
        for (const shared of [false, true]) {
          const e = setup({ retain: 2, shared });
          const a = acquire(e, 'A');
          e.tier.markDraining(a);
          e.tier.guardEnter(a); // e.g. a thread pushing a remote free into it
          e.tier.guardExit(a);
          check(state(e, a) === SuperSlabState.DRAINING, `a DRAINING SuperSlab nobody released is in state ${state(e, a)} after guardEnter/guardExit, want DRAINING (its holder still has it; shared ${shared})`);
          stats(e, { draining: 1, free: 0, hot: 0 }, `after guardEnter/guardExit, shared ${shared}`);
          const b = acquire(e, 'B');
          check(b !== a, `a SuperSlab its holder never released was handed out to another (shared ${shared})`);
          valid(e, `after guardExit, shared ${shared}`);
          e.tier.guardEnter(a);
          release(e, a); // now a real release, deferred by the pin
          e.regions.inUse.add(a);
          stats(e, { draining: 1, free: 0, guardDeferred: 1 }, `a real release while pinned, shared ${shared}`);
          e.regions.inUse.delete(a);
          e.tier.guardExit(a);
          stats(e, { draining: 0, free: 1 }, `after the deferred release completed, shared ${shared}`);
          valid(e, `after the real release, shared ${shared}`);
          check(acquire(e, 'reuse') === a, `the SuperSlab freed by the deferred release was not reused (shared ${shared})`);
          e.tier.guardEnter(a);
          e.tier.guardExit(a);
          check(state(e, a) === SuperSlabState.HOT, `guardEnter/guardExit on the reused SuperSlab left state ${state(e, a)}: an old deferred release came back to life (shared ${shared})`);
          valid(e, `after reuse, shared ${shared}`);
        }
      },
    },
    {
      name: 'superslab-tier: release guard — a SuperSlab with a slab in use is never unmapped or handed out again',
      run() {
        const e = setup({ retain: 0 });
        const a = acquire(e, 'A');
        setPd(e.f, a, PD_REGION_MASK, SUPERSLAB_ALL_FREE & ~(1 << 3)); // slab 3 assigned by the layer above
        e.regions.inUse.add(a);
        const err = thrown(() => e.tier.releaseSuperSlab(a));
        check(err === undefined || isHakmemError(err), `releaseSuperSlab with a slab in use threw a non-HakmemError: ${String(err)}`);
        check(!e.regions.unmapped(a), 'a SuperSlab with a slab in use was unmapped');
        check(state(e, a) !== SuperSlabState.FREE, 'a SuperSlab with a slab in use became FREE');
        for (let i = 0; i < 3; i++) check(acquire(e, `other ${i}`) !== a, 'a SuperSlab with a slab in use was handed out again');
        e.tier.trim();
        checkClean(e.regions, 'after trim');
        setPd(e.f, a, PD_REGION_MASK, SUPERSLAB_ALL_FREE);
        e.regions.inUse.delete(a);
        if (state(e, a) === SuperSlabState.HOT) release(e, a); // a refused release is asked again once the slab is free
        e.tier.checkInvariants();
        checkClean(e.regions, 'after the slab came back');
      },
    },
    {
      name: 'superslab-tier: exhaustion — acquireSuperSlab returns 0 when the backend is at its maximum, with state intact',
      run() {
        for (const retain of [0, 4]) {
          const e = setup({ retain, maxBytes: 4 << 20 });
          const held: Ptr[] = [];
          for (let i = 0; i < 64; i++) {
            const b = e.tier.acquireSuperSlab();
            if (b === 0) break;
            e.regions.inUse.add(b);
            held.push(b);
          }
          check(held.length > 0 && held.length < 4, `a 4 MiB backend gave ${held.length} SuperSlabs`);
          const before = e.tier.stats();
          check(e.tier.acquireSuperSlab() === 0, 'a second acquire at exhaustion did not return 0');
          checkStats('superslab-tier', e.tier.stats(), before, 'a failed acquire changed the counters');
          for (const b of held) check(state(e, b) === SuperSlabState.HOT && pd(e.f, b, PD_REGION_MASK) === SUPERSLAB_ALL_FREE, `failed acquire disturbed held SuperSlab ${hex(b)}`);
          valid(e, 'at exhaustion');
          e.f.regions.checkInvariants();
          release(e, held[0]!);
          const again = acquire(e, `after a release at exhaustion, retain ${retain}`);
          check(retain === 0 || again === held[0], 'the retained SuperSlab was not reused at exhaustion');
          valid(e, 'after recovery');
        }
      },
    },
    {
      name: 'superslab-tier: stats — counters are exact over a seeded random lifecycle (model run)',
      run() {
        const retain = 3;
        const e = setup({ retain, maxBytes: 32 << 20 });
        const rng = new Rng(0x5eed_7e12);
        const held = new Set<Ptr>();
        const deferred = new Set<Ptr>();
        const retained = new Set<Ptr>();
        const guards = new Map<Ptr, number>();
        const m: SuperSlabTierStats = { ...ZERO_STATS };
        const syncInUse = (): void => {
          e.regions.inUse.clear();
          for (const b of held) e.regions.inUse.add(b);
          for (const b of deferred) e.regions.inUse.add(b);
          for (const [b, g] of guards) if (g > 0) e.regions.inUse.add(b);
        };
        const toFree = (b: Ptr): void => {
          if (retained.size < retain) {
            retained.add(b);
            m.free++;
          } else {
            m.unmapped++;
            check(e.regions.unmapped(b), `model: SuperSlab ${hex(b)} beyond the retention limit was not unmapped`);
          }
        };
        for (let step = 0; step < 600; step++) {
          const when = `step ${step}`;
          const r = rng.int(100);
          const pinnable = [...held, ...deferred];
          if (r < 30 && held.size + deferred.size < 20) {
            const maps = e.regions.maps.length;
            const b = e.tier.acquireSuperSlab();
            check(b !== 0, `acquire returned 0 (${when})`);
            if (retained.size > 0) {
              check(retained.has(b), `acquire returned ${hex(b)}, not one of the retained SuperSlabs (${when})`);
              check(e.regions.maps.length === maps, `acquire mapped although a SuperSlab was retained (${when})`);
              retained.delete(b);
              m.free--;
              m.reused++;
            } else {
              check(e.regions.maps.length === maps + 1, `acquire with nothing retained made ${e.regions.maps.length - maps} maps (${when})`);
              m.mapped++;
            }
            check(state(e, b) === SuperSlabState.HOT, `acquired SuperSlab not HOT (${when})`);
            m.hot++;
            held.add(b);
          } else if (r < 55 && held.size > 0) {
            const b = rng.pick([...held]);
            held.delete(b);
            syncInUse();
            e.tier.releaseSuperSlab(b);
            m.hot--;
            if ((guards.get(b) ?? 0) > 0) {
              m.draining++;
              m.guardDeferred++;
              deferred.add(b);
              check(state(e, b) === SuperSlabState.DRAINING, `a pinned SuperSlab released is not DRAINING (${when})`);
            } else {
              toFree(b);
            }
          } else if (r < 70 && pinnable.length > 0) {
            const b = rng.pick(pinnable);
            e.tier.guardEnter(b);
            guards.set(b, (guards.get(b) ?? 0) + 1);
          } else if (r < 92) {
            const pinned = [...guards].filter(([, g]) => g > 0).map(([b]) => b);
            if (pinned.length === 0) continue;
            const b = rng.pick(pinned);
            const g = guards.get(b)! - 1;
            guards.set(b, g);
            const completes = g === 0 && deferred.delete(b); // the deferred release happens in this call
            syncInUse();
            e.tier.guardExit(b);
            if (completes) {
              m.draining--;
              toFree(b);
            }
          } else {
            const n = retained.size;
            const bytes = e.tier.trim();
            check(bytes === n * SUPERSLAB_SIZE, `trim returned ${bytes}, want ${n * SUPERSLAB_SIZE} (${when})`);
            for (const b of retained) check(e.regions.unmapped(b), `trim did not unmap ${hex(b)} (${when})`);
            m.unmapped += n;
            m.free = 0;
            retained.clear();
          }
          syncInUse();
          checkStats('superslab-tier', e.tier.stats(), m, when);
          for (const b of retained) check(state(e, b) === SuperSlabState.FREE, `retained SuperSlab ${hex(b)} not FREE (${when})`);
          for (const b of deferred) check(state(e, b) === SuperSlabState.DRAINING, `pinned released SuperSlab ${hex(b)} not DRAINING (${when})`);
          valid(e, when);
        }
        check(m.guardDeferred > 0 && m.reused > 0 && m.unmapped > 0, `model run did not reach every path (${JSON.stringify(m)})`);
      },
    },
    {
      name: 'superslab-tier: checkInvariants — detects a retained FREE SuperSlab with a slab in use, and changes nothing',
      run() {
        const e = setup({ retain: 2 });
        const a = acquire(e, 'A');
        acquire(e, 'B');
        release(e, a);
        e.tier.checkInvariants();
        setPd(e.f, a, PD_REGION_MASK, SUPERSLAB_ALL_FREE & ~(1 << 5));
        const before = e.tier.stats();
        expectCorruption('superslab-tier', 'a retained FREE SuperSlab whose slab 5 is in use', () => e.tier.checkInvariants());
        checkStats('superslab-tier', e.tier.stats(), before, 'checkInvariants changed the counters');
        check(pd(e.f, a, PD_REGION_MASK) === (SUPERSLAB_ALL_FREE & ~(1 << 5)) && state(e, a) === SuperSlabState.FREE, 'checkInvariants changed the corrupted header');
        setPd(e.f, a, PD_REGION_MASK, SUPERSLAB_ALL_FREE);
        e.tier.checkInvariants();
      },
    },
    {
      name: 'superslab-tier: checkInvariants — detects a retained SuperSlab that is not FREE',
      run() {
        const e = setup({ retain: 2 });
        const a = acquire(e, 'A');
        release(e, a);
        setPd(e.f, a, PD_REGION_STATE, SuperSlabState.HOT);
        expectCorruption('superslab-tier', 'a retained SuperSlab in state HOT', () => e.tier.checkInvariants());
        setPd(e.f, a, PD_REGION_STATE, SuperSlabState.FREE);
        e.tier.checkInvariants();
      },
    },
    {
      name: 'superslab-tier: checkInvariants — detects a TINY registry entry in a FREE SuperSlab',
      run() {
        const e = setup({ retain: 2 });
        const a = acquire(e, 'A');
        release(e, a);
        const slab = a + 7 * PAGE_SIZE;
        const saved = reg(e.f, slab);
        setReg(e.f, slab, PageKind.TINY | (4 << REG_CLASS_SHIFT) | (1 << REG_THREAD_SHIFT));
        expectCorruption('superslab-tier', 'a FREE SuperSlab with a TINY registry entry (contract invariant)', () => e.tier.checkInvariants());
        setReg(e.f, slab, saved);
        e.tier.checkInvariants();
      },
    },
    {
      name: 'superslab-tier: shared state — two handles on one slot (two threads) see one tier in the linear memory',
      run() {
        const f = fixture();
        const regions = new RegionProbe(f.regions, f);
        const t1 = make(f.context(0, 1), { regions, retain: 2 });
        const t2 = make(f.context(0, 2), { regions, retain: 2 });
        const a = t1.acquireSuperSlab();
        t1.releaseSuperSlab(a);
        check(t2.acquireSuperSlab() === a, 'thread 2 did not reuse the SuperSlab thread 1 released');
        checkStats('superslab-tier', t1.stats(), t2.stats(), 'two handles report different counters');
        checkStats('superslab-tier', t2.stats(), { ...ZERO_STATS, mapped: 1, reused: 1, hot: 1 }, 'two handles');
        t2.guardEnter(a);
        t1.releaseSuperSlab(a);
        regions.inUse.add(a);
        check(pd(f, a, PD_REGION_STATE) === SuperSlabState.DRAINING, 'a pin taken through thread 2 did not hold back thread 1\'s release');
        regions.inUse.delete(a);
        t2.guardExit(a);
        check(pd(f, a, PD_REGION_STATE) === SuperSlabState.FREE, 'thread 2\'s last guardExit did not complete the deferred release');
        t1.checkInvariants();
        t2.checkInvariants();
        checkClean(regions, 'two handles');
      },
    },
    {
      name: 'superslab-tier: shared memory — the lifecycle works with locks and atomics (BoxContext.shared)',
      run() {
        const e = setup({ shared: true, retain: 1 });
        check(e.f.context(0).shared, 'the fixture did not build a shared context');
        const a = acquire(e, 'A');
        const b = acquire(e, 'B');
        e.tier.guardEnter(a);
        release(e, a);
        e.regions.inUse.add(a);
        release(e, b);
        stats(e, { draining: 1, free: 1, hot: 0, guardDeferred: 1 }, 'shared: after releases');
        e.regions.inUse.delete(a);
        e.tier.guardExit(a);
        stats(e, { draining: 0, free: 1, unmapped: 1 }, 'shared: after guardExit');
        check(e.tier.trim() === SUPERSLAB_SIZE, 'shared: trim did not unmap the retained SuperSlab');
        valid(e, 'shared');
      },
    },
    reclaimCase('superslab-tier', reclaim),
  ];
  return cases;
}
