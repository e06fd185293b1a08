import type { Subject } from '../subject.js';
import { MiB, type Workload, type WorkloadResult } from './workload.js';

/**
 * alloc-test, the shape of mimalloc-bench's `alloc-test` (OLogN's allocator tester),
 * written for this harness: a table of `items` slots, each empty or holding one block;
 * a run starts empty, swings its live set up and down, and ends with a drain.
 *
 * Each cycle draws one xorshift32 value for the kind of step and another for the slot:
 *  - a **churn** step (half of them): a slot picked Pareto-like — at each of three levels,
 *    with probability 205/256 the pick narrows to the first fifth of the current range
 *    (80 % of the picks go to the hottest 20 % of the slots, 64 % to the hottest 4 %, 51 % to
 *    the hottest 0.8 %), then uniformly in that range — is toggled: freed when it holds a
 *    block, else given a new one (short-lived objects, a hot set that turns over fast);
 *  - a **tide** step (the other half): a uniformly random empty slot gets a block while the
 *    live set grows, a uniformly random full one is freed while it shrinks (long-lived data
 *    piling up, then released). The live set grows until 7/8 of the slots are full, then
 *    shrinks until 1/8 are, then grows again, for as many swings as the cycles allow.
 *
 * Sizes follow alloc-test's power-of-two classes: class k (0 ≤ k ≤ maxLog2 − 3) comes
 * with probability 2^−(k+1) (the last class takes the rest), its size uniform in
 * 2^(k+2) + 1 .. 2^(k+3): half the blocks are 5..8 bytes, a quarter 9..16, …, and a long
 * tail up to 2^maxLog2 (mean ≈ 3 (maxLog2 − 3) + 6 bytes: 27 for the default 1 KiB).
 *
 * Every block is stamped at its first byte and its last (from the size draw); both are
 * read back before it is freed (`mismatches`). The timed region is the loop and the drain.
 */
export interface AllocTestParams {
  readonly cycles: number;
  /** Slots (the most blocks live at once). */
  readonly items: number;
  /** log2 of the largest block (4..24). */
  readonly maxLog2: number;
  readonly seed: number;
}

export const ALLOC_TEST_DEFAULTS = { items: 65_536, maxLog2: 10 } as const;

/** Bits of the size draw that place a block in its class start here (the low ones pick the class). */
const OFFSET_SHIFT = 8;

export function checkAllocTestParams(items: number, maxLog2: number): void {
  if (!Number.isSafeInteger(items) || items < 8 || items > 1 << 24) throw new Error(`alloc-test: items must be an integer in 8..${1 << 24}, got ${items}`);
  if (!Number.isSafeInteger(maxLog2) || maxLog2 < 4 || maxLog2 > 24) throw new Error(`alloc-test: maxLog2 must be an integer in 4..24, got ${maxLog2}`);
}

/** The size alloc-test's classes give the draw `x` (see the module's comment). */
export function allocTestSize(x: number, maxLog2: number): number {
  const top = 1 << (maxLog2 - 3);
  const v = (x & (top - 1)) | top;
  const k = 31 - Math.clz32(v & -v);
  const base = 1 << (k + 2);
  return base + 1 + ((x >>> OFFSET_SHIFT) & (base - 1));
}

/** Pool bytes a fixed-size subject needs: the mean block, 7/8 of the slots live, 16× headroom (at least 64 MiB). */
export function allocTestArena(items: number, maxLog2: number): number {
  const mean = 3 * (maxLog2 - 3) + 6;
  return Math.max(64 * MiB, Math.ceil((items * mean * 16) / MiB) * MiB + (2 << maxLog2));
}

export function runAllocTest(subject: Subject, params: AllocTestParams): WorkloadResult {
  checkAllocTestParams(params.items, params.maxLog2);
  return loop(subject, params.cycles | 0, params.items | 0, params.maxLog2 | 0, params.seed | 0);
}

/** Words per slot of the table: the block's address (0: empty), its size, its stamp draw, and the slot's position in `perm`. */
const SLOT = 4;

/**
 * Verifies the stamps of slot `idx` and frees it; 1 on a mismatch. Moves the slot from the
 * full part of `perm` to the empty part (see `loop`); the caller decrements `live`.
 */
function release(subject: Subject, tab: Int32Array, perm: Int32Array, live: number, idx: number, ptr: number): number {
  const o = idx << 2;
  const x = tab[o + 2]!;
  const bad = subject.peek(ptr) !== ((x >>> 24) & 0xff) || subject.peek(ptr + tab[o + 1]! - 1) !== ((x >>> 16) & 0xff) ? 1 : 0;
  subject.free(ptr);
  tab[o] = 0;
  // Swap idx with the last full slot, so perm[0 .. live − 2] stay the full ones.
  const at = tab[o + 3]!;
  const lastAt = live - 1;
  const other = perm[lastAt]!;
  perm[at] = other;
  tab[(other << 2) + 3] = at;
  perm[lastAt] = idx;
  tab[o + 3] = lastAt;
  return bad;
}

