import type { Subject } from '../../subject.js';
import { warmupSeed } from '../../measure.js';
import { MiB } from '../../workloads/workload.js';
import type { MtResult } from '../api.js';
import { now, threadSeed } from '../control.js';
import { readyThenAwaitGo, runTogether, warmUp } from '../phase.js';
import { sumResults, type MtWorkload, type Post, type RunContext, type WorkOutcome, type WorkerTask } from '../task.js';

type Params = Readonly<Record<string, number>>;

/**
 * The shared transfer table: an Int32Array over a SharedArrayBuffer.
 *
 * ```
 *  word  0                 DONE   workers that finished all their rounds (Atomics.add; the last one drains the table)
 *  words 16 + 3 i ..       slot i: the block's address (0: empty; BUSY while a thread swaps it), its size, its tag
 * ```
 * A swap takes the slot by exchanging its address word with BUSY (retrying while another
 * thread holds it), reads the old size and tag, writes the new ones and stores the new
 * address last: a block moves with its size and tag, so whoever frees it checks it
 * exactly (mstress swaps a bare pointer, its blocks describing themselves).
 */
const T_DONE = 0;
const T_SLOTS = 16;
const BUSY = -1;

/**
 * A block's stamps: its first byte `tag & 0xFF`, one byte per cache line after it
 * (byte 64 k: `(tag + k) & 0xFF`), and its last byte `(tag ^ 0x5A) & 0xFF` (mstress
 * initialises every word and checks every word at the free; one byte per line keeps
 * the harness's share of the time small).
 */
const LINE = 64;
const WORD = 8;

function stamp(subject: Subject, p: number, size: number, tag: number): void {
  subject.poke(p, tag & 0xff);
  for (let k = 1; k * LINE < size - 1; k++) subject.poke(p + k * LINE, (tag + k) & 0xff);
  subject.poke(p + size - 1, (tag ^ 0x5a) & 0xff);
}

/** Verifies a block's stamps and frees it; 1 when any disagrees. */
function release(subject: Subject, p: number, size: number, tag: number): number {
  let bad = subject.peek(p) !== (tag & 0xff) ? 1 : 0;
  for (let k = 1; k * LINE < size - 1; k++) if (subject.peek(p + k * LINE) !== ((tag + k) & 0xff)) bad = 1;
  if (subject.peek(p + size - 1) !== ((tag ^ 0x5a) & 0xff)) bad = 1;
  subject.free(p);
  return bad;
}

/** Counters of one thread, in a Float64Array (bytes and tag sums pass the Smi range). */
const C_MALLOCS = 0;
const C_FREES = 1;
const C_FAILED = 2;
const C_BYTES = 3;
const C_CHECKSUM = 4;
const C_BAD = 5;
const C_WORDS = 6;

function xorshift(s: number): number {
  let x = s;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x;
}

/** The PRNG's state, carried from round to round. */
interface Rng {
  x: number;
}

/** True with probability `percent` / 100: mstress's `chance`. */
function chance(rng: Rng, percent: number): boolean {
  rng.x = xorshift(rng.x);
  return (rng.x >>> 0) % 100 < percent;
}

/**
 * A new block of `words` 8-byte words into entry `at` of `list` (address, size, tag; all 0
 * when malloc failed), mstress's `alloc_items`: 1 % of the blocks are large (× 100), a tenth
 * of those huge (× 1000) with `large` ≥ 1, and with `large` 2 a hundredth of them giant
 * (× 10 000) instead.
 */
function allocItems(subject: Subject, rng: Rng, words: number, large: number, c: Float64Array, list: Int32Array, at: number): void {
  let n = words;
  if (chance(rng, 1)) {
    if (large >= 2 && chance(rng, 1)) n *= 10_000;
    else if (large >= 1 && chance(rng, 10)) n *= 1000;
    else n *= 100;
  }
  if (n === 40) n++; // as mstress: glibc's pthreads asks for 40 words to grow a stack
  const size = n * WORD;
  rng.x = xorshift(rng.x);
  const tag = (rng.x >>> 8) & 0xffffff;
  c[C_MALLOCS]! += 1;
  c[C_BYTES]! += size;
  const p = subject.malloc(size);
  if (p === 0) {
    c[C_FAILED]! += 1;
    list[at] = 0;
    return;
  }
  stamp(subject, p, size, tag);
  c[C_CHECKSUM]! += tag;
  list[at] = p;
  list[at + 1] = size;
  list[at + 2] = tag;
}

