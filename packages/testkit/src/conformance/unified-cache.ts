import { ErrorCode, MAX_BATCH, type Ptr, type UnifiedCache, type UnifiedCacheOptions } from '@hakmem/contracts';
import { check, expectHakmemError, fail, RecordingBlockSource, recordingStorage, type ConformanceCase } from './types.js';
import { reclaimCase, type ReclaimWorldFactory } from './reclaim.js';

/** Builds the unified cache under test (a box's factory, e.g. `createUnifiedCache`). */
export type UnifiedCacheFactory = (options: UnifiedCacheOptions) => UnifiedCache;

const C = 'unified-cache';

/** The batch the contract asks for: `batch` (default capacity / 2) clamped to `[1, min(capacity, MAX_BATCH)]`. */
function clampedBatch(capacity: number, batch: number): number {
  return Math.max(1, Math.min(batch, capacity, MAX_BATCH));
}

/** Pops class `cls` until it is empty (at most `limit` pops), returning the blocks. */
function drain(cache: UnifiedCache, cls: number, limit: number): Ptr[] {
  const got: Ptr[] = [];
  for (let i = 0; i <= limit; i++) {
    const p = cache.pop(cls);
    if (p === 0) return got;
    got.push(p);
  }
  return fail(`${C} count: class ${cls} still hands out blocks after ${limit + 1} pops (more than it can hold)`);
}

