import { ALIGN_16_FROM, ErrorCode, MIN_ALIGN, PAGE_SIZE, type Gatekeeper, type Ptr, type TinyRoute } from '@hakmem/contracts';
import type { HeapUnderTest } from '../api.js';
import { check, expectHakmemError, fail, type ConformanceCase } from './types.js';
import { reclaimCase, type ReclaimWorldFactory } from './reclaim.js';

/**
 * A heap composed around the gatekeeper under test, as the suite drives it. A heap from
 * `@hakmem/allocator` (`compose()` / `createHeap()` with `boxes: { gatekeeper }`) is one
 * as it is: the suite reads the gatekeeper's stats through `boxes.gatekeeper`, the tiny
 * range through `boxes.tinyRoute` and the maximum through `layout.maxBytes`.
 */
export interface GatekeeperHeap extends HeapUnderTest {
  readonly boxes: { readonly gatekeeper: Gatekeeper; readonly tinyRoute: TinyRoute };
  readonly layout: { readonly maxBytes: number };
}

/** What the suite asks of each heap it makes. */
export interface GatekeeperHeapOptions {
  /** The backend's maximum in bytes (small: the out-of-memory cases exhaust it). */
  readonly maxBytes: number;
  /** Pass to the gatekeeper (`GatekeeperOptions.throwOnOutOfMemory`). */
  readonly throwOnOutOfMemory?: boolean;
  /** Debug level of the heap (`BoxContext.debug`); the double-free case asks for 0 and 1. */
  readonly debug?: number;
}

/** Builds a fresh heap around the gatekeeper under test, e.g. `(o) => createHeap({ ...o, boxes: { gatekeeper: myFactory } })`. */
export type GatekeeperHeapFactory = (options: GatekeeperHeapOptions) => GatekeeperHeap;

const C = 'gatekeeper';
/** Maximum of the heaps most cases use. */
const HEAP_BYTES = 8 << 20;
/** Maximum of the heaps the out-of-memory cases exhaust. */
const SMALL_HEAP_BYTES = 4 << 20;

/** What a heap looks like from outside: its memory, its live bytes, its validity. */
interface Snapshot {
  readonly words: Int32Array;
  readonly live: number;
}

function words(heap: HeapUnderTest): Int32Array {
  const u8 = heap.views.u8;
  return new Int32Array(u8.buffer, u8.byteOffset, u8.byteLength >>> 2);
}

function snapshot(heap: HeapUnderTest): Snapshot {
  return { words: words(heap).slice(), live: heap.liveBytes() };
}

/**
 * Common failure contract: "leaves the heap exactly as it was" — validity, live bytes and
 * (when `sameMemory`) every byte of the memory.
 */
function checkIntact(heap: HeapUnderTest, before: Snapshot, clause: string, sameMemory = true): void {
  try {
    heap.validate();
  } catch (e) {
    fail(`${clause}: the heap no longer validates: ${String(e)}`);
  }
  check(heap.liveBytes() === before.live, `${clause}: live bytes went from ${before.live} to ${heap.liveBytes()}`);
  if (!sameMemory) return;
  const now = words(heap);
  check(now.length >= before.words.length, `${clause}: the memory shrank`);
  for (let i = 0; i < before.words.length; i++) {
    if (now[i] !== before.words[i]) fail(`${clause}: the memory changed at byte ${i * 4} (0x${(before.words[i]! >>> 0).toString(16)} → 0x${(now[i]! >>> 0).toString(16)})`);
  }
  for (let i = before.words.length; i < now.length; i++) {
    if (now[i] !== 0) fail(`${clause}: the memory grew and byte ${i * 4} was written`);
  }
}

/** Calls `fn`, expects `HakmemError(code)`, the heap exactly as before and `stats.rejected` one higher. */
function rejects(heap: GatekeeperHeap, fn: () => unknown, code: ErrorCode, clause: string): void {
  const before = snapshot(heap);
  const rejected = heap.boxes.gatekeeper.stats().rejected;
  expectHakmemError(fn, code, clause);
  checkIntact(heap, before, `${clause}, then`);
  const now = heap.boxes.gatekeeper.stats().rejected;
  check(now === rejected + 1, `${clause}: stats.rejected went from ${rejected} to ${now} (one bad-input call)`);
}

