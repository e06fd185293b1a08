import {
  ErrorCode, isHakmemError, isRetiredEntry, PAGE_SHIFT, PAGE_SIZE, PD_REGION_GUARD, PD_REGION_MASK, PD_USED, REG_AUX_MASK, REG_AUX_SHIFT,
  REG_CLASS_MASK, REG_CLASS_SHIFT, REG_KIND_MASK, REG_THREAD_MASK, REG_THREAD_SHIFT, SUPERSLAB_ALL_FREE, SUPERSLAB_SIZE,
  type Ptr, type RegionSource, type SlabSink, type SlabSource, type SuperSlabLender, type SuperSlabSink,
  type SuperSlabSource,
} from '@hakmem/contracts';
import type { SlabFixture } from './fixture.js';
import { check, fail } from './types.js';

/**
 * Helpers of the slab-tier conformance suites: readers of the metadata layout.ts
 * documents (page descriptors, registry entries), a seeded random source, a corruption
 * check, and probes — pass-through wrappers of the chain interfaces that record every
 * call and check the caller's side of each contract. A probe never throws from inside a
 * call (the box under test may hold a lock); it records violations, and the suite checks
 * them after each step.
 */

/** Int32 index of word `word` of the page descriptor of the page holding `addr`. */
export function pdIndex(f: SlabFixture, addr: Ptr, word: number): number {
  return (f.layout.pageTableOffset >>> 2) + ((addr >>> PAGE_SHIFT) << 4) + word;
}

/** Reads word `word` (a `PD_*` constant) of the descriptor of the page holding `addr`. */
export function pd(f: SlabFixture, addr: Ptr, word: number): number {
  return f.backend.views.i32[pdIndex(f, addr, word)]!;
}

/** Writes word `word` of the descriptor of the page holding `addr` (deliberate corruption, simulated callers). */
export function setPd(f: SlabFixture, addr: Ptr, word: number, value: number): void {
  f.backend.views.i32[pdIndex(f, addr, word)] = value;
}

/** The registry entry of the page holding `addr`. */
export function reg(f: SlabFixture, addr: Ptr): number {
  return f.backend.views.i32[(f.layout.registryOffset >>> 2) + (addr >>> PAGE_SHIFT)]!;
}

/** Writes the registry entry of the page holding `addr`. */
export function setReg(f: SlabFixture, addr: Ptr, value: number): void {
  f.backend.views.i32[(f.layout.registryOffset >>> 2) + (addr >>> PAGE_SHIFT)] = value;
}

/** The kind field (`PageKind`) of a registry entry. */
export function regKind(e: number): number {
  return e & REG_KIND_MASK;
}

