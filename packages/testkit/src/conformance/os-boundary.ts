import {
  ErrorCode, isHakmemError, MAX_HEAP_BYTES, PAGE_SHIFT, PAGE_SIZE, PageKind, REG_THREAD_SHIFT,
  type MemoryBackend, type OsBoundary, type OsBoundaryOptions, type OsBoundaryStats, type Ptr, type SharedBackendHandle,
} from '@hakmem/contracts';
import { FaultyBackend } from '../faulty-backend.js';
import { noThrow } from './pool-refill.js';
import { expectCorruption, hex, Rng } from './slab-probes.js';
import { createTestBackend } from './test-backend.js';
import { check, expectHakmemError, fail, type ConformanceCase } from './types.js';

/** Factory of an OS boundary: the signature of `BoxFactories.osBoundary` in `@hakmem/allocator`. */
export type OsBoundaryFactory = (options: OsBoundaryOptions) => OsBoundary;

/** What the os-boundary suite asks of a fresh backend. */
export interface OsBoundaryBackendOptions {
  /** Initial size in bytes: the suite's metadata prefix below `heapStart` (two pages). */
  readonly initialBytes: number;
  /** The maximum in bytes, a multiple of 64 KiB (at most 64 MiB). */
  readonly maxBytes: number;
  /** Build on shared memory (the cases of a shared boundary). */
  readonly shared: boolean;
}

/**
 * The environment of {@link osBoundaryConformance}; every field is optional.
 *
 * ```ts
 * import { Worker } from 'node:worker_threads';
 * import { createNativeBackend } from '@hakmem/memory-backend';
 * const env: OsBoundaryEnv = {
 *   backend: (o) => createNativeBackend(o),
 *   // A worker whose entry calls osBoundaryThread(createMyOsBoundary, attachBackend, workerData)
 *   // and posts the report back.
 *   threads: (data) => new Promise((resolve, reject) => {
 *     const w = new Worker(new URL('./os-boundary-thread.js', import.meta.url), { workerData: data });
 *     w.once('message', (report) => { resolve(report); void w.terminate(); });
 *     w.once('error', reject);
 *   }),
 * };
 * ```
 */
export interface OsBoundaryEnv {
  /**
   * A fresh, zeroed backend per case (e.g. `createNativeBackend` or `createWasmBackend` of
   * `@hakmem/memory-backend`). Its size must start at `initialBytes` (at least), and its
   * `share()` handle must be one the `attach` of `threads` understands. Default: a backend of
   * testkit's own over a resizable `ArrayBuffer` / growable `SharedArrayBuffer`, with
   * fixed-length views re-covered on growth (a `native` handle that `attachBackend` of
   * `@hakmem/memory-backend` attaches to).
   */
  readonly backend?: (options: OsBoundaryBackendOptions) => MemoryBackend;
  /**
   * Runs {@link osBoundaryThread} with `data` in a new worker (thread) and resolves with its
   * report. Given, the suite has one more case: two workers attached to one shared boundary
   * map and unmap at once, 50 000 calls each (a stress test: a boundary without the lock
   * fails it in most runs, not in every one). Without it the suite runs in one thread only;
   * the lock is checked either way through the atomics each operation performs and the
   * state word held across `backend.grow` (deterministic).
   */
  readonly threads?: (data: OsBoundaryThreadData) => Promise<OsBoundaryThreadReport>;
}

/** What a worker of the threads case is given (plain data and shared memory: `postMessage` carries it). */
export interface OsBoundaryThreadData {
  /** The shared backend's handle (`share()`): the worker attaches its own backend to it. */
  readonly handle: SharedBackendHandle;
  readonly stateOffset: number;
  readonly stateBytes: number;
  readonly heapStart: number;
  /** The worker's thread id (its boundary's `tid`). */
  readonly tid: number;
  /** Workers that start together (a spin barrier on `sync`). */
  readonly workers: number;
  /** map / unmap calls the worker makes. */
  readonly ops: number;
  readonly seed: number;
  /** One int32 per page of the maximum: the tid holding the page (0 = nobody), taken with compareExchange. */
  readonly owners: SharedArrayBuffer;
  /** One int32: workers ready (the start barrier). */
  readonly sync: SharedArrayBuffer;
}

/** What a worker of the threads case saw. */
export interface OsBoundaryThreadReport {
  maps: number;
  mapFailures: number;
  unmaps: number;
  bytesMapped: number;
  bytesUnmapped: number;
  /** Pages map handed this worker while the owner table said another worker held them. */
  overlaps: number;
  /** Pages this worker unmapped that the owner table no longer said were its own. */
  stolen: number;
  /** Ranges not aligned as asked. */
  misaligned: number;
  /** Ranges outside `[heapStart, backend.byteLength())`. */
  outside: number;
  /** Pages whose first word (tagged by this worker when it got them) changed while it held them. */
  clobbered: number;
  /** Anything the boundary threw (the worker stops at the first). */
  errors: string[];
}

const C = 'os-boundary';
const P = PAGE_SIZE;
const MiB = 1 << 20;
/** Where the suite puts the box's state: in page 0, after a pretend global header. */
const STATE_OFFSET = 1024;
/** The page registry (one int32 per page of the maximum), in page 1. */
const REGISTRY_OFFSET = P;
/** The first address handed out: page 2. */
const HEAP_START = 2 * P;
const HEAP_PAGE = HEAP_START >>> PAGE_SHIFT;
/** All of page 0 after the pretend header: room for the state of a maximum up to about 1 GiB. */
const STATE_BYTES = REGISTRY_OFFSET - STATE_OFFSET;
const DEFAULT_MAX = 16 * MiB;

/** A fresh boundary over a fresh backend, as a case sees it. */
interface Rig {
  /** The env's backend. */
  readonly inner: MemoryBackend;
  /** What the boundary is given: `inner` behind a grow hook that counts and can refuse. */
  readonly backend: FaultyBackend;
  readonly os: OsBoundary;
  readonly options: OsBoundaryOptions;
  readonly maxPages: number;
  /** While true, `backend.grow` returns -1 (a host that refuses memory). */
  refuse: boolean;
  /** Runs inside every `backend.grow` call, before the backend grows (inside the boundary's critical section). */
  onGrow: (() => void) | undefined;
  /** Another instance on the same state (`attach: true`), of thread `tid`. */
  attach(tid: number): OsBoundary;
  /** Successful `backend.grow` calls so far. */
  grows(): number;
}

interface RigOptions {
  readonly maxBytes?: number;
  readonly shared?: boolean;
  readonly registry?: boolean;
  readonly tid?: number;
}

/** `[start, bytes]` pairs for messages: `0x20000+3p`. */
function fmtRanges(ranges: ReadonlyArray<readonly [number, number]>): string {
  return `[${ranges.map(([a, n]) => `${hex(a)}+${n / P}p`).join(', ')}]`;
}

const alignPagesOf = (align: number): number => (align <= P ? 1 : align / P);
const pagesOf = (bytes: number): number => Math.ceil(bytes / P);

/**
 * Conformance suite of the `OsBoundary` contract (packages/contracts/src/boxes/os-boundary.ts:
 * `RegionSource` — `map`, `lastMapZeroed`, `unmap` — plus `decommit`, `mapAt`, `end`,
 * `freeRanges`, `OsBoundaryStats`, `Box` and the options `shared`, `attach`,
 * `registryOffset`, `tid`, and `RecoverableBox.recover` when implemented).
 *
 * It checks: `map` rounds to pages and returns an aligned address, at or above
 * `heapStart`, of a range no other mapped range overlaps; free ranges are reused before
 * the memory grows; 0 — never a throw, nothing changed but `mapFailures` — only when
 * neither a free range nor growth can satisfy a request; typed errors for bad sizes,
 * alignments and ranges (double unmap), with the state byte-identical; `lastMapZeroed` is
 * sound (and true for fresh growth); `unmap` coalesces and the memory never shrinks;
 * partial unmaps; `decommit`; `mapAt` exactly as documented; `releaseTop` (the free top
 * given back when private over a backend that can shrink, 0 and nothing changed otherwise); `freeRanges()` exactly the
 * unmapped pages of `[heapStart, end())`; exact stats; `checkInvariants` (passes, changes
 * nothing, reports corrupted state words); attached instances; no atomics at all when
 * private, an Atomics-based lock around every operation when shared; the registry stamps;
 * `recover`; and, with `env.threads`, two workers on one shared boundary. Two seeded model
 * runs predict every free page and counter without assuming a placement policy (first fit
 * or any other).
 *
 * `make` has the signature of `BoxFactories.osBoundary`. The suite lays the memory out
 * itself: the box's state at byte 1024 (`stateBytes` = the rest of page 0, 63 KiB: enough
 * for a maximum up to about 1 GiB), the page registry in page 1 (`registryOffset` 65536,
 * given only to the registry case), `heapStart` = 131072; backends of at most 64 MiB.
 */