function checkBlock(heap: HeapUnderTest, p: Ptr, size: number, align: number, clause: string): void {
  check(p !== 0, `${clause}: returned 0 on a heap with room`);
  check(Number.isInteger(p) && p > 0 && p < 0x8000_0000, `${clause}: ${p} is not a pointer (a positive integer < 2^31)`);
  const want = Math.max(align, size >= ALIGN_16_FROM ? 16 : MIN_ALIGN);
  check(p % want === 0, `${clause}: 0x${p.toString(16)} is not ${want}-byte aligned`);
  const usable = heap.usableSize(p);
  check(usable >= size, `${clause}: usableSize ${usable} < requested ${size}`);
  check(p + size <= heap.views.u8.length, `${clause}: block [0x${p.toString(16)}, +${size}) lies beyond the memory`);
}

/** Writes a pattern derived from `seed` over `[p, p + n)`. */
function stamp(heap: HeapUnderTest, p: Ptr, n: number, seed: number): void {
  const u8 = heap.views.u8;
  for (let i = 0; i < n; i++) u8[p + i] = (seed * 31 + i * 7 + 1) & 0xff;
}

/** Checks the pattern of {@link stamp} over `[p, p + n)`. */
function checkStamp(heap: HeapUnderTest, p: Ptr, n: number, seed: number, clause: string): void {
  const u8 = heap.views.u8;
  for (let i = 0; i < n; i++) {
    if (u8[p + i] !== ((seed * 31 + i * 7 + 1) & 0xff)) fail(`${clause}: byte ${i} of the block at 0x${p.toString(16)} changed`);
  }
}

/** Sizes across the whole tiny range: every size to 256, then every 7th, and tinyMax. */
function tinySizes(tinyMax: number): number[] {
  const sizes: number[] = [];
  for (let s = 0; s <= Math.min(256, tinyMax); s++) sizes.push(s);
  for (let s = 257; s < tinyMax; s += 7) sizes.push(s);
  if (tinyMax > 256) sizes.push(tinyMax);
  return sizes;
}

/** Mallocs `size` until 0 (at most `limit` blocks), returning the blocks. */
function exhaust(heap: HeapUnderTest, size: number, limit: number, clause: string): Ptr[] {
  const got: Ptr[] = [];
  for (let i = 0; i < limit; i++) {
    const p = heap.malloc(size);
    if (p === 0) return got;
    got.push(p);
  }
  return fail(`${clause}: malloc(${size}) never returned 0 on a ${SMALL_HEAP_BYTES}-byte heap (${limit} blocks)`);
}

/**
 * Conformance suite of the `Gatekeeper` contract (`@hakmem/contracts`), driven through a
 * heap composed around the gatekeeper under test: C semantics of malloc / free / calloc /
 * realloc / memalign / usableSize, alignment (8, 16 from 16 up, memalign's), the common
 * failure contract (bad input throws `HakmemError` with the documented code, leaves the
 * heap exactly as it was — same memory, same live bytes, still valid — and counts in
 * `stats.rejected`), sizes above the tiny range served by the tiers composed for them
 * (or `E_NO_ROUTE` without), out of memory (0 and `stats.failed`, or `E_OUT_OF_MEMORY`), the
 * stats counters, and double-free detection at debug ≥ 1.
 *
 * `makeHeap` is called once or twice per case and must return a fresh heap each time.
 */
