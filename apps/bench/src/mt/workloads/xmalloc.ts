import { canBlockHere, lockAcquire, lockRelease } from '@hakmem/primitives';
import type { Subject } from '../../subject.js';
import { warmupSeed } from '../../measure.js';
import { MiB } from '../../workloads/workload.js';
import type { MtResult } from '../api.js';
import { now, threadSeed } from '../control.js';
import { readyThenAwaitGo, runTogether, warmUp } from '../phase.js';
import { sumResults, type MtWorkload, type Post, type RunContext, type WorkOutcome, type WorkerTask } from '../task.js';

type Params = Readonly<Record<string, number>>;

/**
 * The queue of batches every producer and consumer shares: an Int32Array over a
 * SharedArrayBuffer, each control word on its own 64-byte line.
 *
 * ```
 *  word  0              LOCK       one mutex (@hakmem/primitives' lockAcquire / lockRelease) over both stacks
 *  word 16              FREE_TOP   buffers on the free stack
 *  word 32              FULL_TOP   buffers on the full stack
 *  word 48              FULL_SEQ   bumped at every push on the full stack (consumers sleep on it)
 *  word 64              FREE_SEQ   bumped at every push on the free stack (producers sleep on it)
 *  word 80              CLAIMED    batches claimed by consumers so far (Atomics.add: who consumes how many)
 *  words 96 ..          the free stack, `queue` buffer numbers
 *  words 96 + queue ..  the full stack, `queue` buffer numbers
 * ```
 * Both stacks are LIFO, as xmalloc-test's list of batches. `queue` buffers exist, so at
 * most `queue` full batches wait (xmalloc-test's limit on queued batches); a producer with
 * no free buffer waits, as does a consumer with no full batch.
 *
 * The buffers follow in the same SharedArrayBuffer: buffer b at word b · (HDR + 3 · batch) of them holds
 * the batch record's address and tag, then each object's address, size and PRNG value.
 * It is written by the producer before the push (under the lock) and read by the
 * consumer after the pop (under the lock), so the consumer sees every word.
 */
const Q_LOCK = 0;
const Q_FREE_TOP = 16;
const Q_FULL_TOP = 32;
const Q_FULL_SEQ = 48;
const Q_FREE_SEQ = 64;
const Q_CLAIMED = 80;
const Q_STACKS = 96;
const HDR = 4;
/** A sleep's timeout (ms): a safety net; pushes notify. */
const WAIT_MS = 20;

/** xmalloc-test's sizes for `-s -1` (here `size` 0): picked uniformly per object. */
const SIZES = new Int32Array([8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048]);

function queueWords(queue: number): number {
  return Q_STACKS + 2 * queue;
}

function bufferWords(batch: number): number {
  return HDR + 3 * batch;
}

/** Pops a buffer number off the stack at `top` (its words follow `base`), sleeping on `seq` while it is empty. */
function take(q: Int32Array, top: number, base: number, seq: number, canBlock: boolean): number {
  lockAcquire(q, Q_LOCK, canBlock);
  while (q[top] === 0) {
    const seen = Atomics.load(q, seq);
    lockRelease(q, Q_LOCK);
    Atomics.wait(q, seq, seen, WAIT_MS);
    lockAcquire(q, Q_LOCK, canBlock);
  }
  const n = q[top]! - 1;
  q[top] = n;
  const b = q[base + n]!;
  lockRelease(q, Q_LOCK);
  return b;
}

function put(q: Int32Array, top: number, base: number, seq: number, b: number, canBlock: boolean): void {
  lockAcquire(q, Q_LOCK, canBlock);
  const n = q[top]!;
  q[base + n] = b;
  q[top] = n + 1;
  lockRelease(q, Q_LOCK);
  Atomics.add(q, seq, 1);
  Atomics.notify(q, seq, 1);
}

/** A producer's or consumer's counters, in a Float64Array (bytes pass the Smi range). */
const C_MALLOCS = 0;
const C_FREES = 1;
const C_FAILED = 2;
const C_BYTES = 3;
const C_CHECKSUM = 4;
const C_BAD = 5;
const C_SEED = 6;
const C_WORDS = 7;