export function osBoundaryConformance(make: OsBoundaryFactory, env: OsBoundaryEnv = {}): ConformanceCase[] {
  const newBackend = env.backend ?? createTestBackend;

  const setup = (o: RigOptions = {}): Rig => {
    const shared = o.shared ?? false;
    const inner = newBackend({ initialBytes: HEAP_START, maxBytes: o.maxBytes ?? DEFAULT_MAX, shared });
    check(inner.shared === shared, `${C} suite: env.backend({ shared: ${shared} }) returned a backend with shared ${inner.shared}`);
    check(inner.byteLength() >= HEAP_START, `${C} suite: env.backend must start with at least ${HEAP_START} bytes (the state and the registry lie below heapStart), got ${inner.byteLength()}`);
    const rig = { refuse: false, onGrow: undefined } as { refuse: boolean; onGrow: (() => void) | undefined };
    const backend = new FaultyBackend(inner, () => {
      rig.onGrow?.();
      return rig.refuse;
    });
    const options: OsBoundaryOptions = {
      backend, stateOffset: STATE_OFFSET, stateBytes: STATE_BYTES, heapStart: HEAP_START, shared, tid: o.tid ?? 1,
      ...(o.registry === true ? { registryOffset: REGISTRY_OFFSET } : {}),
    };
    const os = make(options);
    return Object.assign(rig, {
      inner, backend, os, options, maxPages: inner.maxBytes >>> PAGE_SHIFT,
      attach: (tid: number) => make({ ...options, attach: true, tid }),
      grows: () => backend.grows - backend.failed,
    });
  };

  /** The views, covering the memory as it is now. */
  const views = (r: Rig): MemoryBackend['views'] => {
    r.inner.refresh();
    return r.inner.views;
  };
  /** A copy of the state words (`[stateOffset, stateOffset + stateBytes)`). */
  const stateWords = (r: Rig): Int32Array => views(r).i32.slice(STATE_OFFSET >>> 2, (STATE_OFFSET + STATE_BYTES) >>> 2);
  /** Everything observable but the state bytes, as a string. */
  const observe = (r: Rig, os: OsBoundary = r.os): string => JSON.stringify({
    stats: os.stats(), freeRanges: os.freeRanges(), end: os.end(), length: r.inner.byteLength(), lastMapZeroed: os.lastMapZeroed(),
  });
  interface Snap { readonly seen: string; readonly state: Int32Array }
  const snap = (r: Rig, os: OsBoundary = r.os): Snap => ({ seen: observe(r, os), state: stateWords(r) });
  const unchanged = (r: Rig, before: Snap, clause: string, os: OsBoundary = r.os): void => {
    const after = snap(r, os);
    check(after.seen === before.seen, `${clause}: "nothing changed", but before ${before.seen}\nafter ${after.seen}`);
    const i = before.state.findIndex((w, k) => w !== after.state[k]);
    check(i < 0, `${clause}: "nothing changed", but the state's byte ${STATE_OFFSET + 4 * i} went from ${hex(before.state[i]!)} to ${hex(after.state[i]!)}`);
  };
  /** Throws unless `fn` throws `HakmemError(code)` with every observable bit of the boundary as it was. */
  const rejected = (r: Rig, fn: () => unknown, code: ErrorCode, clause: string): void => {
    const before = snap(r);
    expectHakmemError(fn, code, clause);
    unchanged(r, before, clause);
    noThrow(`${clause}: checkInvariants after the rejected call`, () => r.os.checkInvariants());
  };

  /** Byte offset in `[addr, addr + bytes)` of the first non-zero byte (by words), or -1. */
  const firstNonZero = (r: Rig, addr: Ptr, bytes: number): number => {
    const m = views(r).i32;
    for (let i = addr >>> 2, e = (addr + bytes) >>> 2; i < e; i++) if (m[i] !== 0) return i * 4 - addr;
    return -1;
  };
  /** `lastMapZeroed` is sound for the range just mapped: when it says zero, every byte is. */
  const soundZero = (r: Rig, os: OsBoundary, addr: Ptr, bytes: number, clause: string): boolean => {
    const z = os.lastMapZeroed();
    if (z) {
      const at = firstNonZero(r, addr, bytes);
      check(at < 0, `${clause}: lastMapZeroed() is true for [${hex(addr)}, +${bytes / P}p), but its byte ${at} is not zero`);
    }
    return z;
  };
  const fill = (r: Rig, addr: Ptr, bytes: number, value: number): void => {
    views(r).u8.fill(value, addr, addr + bytes);
  };

  /** The pages the test holds (mapped through the boundary), to predict the free ranges exactly. */
  class Pages {
    readonly held = new Uint8Array(1 << 15);
    inUse = 0;
    take(addr: Ptr, pages: number, when: string): void {
      for (let p = addr >>> PAGE_SHIFT; p < (addr >>> PAGE_SHIFT) + pages; p++) {
        check(this.held[p] === 0, `${C} map: the range [${hex(addr)}, +${pages}p) overlaps the mapped page ${hex(p * P)} (${when})`);
        this.held[p] = 1;
      }
      this.inUse += pages;
    }
    give(addr: Ptr, pages: number): void {
      this.held.fill(0, addr >>> PAGE_SHIFT, (addr >>> PAGE_SHIFT) + pages);
      this.inUse -= pages;
    }
    /** The unmapped pages of `[heapStart, end)`, as maximal runs: what freeRanges() must be. */
    free(end: number): Array<[Ptr, number]> {
      const out: Array<[Ptr, number]> = [];
      for (let p = HEAP_PAGE, e = end >>> PAGE_SHIFT; p < e; p++) {
        if (this.held[p] !== 0) continue;
        let q = p;
        while (q < e && this.held[q] === 0) q++;
        out.push([p * P, (q - p) * P]);
        p = q;
      }
      return out;
    }
    /** True when `pages` free pages at an `alignPages`-aligned page lie below page `limit` (pages at or past `end` count as free). */
    fits(pages: number, alignPages: number, limit: number): boolean {
      for (let p = Math.ceil(HEAP_PAGE / alignPages) * alignPages; p + pages <= limit; p += alignPages) {
        let ok = true;
        for (let q = p; q < p + pages; q++) {
          if (this.held[q] !== 0) {
            ok = false;
            break;
          }
        }
        if (ok) return true;
      }
      return false;
    }
  }

  /** The layout facts of a successful map of `bytes` at `align`; takes its pages. */
  const checkMapped = (r: Rig, pm: Pages, a: Ptr, bytes: number, align: number, when: string, os: OsBoundary = r.os): void => {
    const pages = pagesOf(bytes);
    const want = Math.max(align, P);
    check(Number.isInteger(a) && a > 0 && a % want === 0, `${C} map(${bytes}, ${align}): ${hex(a)} is not a multiple of ${want} (${when})`);
    check(a >= HEAP_START, `${C} map(${bytes}, ${align}): ${hex(a)} lies below heapStart ${hex(HEAP_START)} (${when})`);
    const end = os.end();
    check(a + pages * P <= end, `${C} map(${bytes}, ${align}): [${hex(a)}, +${pages}p) runs past end() ${hex(end)} (${when})`);
    check(end <= r.inner.byteLength(), `${C}: end() ${hex(end)} lies beyond the backend's length ${hex(r.inner.byteLength())} (${when})`);
    pm.take(a, pages, when);
  };
  const mapOk = (r: Rig, pm: Pages, bytes: number, align: number, when: string, os: OsBoundary = r.os): Ptr => {
    const a = noThrow(`${C} map`, () => os.map(bytes, align));
    check(a !== 0, `${C} map(${bytes}, ${align}) returned 0 with memory to spare (${when})`);
    checkMapped(r, pm, a, bytes, align, when, os);
    return a;
  };
  /** freeRanges() is exactly the unmapped pages of [heapStart, end()) (address order, coalesced). */
  const checkFree = (r: Rig, pm: Pages, clause: string, when: string, os: OsBoundary = r.os): void => {
    const got = os.freeRanges();
    const want = pm.free(os.end());
    check(JSON.stringify(got) === JSON.stringify(want),
      `${clause}: freeRanges() is ${fmtRanges(got)}, want ${fmtRanges(want)} (the unmapped pages of [heapStart, end()) in address order, coalesced) (${when})`);
  };

  // --- the model runs: one random sequence, two sets of checks ---------------------------

  /**
   * A seeded run of map / whole and partial unmap / decommit / double unmap, some maps with
   * growth refused, against a page model. `layout`: addresses, overlap, reuse before growth,
   * 0 only when nothing fits, end() and the backend's length never shrinking, free ranges
   * exactly predicted, contents of mapped ranges untouched, lastMapZeroed sound;
   * `stats`: every counter exact after every step.
   */
  const modelRun = (seed: number, mode: 'layout' | 'stats'): void => {
    const r = setup({ maxBytes: 32 * MiB });
    const os = r.os;
    const pm = new Pages();
    const rng = new Rng(seed);
    const held: Array<{ page: number; pages: number; salt: number }> = [];
    const want = { maps: 0, mapFailures: 0, unmaps: 0, decommits: 0, bytesMapped: 0, bytesUnmapped: 0, bytesDecommitted: 0 };
    const tagOf = (page: number, salt: number): number => Math.imul(page + 1, 0x9e3779b1) ^ salt;
    let end = os.end();
    let length = r.inner.byteLength();
    check(end >= HEAP_START && end <= Math.max(length, HEAP_START), `${C}: a fresh boundary's end() ${hex(end)} is not in [heapStart, the backend's length]`);
    let salt = 1;
    const layout = mode === 'layout';
    const aligns = [1, 8, 4096, P, 2 * P, 4 * P, 16 * P, 64 * P];
    const step = (i: number): void => {
      const when = `seed ${seed}, step ${i}`;
      const k = rng.int(100);
      if (held.length === 0 || (k < 40 && held.length < 24)) {
        const pages = rng.int(10) === 0 ? 1 + rng.int(64) : 1 + rng.int(8);
        const bytes = (pages - 1) * P + 1 + rng.int(P);
        const align = rng.pick(aligns);
        const ap = alignPagesOf(align);
        r.refuse = rng.int(10) === 0;
        const inRanges = pm.fits(pages, ap, end >>> PAGE_SHIFT);
        const inMemory = pm.fits(pages, ap, length >>> PAGE_SHIFT);
        const byGrowth = !r.refuse && pm.fits(pages, ap, r.maxPages);
        const grows = r.grows();
        const zeroed = os.lastMapZeroed();
        const a = noThrow(`${C} map`, () => os.map(bytes, align));
        r.refuse = false;
        if (a === 0) {
          want.mapFailures++;
          if (layout) {
            check(!inMemory && !byGrowth, `${C} map(${bytes}, ${align}) returned 0, but ${inRanges ? 'a free range' : inMemory ? 'free memory below the backend\'s length' : 'growth'} could satisfy it (${when})`);
            check(os.end() === end && r.inner.byteLength() === length && os.lastMapZeroed() === zeroed, `${C} map returned 0: "nothing changes then" — end(), the backend's length or lastMapZeroed changed (${when})`);
          }
        } else {
          want.maps++;
          want.bytesMapped += pages * P;
          if (layout) {
            checkMapped(r, pm, a, bytes, align, when);
            if (inRanges) {
              check(os.end() === end && r.inner.byteLength() === length && r.grows() === grows,
                `${C} map(${bytes}, ${align}): "reused from unmapped ranges before the memory grows" — a free range could hold it, but end() ${hex(end)} → ${hex(os.end())}, the backend ${hex(length)} → ${hex(r.inner.byteLength())} (${when})`);
            }
            soundZero(r, os, a, pages * P, `${C} map (${when})`);
          } else {
            pm.take(a, pages, when);
          }
          const m = views(r).i32;
          for (let p = a >>> PAGE_SHIFT; p < (a >>> PAGE_SHIFT) + pages; p++) m[p << 14] = tagOf(p, salt);
          held.push({ page: a >>> PAGE_SHIFT, pages, salt: salt++ });
        }
      } else if (k < 75) {
        const j = rng.int(held.length);
        const h = held[j]!;
        const cut = h.pages === 1 ? 0 : rng.int(4); // 0 whole, 1 head, 2 tail, 3 middle
        let from = h.page;
        let n = h.pages;
        if (cut === 1) n = 1 + rng.int(h.pages - 1);
        else if (cut === 2) { n = 1 + rng.int(h.pages - 1); from = h.page + h.pages - n; }
        else if (cut === 3 && h.pages >= 3) { n = 1 + rng.int(h.pages - 2); from = h.page + 1 + rng.int(h.pages - 1 - n); }
        if (layout) {
          const m = views(r).i32;
          for (let p = from; p < from + n; p++) {
            check(m[p << 14] === tagOf(p, h.salt), `${C}: the mapped page ${hex(p * P)} changed while mapped (its first word ${hex(m[p << 14]!)}): the boundary wrote into memory it had handed out (${when})`);
          }
        }
        const bytes = n * P - rng.int(P);
        noThrow(`${C} unmap`, () => os.unmap(from * P, bytes));
        pm.give(from * P, n);
        held.splice(j, 1);
        if (from > h.page) held.push({ page: h.page, pages: from - h.page, salt: h.salt });
        if (from + n < h.page + h.pages) held.push({ page: from + n, pages: h.page + h.pages - from - n, salt: h.salt });
        want.unmaps++;
        want.bytesUnmapped += n * P;
        if (layout) {
          check(os.end() === end && r.inner.byteLength() === length, `${C} unmap: "the memory never shrinks" — end() ${hex(end)} → ${hex(os.end())}, the backend ${hex(length)} → ${hex(r.inner.byteLength())} (${when})`);
        }
      } else if (k < 85) {
        // A double unmap (a free page), or a range past end(): E_INVALID_RANGE, nothing changed.
        const free = pm.free(end);
        const before = layout ? observe(r) : '';
        let addr: Ptr;
        let bytes: number;
        if (free.length > 0 && rng.int(3) !== 0) {
          const [s, len] = rng.pick(free);
          addr = s + rng.int(len / P) * P;
          bytes = P;
        } else {
          addr = end - P;
          bytes = 2 * P;
        }
        expectHakmemError(() => os.unmap(addr, bytes), ErrorCode.INVALID_RANGE, `${C} unmap(${hex(addr)}, ${bytes / P}p) of a free page or past end() (${when})`);
        if (layout) check(observe(r) === before, `${C} unmap of a bad range: "nothing changes" (${when})`);
      } else {
        const h = rng.pick(held);
        const from = h.page + rng.int(h.pages);
        const n = 1 + rng.int(h.page + h.pages - from);
        const before = layout ? JSON.stringify(os.freeRanges()) : '';
        noThrow(`${C} decommit`, () => os.decommit(from * P, n * P));
        want.decommits++;
        want.bytesDecommitted += n * P;
        if (layout) check(JSON.stringify(os.freeRanges()) === before, `${C} decommit: "the range stays mapped", but freeRanges() changed (${when})`);
      }
      const newEnd = os.end();
      const newLength = r.inner.byteLength();
      if (layout) {
        check(newEnd >= end && newLength >= length, `${C}: end() or the backend's length went down (${hex(end)} → ${hex(newEnd)}, ${hex(length)} → ${hex(newLength)}) (${when})`);
        check(newEnd <= newLength, `${C}: end() ${hex(newEnd)} lies beyond the backend's length ${hex(newLength)} (${when})`);
        checkFree(r, pm, `${C}`, when);
        if (i % 40 === 0) noThrow(`${C} checkInvariants (${when})`, () => os.checkInvariants());
      }
      end = newEnd;
      length = newLength;
      if (!layout) {
        const s = os.stats();
        const got: Record<string, number> = { ...s };
        const expect: Record<string, number> = {
          ...want, grows: r.grows(), bytesInUse: pm.inUse * P, bytesFree: end - HEAP_START - pm.inUse * P,
          freeRanges: pm.free(end).length, highWater: end, lockContended: 0, releases: 0, bytesReleased: 0,
        };
        for (const key of Object.keys(expect)) {
          check(got[key] === expect[key], `${C} stats().${key} is ${got[key]}, want ${expect[key]} (${when}; stats ${JSON.stringify(s)})`);
        }
      }
    };
    for (let i = 0; i < 300; i++) step(i);
    for (const h of held.splice(0)) os.unmap(h.page * P, h.pages * P);
    pm.inUse = 0;
    pm.held.fill(0);
    if (layout) {
      checkFree(r, pm, `${C} unmap of everything`, `seed ${seed}, the end`);
      os.checkInvariants();
    } else {
      check(os.stats().bytesInUse === 0 && os.stats().bytesFree === os.end() - HEAP_START, `${C} stats after unmapping everything: ${JSON.stringify(os.stats())}`);
    }
  };

  // --- the lock: atomics seen during a call ----------------------------------------------

  /** Atomics calls made while `fn` runs: all of them, and those on a word of the box's state. */
  const atomicsDuring = (r: Rig, fn: () => void): { all: number; state: number } => {
    const counts = { all: 0, state: 0 };
    const target = Atomics as unknown as Record<string, unknown>;
    const saved = new Map<string, (...args: unknown[]) => unknown>();
    for (const name of Object.getOwnPropertyNames(Atomics)) {
      const f = target[name];
      if (typeof f !== 'function') continue;
      const orig = f as (...args: unknown[]) => unknown;
      saved.set(name, orig);
      target[name] = function counted(...args: unknown[]): unknown {
        counts.all++;
        const ta = args[0];
        if (ArrayBuffer.isView(ta) && typeof args[1] === 'number' && (ta.buffer === r.inner.views.u8.buffer || ta.buffer === r.inner.buffer())) {
          const at = ta.byteOffset + (args[1] as number) * (ta as Int32Array).BYTES_PER_ELEMENT;
          if (at >= STATE_OFFSET && at < STATE_OFFSET + STATE_BYTES) counts.state++;
        }
        return orig.apply(Atomics, args);
      };
    }
    try {
      fn();
    } finally {
      for (const [name, orig] of saved) target[name] = orig;
    }
    return counts;
  };

  /**
   * Maps more pages than are free on `os` (so the memory grows), recording the state words
   * before, during `backend.grow` and after: the words that differ during the call from
   * both ends while the ends agree are the lock (held across the grow). Returns their
   * indices (into the state words) and the values they held.
   */
  const heldWhileGrowing = (r: Rig, os: OsBoundary): Array<[number, number]> => {
    const pages = os.stats().bytesFree / P + 1;
    const before = stateWords(r);
    let during: Int32Array | undefined;
    r.onGrow = () => {
      during ??= r.inner.views.i32.slice(STATE_OFFSET >>> 2, (STATE_OFFSET + STATE_BYTES) >>> 2);
    };
    let a: Ptr;
    try {
      a = os.map(pages * P, P);
    } finally {
      r.onGrow = undefined;
    }
    check(a !== 0, `${C} map(${pages}p) returned 0 with memory to spare`);
    check(during !== undefined, `${C} map(${pages}p) past end() ${hex(r.os.end())} did not call backend.grow`);
    const after = stateWords(r);
    const out: Array<[number, number]> = [];
    for (let i = 0; i < before.length; i++) if (before[i] === after[i] && during[i] !== before[i]) out.push([i, during[i]!]);
    return out;
  };

  const ZERO: Omit<OsBoundaryStats, 'highWater' | 'bytesFree' | 'freeRanges'> = {
    maps: 0, mapFailures: 0, unmaps: 0, decommits: 0, grows: 0, bytesMapped: 0, bytesUnmapped: 0, bytesDecommitted: 0, bytesInUse: 0, lockContended: 0,
    releases: 0, bytesReleased: 0,
  };

  const cases: ConformanceCase[] = [
    {
      name: `${C}: name is '${C}'; a fresh boundary has mapped nothing (stats zero, everything in [heapStart, end()) free), stats() and freeRanges() are fresh snapshots`,
      run() {
        for (const shared of [false, true]) {
          const r = setup({ shared });
          const os = r.os;
          check(os.name === C, `${C} Box.name: expected '${C}', got '${os.name}'`);
          const s = os.stats();
          const got: Record<string, number> = { ...s };
          for (const [k, v] of Object.entries(ZERO)) check(got[k] === v, `${C} stats().${k} of a fresh boundary (shared ${shared}) is ${got[k]}, want ${v}`);
          const end = os.end();
          check(end >= HEAP_START && end <= Math.max(r.inner.byteLength(), HEAP_START), `${C}: a fresh boundary's end() ${hex(end)} is not in [heapStart, the backend's length]`);
          check(s.bytesFree === end - HEAP_START && s.highWater === end, `${C} stats of a fresh boundary: bytesFree ${s.bytesFree}, highWater ${s.highWater}, end() ${end}`);
          checkFree(r, new Pages(), `${C} freeRanges() of a fresh boundary`, `shared ${shared}`);
          s.maps = 99;
          check(os.stats().maps === 0, `${C} Box.stats: must return a fresh snapshot, not live state`);
          const fr = os.freeRanges();
          fr.push([0, P]);
          check(os.freeRanges().length === fr.length - 1, `${C} freeRanges(): must return a fresh array`);
          noThrow(`${C} checkInvariants`, () => os.checkInvariants());
        }
      },
    },
    {
      name: `${C}: map rounds bytes up to whole 64 KiB pages and returns an address ≥ heapStart, a multiple of align (64 KiB for smaller alignments), of a range inside [heapStart, end()) that no other mapped range overlaps`,
      run() {
        for (const align of [1, 8, 4096, P, 2 * P, 4 * P, MiB, 4 * MiB, 16 * MiB]) {
          const r = setup({ maxBytes: 64 * MiB });
          const pm = new Pages();
          let inUse = 0;
          // 16 MiB-aligned ranges: 3 fit in the 64 MiB memory above heapStart.
          for (const bytes of align === 16 * MiB ? [1, 3 * P + 5] : [1, P - 1, P, P + 1, 3 * P + 5, 2 * MiB]) {
            mapOk(r, pm, bytes, align, `map(${bytes}, ${align})`);
            inUse += pagesOf(bytes) * P;
            const s = r.os.stats();
            check(s.bytesInUse === inUse, `${C} map(${bytes}, ${align}): stats().bytesInUse is ${s.bytesInUse}, want ${inUse} (bytes rounded up to whole pages)`);
          }
          checkFree(r, pm, `${C} map`, `after the maps aligned to ${align}`);
          noThrow(`${C} checkInvariants`, () => r.os.checkInvariants());
        }
      },
    },
    {
      name: `${C}: map reuses unmapped ranges before the memory grows — a request a free range can hold (also at an aligned page inside it) leaves end() and the backend's length as they were`,
      run() {
        const r = setup();
        const pm = new Pages();
        const a = mapOk(r, pm, 4 * P, P, 'A');
        mapOk(r, pm, 2 * P, P, 'B');
        r.os.unmap(a, 4 * P);
        pm.give(a, 4);
        const still = (what: string, fn: () => Ptr): Ptr => {
          const end = r.os.end();
          const length = r.inner.byteLength();
          const grows = r.grows();
          const p = fn();
          check(r.os.end() === end && r.inner.byteLength() === length && r.grows() === grows,
            `${C} map: "reused from unmapped ranges before the memory grows" — ${what} fits a free range, but end() ${hex(end)} → ${hex(r.os.end())}, the backend ${hex(length)} → ${hex(r.inner.byteLength())}, ${r.grows() - grows} grow(s)`);
          return p;
        };
        still('3 pages after A (4 pages) was unmapped', () => mapOk(r, pm, 3 * P, P, 'reuse 3 of 4 pages'));
        still('1 page', () => mapOk(r, pm, P, P, 'the last page of A'));
        // A 40-page range holds a 1 MiB-aligned run of 4 pages wherever it starts.
        const x = mapOk(r, pm, 40 * P, P, 'X');
        mapOk(r, pm, P, P, 'guard after X');
        r.os.unmap(x, 40 * P);
        pm.give(x, 40);
        still('4 pages aligned to 1 MiB inside a free range of 40 pages', () => mapOk(r, pm, 4 * P, MiB, 'aligned reuse'));
        checkFree(r, pm, `${C} map`, 'after the reuses');
      },
    },
    {
      name: `${C}: map returns 0, never throwing, when neither a free range nor growth can satisfy it (the maximum reached, backend.grow refused); nothing changes but mapFailures; a later map works once memory is free`,
      run() {
        const r = setup({ maxBytes: HEAP_START + 16 * P });
        const pm = new Pages();
        const failing = (bytes: number, align: number, when: string): void => {
          const before = observe(r);
          const failures = r.os.stats().mapFailures;
          const a = noThrow(`${C} map(${bytes}, ${align}) on a full heap: "never throws for exhaustion"`, () => r.os.map(bytes, align));
          check(a === 0, `${C} map(${bytes}, ${align}) returned ${hex(a)}, but no free range or growth can hold it (${when})`);
          const s = r.os.stats();
          check(s.mapFailures === failures + 1, `${C} stats().mapFailures went ${failures} → ${s.mapFailures} for a map that returned 0 (${when})`);
          const after = JSON.parse(observe(r)) as { stats: OsBoundaryStats };
          after.stats.mapFailures = failures;
          check(JSON.stringify(after) === before, `${C} map returned 0: "nothing changes then" (but mapFailures) — before ${before}\nafter ${JSON.stringify(after)} (${when})`);
          noThrow(`${C} checkInvariants`, () => r.os.checkInvariants());
        };
        const a = mapOk(r, pm, 10 * P, P, '10 pages');
        mapOk(r, pm, 5 * P, P, '5 pages');
        failing(2 * P, P, '15 of 16 pages in use');
        failing(P, 1 << 30, 'a 1 GiB alignment');
        r.os.unmap(a + 2 * P, 3 * P);
        pm.give(a + 2 * P, 3);
        failing(5 * P, P, '4 pages free in all');
        mapOk(r, pm, 3 * P, P, 'after an unmap: the 3 free pages');
        // Growth refused by the host: 0 unless free memory already holds the request.
        const q = setup();
        const qm = new Pages();
        mapOk(q, qm, 2 * P, P, 'A');
        const c = mapOk(q, qm, 2 * P, P, 'B');
        mapOk(q, qm, P, P, 'C');
        q.os.unmap(c, 2 * P);
        qm.give(c, 2);
        q.refuse = true;
        for (const [bytes, align] of [[8 * P, P], [P, MiB]] as const) {
          const before = observe(q);
          const got = noThrow(`${C} map with backend.grow refused: "never throws for exhaustion"`, () => q.os.map(bytes, align));
          if (got === 0) {
            const after = JSON.parse(observe(q)) as { stats: OsBoundaryStats };
            after.stats.mapFailures--;
            check(JSON.stringify(after) === before, `${C} map returned 0 with growth refused: "nothing changes then" (but mapFailures) — before ${before}\nafter ${JSON.stringify(after)}`);
          } else {
            check(qm.fits(pagesOf(bytes), alignPagesOf(align), q.inner.byteLength() >>> PAGE_SHIFT), `${C} map(${bytes}, ${align}) returned ${hex(got)} although backend.grow refused and no free memory holds it`);
            checkMapped(q, qm, got, bytes, align, 'growth refused');
          }
        }
        q.refuse = false;
        mapOk(q, qm, 8 * P, P, 'growth allowed again');
        noThrow(`${C} checkInvariants`, () => q.os.checkInvariants());
      },
    },
    {
      name: `${C}: map with a bad size (not an integer in [1, MAX_HEAP_BYTES]) throws E_INVALID_SIZE, a bad alignment (not a power of two ≤ 2^30) E_INVALID_ALIGNMENT; nothing changes`,
      run() {
        const r = setup();
        const pm = new Pages();
        mapOk(r, pm, P, P, 'one page');
        for (const bytes of [0, -1, -P, 1.5, P + 0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, MAX_HEAP_BYTES + 1, 2 ** 31, 2 ** 32 + P]) {
          rejected(r, () => r.os.map(bytes, P), ErrorCode.INVALID_SIZE, `${C} map(${bytes}, 64 KiB)`);
        }
        for (const align of [0, 3, 3 * P, -P, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, 2 ** 32]) {
          rejected(r, () => r.os.map(P, align), ErrorCode.INVALID_ALIGNMENT, `${C} map(64 KiB, ${align})`);
        }
      },
    },
    {
      name: `${C}: lastMapZeroed — when true every byte of the range reads as zero; true for a range fresh from growth; the answer of this instance's own last successful map (not another instance's, not a failed map's)`,
      run() {
        const r = setup();
        const pm = new Pages();
        /** Maps through `os` and returns [addr, lastMapZeroed()], requiring true when every page lies at or past the old end() (fresh growth). */
        const mapZ = (os: OsBoundary, bytes: number, align: number, when: string): [Ptr, boolean] => {
          const end = r.os.end();
          const a = mapOk(r, pm, bytes, align, when, os);
          const z = soundZero(r, os, a, pagesOf(bytes) * P, `${C} lastMapZeroed (${when})`);
          if (a >= end) check(z, `${C} lastMapZeroed() is false for [${hex(a)}, +${pagesOf(bytes)}p), fresh from growth past end() ${hex(end)} ("it came from growth and was never handed out") (${when})`);
          return [a, z];
        };
        const [a] = mapZ(r.os, 3 * P, P, 'the first map');
        fill(r, a, 3 * P, 0xa5);
        mapZ(r.os, P, P, 'a guard');
        r.os.unmap(a, 3 * P);
        pm.give(a, 3);
        mapZ(r.os, 2 * P, P, 'two of the three dirty pages again');
        const [c] = mapZ(r.os, 6 * P, P, 'more than is free');
        fill(r, c, 6 * P, 0x5a);
        r.os.unmap(c, 6 * P);
        pm.give(c, 6);
        // This instance's answer, then another instance's map (thread 2) of dirty pages: this answer stays.
        const [, mine] = mapZ(r.os, 8 * P, 4 * P, 'more than is free, this instance');
        const other = r.attach(2);
        mapZ(other, 6 * P, P, 'the six dirty pages, the other instance');
        check(r.os.lastMapZeroed() === mine, `${C} lastMapZeroed(): "the range returned by the last successful map in this thread" — it was ${mine} after this instance's map, ${!mine} after another instance's map`);
        r.refuse = true;
        const z = noThrow(`${C} map`, () => r.os.map(40 * P, P));
        r.refuse = false;
        if (z === 0) check(r.os.lastMapZeroed() === mine, `${C} lastMapZeroed(): a map that returned 0 changed the answer of the last successful one`);
      },
    },
    {
      name: `${C}: unmap gives the range back to the free-range map, coalesced with its free neighbours (three parts of a range unmapped in every order: one free range); the memory never shrinks`,
      run() {
        const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] as const;
        for (const order of orders) {
          const r = setup();
          const pm = new Pages();
          const a = mapOk(r, pm, 6 * P, P, 'six pages');
          mapOk(r, pm, P, P, 'guard');
          const parts = [[a, 2 * P], [a + 2 * P, P], [a + 3 * P, 3 * P]] as const;
          const end = r.os.end();
          const length = r.inner.byteLength();
          for (const k of order) {
            const [addr, bytes] = parts[k];
            const s0 = r.os.stats();
            noThrow(`${C} unmap`, () => r.os.unmap(addr, bytes));
            pm.give(addr, bytes / P);
            const s = r.os.stats();
            check(s.unmaps === s0.unmaps + 1 && s.bytesUnmapped === s0.bytesUnmapped + bytes && s.bytesInUse === s0.bytesInUse - bytes && s.bytesFree === s0.bytesFree + bytes,
              `${C} unmap(${hex(addr)}, ${bytes / P}p): stats ${JSON.stringify(s0)} → ${JSON.stringify(s)}`);
            checkFree(r, pm, `${C} unmap`, `order ${order.join(' ')}, part ${k}`);
            check(r.os.end() === end && r.inner.byteLength() === length, `${C} unmap: "the memory never shrinks" — end() ${hex(end)} → ${hex(r.os.end())}, the backend ${hex(length)} → ${hex(r.inner.byteLength())}`);
            noThrow(`${C} checkInvariants`, () => r.os.checkInvariants());
          }
          check(r.os.freeRanges().some(([s, n]) => s <= a && a + 6 * P <= s + n), `${C} unmap: the three parts of [${hex(a)}, +6p) were not coalesced into one free range: ${fmtRanges(r.os.freeRanges())}`);
        }
      },
    },
    {
      name: `${C}: unmap of part of a mapped range (middle, head, tail; bytes rounded up to whole pages) frees exactly those pages`,
      run() {
        const r = setup();
        const pm = new Pages();
        const a = mapOk(r, pm, 8 * P, P, 'eight pages');
        mapOk(r, pm, P, P, 'guard');
        const part = (addr: Ptr, bytes: number, what: string): void => {
          noThrow(`${C} unmap`, () => r.os.unmap(addr, bytes));
          pm.give(addr, pagesOf(bytes));
          checkFree(r, pm, `${C} partial unmap`, what);
        };
        part(a + 3 * P, 2 * P, 'the middle 2 pages');
        part(a, 2 * P + 1, 'the head: 2 pages and a byte (3 pages)');
        part(a + 5 * P, 2 * P + 7, 'the tail: 3 pages');
        check(r.os.stats().bytesInUse === P, `${C} partial unmaps: stats().bytesInUse ${r.os.stats().bytesInUse}, want one page (the guard)`);
        const b = mapOk(r, pm, P + 1, P, 'two pages');
        part(b, 1, 'its first page (1 byte: one page)');
        part(b + P, P, 'its second page');
        noThrow(`${C} checkInvariants`, () => r.os.checkInvariants());
      },
    },
    {
      name: `${C}: unmap of a range that is not page-aligned, lies outside [heapStart, end()) or overlaps a free range (double unmap) throws E_INVALID_RANGE, a bad size (not an integer in [1, MAX_HEAP_BYTES]) E_INVALID_SIZE; nothing changes`,
      run() {
        const r = setup();
        const pm = new Pages();
        const a = mapOk(r, pm, 4 * P, P, 'A');
        const b = mapOk(r, pm, 2 * P, P, 'B');
        noThrow(`${C} unmap`, () => r.os.unmap(a, 2 * P));
        pm.give(a, 2);
        const range = (addr: Ptr, bytes: number, what: string): void => rejected(r, () => r.os.unmap(addr, bytes), ErrorCode.INVALID_RANGE, `${C} unmap(${addr}, ${bytes}): ${what}`);
        range(a, P, 'double unmap (a free page)');
        range(a, 2 * P, 'double unmap (the whole free range)');
        range(a + P, 2 * P, 'overlapping the end of a free range');
        for (const addr of [b + 8, b + P / 2, b - 4, -P, 1.5, Number.NaN]) range(addr, P, 'not a page-aligned address');
        range(0, P, 'page 0, below heapStart');
        range(REGISTRY_OFFSET, P, 'page 1, below heapStart');
        range(HEAP_START - P, 2 * P, 'starting below heapStart');
        const end = r.os.end();
        range(end, P, 'at end()');
        range(end - P, 2 * P, 'running past end()');
        range(b, end - b + P, 'from a mapped range to past end()');
        for (const bytes of [0, -P, 0.5, P + 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          rejected(r, () => r.os.unmap(b, bytes), ErrorCode.INVALID_SIZE, `${C} unmap(${hex(b)}, ${bytes})`);
        }
        checkFree(r, pm, `${C} unmap of bad ranges`, 'after them all');
        noThrow(`${C} unmap`, () => r.os.unmap(b, 2 * P));
      },
    },
    {
      name: `${C}: decommit of a mapped range never throws, counts (decommits, bytesDecommitted) and leaves the range mapped`,
      run() {
        const r = setup();
        const pm = new Pages();
        const a = mapOk(r, pm, 4 * P, P, 'A');
        const s0 = r.os.stats();
        noThrow(`${C} decommit`, () => r.os.decommit(a + P, 2 * P));
        noThrow(`${C} decommit`, () => r.os.decommit(a, P + 1));
        const s = r.os.stats();
        check(s.decommits === s0.decommits + 2 && s.bytesDecommitted === s0.bytesDecommitted + 4 * P,
          `${C} decommit: decommits ${s0.decommits} → ${s.decommits}, bytesDecommitted ${s0.bytesDecommitted} → ${s.bytesDecommitted} after 2 calls of 2 pages each (bytes rounded up to pages)`);
        check(s.bytesInUse === s0.bytesInUse && s.bytesFree === s0.bytesFree && s.maps === s0.maps && s.unmaps === s0.unmaps,
          `${C} decommit: "the range stays mapped", but stats went ${JSON.stringify(s0)} → ${JSON.stringify(s)}`);
        checkFree(r, pm, `${C} decommit`, 'after it');
        noThrow(`${C} unmap after decommit`, () => r.os.unmap(a, 4 * P));
        noThrow(`${C} checkInvariants`, () => r.os.checkInvariants());
      },
    },
    {
      name: `${C}: mapAt maps exactly [addr, addr + bytes) when every page is free — inside a free range, at end(), or across the free range touching the end and the end (grown) — and returns true; false with nothing changed when a page is mapped or the memory cannot grow`,
      run() {
        const r = setup();
        const pm = new Pages();
        const at = (addr: Ptr, bytes: number, what: string): void => {
          const inUse = r.os.stats().bytesInUse;
          const ok = noThrow(`${C} mapAt`, () => r.os.mapAt(addr, bytes));
          check(ok, `${C} mapAt(${hex(addr)}, ${bytes / P}p) returned false, but every page of it is free (${what})`);
          pm.take(addr, pagesOf(bytes), what);
          check(r.os.stats().bytesInUse === inUse + pagesOf(bytes) * P, `${C} mapAt(${hex(addr)}): stats().bytesInUse ${inUse} → ${r.os.stats().bytesInUse}`);
          check(r.os.end() >= addr + pagesOf(bytes) * P && r.os.end() <= r.inner.byteLength(), `${C} mapAt(${hex(addr)}, ${bytes / P}p): end() ${hex(r.os.end())} / backend ${hex(r.inner.byteLength())}`);
          checkFree(r, pm, `${C} mapAt`, what);
          soundZero(r, r.os, addr, pagesOf(bytes) * P, `${C} mapAt (${what})`);
        };
        const refused = (addr: Ptr, bytes: number, what: string): void => {
          const before = snap(r);
          const ok = noThrow(`${C} mapAt`, () => r.os.mapAt(addr, bytes));
          check(!ok, `${C} mapAt(${hex(addr)}, ${bytes / P}p) returned true, but ${what}`);
          unchanged(r, before, `${C} mapAt(${hex(addr)}, ${bytes / P}p) → false (${what})`);
        };
        const m = mapOk(r, pm, 8 * P, P, 'eight pages');
        fill(r, m, 8 * P, 0x77);
        r.os.unmap(m, 4 * P);
        pm.give(m, 4);
        at(m + P, 2 * P, 'inside the free range [m, +4p)');
        refused(m + 3 * P, 2 * P, 'page m + 4 is mapped');
        refused(m, 2 * P, 'page m + 1 is mapped');
        refused(m + 4 * P, P, 'page m + 4 is mapped');
        const end = r.os.end();
        at(end, 3 * P - 5, 'at end()');
        noThrow(`${C} unmap`, () => r.os.unmap(end + P, 2 * P));
        pm.give(end + P, 2);
        at(end + 2 * P, 4 * P, 'across the free range touching the end and the end');
        refused(r.os.end(), r.inner.maxBytes, 'the memory cannot grow that far (past the maximum)');
        r.refuse = true;
        refused(r.os.end(), P, 'backend.grow refused');
        r.refuse = false;
        at(r.os.end(), P, 'at end(), growth allowed again');
        noThrow(`${C} checkInvariants`, () => r.os.checkInvariants());
      },
    },
    {
      name: `${C}: releaseTop — private, over a backend with canShrink: the free range touching end() goes back (end() and the backend's length fall to its start, never below heapStart or a mapped page; freeRanges() loses it; bytesInUse unchanged; releases / bytesReleased count it; highWater keeps the old end) and it returns the bytes the backend shrank by; a free range below a mapped page stays; memory mapped again over the released pages reads as zero; 0 with nothing changed when nothing is free at the top, when shared, or when the backend cannot shrink`,
      run() {
        for (const shared of [false, true]) {
          const r = setup({ shared });
          const os = r.os;
          const pm = new Pages();
          const blocks = [mapOk(r, pm, 2 * P, P, 'a'), mapOk(r, pm, 3 * P, P, 'b'), mapOk(r, pm, P, P, 'c'), mapOk(r, pm, 2 * P, P, 'd')];
          const sizes = [2, 3, 1, 2];
          blocks.forEach((a, k) => fill(r, a, sizes[k]! * P, 0x5a));
          const top = blocks.indexOf(Math.max(...blocks));
          const canShrink = !shared && r.inner.capabilities.canShrink;
          /** releaseTop, checked against what it must do from the free ranges, end() and the length before it. */
          const release = (when: string): number => {
            const before = snap(r);
            const s0 = os.stats();
            const end = os.end();
            const length = r.inner.byteLength();
            const fr = os.freeRanges();
            const last = fr[fr.length - 1];
            const newEnd = last !== undefined && last[0] + last[1] === end ? last[0] : end;
            const want = canShrink && length > newEnd ? length - newEnd : 0;
            const got = noThrow(`${C} releaseTop`, () => os.releaseTop());
            check(got === want, `${C} releaseTop() returned ${got}, want ${want} (${when}; shared ${shared}, canShrink ${r.inner.capabilities.canShrink}, end ${hex(end)}, length ${hex(length)}, free ${fmtRanges(fr)})`);
            if (want === 0) {
              unchanged(r, before, `${C} releaseTop() → 0 (${when}; shared ${shared})`);
              return 0;
            }
            const s1 = os.stats();
            check(os.end() === newEnd && r.inner.byteLength() === newEnd, `${C} releaseTop: end() ${hex(os.end())} and the backend's length ${hex(r.inner.byteLength())}, want both ${hex(newEnd)} (${when})`);
            check(newEnd >= HEAP_START, `${C} releaseTop: the end fell below heapStart (${when})`);
            checkFree(r, pm, `${C} releaseTop`, when);
            check(s1.bytesInUse === s0.bytesInUse && s1.bytesMapped === s0.bytesMapped && s1.bytesUnmapped === s0.bytesUnmapped, `${C} releaseTop changed bytesInUse / bytesMapped / bytesUnmapped: ${JSON.stringify(s0)} → ${JSON.stringify(s1)} (${when})`);
            check(s1.bytesFree === s0.bytesFree - (end - newEnd) && s1.freeRanges === s0.freeRanges - (newEnd < end ? 1 : 0), `${C} releaseTop: bytesFree ${s0.bytesFree} → ${s1.bytesFree}, freeRanges ${s0.freeRanges} → ${s1.freeRanges} (${when})`);
            check(s1.releases === s0.releases + 1 && s1.bytesReleased === s0.bytesReleased + want, `${C} releaseTop: releases ${s0.releases} → ${s1.releases}, bytesReleased ${s0.bytesReleased} → ${s1.bytesReleased}, want +1 and +${want} (${when})`);
            check(s1.highWater === s0.highWater, `${C} releaseTop: highWater ${s0.highWater} → ${s1.highWater}, "keeps the old end" (${when})`);
            noThrow(`${C} checkInvariants after releaseTop (${when})`, () => os.checkInvariants());
            return got;
          };
          release('nothing is free');
          // Everything but the top block: a free range below a mapped page stays.
          blocks.forEach((a, k) => {
            if (k === top) return;
            os.unmap(a, sizes[k]! * P);
            pm.give(a, sizes[k]!);
          });
          release('the top block still mapped');
          if (canShrink) check(os.end() >= blocks[top]! + sizes[top]! * P, `${C} releaseTop gave back the mapped top block`);
          check(views(r).u8[blocks[top]! + sizes[top]! * P - 1] === 0x5a, `${C} releaseTop: the mapped top block's last byte changed`);
          os.unmap(blocks[top]!, sizes[top]! * P);
          pm.give(blocks[top]!, sizes[top]!);
          const highWater = os.stats().highWater;
          const back = release('everything free');
          if (canShrink) {
            check(back > 0 && os.end() === HEAP_START && r.inner.byteLength() === HEAP_START, `${C} releaseTop with everything free: end() ${hex(os.end())}, length ${hex(r.inner.byteLength())}, want heapStart ${hex(HEAP_START)} (the metadata prefix stays)`);
            check(os.stats().highWater === highWater, `${C} releaseTop: highWater ${highWater} → ${os.stats().highWater}`);
          }
          release('again: nothing left to give back');
          // Growth over the released pages: zero, and lastMapZeroed says so.
          const a = mapOk(r, pm, 6 * P, P, 'after releaseTop');
          check(os.lastMapZeroed() || !canShrink, `${C} map after releaseTop: the memory grew over released pages, lastMapZeroed() must be true`);
          const at = firstNonZero(r, a, 6 * P);
          check(!canShrink || at < 0, `${C} map after releaseTop: byte ${at} of [${hex(a)}, +6p), grown over released pages, is not zero`);
          soundZero(r, os, a, 6 * P, `${C} map after releaseTop`);
          noThrow(`${C} checkInvariants`, () => os.checkInvariants());
        }
      },
    },
    {
      name: `${C}: mapAt with an address that is not a page address above 0 throws E_INVALID_RANGE, a bad size E_INVALID_SIZE; nothing changes`,
      run() {
        const r = setup();
        const pm = new Pages();
        const m = mapOk(r, pm, 4 * P, P, 'four pages');
        r.os.unmap(m, 4 * P);
        for (const addr of [0, m + 8, m + P / 2, -P, 1.5, Number.NaN]) {
          rejected(r, () => r.os.mapAt(addr, P), ErrorCode.INVALID_RANGE, `${C} mapAt(${addr}, 64 KiB)`);
        }
        for (const bytes of [0, -1, 1.5, Number.NaN, MAX_HEAP_BYTES + 1]) {
          rejected(r, () => r.os.mapAt(m, bytes), ErrorCode.INVALID_SIZE, `${C} mapAt(${hex(m)}, ${bytes})`);
        }
      },
    },
    {
      name: `${C}: seeded model runs — aligned, disjoint ranges ≥ heapStart, reuse before growth, 0 only when nothing fits, end() and the memory never shrink, freeRanges() exactly the unmapped pages of [heapStart, end()), contents of mapped ranges untouched, lastMapZeroed sound`,
      run() {
        modelRun(0x05b0_0001, 'layout');
        modelRun(0x7ace_5eed, 'layout');
      },
    },
    {
      name: `${C}: stats are exact — maps, mapFailures, unmaps, decommits, grows (successful backend.grow calls), bytes mapped / unmapped / decommitted / in use / free, freeRanges, highWater = end(), lockContended 0 in one thread — after every step of seeded model runs`,
      run() {
        modelRun(0x05b0_0001, 'stats');
        modelRun(0x7ace_5eed, 'stats');
      },
    },
    {
      name: `${C}: checkInvariants passes on a consistent boundary and changes nothing`,
      run() {
        const r = setup();
        const pm = new Pages();
        const a = mapOk(r, pm, 3 * P, P, 'A');
        mapOk(r, pm, 2 * P, MiB, 'B');
        mapOk(r, pm, P, P, 'C');
        r.os.unmap(a + P, P);
        r.os.decommit(a, P);
        const before = snap(r);
        noThrow(`${C} checkInvariants`, () => r.os.checkInvariants());
        noThrow(`${C} checkInvariants`, () => r.os.checkInvariants());
        unchanged(r, before, `${C} checkInvariants: "never changes state"`);
      },
    },
    {
      name: `${C}: checkInvariants throws E_CORRUPTION naming the box when its state in the linear memory is corrupted (words of [stateOffset, +stateBytes) changed), and nothing but E_CORRUPTION`,
      run() {
        const r = setup();
        const pm = new Pages();
        const a = mapOk(r, pm, 3 * P, P, 'A');
        mapOk(r, pm, 2 * P, P, 'B');
        const c = mapOk(r, pm, 4 * P, P, 'C');
        mapOk(r, pm, P, P, 'D');
        r.os.unmap(a + P, P);
        r.os.unmap(c, 2 * P);
        noThrow(`${C} checkInvariants`, () => r.os.checkInvariants());
        const base = STATE_OFFSET >>> 2;
        const words = stateWords(r);
        let last = 0;
        words.forEach((w, i) => { if (w !== 0) last = i; });
        let detected = 0;
        for (let i = 0; i <= Math.min(last + 2, words.length - 1); i++) {
          for (const delta of [1, -1]) {
            const m = views(r).i32;
            const original = m[base + i]!;
            m[base + i] = original + delta;
            try {
              r.os.checkInvariants();
            } catch (e) {
              if (!isHakmemError(e, ErrorCode.CORRUPTION)) fail(`${C}.checkInvariants with state word ${i} (byte ${STATE_OFFSET + 4 * i}) changed by ${delta}: threw ${String(e)}, want HakmemError(E_CORRUPTION)`);
              check(e.box === C || e.message.includes(C), `${C}.checkInvariants: the E_CORRUPTION error does not name the box (${e.message})`);
              detected++;
            } finally {
              views(r).i32[base + i] = original;
            }
          }
        }
        check(detected > 0, `${C}.checkInvariants did not detect any of ${2 * (last + 3)} corruptions of single state words (each changed by ±1)`);
        noThrow(`${C} checkInvariants after the state was restored`, () => r.os.checkInvariants());
        const m = views(r).i32;
        const saved = m.slice(base, base + words.length);
        m.fill(-1, base, base + words.length);
        try {
          expectCorruption(C, 'a state overwritten with 0xff bytes', () => r.os.checkInvariants());
        } finally {
          views(r).i32.set(saved, base);
        }
        noThrow(`${C} checkInvariants after the state was restored`, () => r.os.checkInvariants());
      },
    },
    {
      name: `${C}: attach — an instance attached to the state another instance initialised (another thread) sees and changes the same boundary`,
      run() {
        for (const shared of [false, true]) {
          const r = setup({ shared });
          const pm = new Pages();
          const a = mapOk(r, pm, 3 * P, P, `shared ${shared}: A`);
          const other = noThrow(`${C} create with attach: true`, () => r.attach(2));
          check(observe(r, other).replace(/"lastMapZeroed":\w+/, '') === observe(r).replace(/"lastMapZeroed":\w+/, ''),
            `${C} attach: the attached instance sees ${observe(r, other)}, the first ${observe(r)}`);
          noThrow(`${C} unmap by the attached instance`, () => other.unmap(a, 3 * P));
          pm.give(a, 3);
          checkFree(r, pm, `${C} attach: the first instance sees the other's unmap`, `shared ${shared}`);
          const b = mapOk(r, pm, 2 * P, P, `shared ${shared}: the other instance`, other);
          checkFree(r, pm, `${C} attach: the first instance sees the other's map`, `shared ${shared}`);
          noThrow(`${C} unmap by the first instance of the other's range`, () => r.os.unmap(b, 2 * P));
          pm.give(b, 2);
          checkFree(r, pm, `${C} attach: the other instance sees the first's unmap`, `shared ${shared}`, other);
          noThrow(`${C} checkInvariants`, () => other.checkInvariants());
          check(other.stats().maps === 2 && other.stats().unmaps === 2, `${C} attach: the counters are the boundary's, not the instance's: ${JSON.stringify(other.stats())}`);
        }
      },
    },
    {
      name: `${C}: shared: false takes no atomics at all; shared: true takes an Atomics-based lock around every operation (atomics on a word of its state in every call, a word of its state held while backend.grow runs)`,
      run() {
        const exercise = (r: Rig, each: (what: string, counts: { all: number; state: number }) => void): void => {
          const ops: Array<[string, () => void]> = [];
          let a = 0;
          let b = 0;
          ops.push(['map (growing)', () => { a = r.os.map(4 * P, P); }]);
          ops.push(['map (growing, aligned)', () => { b = r.os.map(2 * P, MiB); }]);
          ops.push(['unmap', () => r.os.unmap(a, 2 * P)]);
          ops.push(['map (reusing)', () => { r.os.map(P, P); }]);
          ops.push(['mapAt', () => { r.os.mapAt(a + P, P); }]);
          ops.push(['decommit', () => r.os.decommit(b, P)]);
          ops.push(['stats', () => { r.os.stats(); }]);
          ops.push(['end', () => { r.os.end(); }]);
          ops.push(['freeRanges', () => { r.os.freeRanges(); }]);
          ops.push(['checkInvariants', () => r.os.checkInvariants()]);
          ops.push(['lastMapZeroed', () => { r.os.lastMapZeroed(); }]);
          for (const [what, op] of ops) each(what, atomicsDuring(r, op));
        };
        const priv = setup({ shared: false });
        exercise(priv, (what, n) => check(n.all === 0, `${C} shared: false — "no atomics at all", but ${what} made ${n.all} Atomics call(s)`));
        const sh = setup({ shared: true });
        exercise(sh, (what, n) => {
          if (what !== 'lastMapZeroed') check(n.state > 0, `${C} shared: true — "take an Atomics-based lock around every operation", but ${what} made no Atomics call on a word of its state [${hex(STATE_OFFSET)}, +${STATE_BYTES})`);
        });
        const lock = heldWhileGrowing(sh, sh.os);
        check(lock.length > 0, `${C} shared: true — no word of the state was held (set during the call and back after it) while map's backend.grow ran: the lock is not taken around the operation`);
        check(sh.os.stats().lockContended === 0 && priv.os.stats().lockContended === 0, `${C} stats().lockContended: "times the lock was found held by another thread" must stay 0 in one thread (${sh.os.stats().lockContended})`);
      },
    },
    {
      name: `${C}: registry — given registryOffset in a shared heap, map stamps every page of the range MAPPED with the instance's tid (PageKind.MAPPED | tid << REG_THREAD_SHIFT) and unmap clears it to NONE, pages outside the range untouched`,
      run() {
        const r = setup({ shared: true, registry: true, tid: 3 });
        const pm = new Pages();
        const regOf = (page: number): number => views(r).i32[(REGISTRY_OFFSET >>> 2) + page]!;
        const entry = (tid: number): number => PageKind.MAPPED | (tid << REG_THREAD_SHIFT);
        const expectAll = (when: string, tidOf: (page: number) => number): void => {
          for (let p = 0; p < r.maxPages; p++) {
            const want = p < HEAP_PAGE ? 0 : pm.held[p] === 0 ? 0 : tidOf(p);
            check(regOf(p) === want, `${C} registry: page ${hex(p * P)} has entry ${hex(regOf(p))}, want ${hex(want)} (${want === 0 ? 'NONE: not mapped' : `MAPPED for thread ${want >>> REG_THREAD_SHIFT}`}) (${when})`);
          }
        };
        const owner = new Map<number, number>();
        const mapBy = (os: OsBoundary, tid: number, bytes: number, align: number, when: string): Ptr => {
          const a = mapOk(r, pm, bytes, align, when, os);
          for (let p = a >>> PAGE_SHIFT; p < (a >>> PAGE_SHIFT) + pagesOf(bytes); p++) owner.set(p, entry(tid));
          return a;
        };
        const tidOf = (p: number): number => owner.get(p) ?? -1;
        const a = mapBy(r.os, 3, 4 * P, P, 'thread 3: 4 pages');
        const b = mapBy(r.os, 3, 2 * P, MiB, 'thread 3: 2 pages, 1 MiB aligned');
        expectAll('after two maps', tidOf);
        r.os.unmap(a + P, 2 * P);
        pm.give(a + P, 2);
        expectAll('after a partial unmap', tidOf);
        const other = r.attach(4);
        mapBy(other, 4, 3 * P, P, 'thread 4: 3 pages');
        expectAll('after thread 4\'s map', tidOf);
        r.os.unmap(b, 2 * P);
        pm.give(b, 2);
        expectAll('after an unmap', tidOf);
      },
    },
    {
      name: `${C}: recover (when implemented) — { locks: 0, repaired: 0 } with nothing changed when the dead thread held nothing; when its call left the lock held, recover() on its instance releases it (locks 1) and checkInvariants passes; a lock another thread holds is left alone`,
      run() {
        const r = setup({ shared: true });
        if (typeof r.os.recover !== 'function') return;
        const pm = new Pages();
        mapOk(r, pm, 3 * P, P, 'A');
        const idle = r.attach(7);
        const before = snap(r);
        const rec = noThrow(`${C} recover`, () => idle.recover!());
        check(rec.locks === 0 && rec.repaired === 0, `${C} recover() of a thread that held nothing returned ${JSON.stringify(rec)}, want { locks: 0, repaired: 0 }`);
        unchanged(r, before, `${C} recover() of a thread that held nothing`);
        const priv = setup({ shared: false });
        const p = noThrow(`${C} recover`, () => priv.os.recover?.());
        check(p === undefined || (p.locks === 0 && p.repaired === 0), `${C} recover() of a private boundary returned ${JSON.stringify(p)}`);
        // The lock words as two threads' calls held them.
        const dead = r.attach(5);
        const alive = r.attach(6);
        const lock5 = heldWhileGrowing(r, dead);
        const lock6 = heldWhileGrowing(r, alive);
        check(lock5.length > 0 && lock6.length > 0, `${C} recover: no word of the state was held while map's backend.grow ran (see the lock case)`);
        const base = STATE_OFFSET >>> 2;
        const free = stateWords(r);
        const hold = (words: Array<[number, number]>): void => { for (const [i, v] of words) Atomics.store(views(r).i32, base + i, v); };
        const released = (): boolean => lock5.every(([i]) => Atomics.load(views(r).i32, base + i) === free[i]);
        hold(lock6);
        const notMine = noThrow(`${C} recover`, () => dead.recover!());
        const still = lock6.every(([i, v]) => Atomics.load(views(r).i32, base + i) === v);
        for (const [i] of lock6) Atomics.store(views(r).i32, base + i, free[i]!);
        check(still && notMine.locks === 0, `${C} recover() of thread 5 released (or counted: ${JSON.stringify(notMine)}) the lock thread 6 holds ("if the lock word names the dead thread")`);
        hold(lock5);
        const rec5 = noThrow(`${C} recover`, () => dead.recover!());
        if (!released()) {
          for (const [i] of lock5) Atomics.store(views(r).i32, base + i, free[i]!);
          fail(`${C} recover(): the lock thread 5 held when it died is still held after recover() on its instance`);
        }
        check(rec5.locks === 1, `${C} recover() released the dead thread's lock but returned ${JSON.stringify(rec5)}, want locks 1`);
        noThrow(`${C} checkInvariants after recover`, () => r.os.checkInvariants());
        mapOk(r, pm, P, P, 'after recover');
      },
    },
  ];

  if (env.threads !== undefined) {
    const threads = env.threads;
    cases.push({
      name: `${C}: shared — two workers attached to one boundary map and unmap at once (100 000 calls): no overlapping ranges, each aligned and inside the memory, contents untouched, counters add up, invariants hold`,
      async run() {
        const r = setup({ shared: true, maxBytes: 16 * MiB });
        const owners = new SharedArrayBuffer(r.maxPages * 4);
        const sync = new SharedArrayBuffer(4);
        const handle = r.inner.share();
        const data = (tid: number): OsBoundaryThreadData => ({
          handle, stateOffset: STATE_OFFSET, stateBytes: STATE_BYTES, heapStart: HEAP_START, tid, workers: 2, ops: 50_000, seed: tid * 7919, owners, sync,
        });
        const reports = await Promise.all([threads(data(2)), threads(data(3))]);
        for (const [k, rep] of reports.entries()) {
          check(rep.errors.length === 0, `${C} worker ${k + 2}: the boundary threw: ${rep.errors.join('; ')}`);
          check(rep.overlaps === 0 && rep.stolen === 0, `${C} worker ${k + 2}: ${rep.overlaps} page(s) handed out while the other worker held them, ${rep.stolen} taken from it: the lock does not serialise map and unmap`);
          check(rep.misaligned === 0 && rep.outside === 0 && rep.clobbered === 0, `${C} worker ${k + 2}: ${rep.misaligned} misaligned, ${rep.outside} outside the memory, ${rep.clobbered} clobbered range(s)`);
          check(rep.maps > 500, `${C} worker ${k + 2}: only ${rep.maps} successful maps`);
        }
        r.inner.refresh();
        noThrow(`${C} checkInvariants after the workers`, () => r.os.checkInvariants());
        const s = r.os.stats();
        const sum = (key: 'maps' | 'mapFailures' | 'unmaps' | 'bytesMapped' | 'bytesUnmapped'): number => reports.reduce((n, rep) => n + rep[key], 0);
        for (const key of ['maps', 'mapFailures', 'unmaps', 'bytesMapped', 'bytesUnmapped'] as const) {
          check(s[key] === sum(key), `${C} stats().${key} is ${s[key]} after the workers, they counted ${sum(key)}: counters are lost without the lock`);
        }
        check(s.bytesInUse === 0, `${C} stats().bytesInUse is ${s.bytesInUse} after the workers unmapped everything`);
        checkFree(r, new Pages(), `${C} after the workers unmapped everything`, 'two workers');
        check(new Int32Array(owners).every((x) => x === 0), `${C}: the owner table is not empty after the workers`);
      },
    });
  }
  return cases;
}