/** The class field of a registry entry. */
export function regClass(e: number): number {
  return (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK;
}

/** The thread field of a registry entry. */
export function regThread(e: number): number {
  return (e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK;
}

/** The aux field of a registry entry (for a tiny slab: its index in the SuperSlab). */
export function regAux(e: number): number {
  return (e >>> REG_AUX_SHIFT) & REG_AUX_MASK;
}

/** Base of the SuperSlab holding `addr` (SuperSlabs are aligned to their size). */
export function superSlabOf(addr: Ptr): Ptr {
  return addr & ~(SUPERSLAB_SIZE - 1);
}

/** Index of the slab holding `addr` inside its SuperSlab. */
export function slabIndexOf(addr: Ptr): number {
  return (addr >>> PAGE_SHIFT) & (SUPERSLAB_SIZE / PAGE_SIZE - 1);
}

/** `0x…` for messages. */
export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/** A deterministic xorshift32 stream: a failing seed is a replayable case. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed | 0 || 1;
  }

  /** A uniform integer in `[0, n)`. */
  int(n: number): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x;
    return (x >>> 0) % n;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/**
 * Runs `checkInvariants` on a deliberately corrupted state and requires the contract's
 * answer: a `HakmemError(E_CORRUPTION)` naming the box (its `box` field or its message).
 * `what` names the corruption for the failure message.
 */
export function expectCorruption(boxName: string, what: string, checkInvariants: () => void): void {
  try {
    checkInvariants();
  } catch (e) {
    if (!isHakmemError(e, ErrorCode.CORRUPTION)) fail(`${boxName}.checkInvariants on ${what}: threw ${String(e)}, want HakmemError(E_CORRUPTION)`);
    check(e.box === boxName || e.message.includes(boxName), `${boxName}.checkInvariants on ${what}: the E_CORRUPTION error does not name the box (${e.message})`);
    return;
  }
  fail(`${boxName}.checkInvariants did not detect ${what}`);
}

/** Calls `fn`; returns the thrown value, or undefined. */
export function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Requires two stats snapshots to be equal field by field. */
export function checkStats<T extends object>(box: string, got: T, want: T, when: string): void {
  for (const k of Object.keys(want) as Array<keyof T>) {
    check(got[k] === want[k], `${box}.stats().${String(k)} is ${String(got[k])}, want ${String(want[k])} (${when})`);
  }
}

/** Requires a probe to have recorded no violation. */
export function checkClean(probe: { readonly violations: readonly string[] }, when: string): void {
  if (probe.violations.length > 0) fail(`${probe.violations[0]} (${when}; ${probe.violations.length} violation(s))`);
}

/**
 * A {@link RegionSource} that forwards to os-boundary and records every call. On each
 * `unmap` it checks the release guard: no SuperSlab in the range may be in use
 * (`inUse` says so, e.g. held by the test, or pinned), its descriptor must say guard 0
 * and every slab free, and every registry entry of the range must be cleared (kind
 * NONE) before the range goes back (layout.ts).
 */
export class RegionProbe implements RegionSource {
  /** Successful maps: `[addr, bytes]`. */
  readonly maps: Array<[Ptr, number]> = [];
  /** Maps that returned 0. */
  mapFailures = 0;
  /** Unmaps: `[addr, bytes]`. */
  readonly unmaps: Array<[Ptr, number]> = [];
  /** Contract violations seen by the probe. */
  readonly violations: string[] = [];
  /** SuperSlab bases that must not be unmapped now. */
  readonly inUse = new Set<Ptr>();

  constructor(private readonly inner: RegionSource, private readonly f: SlabFixture) {}

  map(bytes: number, align: number): Ptr {
    const p = this.inner.map(bytes, align);
    if (p === 0) this.mapFailures++;
    else this.maps.push([p, bytes]);
    return p;
  }

  lastMapZeroed(): boolean {
    return this.inner.lastMapZeroed();
  }

  unmap(addr: Ptr, bytes: number): void {
    const end = addr + bytes;
    for (const b of this.inUse) {
      if (b < end && b + SUPERSLAB_SIZE > addr) this.violations.push(`SuperSlab ${hex(b)} was unmapped while in use or pinned`);
    }
    for (let b = superSlabOf(addr + SUPERSLAB_SIZE - 1); b + SUPERSLAB_SIZE <= end; b += SUPERSLAB_SIZE) {
      if (pd(this.f, b, PD_REGION_GUARD) !== 0) this.violations.push(`SuperSlab ${hex(b)} was unmapped with release guard ${pd(this.f, b, PD_REGION_GUARD)}`);
      if (pd(this.f, b, PD_REGION_MASK) !== SUPERSLAB_ALL_FREE) this.violations.push(`SuperSlab ${hex(b)} was unmapped with slabs in use (free mask ${hex(pd(this.f, b, PD_REGION_MASK))})`);
    }
    for (let p = addr; p < end; p += PAGE_SIZE) {
      if (!isRetiredEntry(reg(this.f, p))) this.violations.push(`page ${hex(p)} was unmapped with registry entry ${hex(reg(this.f, p))} (layout.ts: cleared to kind NONE, or MAPPED with the thread's id in a shared heap, before unmap)`);
    }
    this.inner.unmap(addr, bytes);
    this.unmaps.push([addr, bytes]);
  }

  /** True when some recorded unmap covers `[addr, addr + bytes)`. */
  unmapped(addr: Ptr, bytes = SUPERSLAB_SIZE): boolean {
    return this.unmaps.some(([a, n]) => a <= addr && addr + bytes <= a + n);
  }
}

/**
 * A superslab tier seen from the box above it: forwards and records, counts nesting
 * (a call made while another is running is re-entrant) and runs `onCall` (e.g. the
 * caller's `checkInvariants`) at every entry, recording what it throws.
 */
export class TierProbe implements SuperSlabSource, SuperSlabSink {
  /** Bases returned by successful acquires. */
  readonly acquired: Ptr[] = [];
  /** Acquires that returned 0. */
  acquireFailures = 0;
  /** Bases given back. */
  readonly released: Ptr[] = [];
  /** Contract violations seen by the probe. */
  readonly violations: string[] = [];
  /** Run at every call (before forwarding). */
  onCall: (() => void) | undefined;
  private depth = 0;

  constructor(private readonly inner: SuperSlabSource & SuperSlabSink, private readonly f: SlabFixture) {}

  private enter(what: string): void {
    if (this.depth++ > 0) this.violations.push(`superslab tier called re-entrantly (${what})`);
    if (this.onCall !== undefined) {
      try {
        this.onCall();
      } catch (e) {
        this.violations.push(`state inconsistent when calling the tier (${what}): ${String(e)}`);
      }
    }
  }

  acquireSuperSlab(): Ptr {
    this.enter('acquireSuperSlab');
    try {
      const b = this.inner.acquireSuperSlab();
      if (b === 0) this.acquireFailures++;
      else this.acquired.push(b);
      return b;
    } finally {
      this.depth--;
    }
  }

  releaseSuperSlab(base: Ptr): void {
    this.enter('releaseSuperSlab');
    try {
      if (pd(this.f, base, PD_REGION_MASK) !== SUPERSLAB_ALL_FREE) this.violations.push(`SuperSlab ${hex(base)} given to the tier with slabs in use (mask ${hex(pd(this.f, base, PD_REGION_MASK))})`);
      this.released.push(base);
      this.inner.releaseSuperSlab(base);
    } finally {
      this.depth--;
    }
  }
}

/** A shared pool seen from a warm pool: forwards and records every call. */
export class LenderProbe implements SuperSlabLender, SlabSink {
  /** Successful borrows: `[base, tid]`. */
  readonly borrowed: Array<[Ptr, number]> = [];
  /** Borrows that returned 0. */
  borrowFailures = 0;
  /** SuperSlabs given back, with their free-slab mask at that time: `[base, mask]`. */
  readonly returned: Array<[Ptr, number]> = [];
  /** Slabs released into a SuperSlab the caller no longer owns. */
  readonly slabs: Ptr[] = [];
  /** Contract violations seen by the probe. */
  readonly violations: string[] = [];
  /** SuperSlabs borrowed and not given back: what the caller holds. */
  readonly holding = new Set<Ptr>();

  constructor(private readonly inner: SuperSlabLender & SlabSink, private readonly f: SlabFixture) {}

  acquireSuperSlab(tid: number): Ptr {
    const b = this.inner.acquireSuperSlab(tid);
    if (b === 0) {
      this.borrowFailures++;
      return 0;
    }
    if (this.holding.has(b)) this.violations.push(`SuperSlab ${hex(b)} lent twice`);
    this.borrowed.push([b, tid]);
    this.holding.add(b);
    return b;
  }

  releaseSuperSlab(base: Ptr): void {
    if (!this.holding.delete(base)) this.violations.push(`SuperSlab ${hex(base)} given back but not borrowed`);
    this.returned.push([base, pd(this.f, base, PD_REGION_MASK)]);
    this.inner.releaseSuperSlab(base);
  }

  releaseSlab(slab: Ptr): void {
    this.slabs.push(slab);
    this.inner.releaseSlab(slab);
  }
}

/**
 * A warm pool seen from a page box: forwards and records; keeps the set of slabs the
 * caller holds; checks that `acquireSlab` is asked for the caller's own thread and that
 * only empty slabs come back (SlabSink: "every block free").
 */
export class SlabProbe implements SlabSource, SlabSink {
  /** Successful acquires: `[slab, cls]`. */
  readonly acquired: Array<[Ptr, number]> = [];
  /** Acquires that returned 0. */
  acquireFailures = 0;
  /** Slabs given back. */
  readonly released: Ptr[] = [];
  /** Slabs the caller holds now, with their class. */
  readonly owned = new Map<Ptr, number>();
  /** Contract violations seen by the probe. */
  readonly violations: string[] = [];
  /**
   * Called on every successful acquire before the slab is handed on: a suite may make
   * the slab partly used here (SlabSource allows it).
   */
  onAcquire: ((slab: Ptr, cls: number) => void) | undefined;

  constructor(private readonly inner: SlabSource & SlabSink, private readonly f: SlabFixture, private readonly tid: number) {}

  acquireSlab(cls: number, tid: number): Ptr {
    if (tid !== this.tid) this.violations.push(`acquireSlab asked for thread ${tid}, the caller is thread ${this.tid}`);
    const s = this.inner.acquireSlab(cls, tid);
    if (s === 0) {
      this.acquireFailures++;
      return 0;
    }
    this.acquired.push([s, cls]);
    this.owned.set(s, cls);
    this.onAcquire?.(s, cls);
    return s;
  }

  releaseSlab(slab: Ptr): void {
    if (!this.owned.has(slab)) this.violations.push(`slab ${hex(slab)} released but not held`);
    if (pd(this.f, slab, PD_USED) !== 0) this.violations.push(`slab ${hex(slab)} released with ${pd(this.f, slab, PD_USED)} blocks in use`);
    this.owned.delete(slab);
    this.released.push(slab);
    this.inner.releaseSlab(slab);
  }
}