function sameSet(a: readonly Ptr[], b: readonly Ptr[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return s.size === a.length && b.every((p) => s.has(p));
}

function noViolations(src: RecordingBlockSource, clause: string): void {
  check(src.violations.length === 0, `${clause}: the cache broke the chain contract: ${src.violations.slice(0, 3).join('; ')}`);
}

/**
 * Conformance suite of the `UnifiedCache` contract (`@hakmem/contracts`): pop/push/
 * refill/spill/flush pre- and post-conditions, the per-class capacity and refill batch
 * options, the Contract C bounds (`count <= capacity`, batches `<= MAX_BATCH`), the
 * stats counters, and `checkInvariants` catching a block cached twice.
 *
 * Every case builds its own cache over a {@link RecordingBlockSource}, so `factory` is
 * called many times; it must not share state between calls.
 */
export function unifiedCacheConformance(factory: UnifiedCacheFactory, reclaim?: ReclaimWorldFactory): ConformanceCase[] {
  const make = (opts: Omit<UnifiedCacheOptions, 'source'>, src = new RecordingBlockSource()) => ({
    src, cache: factory({ ...opts, source: src }),
  });

  return [
    {
      name: `${C}: name is '${C}', stats() starts at zero and is a fresh snapshot`,
      run() {
        const { cache } = make({ numClasses: 2 });
        check(cache.name === C, `${C} Box.name: expected '${C}', got '${cache.name}'`);
        const s = cache.stats();
        check(s.refills === 0 && s.refillBlocks === 0 && s.spills === 0 && s.spillBlocks === 0 && s.cached === 0,
          `${C} stats: a new cache must count nothing, got ${JSON.stringify(s)}`);
        s.cached = 99;
        s.refills = 99;
        const t = cache.stats();
        check(t !== s && t.cached === 0 && t.refills === 0, `${C} Box.stats: must return a fresh snapshot, not live state`);
      },
    },
    {
      name: `${C}: capacity(c) is the capacity option (one number or per class), default 128; a new cache is empty`,
      run() {
        const perClass = make({ numClasses: 3, capacity: [4, 8, 16] }).cache;
        const one = make({ numClasses: 2, capacity: 5 }).cache;
        const dflt = make({ numClasses: 2 }).cache;
        [4, 8, 16].forEach((cap, c) => check(perClass.capacity(c) === cap, `${C} options.capacity[${c}] = ${cap}: capacity(${c}) is ${perClass.capacity(c)}`));
        for (let c = 0; c < 2; c++) {
          check(one.capacity(c) === 5, `${C} options.capacity = 5: capacity(${c}) is ${one.capacity(c)}`);
          check(dflt.capacity(c) === 128, `${C} options.capacity default 128: capacity(${c}) is ${dflt.capacity(c)}`);
        }
        for (const cache of [perClass, one, dflt]) {
          for (let c = 0; c < 2; c++) check(cache.count(c) === 0, `${C} count: a new cache holds ${cache.count(c)} blocks in class ${c}`);
        }
      },
    },
    {
      name: `${C}: pop on an empty class returns 0 and never calls the source (hot path)`,
      run() {
        const { src, cache } = make({ numClasses: 4, capacity: 8 });
        for (let c = 0; c < 4; c++) {
          const p = cache.pop(c);
          check(p === 0, `${C} pop: post "0 when the class's array is empty", got ${p} from class ${c}`);
        }
        check(src.allocCalls.length === 0, `${C} pop: must not refill (called allocBatch ${src.allocCalls.length} times)`);
        check(cache.stats().refills === 0, `${C} pop: a plain pop is not a refill`);
      },
    },
    {
      name: `${C}: push caches a block in its own class; pop hands each pushed block back exactly once`,
      run() {
        const { src, cache } = make({ numClasses: 3, capacity: 8 });
        const a = src.mint(1, 3);
        const b = src.mint(2, 2);
        for (const p of a) check(cache.push(1, p), `${C} push: returned false on a class below capacity`);
        for (const p of b) check(cache.push(2, p), `${C} push: returned false on a class below capacity`);
        check(cache.count(0) === 0 && cache.count(1) === 3 && cache.count(2) === 2,
          `${C} count: after 3 pushes to class 1 and 2 to class 2, counts are ${cache.count(0)}/${cache.count(1)}/${cache.count(2)}`);
        check(cache.stats().cached === 5, `${C} stats.cached: expected 5, got ${cache.stats().cached}`);
        check(cache.pop(0) === 0, `${C} pop: class 0 got a block pushed to another class`);
        const gotA = drain(cache, 1, 8);
        const gotB = drain(cache, 2, 8);
        check(sameSet(gotA, a), `${C} pop: class 1 handed out [${gotA}] for pushed [${a}]`);
        check(sameSet(gotB, b), `${C} pop: class 2 handed out [${gotB}] for pushed [${b}]`);
        check(cache.stats().cached === 0, `${C} stats.cached: expected 0 after popping everything`);
        check(src.allocCalls.length === 0 && src.freeCalls.length === 0, `${C} push/pop: must not call the source or the sink`);
      },
    },
    {
      name: `${C}: holds(c, p) is true exactly for the blocks class c caches now (the heap's exact double-free check)`,
      run() {
        const { src, cache } = make({ numClasses: 3, capacity: 8 });
        const a = src.mint(1, 4);
        const b = src.mint(2, 1);
        check(!cache.holds(1, a[0]!), `${C} holds: an empty class holds ${a[0]}`);
        for (const p of a) cache.push(1, p);
        cache.push(2, b[0]!);
        for (const p of a) check(cache.holds(1, p), `${C} holds(1, ${p}): false for a block pushed to class 1`);
        check(!cache.holds(0, a[0]!) && !cache.holds(2, a[0]!), `${C} holds: true for a block of class 1 asked in another class`);
        check(cache.holds(2, b[0]!), `${C} holds(2, ${b[0]}): false for the block pushed to class 2`);
        const p = cache.pop(1);
        check(!cache.holds(1, p), `${C} holds(1, ${p}): still true after pop handed it out`);
        for (const q of a) if (q !== p) check(cache.holds(1, q), `${C} holds(1, ${q}): false after another block was popped`);
        check(src.allocCalls.length === 0 && src.freeCalls.length === 0, `${C} holds: must not call the source or the sink`);
      },
    },
    {
      name: `${C}: push returns false exactly at capacity and then caches nothing (0 <= count <= capacity)`,
      run() {
        for (const cap of [1, 4, 13]) {
          const { src, cache } = make({ numClasses: 2, capacity: cap });
          const blocks = src.mint(0, cap + 1);
          for (let i = 0; i < cap; i++) check(cache.push(0, blocks[i]!), `${C} push: false at count ${i} < capacity ${cap}`);
          check(!cache.push(0, blocks[cap]!), `${C} push: post "false when the class is full" (capacity ${cap}), got true`);
          check(cache.count(0) === cap, `${C} count: ${cache.count(0)} after a refused push at capacity ${cap}`);
          const got = drain(cache, 0, cap);
          check(sameSet(got, blocks.slice(0, cap)), `${C} push: a refused push must not replace a cached block (capacity ${cap})`);
          check(src.freeCalls.length === 0, `${C} push: must not spill by itself (the caller calls spill)`);
        }
      },
    },
    {
      name: `${C}: refill asks the source for one batch with 0 < max <= min(batch, capacity, MAX_BATCH) and room in out (Contract C)`,
      run() {
        const configs: Array<Omit<UnifiedCacheOptions, 'source'>> = [
          { numClasses: 1, capacity: 1000, batch: 900 },
          { numClasses: 1, capacity: 600 },
          { numClasses: 1, capacity: 10, batch: 50 },
          { numClasses: 2, capacity: [64, 3], batch: [64, 3] },
          { numClasses: 1, capacity: 1 },
        ];
        for (const opts of configs) {
          for (let c = 0; c < opts.numClasses; c++) {
            const { src, cache } = make(opts);
            const cap = cache.capacity(c);
            const batch = Array.isArray(opts.batch) ? opts.batch[c]! : typeof opts.batch === 'number' ? opts.batch : Math.ceil(cap / 2);
            cache.refill(c);
            const what = `${JSON.stringify(opts)} class ${c}`;
            check(src.allocCalls.length === 1, `${C} refill: "one bounded batch": ${src.allocCalls.length} allocBatch calls (${what})`);
            const call = src.allocCalls[0]!;
            check(call.cls === c, `${C} refill: asked the source for class ${call.cls} instead of ${c}`);
            check(call.max > 0 && call.max <= MAX_BATCH, `${C} refill: batch ${call.max} outside 1..MAX_BATCH (${what})`);
            check(call.max <= clampedBatch(cap, batch), `${C} refill: batch ${call.max} above min(batch, capacity, MAX_BATCH) = ${clampedBatch(cap, batch)} (${what})`);
            check(call.offset >= 0 && call.offset + call.max <= call.outLength, `${C} refill: out[${call.offset} .. ${call.offset + call.max}) has no room in an array of ${call.outLength}`);
            check(cache.count(c) <= cap, `${C} refill: count ${cache.count(c)} above capacity ${cap} (${what})`);
            noViolations(src, `${C} refill`);
          }
        }
      },
    },
    {
      name: `${C}: the refill batch is the batch option clamped to [1, min(capacity, MAX_BATCH)], default capacity / 2`,
      run() {
        const cases: Array<[Omit<UnifiedCacheOptions, 'source'>, number[]]> = [
          [{ numClasses: 1, capacity: 64 }, [32]],
          [{ numClasses: 1, capacity: 7 }, [3, 4]],
          [{ numClasses: 1, capacity: 1 }, [1]],
          [{ numClasses: 1, capacity: 100, batch: 10 }, [10]],
          [{ numClasses: 1, capacity: 10, batch: 50 }, [10]],
          [{ numClasses: 1, capacity: 1000, batch: 900 }, [MAX_BATCH]],
          [{ numClasses: 1, capacity: 2000 }, [MAX_BATCH]],
        ];
        for (const [opts, allowed] of cases) {
          const { src, cache } = make(opts);
          cache.refill(0);
          const max = src.allocCalls[0]?.max;
          check(max !== undefined && allowed.includes(max), `${C} options.batch: ${JSON.stringify(opts)} must refill with a batch of ${allowed.join(' or ')}, asked for ${max}`);
        }
        const { src, cache } = make({ numClasses: 3, capacity: [16, 16, 16], batch: [2, 5, 9] });
        for (let c = 0; c < 3; c++) cache.refill(c);
        const maxes = src.allocCalls.map((call) => call.max);
        check(maxes.join() === '2,5,9', `${C} options.batch per class [2, 5, 9]: refills asked for [${maxes}]`);
      },
    },
    {
      name: `${C}: refill returns one block of the batch and caches the rest; stats count the refill`,
      run() {
        const { src, cache } = make({ numClasses: 2, capacity: 32, batch: 12 });
        const r = cache.refill(1);
        const call = src.allocCalls[0];
        check(call !== undefined && call.blocks.length > 0, `${C} refill: did not call the source`);
        const batch = call.blocks;
        check(r !== 0 && batch.includes(r), `${C} refill: post "returns one block of it": got ${r}, not one of the batch`);
        check(cache.count(1) === batch.length - 1, `${C} refill: ${batch.length} blocks received, 1 returned, count is ${cache.count(1)}`);
        check(cache.count(0) === 0, `${C} refill: class 0 changed when class 1 was refilled`);
        const s = cache.stats();
        check(s.refills === 1 && s.refillBlocks === batch.length && s.cached === batch.length - 1,
          `${C} stats: after one refill of ${batch.length} blocks expected refills 1, refillBlocks ${batch.length}, cached ${batch.length - 1}; got ${JSON.stringify(s)}`);
        const rest = drain(cache, 1, 32);
        check(!rest.includes(r), `${C} refill: the returned block ${r} is still cached (it belongs to the caller)`);
        check(sameSet(rest, batch.filter((p) => p !== r)), `${C} refill: the cached blocks are not the rest of the batch`);
        noViolations(src, `${C} refill`);
      },
    },
    {
      name: `${C}: refill accepts a partial batch (the source returns fewer than max)`,
      run() {
        const src = new RecordingBlockSource({ perCall: 3 });
        const { cache } = make({ numClasses: 1, capacity: 64 }, src);
        const r = cache.refill(0);
        check(r !== 0, `${C} refill: a partial batch of 3 must still return a block, got 0`);
        check(cache.count(0) === 2, `${C} refill: 3 received, 1 returned, count is ${cache.count(0)}`);
        check(cache.stats().refillBlocks === 3, `${C} stats.refillBlocks: expected 3, got ${cache.stats().refillBlocks}`);
        const rest = drain(cache, 0, 64);
        check(sameSet([r, ...rest], src.allocCalls[0]!.blocks), `${C} refill: blocks lost or invented in a partial batch`);
      },
    },
    {
      name: `${C}: refill from an exhausted source returns 0, leaves the class empty, never throws; works again later`,
      run() {
        const src = new RecordingBlockSource({ remaining: 0 });
        const { cache } = make({ numClasses: 2, capacity: 16 }, src);
        let r: Ptr;
        try {
          r = cache.refill(0);
        } catch (e) {
          return fail(`${C} refill: must never throw, threw ${String(e)}`);
        }
        check(r === 0, `${C} refill: post "0 when the source is exhausted", got ${r}`);
        check(cache.count(0) === 0 && cache.pop(0) === 0, `${C} refill: an exhausted refill must leave the class empty`);
        const s = cache.stats();
        check(s.refills === 1 && s.refillBlocks === 0, `${C} stats: a miss that called the source is a refill with 0 blocks; got ${JSON.stringify(s)}`);
        src.remaining = 5;
        const again = cache.refill(0);
        check(again !== 0 && cache.count(0) === 4, `${C} refill: after the source recovers, refill must work (got ${again}, count ${cache.count(0)})`);
      },
    },
    {
      name: `${C}: spill sends about half the class to the sink (batches <= MAX_BATCH, blocks of that class), then caches ptr`,
      run() {
        for (const cap of [1, 2, 4, 9, 64, 600]) {
          const { src, cache } = make({ numClasses: 2, capacity: [cap, 4] });
          const blocks = src.mint(0, cap);
          for (const p of blocks) cache.push(0, p);
          const other = src.mint(1, 2);
          for (const p of other) cache.push(1, p);
          const [extra] = src.mint(0, 1);
          check(!cache.push(0, extra!), `${C} push: true on a full class (capacity ${cap})`);
          try {
            cache.spill(0, extra!);
          } catch (e) {
            fail(`${C} spill: must never throw, threw ${String(e)}`);
          }
          noViolations(src, `${C} spill (capacity ${cap})`);
          for (const call of src.freeCalls) {
            check(call.cls === 0, `${C} spill: spilled to class ${call.cls} instead of 0`);
            check(call.blocks.length <= MAX_BATCH, `${C} spill: a batch of ${call.blocks.length} exceeds MAX_BATCH (Contract C)`);
          }
          const spilled = src.freedBlocks();
          const half = cap / 2;
          const lo = cap === 1 ? 1 : Math.min(Math.floor(half), MAX_BATCH);
          const hi = Math.max(1, Math.ceil(half));
          check(spilled.length >= lo && spilled.length <= hi,
            `${C} spill: "spills half the class": ${spilled.length} of ${cap} blocks spilled (expected ${lo}..${hi})`);
          check(!spilled.includes(extra!), `${C} spill: post "then caches ptr": ptr went to the sink`);
          check(cache.count(0) === cap - spilled.length + 1, `${C} spill: count ${cache.count(0)} after spilling ${spilled.length} of ${cap} and caching ptr`);
          check(cache.count(0) <= cap, `${C} spill: count ${cache.count(0)} above capacity ${cap}`);
          const s = cache.stats();
          check(s.spills === 1 && s.spillBlocks === spilled.length,
            `${C} stats: after one spill of ${spilled.length} expected spills 1, spillBlocks ${spilled.length}; got ${JSON.stringify(s)}`);
          const kept = drain(cache, 0, cap);
          check(kept.includes(extra!), `${C} spill: post "then caches ptr": ptr is not cached`);
          check(sameSet([...kept, ...spilled], [...blocks, extra!]), `${C} spill: blocks lost or duplicated (capacity ${cap})`);
          check(sameSet(drain(cache, 1, 4), other), `${C} spill: another class changed`);
        }
      },
    },
    {
      name: `${C}: flush returns every cached block to the sink once, in batches <= MAX_BATCH; the cache then holds nothing`,
      run() {
        const { src, cache } = make({ numClasses: 3, capacity: [600, 4, 4] });
        const a = src.mint(0, 600);
        const b = src.mint(1, 3);
        for (const p of a) cache.push(0, p);
        for (const p of b) cache.push(1, p);
        cache.flush();
        noViolations(src, `${C} flush`);
        for (const call of src.freeCalls) {
          check(call.blocks.length <= MAX_BATCH, `${C} flush: a batch of ${call.blocks.length} exceeds MAX_BATCH (Contract C)`);
        }
        const byClass = (c: number) => src.freeCalls.filter((call) => call.cls === c).flatMap((call) => [...call.blocks]);
        check(sameSet(byClass(0), a), `${C} flush: class 0 returned ${byClass(0).length} of 600 blocks (or wrong ones)`);
        check(sameSet(byClass(1), b), `${C} flush: class 1 returned [${byClass(1)}] for [${b}]`);
        check(byClass(2).length === 0, `${C} flush: class 2 was empty but returned blocks`);
        for (let c = 0; c < 3; c++) {
          check(cache.count(c) === 0 && cache.pop(c) === 0, `${C} flush: post "the box holds nothing": class ${c} still holds blocks`);
        }
        check(cache.stats().cached === 0, `${C} flush: stats.cached is ${cache.stats().cached}`);
        check(src.allocCalls.length === 0, `${C} flush: must not call allocBatch`);
      },
    },
    {
      name: `${C}: storage — the cache keeps its blocks in the Int32Array the storage option returns (asked once), and a new cache over the same storage holds the same blocks (an adopted thread's cache, collected by the heap's reclaim)`,
      run() {
        const rec = recordingStorage(C);
        const given = rec.given;
        const src = new RecordingBlockSource();
        const first = factory({ numClasses: 3, capacity: 8, source: src, storage: given });
        check(rec.asked === 1, `${C} options.storage: called ${rec.asked} times, want once at creation`);
        const storage = rec.array!;
        const a = src.mint(1, 5);
        const b = src.mint(2, 2);
        for (const p of a) first.push(1, p);
        for (const p of b) first.push(2, p);
        const inStorage = [...a, ...b].filter((p) => storage.includes(p));
        check(inStorage.length === 7, `${C} options.storage: ${7 - inStorage.length} of 7 cached blocks are not in the storage array (a cache that keeps them elsewhere leaks them when its thread dies)`);
        const second = factory({ numClasses: 3, capacity: 8, source: src, storage: given });
        check(second.count(1) === 5 && second.count(2) === 2, `${C} options.storage: a cache over storage that holds this layout counts ${second.count(1)} / ${second.count(2)}, want 5 / 2 ("its contents are kept")`);
        check(sameSet(drain(second, 1, 8), a) && sameSet(drain(second, 2, 8), b), `${C} options.storage: the new cache does not hand out the blocks the storage holds`);
        check(src.allocCalls.length === 0 && src.freeCalls.length === 0, `${C} storage: must not call the source or the sink`);
      },
    },
    {
      name: `${C}: 0 <= count <= capacity and stats.cached = sum of counts through a random mix of pop/push/spill/refill`,
      run() {
        const src = new RecordingBlockSource();
        const caps = [5, 1, 17];
        const { cache } = make({ numClasses: 3, capacity: caps, batch: [5, 1, 17] }, src);
        const held: Ptr[][] = [[], [], []];
        let x = 0x9e3779b9 | 0;
        for (let step = 0; step < 3000; step++) {
          x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
          const c = (x >>> 8) % 3;
          if ((x & 1) === 0) {
            let p = cache.pop(c);
            if (p === 0) p = cache.refill(c);
            check(p !== 0, `${C} refill: 0 from an endless source`);
            check(src.isOut(p) && src.classOfBlock(p) === c, `${C} pop/refill: handed out ${p}, not a block of class ${c} owned by the cache`);
            check(!held[c]!.includes(p), `${C} pop/refill: handed out ${p} twice`);
            held[c]!.push(p);
          } else if (held[c]!.length > 0) {
            const p = held[c]!.pop()!;
            if (!cache.push(c, p)) cache.spill(c, p);
          }
          let sum = 0;
          for (let k = 0; k < 3; k++) {
            const n = cache.count(k);
            check(n >= 0 && n <= caps[k]!, `${C} invariant 0 <= count <= capacity: class ${k} holds ${n} of ${caps[k]} at step ${step}`);
            sum += n;
          }
          check(cache.stats().cached === sum, `${C} stats.cached ${cache.stats().cached} != sum of counts ${sum} at step ${step}`);
        }
        noViolations(src, `${C} mixed run`);
        cache.checkInvariants();
      },
    },
    {
      name: `${C}: checkInvariants passes on a consistent cache and changes nothing`,
      run() {
        const { src, cache } = make({ numClasses: 2, capacity: 8 });
        cache.checkInvariants();
        cache.refill(0);
        for (const p of src.mint(1, 8)) cache.push(1, p);
        const before = [cache.count(0), cache.count(1), JSON.stringify(cache.stats())];
        cache.checkInvariants();
        const after = [cache.count(0), cache.count(1), JSON.stringify(cache.stats())];
        check(before.join() === after.join(), `${C} checkInvariants: "never changes state": ${before} became ${after}`);
        check(src.allocCalls.length === 1 && src.freeCalls.length === 0, `${C} checkInvariants: must not call the source or sink`);
      },
    },
    {
      name: `${C}: checkInvariants throws E_CORRUPTION for a block cached twice (same class or two classes) or NULL cached`,
      run() {
        const clause = `${C} checkInvariants: "every cached block is free and in no other list"`;
        {
          const { src, cache } = make({ numClasses: 2, capacity: 8 });
          const [p, q] = src.mint(0, 2);
          cache.push(0, p!);
          cache.push(0, q!);
          cache.push(0, p!);
          expectHakmemError(() => cache.checkInvariants(), ErrorCode.CORRUPTION, `${clause} (block cached twice in one class)`);
        }
        {
          const { src, cache } = make({ numClasses: 2, capacity: 8 });
          const [p] = src.mint(0, 1);
          cache.push(0, p!);
          cache.push(1, p!);
          expectHakmemError(() => cache.checkInvariants(), ErrorCode.CORRUPTION, `${clause} (block cached in two classes)`);
        }
        {
          const { cache } = make({ numClasses: 1, capacity: 8 });
          cache.push(0, 0);
          expectHakmemError(() => cache.checkInvariants(), ErrorCode.CORRUPTION, `${clause} (NULL cached)`);
        }
      },
    },
    reclaimCase(C, reclaim),
  ];
}