export function gatekeeperConformance(makeHeap: GatekeeperHeapFactory, reclaim?: ReclaimWorldFactory): ConformanceCase[] {
  const fresh = (): GatekeeperHeap => makeHeap({ maxBytes: HEAP_BYTES });

  return [
    {
      name: `${C}: name is '${C}'; stats() is a fresh snapshot; checkInvariants passes on a new and on a used heap`,
      run() {
        const heap = fresh();
        const gk = heap.boxes.gatekeeper;
        check(gk.name === C, `${C} Box.name: expected '${C}', got '${gk.name}'`);
        const s = gk.stats();
        check(Object.values(s).every((v) => v === 0), `${C} stats: a new heap must count nothing, got ${JSON.stringify(s)}`);
        s.rejected = 7;
        check(gk.stats() !== s && gk.stats().rejected === 0, `${C} Box.stats: must return a fresh snapshot`);
        gk.checkInvariants();
        const ptrs = [heap.malloc(24), heap.calloc(3, 40), heap.memalign(16, 100)];
        heap.free(heap.realloc(heap.malloc(8), 500));
        const before = snapshot(heap);
        gk.checkInvariants();
        checkIntact(heap, before, `${C} checkInvariants: "never changes state"`);
        for (const p of ptrs) heap.free(p);
      },
    },
    {
      name: `${C}: malloc of every tiny size gives distinct, non-overlapping blocks, 8-byte aligned (16 from 16 up), usableSize >= size`,
      run() {
        const heap = fresh();
        const tinyMax = heap.boxes.tinyRoute.tinyMax;
        const live: Array<[Ptr, number]> = [];
        for (const size of tinySizes(tinyMax)) {
          const p = heap.malloc(size);
          checkBlock(heap, p, size, 1, `${C} malloc(${size})`);
          stamp(heap, p, size, live.length);
          live.push([p, size]);
        }
        const sorted = [...live].sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < sorted.length; i++) {
          const [p, n] = sorted[i - 1]!;
          const [q] = sorted[i]!;
          check(p + Math.max(n, 1) <= q, `${C} malloc: blocks 0x${p.toString(16)} (+${n}) and 0x${q.toString(16)} overlap`);
        }
        live.forEach(([p, n], i) => checkStamp(heap, p, n, i, `${C} malloc: a later malloc overwrote a live block`));
        heap.validate();
        for (const [p] of live) heap.free(p);
        heap.validate();
      },
    },
    {
      name: `${C}: malloc(0) returns a unique minimum-size block each time, freed by free`,
      run() {
        const heap = fresh();
        const a = heap.malloc(0);
        const b = heap.malloc(0);
        const one = heap.malloc(1);
        checkBlock(heap, a, 0, 1, `${C} malloc(0)`);
        checkBlock(heap, b, 0, 1, `${C} malloc(0)`);
        check(a !== b, `${C} malloc(0): "a unique block": two calls returned 0x${a.toString(16)}`);
        check(heap.usableSize(a) > 0 && heap.usableSize(a) <= heap.usableSize(one),
          `${C} malloc(0): "a minimum-size block": usableSize ${heap.usableSize(a)}, malloc(1) has ${heap.usableSize(one)}`);
        heap.free(a);
        heap.free(b);
        heap.free(one);
        heap.validate();
      },
    },
    {
      name: `${C}: free gives the block back: live bytes return to the baseline, round after round`,
      run() {
        const heap = fresh();
        const base = heap.liveBytes();
        const tinyMax = heap.boxes.tinyRoute.tinyMax;
        for (let round = 0; round < 3; round++) {
          const ptrs: Ptr[] = [];
          let requested = 0;
          for (let i = 0; i < 600; i++) {
            const size = (i * 37) % (tinyMax + 1);
            ptrs.push(heap.malloc(size));
            requested += size;
          }
          check(heap.liveBytes() >= base + requested, `${C} malloc: live bytes ${heap.liveBytes()} below the ${requested} requested`);
          for (const p of ptrs) heap.free(p);
          check(heap.liveBytes() === base, `${C} free: live bytes ${heap.liveBytes()} after freeing everything, ${base} before (round ${round})`);
          heap.validate();
        }
      },
    },
    {
      name: `${C}: free(0) is a no-op and usableSize(0) is 0`,
      run() {
        const heap = fresh();
        const p = heap.malloc(40);
        stamp(heap, p, 40, 3);
        const before = snapshot(heap);
        const stats = JSON.stringify(heap.boxes.gatekeeper.stats());
        heap.free(0);
        check(heap.usableSize(0) === 0, `${C} usableSize(0): expected 0, got ${heap.usableSize(0)}`);
        checkIntact(heap, before, `${C} free(0): "a no-op"`);
        check(JSON.stringify(heap.boxes.gatekeeper.stats()) === stats, `${C} free(0): counted as something (${JSON.stringify(heap.boxes.gatekeeper.stats())})`);
        heap.free(p);
      },
    },
    {
      name: `${C}: a size that is negative, NaN, infinite or fractional throws E_INVALID_SIZE, one above maxBytes is out of memory (0, counted in stats.failed); the heap as it was`,
      run() {
        const heap = fresh();
        const max = heap.layout.maxBytes;
        const p = heap.malloc(100);
        stamp(heap, p, 100, 9);
        const bad = [-1, -16, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5, 16.25];
        for (const s of bad) {
          rejects(heap, () => heap.malloc(s), ErrorCode.INVALID_SIZE, `${C} malloc(${s})`);
          rejects(heap, () => heap.calloc(1, s), ErrorCode.INVALID_SIZE, `${C} calloc(1, ${s})`);
          rejects(heap, () => heap.calloc(s, 1), ErrorCode.INVALID_SIZE, `${C} calloc(${s}, 1)`);
          rejects(heap, () => heap.realloc(p, s), ErrorCode.INVALID_SIZE, `${C} realloc(p, ${s})`);
          rejects(heap, () => heap.memalign(16, s), ErrorCode.INVALID_SIZE, `${C} memalign(16, ${s})`);
        }
        for (const s of [max + 1, 2 ** 31, 2 ** 53]) {
          const calls: Array<[string, () => unknown]> = [
            [`malloc(${s})`, () => heap.malloc(s)], [`calloc(1, ${s})`, () => heap.calloc(1, s)], [`calloc(${s}, 1)`, () => heap.calloc(s, 1)],
            [`realloc(p, ${s})`, () => heap.realloc(p, s)], [`memalign(16, ${s})`, () => heap.memalign(16, s)],
          ];
          for (const [what, call] of calls) {
            const before = snapshot(heap);
            const failed = heap.boxes.gatekeeper.stats().failed;
            const r = call();
            check(r === 0, `${C} ${what}: a size above maxBytes ${max} is "out of memory": expected 0, got ${String(r)}`);
            check(heap.boxes.gatekeeper.stats().failed === failed + 1, `${C} ${what}: returned 0 but stats.failed did not count it`);
            checkIntact(heap, before, `${C} ${what}, then`);
          }
        }
        checkStamp(heap, p, 100, 9, `${C} bad sizes: a live block changed`);
        check(heap.usableSize(p) >= 100, `${C} bad sizes: the live block shrank`);
        const q = heap.malloc(100);
        checkBlock(heap, q, 100, 1, `${C} malloc after rejected calls`);
        heap.free(p);
        heap.free(q);
        heap.validate();
      },
    },
    {
      name: `${C}: a pointer the heap never returned (outside, non-integer, metadata or unowned page) throws E_INVALID_POINTER; heap as it was`,
      run() {
        const heap = fresh();
        const max = heap.layout.maxBytes;
        const p = heap.malloc(64);
        stamp(heap, p, 64, 5);
        const bad = [-16, -1, 1.5, p + 0.5, Number.NaN, Number.POSITIVE_INFINITY, max, max + 16, 2 ** 31, 8, 64, max - PAGE_SIZE + 4096];
        for (const q of bad) {
          rejects(heap, () => heap.free(q), ErrorCode.INVALID_POINTER, `${C} free(${q})`);
          rejects(heap, () => heap.usableSize(q), ErrorCode.INVALID_POINTER, `${C} usableSize(${q})`);
          rejects(heap, () => heap.realloc(q, 32), ErrorCode.INVALID_POINTER, `${C} realloc(${q}, 32)`);
        }
        checkStamp(heap, p, 64, 5, `${C} bad pointers: a live block changed`);
        heap.free(p);
        heap.validate();
      },
    },
    {
      name: `${C}: an interior pointer of a live block throws E_INTERIOR_POINTER from free, usableSize and realloc; heap as it was`,
      run() {
        const heap = fresh();
        for (const size of [8, 16, 48, 64, 200, heap.boxes.tinyRoute.tinyMax]) {
          const p = heap.malloc(size);
          const usable = heap.usableSize(p);
          stamp(heap, p, usable, size);
          const offsets = [...new Set([1, 4, 8, usable >>> 1, usable - 8, usable - 1])].filter((k) => k > 0 && k < usable);
          for (const k of offsets) {
            rejects(heap, () => heap.free(p + k), ErrorCode.INTERIOR_POINTER, `${C} free(p + ${k}) of a ${usable}-byte block`);
            rejects(heap, () => heap.usableSize(p + k), ErrorCode.INTERIOR_POINTER, `${C} usableSize(p + ${k}) of a ${usable}-byte block`);
            rejects(heap, () => heap.realloc(p + k, 16), ErrorCode.INTERIOR_POINTER, `${C} realloc(p + ${k}, 16) of a ${usable}-byte block`);
          }
          checkStamp(heap, p, usable, size, `${C} interior pointers: the block changed`);
          heap.free(p);
        }
        heap.validate();
      },
    },
    {
      name: `${C}: at every debug level a double free, or a realloc of a freed block, throws E_DOUBLE_FREE (usableSize: E_INVALID_POINTER) and leaves the heap as it was; isAllocated tells live from freed`,
      run() {
        for (const debug of [0, 1]) {
          const heap = makeHeap({ maxBytes: HEAP_BYTES, debug });
          const keep = heap.malloc(32);
          const clause = `${C} at debug ${debug}`;
          for (const size of [8, 32, 100, 2000, 9000, 40_000]) {
            const p = heap.malloc(size);
            check(heap.boxes.gatekeeper.isAllocated(p), `${clause}: isAllocated(malloc(${size})) is false`);
            check(!heap.boxes.gatekeeper.isAllocated(p + 8), `${clause}: isAllocated of an interior pointer is true`);
            heap.free(p);
            check(!heap.boxes.gatekeeper.isAllocated(p), `${clause}: isAllocated of a freed block of ${size} B is true`);
            rejects(heap, () => heap.free(p), ErrorCode.DOUBLE_FREE, `${clause} free: a double free of malloc(${size})`);
            rejects(heap, () => heap.realloc(p, size + 1), ErrorCode.DOUBLE_FREE, `${clause} realloc of a freed malloc(${size})`);
            rejects(heap, () => heap.usableSize(p), ErrorCode.INVALID_POINTER, `${clause} usableSize of a freed malloc(${size})`);
          }
          for (const size of [8, 32, 100]) {
            const a = heap.malloc(size);
            const b = heap.malloc(size);
            check(a !== b && a !== keep && b !== keep, `${clause}: after a rejected double free the heap hands out one block twice`);
          }
        }
      },
    },
    {
      name: `${C}: a size above the tiny range, up to l25Max, is served by the composed mid / L2.5 tiers (16-byte aligned, interior pointers rejected, contents kept across tiers), or throws E_NO_ROUTE without them (heap as it was)`,
      run() {
        const heap = fresh();
        const { tinyMax, poolMax, l25Max } = heap.boxes.tinyRoute;
        const p = heap.malloc(tinyMax);
        stamp(heap, p, tinyMax, 11);
        let cur = p;
        let curSize = tinyMax;
        for (const s of [tinyMax + 1, tinyMax + 8, 5000, 60000, poolMax, poolMax + 1, 200_000, l25Max]) {
          if (s + (2 << 20) > heap.layout.maxBytes) continue;
          let q: Ptr;
          try {
            q = heap.malloc(s);
          } catch (e) {
            expectHakmemError(() => { throw e; }, ErrorCode.NO_ROUTE, `${C} malloc(${s}) above tinyMax ${tinyMax} without its tier`);
            rejects(heap, () => heap.realloc(cur, s), ErrorCode.NO_ROUTE, `${C} realloc(p, ${s}) without its tier`);
            checkStamp(heap, cur, Math.min(curSize, tinyMax), 11, `${C} E_NO_ROUTE: "the old block is intact"`);
            continue;
          }
          checkBlock(heap, q, s, 16, `${C} malloc(${s})`);
          stamp(heap, q, s, 31);
          rejects(heap, () => heap.free(q + 16), ErrorCode.INTERIOR_POINTER, `${C} free(p + 16) of malloc(${s})`);
          checkStamp(heap, q, s, 31, `${C} a rejected interior free of malloc(${s}): "the block is intact"`);
          heap.free(q);
          // realloc up through the tiers keeps the first tinyMax bytes
          const r = heap.realloc(cur, s);
          check(r !== 0, `${C} realloc(p, ${s}) returned 0 on a heap with room`);
          checkBlock(heap, r, s, 16, `${C} realloc(p, ${s})`);
          checkStamp(heap, r, tinyMax, 11, `${C} realloc(p, ${s}) keeps min(old usable, size) bytes`);
          cur = r;
          curSize = s;
        }
        const back = heap.realloc(cur, tinyMax);
        checkStamp(heap, back, tinyMax, 11, `${C} realloc back to ${tinyMax} keeps the bytes`);
        heap.free(back);
        heap.validate();
      },
    },
    {
      name: `${C}: a size above l25Max is served 64 KiB aligned by a composed big tier (or throws E_NO_ROUTE without one); pointers into a big block are rejected, heap as it was`,
      run() {
        const heap = fresh();
        const l25Max = heap.boxes.tinyRoute.l25Max;
        const size = l25Max + 1;
        if (size + (1 << 20) > heap.layout.maxBytes) return; // no room for a big block in this heap
        let p: Ptr;
        try {
          p = heap.malloc(size);
        } catch (e) {
          expectHakmemError(() => { throw e; }, ErrorCode.NO_ROUTE, `${C} malloc(${size}) without a big tier`);
          return;
        }
        checkBlock(heap, p, size, PAGE_SIZE, `${C} malloc(${size}) (big)`);
        stamp(heap, p, 4096, 21);
        for (const q of [p + 16, p + 4096, p + PAGE_SIZE, p + size - 16]) {
          rejects(heap, () => heap.free(q), ErrorCode.INTERIOR_POINTER, `${C} free(p + ${q - p}) into a big block`);
          rejects(heap, () => heap.usableSize(q), ErrorCode.INTERIOR_POINTER, `${C} usableSize(p + ${q - p}) into a big block`);
        }
        checkStamp(heap, p, 4096, 21, `${C} rejected pointers into a big block: "the block is intact"`);
        const t = heap.realloc(p, 100);
        checkBlock(heap, t, 100, 16, `${C} realloc(big, 100)`);
        checkStamp(heap, t, 100, 21, `${C} realloc(big, 100) keeps min(old usable, size) bytes`);
        const z = heap.calloc(1, size);
        checkBlock(heap, z, size, PAGE_SIZE, `${C} calloc(1, ${size}) (big)`);
        const u8 = heap.views.u8;
        for (let i = 0; i < size; i++) if (u8[z + i] !== 0) fail(`${C} calloc(1, ${size}): byte ${i} is not zero`);
        heap.free(z);
        heap.free(t);
        heap.validate();
      },
    },
    {
      name: `${C}: calloc returns n * size zeroed bytes (also over dirty, reused memory), aligned; stats.callocs counts calls`,
      run() {
        const heap = fresh();
        const tinyMax = heap.boxes.tinyRoute.tinyMax;
        const shapes: Array<[number, number]> = [[6, 8], [1, 1], [3, 100], [2, 16], [1, tinyMax], [tinyMax, 1], [4, 7]];
        const dirty: Ptr[] = [];
        for (const [n, size] of shapes) {
          for (let i = 0; i < 32; i++) {
            const p = heap.malloc(n * size);
            heap.views.u8.fill(0xa5, p, p + heap.usableSize(p));
            dirty.push(p);
          }
        }
        for (const p of dirty) heap.free(p);
        const callocs = heap.boxes.gatekeeper.stats().callocs;
        let calls = 0;
        const got: Ptr[] = [];
        for (const [n, size] of shapes) {
          for (let i = 0; i < 32; i++) {
            const p = heap.calloc(n, size);
            calls++;
            checkBlock(heap, p, n * size, 1, `${C} calloc(${n}, ${size})`);
            const u8 = heap.views.u8;
            for (let k = 0; k < n * size; k++) {
              if (u8[p + k] !== 0) fail(`${C} calloc(${n}, ${size}): byte ${k} of 0x${p.toString(16)} is ${u8[p + k]}, not zeroed`);
            }
            got.push(p);
          }
        }
        const counted = heap.boxes.gatekeeper.stats().callocs - callocs;
        check(counted === calls, `${C} stats.callocs: ${calls} calloc calls counted as ${counted}`);
        for (const p of got) heap.free(p);
        heap.validate();
      },
    },
    {
      name: `${C}: calloc whose n * size is above the maximum is out of memory (0, as C's calloc on overflow) and leaves the heap as it was`,
      run() {
        const heap = fresh();
        const max = heap.layout.maxBytes;
        const pairs: Array<[number, number]> = [[max, 2], [2, max], [1 << 16, 1 << 16], [(max >>> 1) + 1, 2], [max, max], [0x10000, (max >>> 16) + 1]];
        for (const [n, size] of pairs) {
          const before = snapshot(heap);
          const r = heap.calloc(n, size);
          check(r === 0, `${C} calloc(${n}, ${size}): n * size = ${n * size} > maxBytes ${max}: expected 0, got ${r}`);
          checkIntact(heap, before, `${C} calloc(${n}, ${size}), then`);
        }
      },
    },
    {
      name: `${C}: realloc(0, n) is malloc(n); realloc(p, 0) frees p and returns 0`,
      run() {
        const heap = fresh();
        const base = heap.liveBytes();
        for (const n of [0, 1, 24, 300]) {
          const p = heap.realloc(0, n);
          checkBlock(heap, p, n, 1, `${C} realloc(0, ${n}) "is malloc(${n})"`);
          check(heap.liveBytes() === base + heap.usableSize(p), `${C} realloc(0, ${n}): live bytes ${heap.liveBytes()}, expected ${base} + ${heap.usableSize(p)}`);
          const r = heap.realloc(p, 0);
          check(r === 0, `${C} realloc(p, 0): "returns 0", got ${r}`);
          check(heap.liveBytes() === base, `${C} realloc(p, 0): "frees p": live bytes ${heap.liveBytes()}, baseline ${base}`);
        }
        heap.validate();
      },
    },
    {
      name: `${C}: realloc keeps min(old usable, size) bytes on grow and shrink, frees the old block when it moves, aligns the result`,
      run() {
        const heap = fresh();
        const tinyMax = heap.boxes.tinyRoute.tinyMax;
        const base = heap.liveBytes();
        const chains = [[8, 24, 100, 1000, tinyMax], [tinyMax, 1000, 100, 24, 1], [16, 17, 15, 256, 8], [200, 2, 200]];
        let seed = 0;
        for (const chain of chains) {
          let p = heap.malloc(chain[0]!);
          stamp(heap, p, heap.usableSize(p), ++seed);
          for (const size of chain.slice(1)) {
            const oldUsable = heap.usableSize(p);
            const q = heap.realloc(p, size);
            checkBlock(heap, q, size, 1, `${C} realloc(p, ${size}) from ${oldUsable} usable`);
            checkStamp(heap, q, Math.min(oldUsable, size), seed, `${C} realloc(p, ${size}) from ${oldUsable} usable: contents not kept`);
            check(heap.liveBytes() === base + heap.usableSize(q),
              `${C} realloc(p, ${size}): live bytes ${heap.liveBytes()} != ${base} + ${heap.usableSize(q)} (the old block was not freed)`);
            p = q;
            stamp(heap, p, heap.usableSize(p), ++seed);
          }
          heap.free(p);
        }
        check(heap.liveBytes() === base, `${C} realloc: a block leaked (live ${heap.liveBytes()}, baseline ${base})`);
        heap.validate();
      },
    },
    {
      name: `${C}: realloc(p, n) of p = malloc(n) (the same size) stays in place`,
      run() {
        const heap = fresh();
        for (const n of [0, 1, 2, 7, 8, 40, 100, 700, heap.boxes.tinyRoute.tinyMax]) {
          const p = heap.malloc(n);
          if (n === 0) {
            heap.free(p);
            continue; // realloc(p, 0) frees
          }
          const q = heap.realloc(p, n);
          check(q === p, `${C} realloc(p, ${n}) of p = malloc(${n}): "stays in place when the usable size allows" (usable ${heap.usableSize(q)}), moved`);
          heap.free(q);
        }
      },
    },
    {
      name: `${C}: realloc to size = usableSize stays in place; reallocsInPlace / reallocsMoved count what each realloc did`,
      run() {
        const heap = fresh();
        const gk = heap.boxes.gatekeeper;
        for (const n of [1, 8, 40, 100, 700]) {
          const p = heap.malloc(n);
          const usable = heap.usableSize(p);
          const s0 = gk.stats();
          const full = heap.realloc(p, usable);
          check(full === p, `${C} realloc(p, usableSize = ${usable}): "stays in place when the usable size allows", moved`);
          const s1 = gk.stats();
          check(s1.reallocsInPlace === s0.reallocsInPlace + 1 && s1.reallocsMoved === s0.reallocsMoved,
            `${C} stats: an in-place realloc counted as inPlace +${s1.reallocsInPlace - s0.reallocsInPlace}, moved +${s1.reallocsMoved - s0.reallocsMoved}`);
          heap.free(p);
        }
        // Any realloc(p != 0, size > 0) that succeeds is counted exactly once, as what it did.
        let p = heap.malloc(16);
        for (const size of [2000, 16, 17, 1, 500, 500, 64]) {
          const s0 = gk.stats();
          const q = heap.realloc(p, size);
          const s1 = gk.stats();
          const inPlace = s1.reallocsInPlace - s0.reallocsInPlace;
          const moved = s1.reallocsMoved - s0.reallocsMoved;
          check(q === p ? inPlace === 1 && moved === 0 : inPlace === 0 && moved === 1,
            `${C} stats: realloc to ${size} ${q === p ? 'stayed' : 'moved'} but counted inPlace +${inPlace}, moved +${moved}`);
          p = q;
        }
        heap.free(p);
        heap.validate();
      },
    },
    {
      name: `${C}: memalign(align, size) for a power-of-two align gives an aligned block freed by free (align <= 16 always served)`,
      run() {
        const heap = fresh();
        const tinyMax = heap.boxes.tinyRoute.tinyMax;
        const gk = heap.boxes.gatekeeper;
        const base = heap.liveBytes();
        const before = gk.stats().memaligns;
        let calls = 0;
        const got: Ptr[] = [];
        for (let align = 1; align <= 4096; align *= 2) {
          for (const size of [0, 1, align - 1, align, align + 1, 3 * align]) {
            if (size < 0 || size > tinyMax) continue;
            const clause = `${C} memalign(${align}, ${size})`;
            calls++;
            let p: Ptr;
            if (align <= 16) {
              p = heap.memalign(align, size);
            } else {
              try {
                p = heap.memalign(align, size);
              } catch (e) {
                // A tiny-only composition may have no block with this alignment.
                expectHakmemError(() => { throw e; }, ErrorCode.NO_ROUTE, clause);
                continue;
              }
            }
            checkBlock(heap, p, size, align, clause);
            stamp(heap, p, size, got.length);
            got.push(p);
          }
        }
        const counted = gk.stats().memaligns - before;
        check(counted === calls, `${C} stats.memaligns: ${calls} calls counted as ${counted}`);
        for (const p of got) heap.free(p);
        check(heap.liveBytes() === base, `${C} memalign: "the result is freed by free": live bytes ${heap.liveBytes()}, baseline ${base}`);
        heap.validate();
      },
    },
    {
      name: `${C}: memalign with an alignment that is not a power of two throws E_INVALID_ALIGNMENT; heap as it was`,
      run() {
        const heap = fresh();
        const p = heap.malloc(32);
        for (const align of [0, 3, 6, 12, 24, 48, 100, -16, -1, 1.5, 16.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          rejects(heap, () => heap.memalign(align, 32), ErrorCode.INVALID_ALIGNMENT, `${C} memalign(${align}, 32)`);
        }
        heap.free(p);
      },
    },
    {
      name: `${C}: out of memory: malloc/calloc/realloc return 0 and count in stats.failed, the old block stays intact, the heap recovers after a free`,
      run() {
        const heap = makeHeap({ maxBytes: SMALL_HEAP_BYTES });
        const gk = heap.boxes.gatekeeper;
        const tinyMax = heap.boxes.tinyRoute.tinyMax;
        const small = heap.malloc(16);
        stamp(heap, small, 16, 77);
        const clause = `${C} out of memory`;
        const blocks = exhaust(heap, tinyMax, SMALL_HEAP_BYTES / tinyMax + 1024, clause);
        check(blocks.length > 0, `${clause}: no block of ${tinyMax} bytes on a fresh ${SMALL_HEAP_BYTES}-byte heap`);
        const f0 = gk.stats().failed;
        check(f0 >= 1, `${clause}: malloc returned 0 but stats.failed is ${f0}`);
        const before = snapshot(heap);
        check(heap.malloc(tinyMax) === 0, `${clause}: malloc(${tinyMax}) succeeded right after returning 0`);
        check(heap.calloc(1, tinyMax) === 0, `${clause}: calloc(1, ${tinyMax}) on an exhausted class did not return 0`);
        const r = heap.realloc(small, tinyMax);
        check(r === 0, `${clause}: realloc(p, ${tinyMax}) on an exhausted class returned ${r}, not 0`);
        check(gk.stats().failed === f0 + 3, `${clause}: three calls returned 0, stats.failed went from ${f0} to ${gk.stats().failed}`);
        // Out of memory promises "nothing corrupted", not "nothing written": a failed refill may
        // update slow-path metadata, so only validity and live bytes are compared here.
        checkIntact(heap, before, `${clause}: "nothing corrupted"`, false);
        checkStamp(heap, small, 16, 77, `${clause}: realloc "the old block is intact"`);
        check(heap.usableSize(small) >= 16, `${clause}: the old block shrank`);
        heap.free(blocks.pop()!);
        const again = heap.malloc(tinyMax);
        checkBlock(heap, again, tinyMax, 1, `${clause}: malloc after a free`);
        heap.free(again);
        for (const p of blocks) heap.free(p);
        heap.free(small);
        heap.validate();
        check(heap.liveBytes() === 0, `${clause}: live bytes ${heap.liveBytes()} after freeing everything`);
      },
    },
    {
      name: `${C}: with throwOnOutOfMemory, exhaustion throws E_OUT_OF_MEMORY and the heap stays valid`,
      run() {
        const heap = makeHeap({ maxBytes: SMALL_HEAP_BYTES, throwOnOutOfMemory: true });
        const tinyMax = heap.boxes.tinyRoute.tinyMax;
        const blocks: Ptr[] = [];
        const limit = SMALL_HEAP_BYTES / tinyMax + 1024;
        let error: unknown;
        for (let i = 0; i < limit && error === undefined; i++) {
          try {
            const p = heap.malloc(tinyMax);
            check(p !== 0, `${C} throwOnOutOfMemory: malloc returned 0 instead of throwing E_OUT_OF_MEMORY`);
            blocks.push(p);
          } catch (e) {
            error = e;
          }
        }
        check(error !== undefined, `${C} throwOnOutOfMemory: malloc(${tinyMax}) never failed on a ${SMALL_HEAP_BYTES}-byte heap`);
        expectHakmemError(() => { throw error; }, ErrorCode.OUT_OF_MEMORY, `${C} throwOnOutOfMemory: exhaustion`);
        heap.validate();
        heap.free(blocks.pop()!);
        checkBlock(heap, heap.malloc(tinyMax), tinyMax, 1, `${C} throwOnOutOfMemory: malloc after a free`);
      },
    },
    reclaimCase(C, reclaim),
  ];
}