/**
 * Fills buffer `at` (a word offset) with a batch of `count` objects: the batch record
 * (8 + 8 · batch bytes, as xmalloc-test's struct of a next pointer and the object
 * pointers), then each object (`size` bytes, or one of SIZES when `size` is 0), both ends
 * of every block stamped. The PRNG state is in c[C_SEED]. Primitive arguments only.
 */
function fill(subject: Subject, buf: Int32Array, at: number, count: number, batch: number, size: number, c: Float64Array): void {
  let x = c[C_SEED]! | 0;
  let mallocs = 0;
  let failed = 0;
  let bytes = 0;
  let checksum = 0;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  const recordSize = 8 + 8 * batch;
  const record = subject.malloc(recordSize);
  mallocs++;
  bytes += recordSize;
  if (record === 0) failed++;
  else {
    subject.poke(record, x & 0xff);
    subject.poke(record + recordSize - 1, (x >>> 8) & 0xff);
    checksum += (x & 0xff) + ((x >>> 8) & 0xff);
  }
  buf[at] = record;
  buf[at + 1] = x;
  buf[at + 2] = count;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const sz = size > 0 ? size : SIZES[(x >>> 0) % 17]!;
    const p = subject.malloc(sz);
    mallocs++;
    bytes += sz;
    if (p === 0) failed++;
    else {
      const first = (x >>> 8) & 0xff;
      const last = (x >>> 16) & 0xff;
      subject.poke(p, first);
      subject.poke(p + sz - 1, last);
      checksum += first + last;
    }
    const o = at + HDR + 3 * i;
    buf[o] = p;
    buf[o + 1] = sz;
    buf[o + 2] = x;
  }
  c[C_SEED] = x;
  c[C_MALLOCS]! += mallocs;
  c[C_FAILED]! += failed;
  c[C_BYTES]! += bytes;
  c[C_CHECKSUM]! += checksum;
}

/** Verifies and frees every object of buffer `at`, then its batch record. */
function drain(subject: Subject, buf: Int32Array, at: number, batch: number, c: Float64Array): void {
  const count = buf[at + 2]!;
  let frees = 0;
  let bad = 0;
  for (let i = 0; i < count; i++) {
    const o = at + HDR + 3 * i;
    const p = buf[o]!;
    if (p === 0) continue;
    const sz = buf[o + 1]!;
    const x = buf[o + 2]!;
    if (subject.peek(p) !== ((x >>> 8) & 0xff) || subject.peek(p + sz - 1) !== ((x >>> 16) & 0xff)) bad++;
    subject.free(p);
    frees++;
  }
  const record = buf[at]!;
  if (record !== 0) {
    const x = buf[at + 1]!;
    if (subject.peek(record) !== (x & 0xff) || subject.peek(record + 8 + 8 * batch - 1) !== ((x >>> 8) & 0xff)) bad++;
    subject.free(record);
    frees++;
  }
  c[C_FREES]! += frees;
  c[C_BAD]! += bad;
}