/**
 * The body of a worker of {@link osBoundaryConformance}'s threads case: attaches a backend to
 * `data.handle` (`attach`, e.g. `attachBackend` of `@hakmem/memory-backend`), builds its
 * boundary (`make` with `attach: true`, `shared: true`, `tid`), waits for the other worker,
 * then maps and (wholly or partly) unmaps at random, stamping every page it gets in the
 * shared owner table with `compareExchange` (two ranges that overlap are caught the moment
 * the second is mapped) and tagging each page's first word; unmaps everything at the end.
 * The worker posts the report back (`parentPort.postMessage`).
 */
export function osBoundaryThread(make: OsBoundaryFactory, attach: (handle: SharedBackendHandle) => MemoryBackend, data: OsBoundaryThreadData): OsBoundaryThreadReport {
  const backend = attach(data.handle);
  const os = make({ backend, stateOffset: data.stateOffset, stateBytes: data.stateBytes, heapStart: data.heapStart, shared: true, attach: true, tid: data.tid });
  const owners = new Int32Array(data.owners);
  const sync = new Int32Array(data.sync);
  const rng = new Rng(data.seed);
  const rep: OsBoundaryThreadReport = { maps: 0, mapFailures: 0, unmaps: 0, bytesMapped: 0, bytesUnmapped: 0, overlaps: 0, stolen: 0, misaligned: 0, outside: 0, clobbered: 0, errors: [] };
  const held: Array<[Ptr, number]> = [];
  const tagOf = (page: number): number => Math.imul(page + 1, 0x9e3779b1) ^ data.tid;
  const i32 = (end: number): Int32Array => {
    if (backend.views.i32.length * 4 < end) backend.refresh();
    return backend.views.i32;
  };
  const give = (addr: Ptr, pages: number): void => {
    const m = i32(addr + pages * P);
    for (let p = addr >>> PAGE_SHIFT; p < (addr >>> PAGE_SHIFT) + pages; p++) {
      if (m[p << 14] !== tagOf(p)) rep.clobbered++;
      if (Atomics.compareExchange(owners, p, data.tid, 0) !== data.tid) rep.stolen++;
    }
    os.unmap(addr, pages * P);
    rep.unmaps++;
    rep.bytesUnmapped += pages * P;
  };
  Atomics.add(sync, 0, 1);
  while (Atomics.load(sync, 0) < data.workers) { /* the start barrier */ }
  try {
    for (let i = 0; i < data.ops; i++) {
      if (held.length === 0 || (held.length < 12 && rng.int(2) === 0)) {
        const pages = 1 + rng.int(8);
        const align = P << rng.int(5);
        const addr = os.map(pages * P - rng.int(P), align);
        if (addr === 0) {
          rep.mapFailures++;
          continue;
        }
        rep.maps++;
        rep.bytesMapped += pages * P;
        if (addr % align !== 0) rep.misaligned++;
        if (addr < data.heapStart || addr + pages * P > backend.byteLength()) {
          rep.outside++;
          continue;
        }
        const m = i32(addr + pages * P);
        for (let p = addr >>> PAGE_SHIFT; p < (addr >>> PAGE_SHIFT) + pages; p++) {
          if (Atomics.compareExchange(owners, p, 0, data.tid) !== 0) rep.overlaps++;
          m[p << 14] = tagOf(p);
        }
        held.push([addr, pages]);
      } else {
        const k = rng.int(held.length);
        const [addr, pages] = held[k]!;
        const cut = pages > 1 ? 1 + rng.int(pages - 1) : pages;
        if (cut === pages) {
          held.splice(k, 1);
          give(addr, pages);
        } else if (rng.int(2) === 0) {
          held[k] = [addr + cut * P, pages - cut];
          give(addr, cut);
        } else {
          held[k] = [addr, cut];
          give(addr + cut * P, pages - cut);
        }
      }
    }
    for (const [addr, pages] of held.splice(0)) give(addr, pages);
  } catch (e) {
    rep.errors.push(String(e));
  }
  return rep;
}
