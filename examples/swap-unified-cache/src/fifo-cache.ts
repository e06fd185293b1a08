// A variant of the unified cache (the HOT box): per class a FIFO ring of free blocks
// instead of the default's LIFO stack. `pop` hands out the block freed longest ago, not
// the one freed last, and `spill` sends the oldest half to the page box. The contract
// (`UnifiedCache` in @hakmem/contracts) says nothing about the order, so this is a legal
// policy: it passes the testkit's conformance suite, and a heap composed with it is a
// correct heap. Whether it is a good policy is for `hakmem-bench compare` to say (a
// LIFO cache hands back the block that is still in the CPU cache; see README.md).
import {
  ErrorCode, HakmemError, MAX_BATCH,
  type BlockSink, type BlockSource, type Ptr, type UnifiedCache, type UnifiedCacheOptions, type UnifiedCacheStats,
} from '@hakmem/contracts';

/** Default capacity per class, as the contract says (128 blocks). */
export const DEFAULT_CAPACITY = 128;

/** Word 0 of the storage: marks a ring layout written by this cache. */
const MAGIC = 0x4649_464f; // 'FIFO'
/** Words per class after word 0: head (index of the oldest block in the ring), count, capacity, batch. */
const HEAD = 0;
const COUNT = 1;
const CAP = 2;
const BATCH = 3;
const WORDS = 4;

/**
 * Per class, a ring of `capacity` slots in one Int32Array:
 *
 * ```
 *  a: | MAGIC | head0 count0 cap0 batch0 | head1 ... | ring 0: cap0 slots | ring 1: cap1 slots | ...
 * ```
 * The blocks of class c are `ring[(head + i) % cap]` for i in [0, count), oldest first.
 */
export class FifoUnifiedCache implements UnifiedCache {
  readonly name = 'unified-cache';
  private readonly a: Int32Array;
  /** Index in `a` of each class's first ring slot. */
  private readonly ring: Int32Array;
  private readonly numClasses: number;
  private readonly source: BlockSource & BlockSink;
  /** One batch of blocks on its way to or from the source (the chain takes contiguous arrays). */
  private readonly scratch = new Int32Array(MAX_BATCH);
  private refills = 0;
  private refillBlocks = 0;
  private spills = 0;
  private spillBlocks = 0;

  constructor(caps: Int32Array, batches: Int32Array, source: BlockSource & BlockSink, storage?: (words: number) => Int32Array) {
    const n = caps.length;
    this.numClasses = n;
    this.source = source;
    this.ring = new Int32Array(n);
    let at = 1 + n * WORDS;
    for (let c = 0; c < n; c++) {
      this.ring[c] = at;
      at += caps[c]!;
    }
    this.a = storage === undefined ? new Int32Array(at) : checkedStorage(storage(at), at);
    if (!this.holdsLayout(caps, batches)) {
      // A fresh layout, every class empty. (Storage that already holds this layout — the
      // region of an adopted thread id in a shared heap — keeps its blocks.)
      this.a.fill(0);
      this.a[0] = MAGIC;
      for (let c = 0; c < n; c++) {
        this.a[1 + c * WORDS + CAP] = caps[c]!;
        this.a[1 + c * WORDS + BATCH] = batches[c]!;
      }
    }
  }

  pop(cls: number): Ptr {
    const a = this.a;
    const m = 1 + cls * WORDS;
    const count = a[m + COUNT]!;
    if (count === 0) return 0;
    const head = a[m + HEAD]!;
    const p = a[this.ring[cls]! + head]!;
    a[m + HEAD] = head + 1 === a[m + CAP] ? 0 : head + 1;
    a[m + COUNT] = count - 1;
    return p;
  }

  push(cls: number, ptr: Ptr): boolean {
    const a = this.a;
    const m = 1 + cls * WORDS;
    const count = a[m + COUNT]!;
    const cap = a[m + CAP]!;
    if (count === cap) return false;
    let slot = a[m + HEAD]! + count;
    if (slot >= cap) slot -= cap;
    a[this.ring[cls]! + slot] = ptr;
    a[m + COUNT] = count + 1;
    return true;
  }

  /** One batch of at most `min(batch, free slots + 1)` blocks: one goes to the caller, the rest into the ring. */
  refill(cls: number): Ptr {
    const m = 1 + cls * WORDS;
    const room = this.a[m + CAP]! - this.a[m + COUNT]!;
    if (room === 0) return this.pop(cls); // full: nothing to ask for (the caller only refills after a miss)
    const want = Math.min(this.a[m + BATCH]!, room);
    const got = this.source.allocBatch(cls, this.scratch, 0, want);
    this.refills++;
    if (got === 0) return 0;
    this.refillBlocks += got;
    for (let i = 0; i < got - 1; i++) this.push(cls, this.scratch[i]!);
    return this.scratch[got - 1]!;
  }

  /** Sends the oldest half of the class (at most MAX_BATCH) to the sink, then caches `ptr`. */
  spill(cls: number, ptr: Ptr): void {
    const m = 1 + cls * WORDS;
    const out = Math.min(Math.max(this.a[m + COUNT]! >>> 1, 1), MAX_BATCH, this.a[m + COUNT]!);
    for (let i = 0; i < out; i++) this.scratch[i] = this.pop(cls);
    if (out > 0) this.source.freeBatch(cls, this.scratch, 0, out);
    this.spills++;
    this.spillBlocks += out;
    this.push(cls, ptr);
  }