/**
 * The timed loop, on primitive arguments only (see random-mixed.ts). `perm` is a
 * permutation of the slot numbers whose first `live` entries are the full slots and the
 * rest the empty ones (each slot's position in it is the slot's fourth word), so a tide
 * step picks a uniformly random full or empty slot in O(1) (a scan for one from a random
 * slot cost more than the allocator: a linear scan's runs cluster, as in a hash table
 * near full). A slot's words are together, so a step touches two cache lines of the
 * harness's tables (they are 1.25 MiB at the default 65 536 slots: on the null subject
 * this workload is slower than the random-mixed bands, whose 256 slots stay in L1).
 */
function loop(subject: Subject, cycles: number, items: number, maxLog2: number, seed: number): WorkloadResult {
  const tab = new Int32Array(items * SLOT);
  const perm = new Int32Array(items);
  for (let i = 0; i < items; i++) {
    perm[i] = i;
    tab[(i << 2) + 3] = i;
  }
  const high = items - (items >>> 3);
  const low = items >>> 3;
  const top = 1 << (maxLog2 - 3);
  let x = seed;
  let live = 0;
  let growing = 1;
  let mallocs = 0;
  let frees = 0;
  let failed = 0;
  const acc = new Float64Array(2); // bytes requested, checksum (past the Smi range on long runs)
  let mismatches = 0;

  const t0 = performance.now();
  for (let i = 0; i < cycles; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const kind = x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    let idx = 0;
    if ((kind & 1) !== 0) {
      // Churn: a Pareto-like pick, toggled.
      let n = items;
      if (((kind >>> 1) & 0xff) < 205) {
        n = ((n + 4) / 5) | 0;
        if (((kind >>> 9) & 0xff) < 205) {
          n = ((n + 4) / 5) | 0;
          if (((kind >>> 17) & 0xff) < 205) n = ((n + 4) / 5) | 0;
        }
      }
      idx = ((x >>> 0) % (n >>> 0)) | 0;
    } else {
      // Tide: a uniformly random empty slot while the live set grows, a full one while it shrinks.
      if (growing !== 0 && live >= high) growing = 0;
      else if (growing === 0 && live <= low) growing = 1;
      idx = growing !== 0
        ? perm[live + (((x >>> 0) % ((items - live) >>> 0)) | 0)]!
        : perm[((x >>> 0) % (live >>> 0)) | 0]!;
    }
    const o = idx << 2;
    const old = tab[o]!;
    if (old !== 0) {
      mismatches += release(subject, tab, perm, live, idx, old);
      frees++;
      live--;
      continue;
    }
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const v = (x & (top - 1)) | top;
    const base = 1 << (33 - Math.clz32(v & -v));
    const sz = base + 1 + ((x >>> OFFSET_SHIFT) & (base - 1));
    mallocs++;
    acc[0]! += sz;
    const ptr = subject.malloc(sz);
    if (ptr === 0) {
      failed++;
      continue;
    }
    const first = (x >>> 24) & 0xff;
    const last = (x >>> 16) & 0xff;
    subject.poke(ptr, first);
    subject.poke(ptr + sz - 1, last);
    acc[1]! += first + last;
    tab[o] = ptr;
    tab[o + 1] = sz;
    tab[o + 2] = x;
    // Swap idx with the first empty slot: it becomes the last full one.
    const at = tab[o + 3]!;
    const other = perm[live]!;
    perm[at] = other;
    tab[(other << 2) + 3] = at;
    perm[live] = idx;
    tab[o + 3] = live;
    live++;
  }
  for (let idx = 0; idx < items; idx++) {
    const ptr = tab[idx << 2]!;
    if (ptr !== 0) {
      mismatches += release(subject, tab, perm, live, idx, ptr);
      frees++;
      live--;
    }
  }
  const elapsedMs = performance.now() - t0;

  return { mallocs, frees, failed, bytes: acc[0]!, finalSeed: x >>> 0, checksum: acc[1]!, mismatches, elapsedMs };
}

/**
 * `alloc-test` on the single-thread harness (every single-thread subject: hakmem and its
 * presets, module paths, thing, seglist, null). Its multi-thread form is `alloc-test-mt`.
 */
export const allocTest: Workload = {
  name: 'alloc-test',
  description: 'alloc-test (mimalloc-bench shape): Pareto-like slot picks, power-of-two size classes 5..2^maxLog2, a live set swinging between 1/8 and 7/8 of the slots',
  cycles: 2_000_000,
  arenaBytes: allocTestArena(ALLOC_TEST_DEFAULTS.items, ALLOC_TEST_DEFAULTS.maxLog2),
  params: ALLOC_TEST_DEFAULTS,
  slowSubjects: {
    thing: 'its free walks its list of used blocks, and this workload keeps up to 57 000 live: ≈ 7500 ops/s, minutes per run (name it in --subjects to run it)',
  },
  arenaFor: (p) => allocTestArena(p.items!, p.maxLog2!),
  run: (subject, cycles, seed, p = ALLOC_TEST_DEFAULTS) => runAllocTest(subject, { cycles, seed, items: p.items!, maxLog2: p.maxLog2! }),
};