/** Frees the block of entry `at` of `list`, if any, and empties the entry. */
function freeItems(subject: Subject, c: Float64Array, list: Int32Array, at: number): void {
  const p = list[at]!;
  if (p === 0) return;
  c[C_BAD]! += release(subject, p, list[at + 1]!, list[at + 2]!);
  c[C_FREES]! += 1;
  list[at] = 0;
}

/** Swaps entry `at` of `list` with slot `slot` of the table (see the table's comment). */
function swap(table: Int32Array, slot: number, list: Int32Array, at: number): void {
  const w = T_SLOTS + 3 * slot;
  let old = Atomics.exchange(table, w, BUSY);
  for (let spins = 0; old === BUSY; spins++) {
    if (spins > 1000) Atomics.wait(table, w, BUSY, 0.1);
    old = Atomics.exchange(table, w, BUSY);
  }
  const oldSize = Atomics.load(table, w + 1);
  const oldTag = Atomics.load(table, w + 2);
  const p = list[at]!;
  Atomics.store(table, w + 1, p === 0 ? 0 : list[at + 1]!);
  Atomics.store(table, w + 2, p === 0 ? 0 : list[at + 2]!);
  Atomics.store(table, w, p);
  list[at] = old;
  list[at + 1] = oldSize;
  list[at + 2] = oldTag;
}

/**
 * One round of one thread (mstress's `stress`): `allocs` short-lived blocks (1..16 words)
 * into a local list and `allocs` / 2 retained ones (1..64 words), interleaved; after each
 * step, with probability 66 % a random local block is freed and with 25 % a random local
 * entry is swapped with a random slot of the shared table (so blocks move between threads,
 * and a thread frees what others allocated). At the end every retained and local block is
 * freed, and this thread frees, with probability 50 %, each block in its share of the
 * table (slots ≡ its index mod T), so some survive into the next round.
 */
function round(
  subject: Subject, rng: Rng, c: Float64Array, table: Int32Array, slots: number, share: number, shares: number,
  allocs: number, large: number, data: Int32Array, retained: Int32Array, scratch: Int32Array,
): void {
  let left = allocs;
  let retain = allocs >>> 1;
  let top = 0;
  let rtop = 0;
  while (left > 0 || retain > 0) {
    if (retain === 0 || (chance(rng, 50) && left > 0)) {
      left--;
      rng.x = xorshift(rng.x);
      allocItems(subject, rng, 1 << ((rng.x >>> 0) % 5), large, c, data, 3 * top++);
    } else {
      rng.x = xorshift(rng.x);
      allocItems(subject, rng, 1 << ((rng.x >>> 0) % 7), large, c, retained, 3 * rtop++);
      retain--;
    }
    if (chance(rng, 66) && top > 0) {
      rng.x = xorshift(rng.x);
      freeItems(subject, c, data, 3 * ((rng.x >>> 0) % top));
    }
    if (chance(rng, 25) && top > 0) {
      rng.x = xorshift(rng.x);
      const idx = (rng.x >>> 0) % top;
      rng.x = xorshift(rng.x);
      swap(table, (rng.x >>> 0) % slots, data, 3 * idx);
    }
  }
  for (let i = 0; i < rtop; i++) freeItems(subject, c, retained, 3 * i);
  for (let i = 0; i < top; i++) freeItems(subject, c, data, 3 * i);
  for (let i = share; i < slots; i += shares) {
    if (chance(rng, 50)) {
      scratch[0] = 0;
      swap(table, i, scratch, 0);
      freeItems(subject, c, scratch, 0);
    }
  }
}

/** Frees every block left in the table (the last thread to finish, and each warm-up call on its private table). */
function drainTable(subject: Subject, table: Int32Array, slots: number, c: Float64Array, scratch: Int32Array): void {
  for (let i = 0; i < slots; i++) {
    scratch[0] = 0;
    swap(table, i, scratch, 0);
    freeItems(subject, c, scratch, 0);
  }
}

function tableWords(slots: number): number {
  return T_SLOTS + 3 * slots;
}