  flush(): void {
    for (let c = 0; c < this.numClasses; c++) {
      let n = this.count(c);
      while (n > 0) {
        const out = Math.min(n, MAX_BATCH);
        for (let i = 0; i < out; i++) this.scratch[i] = this.pop(c);
        this.source.freeBatch(c, this.scratch, 0, out);
        n -= out;
      }
      this.a[1 + c * WORDS + HEAD] = 0;
    }
  }

  /** Slow path (the heap's exact double-free check): a scan of the class's ring. */
  holds(cls: number, ptr: Ptr): boolean {
    const m = 1 + cls * WORDS;
    const head = this.a[m + HEAD]!;
    const cap = this.a[m + CAP]!;
    for (let i = 0; i < this.a[m + COUNT]!; i++) if (this.a[this.ring[cls]! + ((head + i) % cap)] === ptr) return true;
    return false;
  }

  count(cls: number): number {
    return this.a[1 + cls * WORDS + COUNT]!;
  }

  capacity(cls: number): number {
    return this.a[1 + cls * WORDS + CAP]!;
  }

  stats(): UnifiedCacheStats {
    let cached = 0;
    for (let c = 0; c < this.numClasses; c++) cached += this.count(c);
    return { refills: this.refills, refillBlocks: this.refillBlocks, spills: this.spills, spillBlocks: this.spillBlocks, cached };
  }

  /** Every ring's head and count in range; every cached block positive and cached once. Changes nothing. */
  checkInvariants(): void {
    const a = this.a;
    if (a[0] !== MAGIC) this.corrupt('the storage lost its layout mark');
    const seen = new Set<number>();
    for (let c = 0; c < this.numClasses; c++) {
      const m = 1 + c * WORDS;
      const cap = a[m + CAP]!;
      const head = a[m + HEAD]!;
      const count = a[m + COUNT]!;
      if (head < 0 || head >= cap) this.corrupt(`class ${c}: head ${head} outside [0, ${cap})`);
      if (count < 0 || count > cap) this.corrupt(`class ${c}: count ${count} outside [0, ${cap}]`);
      for (let i = 0; i < count; i++) {
        const p = a[this.ring[c]! + ((head + i) % cap)]!;
        if (p <= 0) this.corrupt(`class ${c}: ring slot ${(head + i) % cap} holds ${p}`);
        if (seen.has(p)) this.corrupt(`block ${p} cached twice`);
        seen.add(p);
      }
    }
  }

  /** True when `a` already holds this cache's layout (same classes, capacities, batches; heads and counts in range). */
  private holdsLayout(caps: Int32Array, batches: Int32Array): boolean {
    const a = this.a;
    if (a[0] !== MAGIC) return false;
    for (let c = 0; c < this.numClasses; c++) {
      const m = 1 + c * WORDS;
      if (a[m + CAP] !== caps[c] || a[m + BATCH] !== batches[c]) return false;
      if (a[m + HEAD]! < 0 || a[m + HEAD]! >= caps[c]! || a[m + COUNT]! < 0 || a[m + COUNT]! > caps[c]!) return false;
    }
    return true;
  }

  private corrupt(message: string): never {
    throw new HakmemError(ErrorCode.CORRUPTION, message, { box: this.name });
  }
}

function checkedStorage(a: Int32Array, words: number): Int32Array {
  if (!(a instanceof Int32Array) || a.length !== words) {
    throw new HakmemError(ErrorCode.INVALID_OPTION, `storage must return an Int32Array of ${words} words`, { box: 'unified-cache' });
  }
  return a;
}

function perClass(value: number | readonly number[] | undefined, n: number, dflt: (c: number) => number, what: string): Int32Array {
  const out = new Int32Array(n);
  for (let c = 0; c < n; c++) {
    const v = value === undefined ? dflt(c) : typeof value === 'number' ? value : value[c];
    if (v === undefined || !Number.isInteger(v) || v < 1 || v > 65536) {
      throw new HakmemError(ErrorCode.INVALID_OPTION, `${what} of class ${c} must be an integer in 1..65536, got ${v}`, { box: 'unified-cache' });
    }
    out[c] = v;
  }
  return out;
}

/**
 * The factory `compose()` / `createHeap()` take as `boxes.unifiedCache`: same options as
 * the default (`capacity` default 128, `batch` default capacity / 2, clamped to
 * `[1, min(capacity, MAX_BATCH)]`, optional `storage`).
 * Throws `HakmemError(E_INVALID_OPTION)` for a capacity or batch outside 1..65536.
 */
export function createFifoUnifiedCache(options: UnifiedCacheOptions): UnifiedCache {
  const n = options.numClasses;
  const caps = perClass(options.capacity, n, () => DEFAULT_CAPACITY, 'capacity');
  const batches = perClass(options.batch, n, (c) => Math.max(1, caps[c]! >>> 1), 'batch');
  for (let c = 0; c < n; c++) batches[c] = Math.min(batches[c]!, caps[c]!, MAX_BATCH);
  return new FifoUnifiedCache(caps, batches, options.source, options.storage);
}
