import {
  ErrorCode, HakmemError, MAX_BATCH,
  type BlockSink, type BlockSource, type Ptr, type UnifiedCache, type UnifiedCacheOptions, type UnifiedCacheStats,
} from '@hakmem/contracts';
import { DEFAULT_CAPACITY } from './api.js';

/**
 * Per-thread, per-class stacks of free blocks in one Int32Array:
 *
 * ```
 *  slots:  | class 0: cap[0] slots | class 1: cap[1] slots | ...     (Int32Array, JS-side)
 *  count[c]  blocks cached in class c (top of its stack)
 *  base[c]   index of class c's first slot
 * ```
 * Thread-local, so plain typed-array reads and writes: no atomics.
 */
class UnifiedCacheBox implements UnifiedCache {
  readonly name = 'unified-cache';
  private readonly slots: Int32Array;
  private readonly counts: Int32Array;
  private readonly bases: Int32Array;
  private readonly caps: Int32Array;
  private readonly batches: Int32Array;
  private readonly source: BlockSource & BlockSink;
  private refills = 0;
  private refillBlocks = 0;
  private spills = 0;
  private spillBlocks = 0;

  constructor(caps: Int32Array, batches: Int32Array, source: BlockSource & BlockSink) {
    const n = caps.length;
    this.caps = caps;
    this.batches = batches;
    this.counts = new Int32Array(n);
    this.bases = new Int32Array(n);
    let total = 0;
    for (let c = 0; c < n; c++) {
      this.bases[c] = total;
      total += caps[c]!;
    }
    this.slots = new Int32Array(total);
    this.source = source;
  }

  /** Hot path: 2 reads, 1 write, 1 branch. */
  pop(cls: number): Ptr {
    const n = this.counts[cls]!;
    if (n === 0) return 0;
    this.counts[cls] = n - 1;
    return this.slots[this.bases[cls]! + n - 1]!;
  }

  /** Hot path: 3 reads, 2 writes, 1 branch. */
  push(cls: number, ptr: Ptr): boolean {
    const n = this.counts[cls]!;
    if (n === this.caps[cls]) return false;
    this.slots[this.bases[cls]! + n] = ptr;
    this.counts[cls] = n + 1;
    return true;
  }

  /** Slow path: one bounded batch straight into the class's array, then pop. */
  refill(cls: number): Ptr {
    const n = this.counts[cls]!;
    const got = this.source.allocBatch(cls, this.slots, this.bases[cls]! + n, Math.min(this.batches[cls]!, this.caps[cls]! - n));
    this.refills++;
    if (got === 0) return 0;
    this.refillBlocks += got;
    this.counts[cls] = n + got - 1;
    return this.slots[this.bases[cls]! + n + got - 1]!;
  }

  /** Slow path: spill the older half of the class (bottom of the stack), keep the hot top. */
  spill(cls: number, ptr: Ptr): void {
    const n = this.counts[cls]!;
    const base = this.bases[cls]!;
    const out = Math.min(Math.max(n >>> 1, 1), MAX_BATCH);
    this.source.freeBatch(cls, this.slots, base, out);
    this.slots.copyWithin(base, base + out, base + n);
    this.counts[cls] = n - out;
    this.spills++;
    this.spillBlocks += out;
    this.push(cls, ptr);
  }

  flush(): void {
    for (let c = 0; c < this.counts.length; c++) {
      let n = this.counts[c]!;
      const base = this.bases[c]!;
      while (n > 0) {
        const out = Math.min(n, MAX_BATCH);
        n -= out;
        this.source.freeBatch(c, this.slots, base + n, out);
      }
      this.counts[c] = 0;
    }
  }

  count(cls: number): number {
    return this.counts[cls]!;
  }

  capacity(cls: number): number {
    return this.caps[cls]!;
  }

  stats(): UnifiedCacheStats {
    let cached = 0;
    for (const n of this.counts) cached += n;
    return { refills: this.refills, refillBlocks: this.refillBlocks, spills: this.spills, spillBlocks: this.spillBlocks, cached };
  }

  checkInvariants(): void {
    const seen = new Set<number>();
    for (let c = 0; c < this.counts.length; c++) {
      const n = this.counts[c]!;
      if (n < 0 || n > this.caps[c]!) this.corrupt(`class ${c} count ${n} outside [0, ${this.caps[c]}]`);
      for (let i = 0; i < n; i++) {
        const p = this.slots[this.bases[c]! + i]!;
        if (p <= 0) this.corrupt(`class ${c} slot ${i} holds ${p}`);
        if (seen.has(p)) this.corrupt(`block ${p} cached twice`);
        seen.add(p);
      }
    }
  }

  private corrupt(message: string): never {
    throw new HakmemError(ErrorCode.CORRUPTION, message, { box: this.name });
  }
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
 * Creates one thread's unified cache.
 * Throws `HakmemError(E_INVALID_OPTION)` for a capacity or batch that is not an integer
 * in 1..65536, or a per-class array shorter than `numClasses`. Batches are clamped to
 * `min(capacity, MAX_BATCH)` (Contract C).
 */
export function createUnifiedCache(options: UnifiedCacheOptions): UnifiedCache {
  const n = options.numClasses;
  const caps = perClass(options.capacity, n, () => DEFAULT_CAPACITY, 'capacity');
  const batches = perClass(options.batch, n, (c) => Math.max(1, caps[c]! >>> 1), 'batch');
  for (let c = 0; c < n; c++) batches[c] = Math.min(batches[c]!, caps[c]!, MAX_BATCH);
  return new UnifiedCacheBox(caps, batches, options.source);
}