function allocsOf(p: Params, index: number): number {
  return 100 * p.scale! * (p.skew! > 0 ? (index % 8) + 1 : 1);
}

async function work(subject: Subject, task: WorkerTask, post: Post): Promise<WorkOutcome> {
  const p = task.params;
  const slots = p.transfers!;
  const allocs = allocsOf(p, task.index);
  const data = new Int32Array(3 * allocs);
  const retained = new Int32Array(3 * (allocs >>> 1));
  const scratch = new Int32Array(3);
  // Warm-up: whole rounds on a private table of the same size, drained after each call.
  const own = new Int32Array(new SharedArrayBuffer(tableWords(slots) * 4));
  const warm = await warmUp(Math.ceil(p.rounds! * 0.2 * allocs), (count, k) => {
    const c = new Float64Array(C_WORDS);
    const rng = { x: warmupSeed(task.seed + k) | 0 };
    for (let done = 0; done < count; done += allocs) round(subject, rng, c, own, slots, 0, 1, Math.min(allocs, count - done), p.large!, data, retained, scratch);
    drainTable(subject, own, slots, c, scratch);
    return c[C_BAD]!;
  });
  readyThenAwaitGo(task, post);
  const table = new Int32Array(task.shared!);
  const c = new Float64Array(C_WORDS);
  const rng = { x: task.seed | 0 };
  const t0 = now();
  for (let r = 0; r < p.rounds!; r++) round(subject, rng, c, table, slots, task.index, task.threads, allocs, p.large!, data, retained, scratch);
  if (Atomics.add(table, T_DONE, 1) === task.threads - 1) drainTable(subject, table, slots, c, scratch);
  const t1 = now();
  return {
    mallocs: c[C_MALLOCS]!, frees: c[C_FREES]!, failed: c[C_FAILED]!, bytes: c[C_BYTES]!, finalSeed: rng.x >>> 0,
    checksum: c[C_CHECKSUM]!, mismatches: c[C_BAD]! + warm, t0, t1, extra: {},
  };
}

async function run(ctx: RunContext): Promise<MtResult> {
  const shared = new SharedArrayBuffer(tableWords(ctx.params.transfers!) * 4);
  const tasks = Array.from({ length: ctx.threads }, (_, k) => ({ role: 'mstress', index: k, seed: threadSeed(ctx.seed, k), shared }));
  const sum = sumResults(await runTogether(ctx, tasks));
  return { ...sum, extra: { ...sum.extra, 'live.end': sum.mallocs - sum.failed - sum.frees } };
}

/**
 * mimalloc-bench's mstress (Daan Leijen's stress test): T threads, each `rounds` rounds of
 * mstress's `stress` (see `round`), exchanging blocks through one shared table of
 * `transfers` slots; a block moves with its size and tag and is checked (one byte per
 * cache line) by whichever thread frees it. mstress re-creates its threads every round;
 * here the same workers run every round (a worker costs ≈ 0.3 s to start: larson covers
 * thread churn), blocks surviving in the table from round to round as they do there.
 * `skew` 1 gives thread k (k mod 8 + 1) times the work, as mstress does; the default 0
 * gives every thread the same, so the gain from 1 to T threads reads as for the other
 * workloads. The counters do not depend on timing (which thread frees a block does).
 */
export const mstress: MtWorkload = {
  name: 'mstress',
  description: 'T threads allocate short-lived and retained blocks (8 B..512 KiB), free at random and swap blocks through a shared table of 1000 slots, so blocks are freed by other threads',
  defaults: { scale: 50, rounds: 100, transfers: 1000, large: 1, skew: 0 },
  quick: { scale: 10, rounds: 5 },
  slowSubjects: {
    'thing-locked': 'its free walks its list of used blocks, and this workload keeps thousands live: minutes per run (name it in --subjects to run it)',
  },
  primary: 'rounds',
  notFor: () => undefined,
  attachedThreads: (threads) => threads,
  // Live per thread: up to the round's allocs / 2 retained blocks and some short-lived ones
  // (≈ 0.5 KiB each on average with the large ones), the table's; 2 KiB per alloc of headroom.
  arenaBytes: (p, threads) => 64 * MiB + threads * allocsOf(p, 7) * 2048 * (p.large! >= 2 ? 8 : 1),
  deterministic: () => true,
  run,
  work,
};
