import {
  ErrorCode, isRetiredEntry, MAX_BATCH, PAGE_SHIFT, PAGE_SIZE, PageKind, PD_BLOCK_SIZE, PD_CAPACITY, PD_FREE_HEAD,
  PD_REGION_OWNER, PD_REGION_PAGES, PD_USED, POOL_SPAN_MAX_PAGES, REG_AUX_SHIFT, REG_CLASS_SHIFT, REG_THREAD_SHIFT,
  THREAD_RECORD_BYTES, THREAD_TABLE_OFFSET, TR_POOL_REMOTE_HEAD,
  type BoxContext, type OsBoundary, type PoolRefill, type PoolRefillOptions, type PoolRefillStats, type Ptr, type RegionSource,
} from '@hakmem/contracts';
import { checkStats, expectCorruption, hex, regAux, regClass, regKind, regThread } from './slab-probes.js';
import { check, expectHakmemError, fail, type ConformanceCase } from './types.js';
import { reclaimCase, type ReclaimWorldFactory } from './reclaim.js';

// ---------------------------------------------------------------------------------------
// The environment of the mid-tier suites (pool-refill, l25-pool, bigcache): one fresh
// heap per case, of which the suites use the memory, the layout and the os-boundary.
// ---------------------------------------------------------------------------------------

/**
 * What a mid-tier suite (pool-refill, l25-pool, bigcache) works on: a fresh heap memory
 * with its header and an os-boundary over it. testkit may not assume which packages a
 * caller has (it does not depend on `@hakmem/allocator`), so the caller builds it, e.g.
 * from a heap of the composition root (what `packages/testkit/test/conformance-mid.test.ts`
 * does):
 *
 * ```ts
 * import { createHeap } from '@hakmem/allocator';
 * const env: MidEnvFactory = ({ maxBytes = 64 << 20 } = {}) => {
 *   const heap = createHeap({ maxBytes });
 *   const ctx = { backend: heap.backend, layout: heap.layout, tid: 3, shared: false, slotOffset: 64 + 100 * 64, debug: 0 };
 *   return { ctx, otherTid: 4, regions: heap.boxes.osBoundary };
 * };
 * ```
 *
 * Pre (per case): nothing but the boxes the suite builds maps through `regions` (so its
 * `bytesInUse` is theirs alone); the thread records of `ctx.tid` and `otherTid` and the
 * box slots from `ctx.slotOffset` (l25-pool's shard records: up to 64 × 5 slots) are
 * zero and used by nobody else.
 */
export interface MidEnv {
  /**
   * A box context on the fresh memory: `tid` is the suite's first thread, `slotOffset` the
   * box slot the suite may give a box with global state (l25-pool); boxes without global
   * state get the same context with slotOffset -1, as in the composition root.
   */
  readonly ctx: BoxContext;
  /** A second thread id (≠ ctx.tid): remote frees, another shard. */
  readonly otherTid: number;
  /** The os-boundary over the memory (the region source of the mid-tier boxes). */
  readonly regions: OsBoundary;
}

/** What a suite asks of a fresh environment. */
export interface MidEnvOptions {
  /** The backend's maximum in bytes (a multiple of 1 MiB, at least 4 MiB). Default 64 MiB. */
  readonly maxBytes?: number;
}

/** Builds a fresh {@link MidEnv} per call: every case starts from empty memory. */
export type MidEnvFactory = (options?: MidEnvOptions) => MidEnv;

/** Factory of a pool-refill: the signature of `BoxFactories.poolRefill` in `@hakmem/allocator`. */
export type PoolRefillFactory = (ctx: BoxContext, options: PoolRefillOptions) => PoolRefill;

/** The registry entry of the page holding `addr`. */
export function regOf(ctx: BoxContext, addr: Ptr): number {
  return ctx.backend.views.i32[(ctx.layout.registryOffset >>> 2) + (addr >>> PAGE_SHIFT)]!;
}

/** Writes the registry entry of the page holding `addr` (deliberate corruption). */
export function setRegOf(ctx: BoxContext, addr: Ptr, value: number): void {
  ctx.backend.views.i32[(ctx.layout.registryOffset >>> 2) + (addr >>> PAGE_SHIFT)] = value;
}

/** Word `word` (a `PD_*` constant) of the descriptor of the page holding `addr`. */
export function pdOf(ctx: BoxContext, addr: Ptr, word: number): number {
  return ctx.backend.views.i32[(ctx.layout.pageTableOffset >>> 2) + ((addr >>> PAGE_SHIFT) << 4) + word]!;
}

/** Writes word `word` of the descriptor of the page holding `addr` (deliberate corruption). */
export function setPdOf(ctx: BoxContext, addr: Ptr, word: number, value: number): void {
  ctx.backend.views.i32[(ctx.layout.pageTableOffset >>> 2) + ((addr >>> PAGE_SHIFT) << 4) + word] = value;
}

/** Writes `fill` over `[p, p + bytes)`. */
export function fillBytes(ctx: BoxContext, p: Ptr, bytes: number, fill: number): void {
  ctx.backend.views.u8.fill(fill, p, p + bytes);
}

/** The first offset in `[p, p + bytes)` whose byte is not `want`, or -1. */
export function firstByteNot(ctx: BoxContext, p: Ptr, bytes: number, want: number): number {
  const u8 = ctx.backend.views.u8;
  for (let i = 0; i < bytes; i++) if (u8[p + i] !== want) return i;
  return -1;
}

/**
 * A region source that forwards to os-boundary and records every call; on `unmap` it
 * checks layout.ts's rule that a box clears a page's registry entry (kind NONE) before
 * it gives the page back. A `quota` caps the bytes mapped through it at once (a map
 * beyond it fails, returning 0: exhaustion without a small heap). A probe never throws
 * from inside a call; the suite checks `violations` after each step.
 */
export class MidRegions implements RegionSource {
  /** Successful maps: `[addr, bytes (whole pages), align]`. */
  readonly maps: Array<[Ptr, number, number]> = [];
  /** Maps that returned 0 (os-boundary's or the quota's). */
  mapFailures = 0;
  /** Unmaps: `[addr, bytes (whole pages)]`. */
  readonly unmaps: Array<[Ptr, number]> = [];
  /** Successful mapAt calls: `[addr, bytes]`. */
  readonly mapAts: Array<[Ptr, number]> = [];
  /** Contract violations seen by the probe. */
  readonly violations: string[] = [];
  /** Bytes that may be mapped through this probe at once. */
  quota = Number.POSITIVE_INFINITY;
  /** Bytes mapped through this probe and not unmapped. */
  inUse = 0;

