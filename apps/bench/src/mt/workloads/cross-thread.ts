import type { Subject } from '../../subject.js';
import { warmupSeed } from '../../measure.js';
import { MiB } from '../../workloads/workload.js';
import type { MtResult } from '../api.js';
import { now, threadSeed } from '../control.js';
import { readyThenAwaitGo, runTogether, warmUp } from '../phase.js';
import { sumResults, type MtWorkload, type Post, type RunContext, type WorkOutcome, type WorkerTask } from '../task.js';

/**
 * The ring of one producer/consumer pair: an Int32Array over a SharedArrayBuffer.
 *
 * ```
 *  word  0       HEAD    blocks pushed so far (int32, wraps); written by the producer only
 *  word 16       TAIL    blocks popped so far; written by the consumer only
 *  word 32       P_WAIT  1 while the producer sleeps on TAIL (ring full)
 *  word 48       C_WAIT  1 while the consumer sleeps on HEAD (ring empty)
 *  words 64 ..   SLOTS   4096 block addresses, slot i & 4095 (0: that malloc failed)
 * ```
 * One writer per word; a slot is written before HEAD is published (Atomics.store; every
 * 32 blocks, before the producer waits, and at its end) and read after HEAD is seen
 * (Atomics.load), so the address is visible to the consumer. TAIL is published the same
 * way. A
 * side that sleeps raises its flag, then re-reads the other's index before it waits; the
 * other publishes its index, then reads the flag, and notifies only when it is raised.
 */
const HEAD = 0;
const TAIL = 16;
const P_WAIT = 32;
const C_WAIT = 48;
const SLOTS_BASE = 64;
export const RING_SLOTS = 4096;
const RING_MASK = RING_SLOTS - 1;
const RING_WORDS = SLOTS_BASE + RING_SLOTS;

/**
 * Each side publishes its index every PUBLISH_EVERY blocks (and before it waits, and at
 * the end of a call), not every block: each publication moves the index's cache line to
 * the other core. Measured on null (2-core Xeon VM, 2 threads): publishing every block
 * 6.3 M ops/s, every 32 blocks 41 M ops/s.
 */
const PUBLISH_MASK = 31;
/** Loads of the other side's index before a side sleeps (a few microseconds). */
const SPINS = 4096;
/** A sleep's timeout (ms): a safety net only; the notify protocol wakes the sleeper. */
const WAIT_MS = 10;

/** Stores this side's index and wakes the other side if it sleeps on it. */
function publish(ring: Int32Array, index: number, flag: number, value: number): void {
  Atomics.store(ring, index, value);
  if (Atomics.load(ring, flag) !== 0) Atomics.notify(ring, index);
}

/** Consumer: waits until HEAD moves past `tail`; returns the new HEAD. */
function awaitData(ring: Int32Array, tail: number): number {
  for (let i = 0; i < SPINS; i++) {
    const head = Atomics.load(ring, HEAD);
    if (head !== tail) return head;
  }
  Atomics.store(ring, C_WAIT, 1);
  let head = Atomics.load(ring, HEAD);
  while (head === tail) {
    Atomics.wait(ring, HEAD, head, WAIT_MS);
    head = Atomics.load(ring, HEAD);
  }
  Atomics.store(ring, C_WAIT, 0);
  return head;
}

/** Producer: waits until the ring has room for slot `head`; returns the new TAIL. */
function awaitRoom(ring: Int32Array, head: number): number {
  for (let i = 0; i < SPINS; i++) {
    const tail = Atomics.load(ring, TAIL);
    if (((head - tail) | 0) < RING_SLOTS) return tail;
  }
  Atomics.store(ring, P_WAIT, 1);
  let tail = Atomics.load(ring, TAIL);
  while (((head - tail) | 0) >= RING_SLOTS) {
    Atomics.wait(ring, TAIL, tail, WAIT_MS);
    tail = Atomics.load(ring, TAIL);
  }
  Atomics.store(ring, P_WAIT, 0);
  return tail;
}

interface Side {
  mallocs: number;
  frees: number;
  failed: number;
  bytes: number;
  checksum: number;
  mismatches: number;
  finalSeed: number;
  t0: number;
  t1: number;
}

/**
 * Thread A: `count` blocks of random-mixed's std sizes (16 + (r & 0x3FF), clamped), each
 * stamped (first byte r & 0xFF, last byte (r >>> 8) & 0xFF) and pushed into the ring.
 * Primitive arguments only, as random-mixed's loop (see there).
 */
