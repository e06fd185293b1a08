import {
  ErrorCode, MAX_BATCH, type PoolTls, type PoolTlsOptions, type Ptr,
} from '@hakmem/contracts';
import { check, expectHakmemError, fail, RecordingBlockSource, recordingStorage, type ConformanceCase } from './types.js';
import { reclaimCase, type ReclaimWorldFactory } from './reclaim.js';

/** Builds the pool-tls cache under test (a box's factory, e.g. `createPoolTls`). */
export type PoolTlsFactory = (options: PoolTlsOptions) => PoolTls;

const C = 'pool-tls';
/** The largest mid class the contract allows. */
const MID_MAX = 65536;

/** The fake source for mid-size caches: blocks 512 bytes apart (pool-tls's checkInvariants rejects others). */
class MidBlockSource extends RecordingBlockSource {
  constructor(options: { remaining?: number; perCall?: number } = {}) {
    super({ ...options, stride: 512 });
  }
}

/** Valid custom class tables the suite builds caches from (besides the default one). */
const TABLES: ReadonlyArray<readonly number[]> = [
  [512],
  [65536],
  [512, 1024, 4096],
  [2560, 3072, 8192, 65536],
  [1024, 1536, 2048, 2560, 3072, 3584, 4096, 6144, 8192, 12288, 16384, 24576, 32768, 49152, 65024, 65536],
];