  constructor(readonly inner: OsBoundary, private readonly ctx: BoxContext) {}

  map(bytes: number, align: number): Ptr {
    const rounded = pagesOf(bytes) * PAGE_SIZE;
    if (this.inUse + rounded > this.quota) {
      this.mapFailures++;
      return 0;
    }
    const p = this.inner.map(bytes, align);
    if (p === 0) {
      this.mapFailures++;
      return 0;
    }
    this.inUse += rounded;
    this.maps.push([p, rounded, align]);
    return p;
  }

  lastMapZeroed(): boolean {
    return this.inner.lastMapZeroed();
  }

  unmap(addr: Ptr, bytes: number): void {
    const rounded = pagesOf(bytes) * PAGE_SIZE;
    for (let p = addr; p < addr + rounded; p += PAGE_SIZE) {
      const e = regOf(this.ctx, p);
      if (!isRetiredEntry(e)) {
        this.violations.push(`page ${hex(p)} was unmapped with registry entry ${hex(e)} (layout.ts: cleared to kind NONE, or MAPPED with the thread's id in a shared heap, before unmap)`);
        break;
      }
    }
    this.inner.unmap(addr, bytes);
    this.inUse -= rounded;
    this.unmaps.push([addr, rounded]);
  }

  mapAt(addr: Ptr, bytes: number): boolean {
    const rounded = pagesOf(bytes) * PAGE_SIZE;
    if (this.inUse + rounded > this.quota) return false;
    const ok = this.inner.mapAt(addr, bytes);
    if (ok) {
      this.inUse += rounded;
      this.mapAts.push([addr, rounded]);
    }
    return ok;
  }

  end(): number {
    return this.inner.end();
  }

  /** This probe without `mapAt` (a region source that cannot grow a range in place). */
  withoutMapAt(): RegionSource & { unmap(addr: Ptr, bytes: number): void; end(): number } {
    return {
      map: (bytes, align) => this.map(bytes, align),
      lastMapZeroed: () => this.lastMapZeroed(),
      unmap: (addr, bytes) => this.unmap(addr, bytes),
      end: () => this.end(),
    };
  }
}

/** Whole 64 KiB pages of `bytes`. */
export function pagesOf(bytes: number): number {
  return Math.ceil(bytes / PAGE_SIZE);
}

/** Runs `fn`, failing (naming `what`) if it throws: the "never throws" clauses. */
export function noThrow<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    return fail(`${what}: must never throw, threw ${String(e)}`);
  }
}

/** Requires a probe to have recorded no violation. */
export function probeClean(probe: MidRegions, when: string): void {
  if (probe.violations.length > 0) fail(`${probe.violations[0]} (${when}; ${probe.violations.length} violation(s))`);
}

// ---------------------------------------------------------------------------------------
// pool-refill
// ---------------------------------------------------------------------------------------

const C = 'pool-refill';
const SENTINEL = -7;
const MiB = 1 << 20;
const ZERO: PoolRefillStats = {
  chunks: 0, arenaBytes: 0, spansCreated: 0, spansReleased: 0, spans: 0, carved: 0, reused: 0, remoteFreed: 0, remoteDrained: 0,
  usedBlocks: 0, usedBytes: 0, spanBytes: 0, emptySpanBytes: 0, arenaFree: 0,
};

/** What a pool-refill case works on. */
interface RefillEnv {
  readonly env: MidEnv;
  /** The first thread's context (slotOffset -1, as the composition root gives pool-refill). */
  readonly ctx: BoxContext;
  readonly sizes: Int32Array;
  readonly regions: MidRegions;
  /** A pool-refill of thread `tid` (default ctx.tid) over the probe. */
  box(tid?: number, options?: Partial<Omit<PoolRefillOptions, 'classSizes' | 'regions'>>): PoolRefill;
}

/**
 * Conformance suite of the `PoolRefill` contract (packages/contracts/src/boxes/pool-refill.ts,
 * with the "Pool spans" and thread-record layout of layout.ts): `BlockSource` +
 * `BlockSink` of chain.ts over os-boundary. Blocks are checked against the registry and
 * the span descriptors (POOL, class, thread, page index; blocks at multiples of the size
 * from the span start), reuse without maps, empty spans leaving their class (the os-
 * boundary footprint stays flat over phases of different classes), remote frees through
 * the owner's thread record, trim, exhaustion, span geometry, exact stats,
 * `checkInvariants` and option validation.
 *
 * `make` has the signature of `BoxFactories.poolRefill`; `env` builds a fresh heap per
 * case; `classSizes` is the mid class table (pool-tls's, e.g. `DEFAULT_POOL_CLASS_SIZES`).
 */