function produce(subject: Subject, ring: Int32Array, count: number, seed: number, minSize: number, maxSize: number): Side {
  let x = seed | 0;
  let head = Atomics.load(ring, HEAD);
  let tail = Atomics.load(ring, TAIL);
  let mallocs = 0;
  let failed = 0;
  let checksum = 0;
  const acc = new Float64Array(1); // bytes requested (past the Smi range on long runs)
  const t0 = now();
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    let sz = 16 + (x & 0x3ff);
    sz = sz < minSize ? minSize : sz > maxSize ? maxSize : sz;
    mallocs++;
    acc[0]! += sz;
    const ptr = subject.malloc(sz);
    if (ptr !== 0) {
      const first = x & 0xff;
      const last = (x >>> 8) & 0xff;
      subject.poke(ptr, first);
      subject.poke(ptr + sz - 1, last);
      checksum += first + last;
    } else {
      failed++;
    }
    if (((head - tail) | 0) >= RING_SLOTS) {
      publish(ring, HEAD, C_WAIT, head);
      tail = awaitRoom(ring, head);
    }
    ring[SLOTS_BASE + (head & RING_MASK)] = ptr;
    head = (head + 1) | 0;
    if ((head & PUBLISH_MASK) === 0) publish(ring, HEAD, C_WAIT, head);
  }
  publish(ring, HEAD, C_WAIT, head);
  const t1 = now();
  return { mallocs, frees: 0, failed, bytes: acc[0]!, checksum, mismatches: 0, finalSeed: x >>> 0, t0, t1 };
}

/** Thread B: pops `count` blocks, replays A's sequence to know each one's size and stamps, verifies, frees. */
function consume(subject: Subject, ring: Int32Array, count: number, seed: number, minSize: number, maxSize: number): Side {
  let x = seed | 0;
  let tail = Atomics.load(ring, TAIL);
  let head = Atomics.load(ring, HEAD);
  let frees = 0;
  let mismatches = 0;
  const t0 = now();
  for (let i = 0; i < count; i++) {
    if (head === tail) {
      publish(ring, TAIL, P_WAIT, tail);
      head = awaitData(ring, tail);
    }
    const ptr = ring[SLOTS_BASE + (tail & RING_MASK)]!;
    tail = (tail + 1) | 0;
    if ((tail & PUBLISH_MASK) === 0) publish(ring, TAIL, P_WAIT, tail);
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (ptr !== 0) {
      let sz = 16 + (x & 0x3ff);
      sz = sz < minSize ? minSize : sz > maxSize ? maxSize : sz;
      if (subject.peek(ptr) !== (x & 0xff) || subject.peek(ptr + sz - 1) !== ((x >>> 8) & 0xff)) mismatches++;
      subject.free(ptr);
      frees++;
    }
  }
  publish(ring, TAIL, P_WAIT, tail);
  const t1 = now();
  return { mallocs: 0, frees, failed: 0, bytes: 0, checksum: 0, mismatches, finalSeed: x >>> 0, t0, t1 };
}

/** One call of this worker's side. */
function side(subject: Subject, task: WorkerTask, ring: Int32Array, count: number, seed: number): Side {
  const { minSize, maxSize } = task.params as { minSize: number; maxSize: number };
  return task.role === 'producer'
    ? produce(subject, ring, count, seed, minSize, maxSize)
    : consume(subject, ring, count, seed, minSize, maxSize);
}

async function work(subject: Subject, task: WorkerTask, post: Post): Promise<WorkOutcome> {
  const ring = new Int32Array(task.shared!);
  const blocks = task.params.blocks!;
  const warm = await warmUp(Math.ceil(blocks * 0.2), (count, k) => side(subject, task, ring, count, warmupSeed(task.seed + k)).mismatches);
  readyThenAwaitGo(task, post);
  const s = side(subject, task, ring, blocks, task.seed);
  // finalSeed: the producer's only (the consumer replays the same sequence; the XOR of both would be 0).
  return { ...s, finalSeed: task.role === 'producer' ? s.finalSeed : 0, mismatches: s.mismatches + warm, extra: {} };
}

async function run(ctx: RunContext): Promise<MtResult> {
  const tasks = [];
  for (let pair = 0; pair < ctx.threads / 2; pair++) {
    const shared = new SharedArrayBuffer(RING_WORDS * 4);
    const seed = threadSeed(ctx.seed, pair);
    tasks.push({ role: 'producer', index: pair, seed, shared }, { role: 'consumer', index: pair, seed, shared });
  }
  return sumResults(await runTogether(ctx, tasks));
}

/**
 * BENCH.md's cross-thread: thread A allocates (random-mixed's std sizes, 16..1040) and
 * passes each block through a 4096-slot ring in shared memory to thread B, which verifies
 * its stamps and frees it: every free is a free of memory another thread allocated. T
 * threads are T / 2 such pairs, each with its own ring and seed. ops/s counts each malloc
 * and each free, from the first side's start to the last side's end; `blocks` per pair.
 */
export const crossThread: MtWorkload = {
  name: 'cross-thread',
  description: 'thread A mallocs std 16..1040 and passes each block through a 4096-slot ring to thread B, which frees it',
  defaults: { blocks: 1_000_000, minSize: 16, maxSize: 1040 },
  quick: { blocks: 20_000 },
  primary: 'blocks',
  notFor: (threads) => (threads % 2 === 0 ? undefined : 'needs an even thread count (T / 2 producer → consumer pairs)'),
  attachedThreads: (threads) => threads,
  // Live at most: the ring's 4096 blocks per pair (≤ 1040 B each), plus headroom.
  arenaBytes: (_p, threads) => 64 * MiB * Math.max(1, threads / 2),
  deterministic: () => true,
  run,
  work,
};