function sameSet(a: readonly Ptr[], b: readonly Ptr[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return s.size === a.length && b.every((p) => s.has(p));
}

function noViolations(src: MidBlockSource, clause: string): void {
  check(src.violations.length === 0, `${clause}: the cache broke the chain contract: ${src.violations.slice(0, 3).join('; ')}`);
}

/** Allocates from class `cls` until the cache stops handing out cached blocks (no refill: the source is cut off first). */
function drain(cache: PoolTls, src: MidBlockSource, cls: number, limit: number): Ptr[] {
  const remaining = src.remaining;
  src.remaining = 0;
  const got: Ptr[] = [];
  for (let i = 0; i <= limit; i++) {
    const p = cache.alloc(cls);
    if (p === 0) {
      src.remaining = remaining;
      return got;
    }
    got.push(p);
  }
  return fail(`${C} count: class ${cls} still hands out blocks after ${limit + 1} allocs from a source that gives nothing (more than it can hold)`);
}

/**
 * Conformance suite of the `PoolTls` contract (packages/contracts/src/boxes/pool-tls.ts):
 * the class table and `classOf`, LIFO alloc/free, one bounded refill per miss, spills of
 * half a full class to the sink (Contract C: batches ≤ MAX_BATCH, count ≤ capacity),
 * flush, the capacity option, option validation, exhaustion, exact stats and
 * `checkInvariants` catching a block cached twice.
 *
 * Every case builds its own cache over a suite-local recording source of 512-aligned
 * fake blocks, so `factory` is called many times; it must not share state between calls.
 */
export function poolTlsConformance(factory: PoolTlsFactory, reclaim?: ReclaimWorldFactory): ConformanceCase[] {
  // Fixed counts unless a case gives a budget: most cases pin the capacity's behaviour.
  const make = (opts: Omit<PoolTlsOptions, 'source'> = {}, src = new MidBlockSource()) => ({
    src, cache: factory({ budget: false, ...opts, source: src }),
  });
  const sizeOf = (cache: PoolTls, cls: number): number => cache.classSizes[cls]!;

  return [
    {
      name: `${C}: name is '${C}', stats() starts at zero and is a fresh snapshot`,
      run() {
        const { cache } = make();
        check(cache.name === C, `${C} Box.name: expected '${C}', got '${cache.name}'`);
        const s = cache.stats();
        check(s.refills === 0 && s.refillBlocks === 0 && s.spills === 0 && s.spillBlocks === 0 && s.cached === 0 && s.cachedBytes === 0,
          `${C} stats: a new cache must count nothing, got ${JSON.stringify(s)}`);
        s.cached = 99;
        s.refills = 99;
        const t = cache.stats();
        check(t !== s && t.cached === 0 && t.refills === 0, `${C} Box.stats: must return a fresh snapshot, not live state`);
        for (let c = 0; c < cache.numClasses; c++) check(cache.count(c) === 0, `${C} count: a new cache holds ${cache.count(c)} blocks in class ${c}`);
      },
    },
    {
      name: `${C}: class table — numClasses = classSizes.length, ascending multiples of 512 up to 65536; the option is taken as given`,
      run() {
        const dflt = make().cache;
        const tables: Array<[PoolTls, readonly number[] | undefined]> = [[dflt, undefined], ...TABLES.map((t) => [make({ classSizes: t }).cache, t] as [PoolTls, readonly number[]])];
        for (const [cache, want] of tables) {
          const what = want === undefined ? 'default table' : `classSizes [${want.join(', ')}]`;
          check(cache.numClasses > 0 && cache.numClasses === cache.classSizes.length, `${C} numClasses ${cache.numClasses} != classSizes.length ${cache.classSizes.length} (${what})`);
          let prev = 0;
          for (let c = 0; c < cache.numClasses; c++) {
            const s = sizeOf(cache, c);
            check(s > prev && s % 512 === 0 && s <= MID_MAX, `${C} invariant "ascending multiples of 512 up to 65536": class ${c} is ${s} after ${prev} (${what})`);
            prev = s;
          }
          if (want !== undefined) check(Array.from(cache.classSizes).join() === want.join(), `${C} options.classSizes: the table is [${Array.from(cache.classSizes).join(', ')}], not the one given (${what})`);
        }
        check(sizeOf(dflt, dflt.numClasses - 1) === MID_MAX, `${C} default table: the last class must hold every pool size up to 64 KiB, got ${sizeOf(dflt, dflt.numClasses - 1)}`);
      },
    },
    {
      name: `${C}: classOf(s) is the smallest class holding s, for every size 0 ..= the last class`,
      run() {
        for (const table of [undefined, ...TABLES]) {
          const cache = make(table === undefined ? {} : { classSizes: table }).cache;
          const what = table === undefined ? 'default table' : `classSizes [${table.join(', ')}]`;
          const last = sizeOf(cache, cache.numClasses - 1);
          for (let s = 0; s <= last; s++) {
            const c = cache.classOf(s);
            if (!Number.isInteger(c) || c < 0 || c >= cache.numClasses) fail(`${C} classOf(${s}) = ${c} is not a class (${what})`);
            if (sizeOf(cache, c) < s) fail(`${C} classOf: post "a class that holds it": classOf(${s}) = ${c} holds ${sizeOf(cache, c)} B (${what})`);
            if (c > 0 && sizeOf(cache, c - 1) >= s) fail(`${C} classOf: post "the smallest class": classOf(${s}) = ${c} but class ${c - 1} (${sizeOf(cache, c - 1)} B) holds it (${what})`);
          }
        }
      },
    },
    {
      name: `${C}: capacity(c) is the capacity option (one number or one per class), the default in 1..4096; a new cache is empty`,
      run() {
        const sizes = [512, 1024, 4096];
        const perClass = make({ classSizes: sizes, capacity: [4, 8, 16] }).cache;
        const one = make({ classSizes: sizes, capacity: 5 }).cache;
        const big = make({ classSizes: sizes, capacity: 4096 }).cache;
        const dflt = make().cache;
        [4, 8, 16].forEach((cap, c) => check(perClass.capacity(c) === cap, `${C} options.capacity[${c}] = ${cap}: capacity(${c}) is ${perClass.capacity(c)}`));
        for (let c = 0; c < 3; c++) {
          check(one.capacity(c) === 5, `${C} options.capacity = 5: capacity(${c}) is ${one.capacity(c)}`);
          check(big.capacity(c) === 4096, `${C} options.capacity = 4096: capacity(${c}) is ${big.capacity(c)}`);
        }
        for (let c = 0; c < dflt.numClasses; c++) {
          const cap = dflt.capacity(c);
          check(Number.isInteger(cap) && cap >= 1 && cap <= 4096, `${C} default capacity of class ${c} is ${cap}, not in 1..4096`);
        }
        for (const cache of [perClass, one, big, dflt]) {
          for (let c = 0; c < cache.numClasses; c++) check(cache.count(c) === 0, `${C} count: a new cache holds ${cache.count(c)} blocks in class ${c}`);
        }
      },
    },
    {
      name: `${C}: bad options throw E_INVALID_OPTION (class table not ascending, not multiples of 512, above 65536; capacity outside 1..4096)`,
      run() {
        const bad: Array<[string, Omit<PoolTlsOptions, 'source'>]> = [
          ['descending classes', { classSizes: [1024, 512] }],
          ['a repeated class', { classSizes: [512, 512, 1024] }],
          ['a class not a multiple of 512', { classSizes: [512, 1000] }],
          ['a class of 768 B', { classSizes: [768] }],
          ['a class above 65536', { classSizes: [4096, 65536 + 512] }],
          ['a fractional class', { classSizes: [512.5] }],
          ['capacity 0', { capacity: 0 }],
          ['capacity -1', { capacity: -1 }],
          ['capacity 4097', { capacity: 4097 }],
          ['capacity 2.5', { capacity: 2.5 }],
          ['a per-class capacity 0', { classSizes: [512, 1024], capacity: [4, 0] }],
        ];
        for (const [what, opts] of bad) {
          expectHakmemError(() => make(opts), ErrorCode.INVALID_OPTION, `${C} options (${what})`);
        }
      },
    },
    {
      name: `${C}: alloc on an empty class refills one bounded batch (0 < max <= min(capacity, MAX_BATCH), room in out) and returns one of it`,
      run() {
        const configs: Array<Omit<PoolTlsOptions, 'source'>> = [
          { classSizes: [512, 4096], capacity: 1 },
          { classSizes: [512, 4096], capacity: 3 },
          { classSizes: [512, 4096], capacity: [64, 9] },
          { classSizes: [512, 4096], capacity: 600 },
          { classSizes: [512, 4096], capacity: 4096 },
          {},
        ];
        for (const opts of configs) {
          for (const c of [0, 1]) {
            const { src, cache } = make(opts);
            const cap = cache.capacity(c);
            const what = `${JSON.stringify(opts)} class ${c} (capacity ${cap})`;
            const p = cache.alloc(c);
            check(src.allocCalls.length === 1, `${C} alloc: a miss must refill "one bounded batch": ${src.allocCalls.length} allocBatch calls (${what})`);
            const call = src.allocCalls[0]!;
            check(call.cls === c, `${C} alloc: refilled class ${call.cls} instead of ${c} (${what})`);
            check(call.max > 0 && call.max <= MAX_BATCH, `${C} alloc: refill batch ${call.max} outside 1..MAX_BATCH (Contract C) (${what})`);
            check(call.max <= cap, `${C} alloc: refill batch ${call.max} above the capacity ${cap} (${what})`);
            check(call.offset >= 0 && call.offset + call.max <= call.outLength, `${C} alloc: out[${call.offset} .. ${call.offset + call.max}) has no room in an array of ${call.outLength} (${what})`);
            check(p !== 0 && call.blocks.includes(p), `${C} alloc: post "a free block of class cls": got ${p}, not one of the refilled batch (${what})`);
            check(cache.count(c) === call.blocks.length - 1, `${C} alloc: ${call.blocks.length} refilled, 1 returned, count is ${cache.count(c)} (${what})`);
            check(cache.count(c) <= cap, `${C} invariant count <= capacity: ${cache.count(c)} > ${cap} (${what})`);
            check(cache.count(1 - c) === 0, `${C} alloc: class ${1 - c} changed when class ${c} was refilled (${what})`);
            const s = cache.stats();
            check(s.refills === 1 && s.refillBlocks === call.blocks.length && s.cached === call.blocks.length - 1,
              `${C} stats: after one refill of ${call.blocks.length} expected refills 1, refillBlocks ${call.blocks.length}, cached ${call.blocks.length - 1}; got ${JSON.stringify(s)} (${what})`);
            const rest = drain(cache, src, c, cap);
            check(!rest.includes(p), `${C} alloc: the returned block ${p} is still cached (it belongs to the caller) (${what})`);
            check(sameSet(rest, call.blocks.filter((b) => b !== p)), `${C} alloc: the cached blocks are not the rest of the batch (${what})`);
            noViolations(src, `${C} alloc (${what})`);
          }
        }
      },
    },
    {
      name: `${C}: alloc pops LIFO what free pushed, touching neither the source nor the sink`,
      run() {
        const { src, cache } = make({ classSizes: [512, 1024, 4096], capacity: 8 });
        const a = src.mint(1, 5);
        const b = src.mint(2, 2);
        for (const p of a) cache.free(1, p);
        for (const p of b) cache.free(2, p);
        check(cache.count(0) === 0 && cache.count(1) === 5 && cache.count(2) === 2,
          `${C} count: after 5 frees to class 1 and 2 to class 2, counts are ${cache.count(0)}/${cache.count(1)}/${cache.count(2)}`);
        const s = cache.stats();
        check(s.cached === 7 && s.cachedBytes === 5 * 1024 + 2 * 4096, `${C} stats: cached ${s.cached} / cachedBytes ${s.cachedBytes}, want 7 / ${5 * 1024 + 2 * 4096}`);
        const got: Ptr[] = [];
        for (let i = 0; i < 5; i++) got.push(cache.alloc(1));
        check(got.join() === [...a].reverse().join(), `${C} alloc: "pops LIFO": class 1 handed out [${got}] for pushed [${a}] (want the reverse)`);
        const p = cache.alloc(2);
        check(p === b[1], `${C} alloc: "pops LIFO": class 2 handed out ${p}, the last pushed is ${b[1]}`);
        cache.free(2, p);
        check(cache.alloc(2) === p, `${C} alloc: a block freed and allocated again must come straight back`);
        check(src.allocCalls.length === 0 && src.freeCalls.length === 0, `${C} alloc/free: a hit must not call the source or the sink`);
        check(cache.stats().refills === 0 && cache.stats().spills === 0, `${C} stats: hits are neither refills nor spills`);
      },
    },
    {
      name: `${C}: holds(c, p) is true exactly for the blocks class c caches now (the heap's exact double-free check)`,
      run() {
        const { src, cache } = make({ classSizes: [512, 1024, 4096], capacity: 8 });
        const a = src.mint(1, 4);
        check(!cache.holds(1, a[0]!), `${C} holds: an empty class holds ${a[0]}`);
        for (const p of a) cache.free(1, p);
        for (const p of a) check(cache.holds(1, p), `${C} holds(1, ${p}): false for a block freed into class 1`);
        check(!cache.holds(0, a[0]!) && !cache.holds(2, a[0]!), `${C} holds: true for a block of class 1 asked in another class`);
        const p = cache.alloc(1);
        check(!cache.holds(1, p), `${C} holds(1, ${p}): still true after alloc handed it out`);
        for (const q of a) if (q !== p) check(cache.holds(1, q), `${C} holds(1, ${q}): false after another block was handed out`);
        check(src.allocCalls.length === 0 && src.freeCalls.length === 0, `${C} holds: must not call the source or the sink`);
      },
    },
    {
      name: `${C}: storage — the cache keeps its blocks in the Int32Array the storage option returns (asked once), and a new cache over the same storage holds the same blocks (an adopted thread's cache, collected by the heap's reclaim)`,
      run() {
        const rec = recordingStorage(C);
        const given = rec.given;
        const opts = { classSizes: [512, 1024, 4096], capacity: 8, storage: given };
        const src = new MidBlockSource();
        const first = factory({ ...opts, source: src });
        check(rec.asked === 1, `${C} options.storage: called ${rec.asked} times, want once at creation`);
        const storage = rec.array!;
        const a = src.mint(1, 5);
        for (const p of a) first.free(1, p);
        const inStorage = a.filter((p) => storage.includes(p));
        check(inStorage.length === 5, `${C} options.storage: ${5 - inStorage.length} of 5 cached blocks are not in the storage array (a cache that keeps them elsewhere leaks them when its thread dies)`);
        const second = factory({ ...opts, source: src });
        check(second.count(1) === 5, `${C} options.storage: a cache over storage that holds this layout counts ${second.count(1)}, want 5 ("its contents are kept")`);
        const got = drain(second, src, 1, 8);
        check(got.length === 5 && a.every((p) => got.includes(p)), `${C} options.storage: the new cache does not hand out the blocks the storage holds`);
        check(src.freeCalls.length === 0, `${C} storage: must not call the sink`);
      },
    },
    {
      name: `${C}: alloc accepts a partial refill (the source returns fewer than max)`,
      run() {
        const src = new MidBlockSource({ perCall: 3 });
        const { cache } = make({ classSizes: [4096], capacity: 64 }, src);
        const r = cache.alloc(0);
        check(r !== 0, `${C} alloc: a partial batch of 3 must still give a block, got 0`);
        check(cache.count(0) === 2, `${C} alloc: 3 received, 1 returned, count is ${cache.count(0)}`);
        check(cache.stats().refillBlocks === 3, `${C} stats.refillBlocks: expected 3, got ${cache.stats().refillBlocks}`);
        const rest = drain(cache, src, 0, 64);
        check(sameSet([r, ...rest], src.allocCalls[0]!.blocks), `${C} alloc: blocks lost or invented in a partial batch`);
      },
    },
    {
      name: `${C}: alloc returns 0 when the source is exhausted, never throws, and the cache stays usable`,
      run() {
        const src = new MidBlockSource({ remaining: 0 });
        const { cache } = make({ classSizes: [512, 4096], capacity: 16 }, src);
        let r: Ptr;
        try {
          r = cache.alloc(1);
        } catch (e) {
          return fail(`${C} alloc: must never throw, threw ${String(e)}`);
        }
        check(r === 0, `${C} alloc: post "0 on exhaustion", got ${r}`);
        check(cache.count(1) === 0, `${C} alloc: an exhausted refill left ${cache.count(1)} blocks cached`);
        const s = cache.stats();
        check(s.refills === 1 && s.refillBlocks === 0 && s.cached === 0, `${C} stats: a miss that called the source is a refill with 0 blocks; got ${JSON.stringify(s)}`);
        const [p] = src.mint(1, 1);
        cache.free(1, p!);
        check(cache.alloc(1) === p, `${C} alloc: after exhaustion a freed block must still be cached and handed back`);
        check(cache.alloc(1) === 0, `${C} alloc: a still exhausted source must give 0 again`);
        src.remaining = 5;
        const again = cache.alloc(1);
        check(again !== 0 && cache.count(1) === 4, `${C} alloc: after the source recovers, alloc must refill (got ${again}, count ${cache.count(1)})`);
        noViolations(src, `${C} exhaustion`);
      },
    },
    {
      name: `${C}: free beyond capacity spills about half the class (batches <= MAX_BATCH) to the sink, the oldest, and keeps the newest and ptr`,
      run() {
        for (const cap of [1, 2, 5, 64, 600]) {
          const { src, cache } = make({ classSizes: [512, 4096], capacity: [cap, 4] });
          const blocks = src.mint(0, cap);
          for (const p of blocks) cache.free(0, p);
          const other = src.mint(1, 2);
          for (const p of other) cache.free(1, p);
          check(src.freeCalls.length === 0, `${C} free: spilled before the class was full (capacity ${cap})`);
          const [extra] = src.mint(0, 1);
          try {
            cache.free(0, extra!);
          } catch (e) {
            fail(`${C} free: must never throw, threw ${String(e)}`);
          }
          noViolations(src, `${C} spill (capacity ${cap})`);
          check(src.freeCalls.length >= 1, `${C} free: a free beyond capacity ${cap} did not spill`);
          for (const call of src.freeCalls) {
            check(call.cls === 0, `${C} spill: spilled to class ${call.cls} instead of 0`);
            check(call.blocks.length <= MAX_BATCH, `${C} spill: a batch of ${call.blocks.length} exceeds MAX_BATCH (Contract C)`);
          }
          const spilled = src.freedBlocks();
          const lo = cap === 1 ? 1 : Math.min(Math.floor(cap / 2), MAX_BATCH);
          const hi = Math.max(1, Math.ceil(cap / 2));
          check(spilled.length >= lo && spilled.length <= hi, `${C} spill: "spilling half the class": ${spilled.length} of ${cap} blocks spilled (expected ${lo}..${hi})`);
          check(!spilled.includes(extra!), `${C} spill: ptr itself went to the sink (the newest block is kept)`);
          check(sameSet(spilled, blocks.slice(0, spilled.length)), `${C} spill: the spilled blocks are not the ${spilled.length} oldest of the class (the newest stay hot)`);
          check(cache.count(0) === cap - spilled.length + 1, `${C} spill: count ${cache.count(0)} after spilling ${spilled.length} of ${cap} and caching ptr`);
          check(cache.count(0) <= cap, `${C} invariant count <= capacity: ${cache.count(0)} > ${cap}`);
          const s = cache.stats();
          check(s.spills === 1 && s.spillBlocks === spilled.length && s.cached === cache.count(0) + 2,
            `${C} stats: after one spill of ${spilled.length} expected spills 1, spillBlocks ${spilled.length}, cached ${cache.count(0) + 2}; got ${JSON.stringify(s)}`);
          const kept = drain(cache, src, 0, cap);
          check(kept[0] === extra, `${C} spill: ptr must be the next block handed out (LIFO), got ${kept[0]}`);
          check(sameSet(kept, [...blocks.slice(spilled.length), extra!]), `${C} spill: blocks lost or duplicated (capacity ${cap})`);
          check(sameSet(drain(cache, src, 1, 4), other), `${C} spill: another class changed`);
        }
      },
    },
    {
      name: `${C}: budget — a class caches minBytes plus share of what the thread holds live in it (limit in 1..capacity); frees beyond it go to the sink; budget false keeps the capacity`,
      run() {
        const size = 4096;
        const opts = { classSizes: [512, size], capacity: 64 } as const;
        const { src, cache } = make({ ...opts, budget: { minBytes: 4 * size, share: 0.25 } });
        check(cache.limit(1) === 4, `${C} budget: with nothing live the limit is minBytes / size = 4, got ${cache.limit(1)}`);
        const got: Ptr[] = [];
        for (let i = 0; i < 200; i++) got.push(cache.alloc(1));
        check(got.every((p) => p !== 0) && new Set(got).size === 200, `${C} budget: 200 allocs did not give 200 distinct blocks`);
        for (const call of src.allocCalls) check(call.max <= 32, `${C} budget: a refill asked for ${call.max} blocks, more than half the capacity`);
        check(src.allocCalls.length > 200 / 32, `${C} budget: 200 allocs took ${src.allocCalls.length} refills; with little live at first the batches are small`);
        check(cache.limit(1) > 4 && cache.limit(1) <= 64, `${C} budget: with 200 blocks live the limit must have grown within the capacity, got ${cache.limit(1)}`);
        for (const p of got) {
          cache.free(1, p);
          check(cache.count(1) <= cache.limit(1) && cache.limit(1) <= cache.capacity(1), `${C} invariant count <= limit <= capacity: ${cache.count(1)}, ${cache.limit(1)}, ${cache.capacity(1)}`);
        }
        noViolations(src, `${C} budget`);
        check(cache.stats().spills > 0, `${C} budget: 200 frees into a class of capacity 64 never spilled`);
        // Nothing live: the class keeps what the rule allows for the few blocks live at its last spill.
        check(cache.count(1) <= 7, `${C} budget: with nothing live the class still caches ${cache.count(1)} blocks (minBytes is 4 blocks, share 0.25)`);
        check(src.freedBlocks().length + cache.count(1) === src.allocCalls.reduce((t, c) => t + c.blocks.length, 0), `${C} budget: blocks lost or duplicated`);
        const s = cache.stats();
        check(s.budgetBytes === cache.limit(0) * 512 + cache.limit(1) * size, `${C} stats.budgetBytes ${s.budgetBytes} is not Σ limit × size`);
        const fixed = make({ ...opts, budget: false }).cache;
        const all: Ptr[] = [];
        for (let i = 0; i < 64; i++) all.push(fixed.alloc(1));
        for (const p of all) fixed.free(1, p);
        check(fixed.limit(1) === 64 && fixed.count(1) === 64, `${C} budget false: the class keeps its capacity (limit ${fixed.limit(1)}, count ${fixed.count(1)})`);
        for (const [what, budget] of [['minBytes -1', { minBytes: -1, share: 0.25 }], ['share NaN', { minBytes: 0, share: Number.NaN }], ['share -1', { minBytes: 0, share: -1 }]] as const) {
          expectHakmemError(() => make({ budget }), ErrorCode.INVALID_OPTION, `${C} options.budget ${what}`);
        }
      },
    },
    {
      name: `${C}: flush returns every cached block to the sink exactly once, in batches <= MAX_BATCH; count is 0 after`,
      run() {
        const { src, cache } = make({ classSizes: [512, 1024, 4096], capacity: [600, 4, 4] });
        const a = src.mint(0, 600);
        const b = src.mint(1, 3);
        for (const p of a) cache.free(0, p);
        for (const p of b) cache.free(1, p);
        cache.alloc(0);
        const held = a[a.length - 1]!;
        cache.flush();
        noViolations(src, `${C} flush`);
        for (const call of src.freeCalls) check(call.blocks.length <= MAX_BATCH, `${C} flush: a batch of ${call.blocks.length} exceeds MAX_BATCH (Contract C)`);
        const byClass = (c: number) => src.freeCalls.filter((call) => call.cls === c).flatMap((call) => [...call.blocks]);
        check(sameSet(byClass(0), a.filter((p) => p !== held)), `${C} flush: class 0 returned ${byClass(0).length} of 599 blocks (or wrong ones, or the one the caller holds)`);
        check(sameSet(byClass(1), b), `${C} flush: class 1 returned [${byClass(1)}] for [${b}]`);
        check(byClass(2).length === 0, `${C} flush: class 2 was empty but returned blocks`);
        for (let c = 0; c < 3; c++) check(cache.count(c) === 0, `${C} flush: post "the box holds nothing": class ${c} holds ${cache.count(c)}`);
        const s = cache.stats();
        check(s.cached === 0 && s.cachedBytes === 0, `${C} flush: stats.cached ${s.cached}, cachedBytes ${s.cachedBytes}`);
        check(src.allocCalls.length === 0, `${C} flush: must not call allocBatch`);
        const p = cache.alloc(1);
        check(p !== 0 && src.allocCalls.length >= 1, `${C} flush: the cache must be usable afterwards (alloc refills)`);
      },
    },
    {
      name: `${C}: count and capacity agree with what was pushed, and stats are exact, through a random mix of alloc/free/flush`,
      run() {
        const src = new MidBlockSource();
        const sizes = [512, 2560, 65536];
        const caps = [5, 1, 17];
        const { cache } = make({ classSizes: sizes, capacity: caps }, src);
        const held: Ptr[][] = [[], [], []];
        const cached: number[] = [0, 0, 0];
        let refills = 0;
        let refillBlocks = 0;
        let spills = 0;
        let spillBlocks = 0;
        let x = 0x2545f491;
        for (let step = 0; step < 3000; step++) {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          const c = (x >>> 8) % 3;
          const calls = [src.allocCalls.length, src.freeCalls.length];
          if (((x >>> 4) & 63) === 0) {
            cache.flush();
            cached.fill(0);
          } else if ((x & 1) === 0) {
            const p = cache.alloc(c);
            check(p !== 0, `${C} alloc: 0 from an endless source`);
            check(src.isOut(p) && src.classOfBlock(p) === c, `${C} alloc: handed out ${p}, not a block of class ${c} the cache owns`);
            check(!held[c]!.includes(p), `${C} alloc: handed out ${p} twice`);
            held[c]!.push(p);
            if (src.allocCalls.length > calls[0]!) {
              check(cached[c] === 0, `${C} alloc: refilled class ${c} while it held ${cached[c]} blocks (a hit must not refill)`);
              refills++;
              refillBlocks += src.allocCalls[src.allocCalls.length - 1]!.blocks.length;
              cached[c] = src.allocCalls[src.allocCalls.length - 1]!.blocks.length - 1;
            } else {
              check(cached[c]! > 0, `${C} alloc: class ${c} handed out a block while empty without refilling`);
              cached[c]!--;
            }
          } else if (held[c]!.length > 0) {
            const p = held[c]!.pop()!;
            cache.free(c, p);
            if (src.freeCalls.length > calls[1]!) {
              check(cached[c] === caps[c], `${C} free: spilled class ${c} at ${cached[c]} of ${caps[c]} (only a full class spills)`);
              const n = src.freeCalls.slice(calls[1]).reduce((k, call) => k + call.blocks.length, 0);
              spills++;
              spillBlocks += n;
              cached[c] = cached[c]! - n + 1;
            } else {
              cached[c]!++;
            }
          }
          let sum = 0;
          let bytes = 0;
          for (let k = 0; k < 3; k++) {
            const n = cache.count(k);
            check(n === cached[k], `${C} count(${k}) is ${n}, but ${cached[k]} blocks were pushed / refilled and not taken (step ${step})`);
            check(n >= 0 && n <= caps[k]! && cache.capacity(k) === caps[k], `${C} invariant 0 <= count <= capacity: class ${k} holds ${n} of ${cache.capacity(k)} (step ${step})`);
            sum += n;
            bytes += n * sizes[k]!;
          }
          const s = cache.stats();
          if (s.cached !== sum || s.cachedBytes !== bytes || s.refills !== refills || s.refillBlocks !== refillBlocks || s.spills !== spills || s.spillBlocks !== spillBlocks) {
            fail(`${C} stats at step ${step}: ${JSON.stringify(s)}, want ${JSON.stringify({ refills, refillBlocks, spills, spillBlocks, cached: sum, cachedBytes: bytes })}`);
          }
        }
        noViolations(src, `${C} mixed run`);
        cache.checkInvariants();
        cache.flush();
        for (let c = 0; c < 3; c++) for (const p of held[c]!) check(src.isOut(p), `${C} flush: returned ${p}, which the caller holds`);
        noViolations(src, `${C} final flush`);
      },
    },
    {
      name: `${C}: checkInvariants passes on a consistent cache and changes nothing`,
      run() {
        const { src, cache } = make({ classSizes: [512, 8192], capacity: 8 });
        cache.checkInvariants();
        cache.alloc(0);
        for (const p of src.mint(1, 8)) cache.free(1, p);
        const before = [cache.count(0), cache.count(1), JSON.stringify(cache.stats())].join();
        cache.checkInvariants();
        const after = [cache.count(0), cache.count(1), JSON.stringify(cache.stats())].join();
        check(before === after, `${C} checkInvariants: "never changes state": ${before} became ${after}`);
        check(src.allocCalls.length === 1 && src.freeCalls.length === 0, `${C} checkInvariants: must not call the source or the sink`);
      },
    },
    {
      name: `${C}: checkInvariants throws E_CORRUPTION naming the box for a block cached twice (one class or two)`,
      run() {
        const clause = `${C} checkInvariants: "every cached block is in no other list"`;
        const named = (e: { readonly box?: string | undefined; readonly message: string }, what: string) => check(e.box === C || e.message.includes(C), `${clause} (${what}): the error does not name the box (${e.message})`);
        {
          const { src, cache } = make({ classSizes: [512, 4096], capacity: 8 });
          const [p, q] = src.mint(0, 2);
          cache.free(0, p!);
          cache.free(0, q!);
          cache.free(0, p!);
          named(expectHakmemError(() => cache.checkInvariants(), ErrorCode.CORRUPTION, `${clause} (block cached twice in one class)`), 'one class');
        }
        {
          const { src, cache } = make({ classSizes: [512, 4096], capacity: 8 });
          const [p] = src.mint(0, 1);
          cache.free(0, p!);
          cache.free(1, p!);
          named(expectHakmemError(() => cache.checkInvariants(), ErrorCode.CORRUPTION, `${clause} (block cached in two classes)`), 'two classes');
        }
      },
    },
    reclaimCase(C, reclaim),
  ];
}