async function work(subject: Subject, task: WorkerTask, post: Post): Promise<WorkOutcome> {
  const p = task.params;
  const batch = p.batch!;
  const queue = p.queue!;
  const size = p.size!;
  const producers = task.threads / 2;
  const total = producers * p.batches!;
  // Warm-up: fill and drain batches on a private buffer (both roles run both functions).
  const own = new Int32Array(bufferWords(batch));
  const warm = await warmUp(Math.ceil(p.batches! * batch * 0.2), (count, k) => {
    const c = new Float64Array(C_WORDS);
    c[C_SEED] = warmupSeed(task.seed + k) | 0;
    for (let done = 0; done < count; done += batch) {
      fill(subject, own, 0, Math.min(batch, count - done), batch, size, c);
      drain(subject, own, 0, batch, c);
    }
    return c[C_BAD]!;
  });
  readyThenAwaitGo(task, post);
  const q = new Int32Array(task.shared!, 0, queueWords(queue));
  const buf = new Int32Array(task.shared!, queueWords(queue) * 4);
  const canBlock = canBlockHere();
  const c = new Float64Array(C_WORDS);
  c[C_SEED] = task.seed | 0;
  const fullBase = Q_STACKS + queue;
  const t0 = now();
  if (task.role === 'producer') {
    for (let n = 0; n < p.batches!; n++) {
      const b = take(q, Q_FREE_TOP, Q_STACKS, Q_FREE_SEQ, canBlock);
      fill(subject, buf, b * bufferWords(batch), batch, batch, size, c);
      put(q, Q_FULL_TOP, fullBase, Q_FULL_SEQ, b, canBlock);
    }
  } else {
    while (Atomics.add(q, Q_CLAIMED, 1) < total) {
      const b = take(q, Q_FULL_TOP, fullBase, Q_FULL_SEQ, canBlock);
      drain(subject, buf, b * bufferWords(batch), batch, c);
      put(q, Q_FREE_TOP, Q_STACKS, Q_FREE_SEQ, b, canBlock);
    }
  }
  const t1 = now();
  return {
    mallocs: c[C_MALLOCS]!, frees: c[C_FREES]!, failed: c[C_FAILED]!, bytes: c[C_BYTES]!,
    finalSeed: task.role === 'producer' ? c[C_SEED]! >>> 0 : 0, checksum: c[C_CHECKSUM]!, mismatches: c[C_BAD]! + warm,
    t0, t1, extra: {},
  };
}

async function run(ctx: RunContext): Promise<MtResult> {
  const p = ctx.params;
  const queue = p.queue!;
  const words = queueWords(queue) + queue * bufferWords(p.batch!);
  const shared = new SharedArrayBuffer(words * 4);
  const q = new Int32Array(shared, 0, queueWords(queue));
  for (let b = 0; b < queue; b++) q[Q_STACKS + b] = b;
  q[Q_FREE_TOP] = queue;
  const tasks = [];
  for (let k = 0; k < ctx.threads / 2; k++) {
    tasks.push({ role: 'producer', index: k, seed: threadSeed(ctx.seed, k), shared }, { role: 'consumer', index: k, seed: threadSeed(ctx.seed, k), shared });
  }
  const sum = sumResults(await runTogether(ctx, tasks));
  return { ...sum, extra: { ...sum.extra, 'live.end': sum.mallocs - sum.failed - sum.frees } };
}

/**
 * mimalloc-bench's xmalloc-test (Lever and Boreham's): T / 2 producer threads malloc
 * batches of `batch` objects (`size` bytes each; 0: sizes 8..2048 from xmalloc-test's
 * list) plus a batch record, and push each full batch on a shared LIFO stack; T / 2
 * consumer threads pop batches and free every object and the record, so every free is of
 * a block another thread malloc'd, in bulk. At most `queue` batches wait. xmalloc-test
 * runs for a fixed time and counts frees; here each producer makes `batches` batches
 * (fixed work: the counters are deterministic), and ops/s counts mallocs and frees from
 * the first thread's start to the last one's end.
 */
export const xmalloc: MtWorkload = {
  name: 'xmalloc',
  description: 'T / 2 producers malloc batches of 4096 objects and push them on a shared stack; T / 2 consumers pop them and free every object (bulk cross-thread frees)',
  defaults: { batches: 400, batch: 4096, size: 64, queue: 16 },
  quick: { batches: 10 },
  slowSubjects: {
    'thing-locked': 'its free walks its list of used blocks, and this workload keeps thousands live: minutes per run (name it in --subjects to run it)',
  },
  primary: 'batches',
  notFor: (threads) => (threads % 2 === 0 ? undefined : 'needs an even thread count (T / 2 producers and T / 2 consumers)'),
  attachedThreads: (threads) => threads,
  // The queued batches and one in the making per producer, twice over, plus headroom.
  arenaBytes: (p: Params, threads) => 64 * MiB + (p.queue! + threads) * (p.batch! * ((p.size! > 0 ? p.size! : 1024) + 16) + 8 * p.batch!) * 2,
  deterministic: () => true,
  run,
  work,
};