export function poolRefillConformance(make: PoolRefillFactory, env: MidEnvFactory, classSizes: readonly number[], reclaim?: ReclaimWorldFactory): ConformanceCase[] {
  const setup = (o: MidEnvOptions = {}): RefillEnv => {
    const e = env(o);
    const ctx: BoxContext = { ...e.ctx, slotOffset: -1 };
    const sizes = Int32Array.from(classSizes);
    const regions = new MidRegions(e.regions, ctx);
    return {
      env: e, ctx, sizes, regions,
      box: (tid = ctx.tid, options = {}) => make({ ...ctx, tid }, { classSizes: sizes, regions, ...options }),
    };
  };
  const sizeOf = (r: RefillEnv, cls: number): number => r.sizes[cls]!;
  const perSpan = (r: RefillEnv, b: PoolRefill, cls: number): number => Math.floor((b.spanPages(cls) * PAGE_SIZE) / sizeOf(r, cls));
  const isPow2 = (x: number): boolean => (x & (x - 1)) === 0;
  /** The first class whose span holds at least `n` blocks (the tests that want one span). */
  const classWith = (r: RefillEnv, b: PoolRefill, n: number): number => {
    for (let c = 0; c < r.sizes.length; c++) if (perSpan(r, b, c) >= n) return c;
    return fail(`${C}: no class of [${classSizes.join(', ')}] has spans of ${n} blocks (the suite needs one)`);
  };
  /** Thread A's box and thread B's over one memory, and a class whose span holds `n` blocks (the remote-free cases). */
  const twoThreads = (n: number) => {
    const r = setup();
    const a = r.box(r.ctx.tid);
    const bb = r.box(r.env.otherTid);
    return { r, a, bb, tidA: r.ctx.tid, live: new Map<Ptr, number>(), cls: classWith(r, a, n) };
  };
  const remoteHead = (r: RefillEnv, tid: number): number =>
    r.ctx.backend.views.i32[((THREAD_TABLE_OFFSET + tid * THREAD_RECORD_BYTES) >>> 2) + TR_POOL_REMOTE_HEAD]!;
  /** The blocks of a list linked through their first word, from `head` (at most `limit`). */
  const walk = (r: RefillEnv, head: Ptr, limit: number): Ptr[] => {
    const got: Ptr[] = [];
    for (let p = head; p !== 0; p = r.ctx.backend.views.i32[p >>> 2]!) {
      if (got.length >= limit) break;
      got.push(p);
    }
    return got;
  };

  /**
   * The contract's facts about a block handed out: 512-aligned (aligned to its size when
   * that is a power of two), inside a span of `spanPages(cls)` pages whose registry entries
   * are POOL / cls / tid / page index and whose descriptor has the class's block size,
   * capacity, length and owner, at a multiple of the size from the span start. Returns the span.
   */
  const checkBlock = (r: RefillEnv, b: PoolRefill, p: number, cls: number, tid: number, when: string): Ptr => {
    const size = sizeOf(r, cls);
    const pages = b.spanPages(cls);
    check(Number.isInteger(p) && p > 0, `allocBatch wrote ${p}, not a block address (${when})`);
    check(p % 512 === 0 && (!isPow2(size) || p % size === 0), `block ${hex(p)} of class ${cls} (${size} B) is not ${isPow2(size) ? `${size}` : '512'}-byte aligned (${when})`);
    const e = regOf(r.ctx, p);
    check(regKind(e) === PageKind.POOL && regClass(e) === cls && regThread(e) === tid,
      `block ${hex(p)} of class ${cls}: its page's registry entry ${hex(e)} is not POOL / class ${cls} / thread ${tid} (${when})`);
    const aux = regAux(e);
    check(aux < pages, `block ${hex(p)}: registry aux ${aux} is not a page index of a ${pages}-page span (${when})`);
    const span = ((p >>> PAGE_SHIFT) - aux) << PAGE_SHIFT;
    for (let i = 0; i < pages; i++) {
      const f = regOf(r.ctx, span + i * PAGE_SIZE);
      const want = PageKind.POOL | (cls << REG_CLASS_SHIFT) | (tid << REG_THREAD_SHIFT) | (i << REG_AUX_SHIFT);
      check(f === want, `span ${hex(span)} (class ${cls}): registry entry of its page ${i} is ${hex(f)}, want ${hex(want)} (POOL, class, thread, aux = page index) (${when})`);
    }
    check((p - span) % size === 0 && p - span + size <= pages * PAGE_SIZE,
      `block ${hex(p)} is not carved at a multiple of ${size} from its span start ${hex(span)} (${when})`);
    const cap = Math.floor((pages * PAGE_SIZE) / size);
    const d = [pdOf(r.ctx, span, PD_BLOCK_SIZE), pdOf(r.ctx, span, PD_CAPACITY), pdOf(r.ctx, span, PD_REGION_PAGES), pdOf(r.ctx, span, PD_REGION_OWNER)];
    check(d.join() === [size, cap, pages, tid].join(),
      `span ${hex(span)}: descriptor blockSize / capacity / regionPages / regionOwner are ${d.join(' / ')}, want ${size} / ${cap} / ${pages} / ${tid} (${when})`);
    return span;
  };

  /** One allocBatch into a fresh `out` with sentinels around; checks the bounds and every block. */
  const allocRaw = (r: RefillEnv, b: PoolRefill, cls: number, max: number, tid: number, live: Map<Ptr, number>, when: string, offset = 3): Ptr[] => {
    const out = new Int32Array(offset + max + 8).fill(SENTINEL);
    const n = noThrow(`${C} allocBatch`, () => b.allocBatch(cls, out, offset, max));
    check(Number.isInteger(n) && n >= 0 && n <= max, `allocBatch(max ${max}) returned ${n} (BlockSource: 0 ≤ n ≤ max) (${when})`);
    for (let i = 0; i < out.length; i++) {
      if (i < offset || i >= offset + n) check(out[i] === SENTINEL, `allocBatch(offset ${offset}, max ${max}) returned ${n} but wrote out[${i}] (${when})`);
    }
    const blocks = Array.from(out.subarray(offset, offset + n));
    for (const p of blocks) {
      checkBlock(r, b, p, cls, tid, when);
      check(!live.has(p), `block ${hex(p)} handed out while live (${when})`);
      live.set(p, cls);
    }
    probeClean(r.regions, when);
    return blocks;
  };
  /** Exactly `count` blocks (fails on exhaustion), in batches of at most MAX_BATCH. */
  const take = (r: RefillEnv, b: PoolRefill, cls: number, count: number, tid: number, live: Map<Ptr, number>, when: string): Ptr[] => {
    const all: Ptr[] = [];
    while (all.length < count) {
      const got = allocRaw(r, b, cls, Math.min(MAX_BATCH, count - all.length), tid, live, when);
      check(got.length > 0, `allocBatch returned 0 with memory to spare (${when}; ${all.length} of ${count})`);
      all.push(...got);
    }
    return all;
  };
  const give = (b: PoolRefill, cls: number, blocks: readonly Ptr[], live: Map<Ptr, number>): void => {
    for (let i = 0; i < blocks.length; i += MAX_BATCH) {
      const chunk = blocks.slice(i, i + MAX_BATCH);
      const arr = new Int32Array(chunk.length + 4).fill(SENTINEL);
      arr.set(chunk, 2);
      for (const p of chunk) live.delete(p);
      noThrow(`${C} freeBatch`, () => b.freeBatch(cls, arr, 2, chunk.length));
    }
  };
  /** Span heads (aux 0) of thread `tid` in the registry, with their class. */
  const spansOf = (r: RefillEnv, tid: number): Map<Ptr, number> => {
    const spans = new Map<Ptr, number>();
    const end = r.env.regions.end();
    for (let p = r.ctx.layout.heapStart; p < end; p += PAGE_SIZE) {
      const e = regOf(r.ctx, p);
      if (regKind(e) === PageKind.POOL && regThread(e) === tid && regAux(e) === 0) spans.set(p, regClass(e));
    }
    return spans;
  };
  const spanOf = (r: RefillEnv, p: Ptr): Ptr => ((p >>> PAGE_SHIFT) - regAux(regOf(r.ctx, p))) << PAGE_SHIFT;
  /** Every span's PD_USED equals the blocks of it the test holds (plus `pending` per span). */
  const checkUsed = (r: RefillEnv, tid: number, live: ReadonlyMap<Ptr, number>, when: string, pending: ReadonlyMap<Ptr, number> = new Map()): void => {
    const per = new Map<Ptr, number>();
    for (const p of live.keys()) if (regThread(regOf(r.ctx, p)) === tid) per.set(spanOf(r, p), (per.get(spanOf(r, p)) ?? 0) + 1);
    for (const [span] of spansOf(r, tid)) {
      const want = (per.get(span) ?? 0) + (pending.get(span) ?? 0);
      check(pdOf(r.ctx, span, PD_USED) === want, `span ${hex(span)}: PD_USED ${pdOf(r.ctx, span, PD_USED)}, but ${want} of its blocks are handed out or pending (${when})`);
    }
  };
  const usedBytes = (r: RefillEnv, live: ReadonlyMap<Ptr, number>): number => {
    let n = 0;
    for (const cls of live.values()) n += sizeOf(r, cls);
    return n;
  };

  return [
    {
      name: `${C}: name is '${C}', stats() start at zero and are a fresh snapshot; creating the box maps nothing`,
      run() {
        const r = setup();
        const b = r.box();
        check(b.name === C, `${C} Box.name: expected '${C}', got '${b.name}'`);
        checkStats(C, b.stats(), ZERO, 'fresh pool-refill');
        const s = b.stats();
        s.usedBlocks = 99;
        check(b.stats() !== s && b.stats().usedBlocks === 0, `${C} Box.stats: must return a fresh snapshot, not live state`);
        check(r.regions.maps.length === 0, `${C}: creating the box mapped ${r.regions.maps.length} ranges (only prewarm or an allocBatch may)`);
        b.checkInvariants();
      },
    },
    {
      name: `${C}: spanPages(cls) is 1..16 pages that hold at least one block with tail waste at most 1/32, for every class`,
      run() {
        const r = setup();
        const b = r.box();
        for (let c = 0; c < r.sizes.length; c++) {
          const pages = b.spanPages(c);
          const size = sizeOf(r, c);
          check(Number.isInteger(pages) && pages >= 1 && pages <= POOL_SPAN_MAX_PAGES, `${C} spanPages(${c}) = ${pages}, not 1..${POOL_SPAN_MAX_PAGES} (${size} B)`);
          const bytes = pages * PAGE_SIZE;
          const n = Math.floor(bytes / size);
          check(n >= 1, `${C} spanPages(${c}): ${pages} pages hold no block of ${size} B`);
          const waste = bytes - n * size;
          check(waste * 32 <= bytes, `${C} spanPages(${c}): ${pages} pages hold ${n} blocks of ${size} B and waste ${waste} B, above 1/32 of the span`);
        }
      },
    },
    {
      name: `${C}: allocBatch hands out up to max distinct blocks of the class, aligned, inside spans stamped POOL / class / thread / page index, at multiples of the size from the span start`,
      run() {
        const r = setup();
        const tid = r.ctx.tid;
        const b = r.box();
        const live = new Map<Ptr, number>();
        const n = r.sizes.length;
        const pow2 = Array.from(r.sizes).findIndex((s) => s >= 4096 && isPow2(s));
        const classes = [...new Set([0, n >> 1, pow2 < 0 ? 0 : pow2, n - 1])];
        for (const cls of classes) {
          for (const max of [1, 7, MAX_BATCH, 2]) {
            const got = allocRaw(r, b, cls, max, tid, live, `class ${cls}, max ${max}`);
            check(got.length > 0, `${C} allocBatch: returned 0 with memory to spare (class ${cls}, max ${max})`);
          }
        }
        for (const cls of classes) allocRaw(r, b, cls, MAX_BATCH, tid, live, `class ${cls} at offset 0`, 0);
        checkUsed(r, tid, live, 'after the batches');
        const s = b.stats();
        check(s.usedBlocks === live.size && s.usedBytes === usedBytes(r, live), `${C} stats: usedBlocks ${s.usedBlocks} / usedBytes ${s.usedBytes}, the test holds ${live.size} / ${usedBytes(r, live)}`);
        check(s.carved + s.reused === live.size, `${C} stats: carved ${s.carved} + reused ${s.reused} ≠ ${live.size} blocks handed out`);
        check(s.spans === spansOf(r, tid).size, `${C} stats.spans ${s.spans}, the registry holds ${spansOf(r, tid).size} spans of thread ${tid}`);
        b.checkInvariants();
      },
    },
    {
      name: `${C}: a span's blocks are carved from its start: the blocks of each fresh span are its first k multiples of the size`,
      run() {
        const r = setup();
        const tid = r.ctx.tid;
        const b = r.box();
        for (const cls of [0, r.sizes.length - 1, r.sizes.length >> 1]) {
          const live = new Map<Ptr, number>();
          const k = perSpan(r, b, cls);
          const got = take(r, b, cls, k + Math.max(1, k >> 1), tid, live, `class ${cls}`);
          const bySpan = new Map<Ptr, number[]>();
          for (const p of got) {
            const s = spanOf(r, p);
            bySpan.set(s, [...(bySpan.get(s) ?? []), (p - s) / sizeOf(r, cls)]);
          }
          for (const [s, idx] of bySpan) {
            const sorted = [...idx].sort((x, y) => x - y);
            check(sorted.every((v, i) => v === i), `${C} carving: span ${hex(s)} (class ${cls}) handed out blocks #${sorted.join(', #')} of a fresh span, not its first ${sorted.length}`);
          }
          check(bySpan.size === 2, `${C} carving: ${got.length} blocks of class ${cls} (${k} per span) from a fresh box lie in ${bySpan.size} spans, want 2`);
          give(b, cls, got, live);
        }
        b.checkInvariants();
      },
    },
    {
      name: `${C}: freeBatch then allocBatch reuses the freed blocks (span free list) with no new os-boundary map`,
      run() {
        const r = setup();
        const tid = r.ctx.tid;
        const b = r.box();
        const live = new Map<Ptr, number>();
        const cls = classWith(r, b, 16);
        const first = take(r, b, cls, 12, tid, live, 'carve 12');
        const back = [first[1]!, first[4]!, first[7]!, first[9]!, first[11]!];
        give(b, cls, back, live);
        checkUsed(r, tid, live, 'after freeBatch');
        check(b.stats().usedBlocks === 7, `${C} stats.usedBlocks ${b.stats().usedBlocks} after freeing 5 of 12`);
        const maps = r.regions.maps.length;
        const before = b.stats();
        const again = take(r, b, cls, 5, tid, live, 'reuse 5');
        check(again.length === 5 && back.every((p) => again.includes(p)), `${C} reuse: a batch of 5 after 5 frees handed out [${again.map(hex).join(' ')}], not the freed [${back.map(hex).join(' ')}]`);
        check(r.regions.maps.length === maps, `${C} reuse: allocBatch mapped ${r.regions.maps.length - maps} new ranges while freed blocks were on the span's free list`);
        const s = b.stats();
        check(s.reused - before.reused === 5 && s.carved === before.carved, `${C} stats: 5 blocks from the free list must count reused +5 and carved +0; got reused +${s.reused - before.reused}, carved +${s.carved - before.carved}`);
        checkUsed(r, tid, live, 'after reuse');
        b.checkInvariants();
      },
    },
    {
      name: `${C}: a span that becomes empty leaves its class (given back or pooled) unless it is its class's only span`,
      run() {
        const r = setup();
        const tid = r.ctx.tid;
        const b = r.box();
        const live = new Map<Ptr, number>();
        const classes = [0, 1, r.sizes.length - 1].filter((c, i, a) => c < r.sizes.length && a.indexOf(c) === i);
        for (const cls of classes) {
          const blocks = take(r, b, cls, perSpan(r, b, cls) * 5 + 1, tid, live, `class ${cls}`);
          check(spansOf(r, tid).size >= 6, `${C}: ${blocks.length} blocks of class ${cls} lie in fewer than 6 spans`);
          give(b, cls, blocks, live);
          b.checkInvariants();
          const spans = [...spansOf(r, tid).values()];
          check(spans.length <= 1, `${C}: after every block of class ${cls} came back, ${spans.length} of its spans are still POOL spans of thread ${tid} (an empty span leaves its class unless it is the only one)`);
          check(b.stats().spans === spans.length, `${C} stats.spans ${b.stats().spans}, the registry holds ${spans.length} spans`);
          check(b.stats().usedBlocks === 0 && b.stats().usedBytes === 0, `${C} stats: usedBlocks ${b.stats().usedBlocks} / usedBytes ${b.stats().usedBytes} with nothing handed out`);
          // The kept span (if any) must still serve its class: no map needed for a block.
          const maps = r.regions.maps.length;
          if (spans.length === 1) {
            const again = take(r, b, cls, 1, tid, live, `class ${cls} again`);
            check(r.regions.maps.length === maps, `${C}: the span a class kept did not serve its next block (a map was needed)`);
            give(b, cls, again, live);
          }
          b.trim();
        }
        probeClean(r.regions, 'empty spans');
      },
    },
    {
      name: `${C}: phase test — memory freed in one class is reused by another (os-boundary's bytes in use do not grow)`,
      run() {
        const r = setup();
        const tid = r.ctx.tid;
        const b = r.box();
        const live = new Map<Ptr, number>();
        // Classes with spans of the same length (e.g. the three smallest defaults: one page each).
        const byPages = new Map<number, number[]>();
        for (let c = 0; c < r.sizes.length; c++) byPages.set(b.spanPages(c), [...(byPages.get(b.spanPages(c)) ?? []), c]);
        const group = [...byPages.values()].sort((x, y) => y.length - x.length)[0]!.slice(0, 3);
        const count = (cls: number): number => Math.min(1000, Math.floor((3 * MiB) / sizeOf(r, cls)));
        let peak = 0;
        const round = (cls: number, when: string): number => {
          const got = take(r, b, cls, count(cls), tid, live, when);
          const inUse = r.env.regions.stats().bytesInUse;
          give(b, cls, got, live);
          b.checkInvariants();
          check(b.stats().usedBlocks === 0, `${C} stats.usedBlocks ${b.stats().usedBlocks} after a round gave everything back (${when})`);
          return inUse;
        };
        for (const cls of group) peak = Math.max(peak, round(cls, `warm-up class ${cls}`));
        for (const cls of [...group.slice(1), ...group, group[0]!, ...group]) {
          const inUse = round(cls, `phase class ${cls}`);
          check(inUse <= peak, `${C} phase: a round of class ${cls} needed ${inUse} B of os-boundary's memory, the warm-up rounds of [${group.join(', ')}] peaked at ${peak} B (freed spans are not reused by other classes)`);
        }
        probeClean(r.regions, 'phase');
      },
    },
    {
      name: `${C}: remote free — blocks of thread A's spans freed by thread B wait on A's remote list (TR_POOL_REMOTE_HEAD) until A's next allocBatch or drainRemote`,
      run() {
        const { r, a, bb, tidA, live, cls } = twoThreads(24);
        const blocks = take(r, a, cls, 20, tidA, live, 'thread A carves 20');
        const five = blocks.slice(0, 5);
        give(bb, cls, five, live);
        const pendingSpans = new Map<Ptr, number>();
        for (const p of five) pendingSpans.set(spanOf(r, p), (pendingSpans.get(spanOf(r, p)) ?? 0) + 1);
        const list = walk(r, remoteHead(r, tidA), 100);
        check(list.length === 5 && five.every((p) => list.includes(p)), `${C} remote free: thread ${tidA}'s remote list (thread record word TR_POOL_REMOTE_HEAD) holds [${list.map(hex).join(' ')}], want the 5 blocks thread ${r.env.otherTid} freed`);
        for (const [span] of spansOf(r, tidA)) {
          const free = walk(r, pdOf(r.ctx, span, PD_FREE_HEAD), 10_000);
          check(!five.some((p) => free.includes(p)), `${C} remote free: a block freed by thread ${r.env.otherTid} is already on thread ${tidA}'s span ${hex(span)} free list (only the owner may touch it)`);
        }
        checkUsed(r, tidA, live, 'remote frees pending', pendingSpans);
        const sb = bb.stats();
        check(sb.remoteFreed === 5 && sb.usedBlocks === 0 && sb.remoteDrained === 0, `${C} stats of the freeing thread: remoteFreed ${sb.remoteFreed}, usedBlocks ${sb.usedBlocks}, remoteDrained ${sb.remoteDrained}; want 5, 0, 0`);
        const sa = a.stats();
        check(sa.usedBlocks === 20 && sa.remoteDrained === 0, `${C} stats of the owner: usedBlocks ${sa.usedBlocks} (pending remote frees count as used), remoteDrained ${sa.remoteDrained}; want 20, 0`);
        a.checkInvariants();
        bb.checkInvariants();
        // The owner's next allocBatch drains first.
        take(r, a, cls, 1, tidA, live, 'owner allocBatch');
        check(remoteHead(r, tidA) === 0, `${C} remote free: the owner's allocBatch did not drain its remote list`);
        const s2 = a.stats();
        check(s2.remoteDrained === 5 && s2.usedBlocks === 16, `${C} stats after the owner's allocBatch: remoteDrained ${s2.remoteDrained}, usedBlocks ${s2.usedBlocks}; want 5, 16`);
        checkUsed(r, tidA, live, 'after the drain');
        // drainRemote returns the count.
        const rest = [...live.keys()];
        give(bb, cls, rest, live);
        check(bb.stats().remoteFreed === 5 + rest.length, `${C} stats.remoteFreed ${bb.stats().remoteFreed}, want ${5 + rest.length}`);
        const drained = noThrow(`${C} drainRemote`, () => a.drainRemote());
        check(drained === rest.length, `${C} drainRemote returned ${drained}, ${rest.length} blocks were pending`);
        check(a.drainRemote() === 0, `${C} drainRemote on an empty list must return 0`);
        const s3 = a.stats();
        check(s3.remoteDrained === 5 + rest.length && s3.usedBlocks === 0 && s3.usedBytes === 0, `${C} stats after drainRemote: ${JSON.stringify(s3)}`);
        checkUsed(r, tidA, live, 'after drainRemote');
        a.checkInvariants();
        bb.checkInvariants();
      },
    },
    {
      name: `${C}: holds(p) — true exactly for the blocks free on their span's free list or on a thread's remote-free list (the heap's exact double-free check), as any thread's instance sees them`,
      run() {
        const { r, a, bb, tidA, live, cls } = twoThreads(16);
        const blocks = take(r, a, cls, 12, tidA, live, 'thread A carves 12');
        for (const p of blocks) check(!a.holds(p) && !bb.holds(p), `${C} holds(${hex(p)}): true for a block handed out and not freed`);
        const local = [blocks[1]!, blocks[5]!, blocks[11]!];
        give(a, cls, local, live);
        const remote = [blocks[3]!, blocks[8]!];
        give(bb, cls, remote, live);
        for (const p of [...local, ...remote]) {
          check(a.holds(p), `${C} holds(${hex(p)}): false for a block on ${local.includes(p) ? 'its span free list' : `thread ${tidA}'s remote-free list`}`);
          check(bb.holds(p), `${C} holds(${hex(p)}) asked of another thread's instance: false for a free block`);
        }
        for (const p of blocks) if (!local.includes(p) && !remote.includes(p)) check(!a.holds(p), `${C} holds(${hex(p)}): true for a live block beside free ones`);
        const again = take(r, a, cls, 5, tidA, live, 'thread A takes the free blocks back');
        for (const p of again) check(!a.holds(p), `${C} holds(${hex(p)}): still true after allocBatch handed it out again`);
        a.checkInvariants();
        bb.checkInvariants();
      },
    },
    {
      name: `${C}: adopt — a fresh instance for a thread id rebuilds the span queues and counters from the registry, gives back what the id mapped but did not cut, and drains its remote list`,
      run() {
        const r = setup();
        const tidA = r.ctx.tid;
        const a = r.box(tidA);
        const bb = r.box(r.env.otherTid);
        const live = new Map<Ptr, number>();
        const cls = classWith(r, a, 24);
        const blocks = take(r, a, cls, 40, tidA, live, 'thread A carves 40');
        give(bb, cls, blocks.slice(0, 10), live);
        const before = a.stats();
        // Thread A is gone; a new instance of its id takes over.
        const again = r.box(tidA);
        noThrow(`${C} adopt`, () => again.adopt());
        const s = again.stats();
        check(s.spans === before.spans && s.spanBytes === before.spanBytes, `${C} adopt: ${s.spans} spans / ${s.spanBytes} B, the first instance had ${before.spans} / ${before.spanBytes}`);
        check(s.remoteDrained === 10 && s.usedBlocks === 30, `${C} adopt: remoteDrained ${s.remoteDrained}, usedBlocks ${s.usedBlocks}; want 10 and 30`);
        check(remoteHead(r, tidA) === 0, `${C} adopt did not drain the id's remote list`);
        check(s.arenaFree === 0 && r.regions.inUse === s.spanBytes + s.emptySpanBytes, `${C} adopt: ${r.regions.inUse} B still mapped, the adopted spans hold ${s.spanBytes} B (the arena rest must go back)`);
        checkUsed(r, tidA, live, 'after adopt');
        again.checkInvariants();
        const more = take(r, again, cls, 10, tidA, live, 'the adopter allocates');
        check(blocks.slice(0, 10).every((p) => more.includes(p)), `${C} adopt: the adopter did not reuse the blocks freed remotely`);
        give(again, cls, [...live.keys()], live);
        again.trim();
        check(r.regions.inUse === 0, `${C} adopt: after freeing everything and trim, ${r.regions.inUse} B are still mapped`);
        again.checkInvariants();
      },
    },
    {
      name: `${C}: trim drains remote frees and gives every empty span and the arena rest back (os-boundary keeps only spans with live blocks)`,
      run() {
        const r = setup();
        const tid = r.ctx.tid;
        const a = r.box();
        const other = r.box(r.env.otherTid);
        const live = new Map<Ptr, number>();
        const c1 = 0;
        const c2 = r.sizes.length - 1 > 7 ? 7 : r.sizes.length - 1;
        const x = take(r, a, c1, 100, tid, live, 'class 0');
        const y = take(r, a, c2, 30, tid, live, `class ${c2}`);
        give(a, c1, x, live);
        give(other, c2, y.slice(1), live);
        const before = r.env.regions.stats().bytesInUse;
        const bytes = noThrow(`${C} trim`, () => a.trim());
        const after = r.env.regions.stats().bytesInUse;
        probeClean(r.regions, 'trim');
        check(remoteHead(r, tid) === 0, `${C} trim: post "drains remote frees": the remote list is not empty`);
        check(bytes === before - after, `${C} trim returned ${bytes}, but os-boundary's bytes in use fell by ${before - after}`);
        const keep = a.spanPages(c2) * PAGE_SIZE;
        check(after === keep, `${C} trim: os-boundary holds ${after} B afterwards, want ${keep} (the one span with a live block)`);
        const s = a.stats();
        check(s.spans === 1 && s.usedBlocks === 1 && s.usedBytes === sizeOf(r, c2), `${C} stats after trim: ${JSON.stringify(s)} (want 1 span, 1 used block)`);
        a.checkInvariants();
        give(a, c2, [y[0]!], live);
        const bytes2 = a.trim();
        check(r.env.regions.stats().bytesInUse === 0 && bytes2 === keep, `${C} trim: with nothing live, os-boundary still holds ${r.env.regions.stats().bytesInUse} B (trim returned ${bytes2})`);
        check(a.stats().spans === 0, `${C} trim: stats.spans ${a.stats().spans} with nothing live`);
        check(a.trim() === 0, `${C} trim: a second trim returned bytes`);
        a.checkInvariants();
        // Still usable after trim.
        take(r, a, c1, 3, tid, live, 'after trim');
        a.checkInvariants();
      },
    },
    {
      name: `${C}: exhaustion — allocBatch returns what fits, then 0 only when os-boundary has no span left; never throws; works again after frees`,
      run() {
        const r = setup({ maxBytes: 4 * MiB });
        const tid = r.ctx.tid;
        const b = r.box();
        const live = new Map<Ptr, number>();
        let cls = 0;
        for (let c = 0; c < r.sizes.length; c++) if (b.spanPages(c) > b.spanPages(cls)) cls = c;
        const got: Ptr[] = [];
        for (let i = 0; ; i++) {
          check(i < 10_000, `${C} exhaustion: allocBatch never returned 0 on a 4 MiB heap`);
          const n = allocRaw(r, b, cls, MAX_BATCH, tid, live, `exhaustion batch ${i}`);
          if (n.length === 0) break;
          got.push(...n);
        }
        check(got.length > 0, `${C} exhaustion: a 4 MiB heap gave no block of class ${cls}`);
        const span = b.spanPages(cls) * PAGE_SIZE;
        const probe = r.env.regions.map(span, PAGE_SIZE);
        if (probe !== 0) {
          r.env.regions.unmap(probe, span);
          fail(`${C} exhaustion: allocBatch returned 0 ("only when memory is exhausted") while os-boundary could still map a ${span}-byte span`);
        }
        check(allocRaw(r, b, cls, 1, tid, live, 'exhausted again').length === 0, `${C} exhaustion: a second allocBatch on an exhausted heap returned blocks`);
        b.checkInvariants();
        checkUsed(r, tid, live, 'exhausted');
        give(b, cls, got.slice(0, 3), live);
        const again = take(r, b, cls, 3, tid, live, 'after freeing 3');
        check(again.length === 3, `${C} exhaustion: after freeing 3 blocks allocBatch gave ${again.length}`);
        b.checkInvariants();
        check(b.stats().usedBlocks === live.size, `${C} stats.usedBlocks ${b.stats().usedBlocks}, the test holds ${live.size}`);
      },
    },
    {
      name: `${C}: arena chunks follow the spans in use — max(the span, a 64th of the spans' bytes rounded up to 64 KiB within arenaInitial..arenaMax); defaults one page (each span mapped on its own)`,
      run() {
        for (const [opts, initial, max, spans] of [
          [{}, PAGE_SIZE, PAGE_SIZE, 40],
          [{ arenaInitial: PAGE_SIZE, arenaMax: 4 * PAGE_SIZE }, PAGE_SIZE, 4 * PAGE_SIZE, 300],
          [{ arenaInitial: 2 * MiB, arenaMax: 2 * MiB }, 2 * MiB, 2 * MiB, 70],
        ] as const) {
          const r = setup();
          const b = r.box(r.ctx.tid, opts);
          const live = new Map<Ptr, number>();
          const cls = r.sizes.length - 1;
          const spanBytes = b.spanPages(cls) * PAGE_SIZE;
          const what = JSON.stringify(opts);
          for (let i = 0; i < spans; i++) {
            const before = b.stats().spanBytes;
            const maps = r.regions.maps.length;
            allocRaw(r, b, cls, 1, r.ctx.tid, live, `chunks ${what}`);
            if (r.regions.maps.length === maps) continue;
            const got = r.regions.maps.at(-1)![1];
            const want = Math.max(spanBytes, Math.min(max, Math.max(initial, Math.ceil(before / 64 / PAGE_SIZE) * PAGE_SIZE)));
            check(r.regions.maps.length === maps + 1 && got === want, `${C} arena (${what}): with ${before} B of spans a chunk of ${got} B was mapped, want ${want}`);
          }
          const sizes = r.regions.maps.map(([, n]) => n);
          const s = b.stats();
          check(s.chunks === r.regions.maps.length && s.arenaBytes === sizes.reduce((x, y) => x + y, 0),
            `${C} stats: chunks ${s.chunks} / arenaBytes ${s.arenaBytes}, the box mapped ${r.regions.maps.length} ranges of ${sizes.reduce((x, y) => x + y, 0)} B`);
          b.checkInvariants();
        }
      },
    },
    {
      name: `${C}: prewarm carves the given blocks per class at creation; they are free (usedBlocks 0) and serve the first batches with no map`,
      run() {
        const r = setup();
        const n = Math.min(3, r.sizes.length);
        const counts = [40, 0, 7].slice(0, n);
        const b = r.box(r.ctx.tid, { prewarm: counts });
        const s = b.stats();
        check(s.usedBlocks === 0 && s.usedBytes === 0, `${C} prewarm: usedBlocks ${s.usedBlocks} after creation (prewarmed blocks are free)`);
        check(s.carved >= counts.reduce((x, y) => x + y, 0), `${C} prewarm: stats.carved ${s.carved}, want at least ${counts.reduce((x, y) => x + y, 0)}`);
        const maps = r.regions.maps.length;
        check(maps > 0, `${C} prewarm: nothing was mapped at creation`);
        const live = new Map<Ptr, number>();
        counts.forEach((k, c) => { if (k > 0) take(r, b, c, k, r.ctx.tid, live, `prewarmed class ${c}`); });
        check(r.regions.maps.length === maps, `${C} prewarm: the prewarmed blocks did not serve the first batches (${r.regions.maps.length - maps} new maps)`);
        b.checkInvariants();
      },
    },
    {
      name: `${C}: stats are exact through a random mix of batches, frees, remote frees, drains and trims`,
      run() {
        const r = setup();
        const tid = r.ctx.tid;
        const a = r.box();
        const other = r.box(r.env.otherTid);
        const live = new Map<Ptr, number>();
        const pending = new Map<Ptr, number>();
        const classes = [0, Math.min(5, r.sizes.length - 1), r.sizes.length - 1];
        let remoteFreed = 0;
        let remoteDrained = 0;
        let handed = 0;
        let x = 0x1234567;
        const rnd = (k: number): number => {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          return (x >>> 0) % k;
        };
        for (let step = 0; step < 400; step++) {
          const op = rnd(10);
          const cls = classes[rnd(classes.length)]!;
          const when = `step ${step}`;
          if (op < 4) {
            const got = allocRaw(r, a, cls, 1 + rnd(40), tid, live, when);
            remoteDrained += pending.size;
            pending.clear();
            handed += got.length;
          } else if (op <= 7) {
            const mine = [...live].filter(([, c]) => c === cls).map(([p]) => p);
            const some = mine.slice(0, 1 + rnd(Math.max(1, mine.length)));
            if (op === 7) {
              give(other, cls, some, live);
              for (const p of some) pending.set(p, cls);
              remoteFreed += some.length;
            } else {
              give(a, cls, some, live);
            }
          } else if (op === 8) {
            const n = a.drainRemote();
            check(n === pending.size, `${C} drainRemote returned ${n}, ${pending.size} were pending (${when})`);
            remoteDrained += n;
            pending.clear();
          } else {
            a.trim();
            remoteDrained += pending.size;
            pending.clear();
          }
          probeClean(r.regions, when);
          const s = a.stats();
          const used = live.size + pending.size;
          const bytes = usedBytes(r, live) + usedBytes(r, pending);
          if (s.usedBlocks !== used || s.usedBytes !== bytes || s.remoteDrained !== remoteDrained || s.carved + s.reused !== handed
            || s.spans !== spansOf(r, tid).size || s.chunks !== r.regions.maps.length || s.arenaBytes !== r.regions.maps.reduce((k, [, n]) => k + n, 0)
            || s.spansReleased > r.regions.unmaps.length || s.spans > s.spansCreated - s.spansReleased) {
            fail(`${C} stats at ${when}: ${JSON.stringify(s)}; want usedBlocks ${used}, usedBytes ${bytes}, remoteDrained ${remoteDrained}, carved + reused ${handed}, spans ${spansOf(r, tid).size}, chunks ${r.regions.maps.length}`);
          }
          check(other.stats().remoteFreed === remoteFreed && other.stats().usedBlocks === 0, `${C} stats of the freeing thread at ${when}: ${JSON.stringify(other.stats())}, want remoteFreed ${remoteFreed}`);
          if (step % 50 === 0) {
            a.checkInvariants();
            other.checkInvariants();
          }
        }
        a.checkInvariants();
      },
    },
    {
      name: `${C}: checkInvariants passes on a consistent state and changes nothing`,
      run() {
        const r = setup();
        const a = r.box();
        const other = r.box(r.env.otherTid);
        const live = new Map<Ptr, number>();
        const got = take(r, a, 0, 60, r.ctx.tid, live, 'class 0');
        take(r, a, r.sizes.length - 1, 5, r.ctx.tid, live, 'last class');
        give(a, 0, got.slice(0, 10), live);
        give(other, 0, got.slice(10, 15), live);
        a.checkInvariants();
        other.checkInvariants();
        const snap = (): string => JSON.stringify([a.stats(), r.env.regions.stats(), remoteHead(r, r.ctx.tid), [...spansOf(r, r.ctx.tid)].map(([s]) => [pdOf(r.ctx, s, PD_USED), pdOf(r.ctx, s, PD_FREE_HEAD)])]);
        const before = snap();
        a.checkInvariants();
        check(snap() === before, `${C} checkInvariants: "never changes state"`);
      },
    },
    {
      name: `${C}: checkInvariants throws E_CORRUPTION naming the box for a corrupted span descriptor, a free-list cycle and a wrong registry entry`,
      run() {
        const corrupt = (what: string, damage: (r: RefillEnv, span: Ptr, blocks: Ptr[], cls: number) => void): void => {
          const r = setup();
          const b = r.box();
          const live = new Map<Ptr, number>();
          let cls = 0;
          for (let c = 0; c < r.sizes.length; c++) if (b.spanPages(c) > 1 && perSpan(r, b, c) >= 6) { cls = c; break; }
          const blocks = take(r, b, cls, 6, r.ctx.tid, live, what);
          give(b, cls, blocks.slice(1, 4), live);
          b.checkInvariants();
          damage(r, spanOf(r, blocks[0]!), blocks, cls);
          expectCorruption(C, what, () => b.checkInvariants());
        };
        corrupt('a span descriptor with the wrong block size', (r, span) => setPdOf(r.ctx, span, PD_BLOCK_SIZE, pdOf(r.ctx, span, PD_BLOCK_SIZE) + 512));
        corrupt('a span descriptor whose used count is off by one', (r, span) => setPdOf(r.ctx, span, PD_USED, pdOf(r.ctx, span, PD_USED) + 1));
        corrupt('a span descriptor with the wrong length', (r, span) => setPdOf(r.ctx, span, PD_REGION_PAGES, pdOf(r.ctx, span, PD_REGION_PAGES) + 1));
        corrupt('a cycle in a span free list', (r, span) => {
          const list = walk(r, pdOf(r.ctx, span, PD_FREE_HEAD), 100);
          check(list.length >= 2, `${C}: the span free list holds ${list.length} blocks after 3 frees`);
          r.ctx.backend.views.i32[list[list.length - 1]! >>> 2] = list[0]!;
        });
        corrupt('a free-list entry that is not a block of the span', (r, span) => {
          const list = walk(r, pdOf(r.ctx, span, PD_FREE_HEAD), 100);
          r.ctx.backend.views.i32[list[list.length - 1]! >>> 2] = list[0]! + 8;
        });
        corrupt('a span page with the wrong registry entry', (r, span, _b, cls) => {
          setRegOf(r.ctx, span + PAGE_SIZE, PageKind.POOL | (cls << REG_CLASS_SHIFT) | (r.ctx.tid << REG_THREAD_SHIFT) | (7 << REG_AUX_SHIFT));
        });
      },
    },
    {
      name: `${C}: bad options throw E_INVALID_OPTION (class sizes not multiples of 512 up to 65536; arena sizes not multiples of 64 KiB with arenaInitial <= arenaMax)`,
      run() {
        const r = setup();
        const bad: Array<[string, Partial<PoolRefillOptions>]> = [
          ['a class of 1000 B', { classSizes: Int32Array.from([512, 1000]) }],
          ['a class of 256 B', { classSizes: Int32Array.from([256]) }],
          ['a class above 65536', { classSizes: Int32Array.from([4096, 65536 + 512]) }],
          ['arenaInitial not a multiple of 64 KiB', { arenaInitial: 100_000 }],
          ['arenaInitial 0', { arenaInitial: 0 }],
          ['arenaInitial negative', { arenaInitial: -PAGE_SIZE }],
          ['arenaMax not a multiple of 64 KiB', { arenaMax: 8 * MiB + 4096 }],
          ['arenaMax below arenaInitial', { arenaInitial: 2 * MiB, arenaMax: MiB }],
        ];
        for (const [what, o] of bad) {
          expectHakmemError(() => make(r.ctx, { classSizes: r.sizes, regions: r.regions, ...o }), ErrorCode.INVALID_OPTION, `${C} options (${what})`);
        }
        check(r.regions.maps.length === 0, `${C} options: a rejected construction mapped memory`);
      },
    },
    reclaimCase(C, reclaim),
  ];
}
