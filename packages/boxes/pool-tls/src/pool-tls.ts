import {
  ErrorCode, HakmemError, MAX_BATCH,
  type BlockSink, type BlockSource, type PoolTls, type PoolTlsOptions, type PoolTlsStats, type Ptr,
} from '@hakmem/contracts';
import { classStackHolds, classStackWords, layoutClassStacks } from '@hakmem/primitives';
import { DEFAULT_POOL_CLASS_SIZES, defaultPoolCapacity } from './api.js';

const BOX = 'pool-tls';

/**
 * Per-thread, per-class stacks of free mid-size blocks, all in one Int32Array `a`, laid
 * out as the unified cache's (the tiny tier's HOT layer):
 *
 * ```
 *  a:  | top0 base0 limit0 batch0 | top1 ... | 0 | class 0: cap[0] slots | 0 | class 1: ... |
 *        4 words per class                     ^ sentinel at base − 1, always 0
 * ```
 * `alloc` reads the slot below `top`: an empty class reads the 0 sentinel, so that read
 * is the empty test. Word offsets are literals on the hot paths (`cls << 2` = the
 * class's words; +2 = limit): a module-level const costs V8 a hole check per use.
 */
class PoolTlsBox implements PoolTls {
  readonly name = BOX;
  readonly numClasses: number;
  readonly classSizes: Int32Array;
  private readonly a: Int32Array;
  /** size class by `(size + 511) >>> 9`. */
  private readonly lut: Uint8Array;
  private readonly source: BlockSource & BlockSink;
  private refills = 0;
  private refillBlocks = 0;
  private spills = 0;
  private spillBlocks = 0;

  constructor(sizes: Int32Array, caps: Int32Array, source: BlockSource & BlockSink, storage: ((words: number) => Int32Array) | undefined) {
    const n = sizes.length;
    this.numClasses = n;
    this.classSizes = sizes;
    this.source = source;
    const words = classStackWords(caps);
    this.a = storage === undefined ? new Int32Array(words) : storage(words);
    if (!(this.a instanceof Int32Array) || this.a.length !== words) throw invalid(`storage must return an Int32Array of ${words} words`);
    const batches = new Int32Array(n);
    for (let c = 0; c < n; c++) batches[c] = Math.max(1, Math.min(caps[c]! >>> 1, MAX_BATCH));
    layoutClassStacks(this.a, caps, batches);
    const last = sizes[n - 1]!;
    this.lut = new Uint8Array((last >>> 9) + 1);
    let cls = 0;
    for (let i = 0; i < this.lut.length; i++) {
      while (sizes[cls]! < i << 9) cls++;
      this.lut[i] = cls;
    }
  }

  classOf(size: number): number {
    return this.lut[(size + 511) >>> 9]!;
  }

  alloc(cls: number): Ptr {
    const a = this.a;
    const m = cls << 2;
    const t = a[m]!;
    const p = a[t - 1]!;
    if (p !== 0) {
      a[m] = t - 1;
      return p;
    }
    return this.refill(cls);
  }

  /** Miss: one bounded batch straight into the class's slots, then pop. */
  private refill(cls: number): Ptr {
    const a = this.a;
    const m = cls * 4;
    const t = a[m]!;
    const got = this.source.allocBatch(cls, a, t, Math.min(a[m + 3]!, a[m + 2]! - t));
    this.refills++;
    if (got === 0) return 0;
    this.refillBlocks += got;
    a[m] = t + got - 1;
    return a[t + got - 1]!;
  }

  free(cls: number, ptr: Ptr): void {
    const a = this.a;
    const m = cls << 2;
    const t = a[m]!;
    if (t !== a[m + 2]) {
      a[t] = ptr;
      a[m] = t + 1;
      return;
    }
    this.spill(cls, ptr);
  }

  /** Overflow: the older half of the class (bottom of the stack) goes to the sink; the hot top stays. */
  private spill(cls: number, ptr: Ptr): void {
    const a = this.a;
    const m = cls * 4;
    const base = a[m + 1]!;
    const t = a[m]!;
    const out = Math.min(Math.max((t - base) >>> 1, 1), MAX_BATCH);
    this.source.freeBatch(cls, a, base, out);
    // One run of stores with the source's commit: the shift, the push of ptr, the new top.
    a.copyWithin(base, base + out, t);
    a[t - out] = ptr;
    a[m] = t - out + 1;
    this.spills++;
    this.spillBlocks += out;
  }

  /** Gives every class back, a bounded batch at a time from the top; the top follows each batch in the same run of stores. */
  flush(): void {
    const a = this.a;
    for (let c = 0; c < this.numClasses; c++) {
      const base = a[c * 4 + 1]!;
      let t = a[c * 4]!;
      while (t > base) {
        const out = Math.min(t - base, MAX_BATCH);
        t -= out;
        this.source.freeBatch(c, a, t, out);
        a[c * 4] = t;
      }
    }
  }

  /** Slow path: a scan of the class's stack. */
  holds(cls: number, ptr: Ptr): boolean {
    return classStackHolds(this.a, 0, cls, ptr);
  }

  count(cls: number): number {
    return this.a[cls * 4]! - this.a[cls * 4 + 1]!;
  }

  capacity(cls: number): number {
    return this.a[cls * 4 + 2]! - this.a[cls * 4 + 1]!;
  }

  stats(): PoolTlsStats {
    let cached = 0;
    let cachedBytes = 0;
    for (let c = 0; c < this.numClasses; c++) {
      cached += this.count(c);
      cachedBytes += this.count(c) * this.classSizes[c]!;
    }
    return { refills: this.refills, refillBlocks: this.refillBlocks, spills: this.spills, spillBlocks: this.spillBlocks, cached, cachedBytes };
  }

  checkInvariants(): void {
    const seen = new Set<number>();
    for (let c = 0; c < this.numClasses; c++) {
      const n = this.count(c);
      const base = this.a[c * 4 + 1]!;
      if (n < 0 || n > this.capacity(c)) this.corrupt(`class ${c} count ${n} outside [0, ${this.capacity(c)}]`);
      if (this.a[base - 1] !== 0) this.corrupt(`class ${c}: the sentinel below its slots is not 0`);
      for (let i = 0; i < n; i++) {
        const p = this.a[base + i]!;
        if (p <= 0 || p % 512 !== 0) this.corrupt(`class ${c} slot ${i} holds ${p}, not a mid-size block address`);
        if (seen.has(p)) this.corrupt(`block 0x${p.toString(16)} cached twice`);
        seen.add(p);
      }
    }
    for (let s = 0; s <= this.classSizes[this.numClasses - 1]!; s += 97) {
      const c = this.classOf(s);
      if (this.classSizes[c]! < s || (c > 0 && this.classSizes[c - 1]! >= s)) this.corrupt(`size ${s} maps to class ${c}, not the smallest that holds it`);
    }
  }

  private corrupt(message: string): never {
    throw new HakmemError(ErrorCode.CORRUPTION, message, { box: BOX });
  }
}

function invalid(message: string): HakmemError {
  return new HakmemError(ErrorCode.INVALID_OPTION, message, { box: BOX });
}

/**
 * Creates one thread's mid-size cache. Throws `HakmemError(E_INVALID_OPTION)` when the
 * class table is empty, longer than 255, not ascending, has a size that is not a
 * multiple of 512 or is above 65536, or when a capacity is not an integer in 1..4096.
 */
export function createPoolTls(options: PoolTlsOptions): PoolTls {
  const list = options.classSizes ?? DEFAULT_POOL_CLASS_SIZES;
  if (list.length === 0 || list.length > 255) throw invalid(`need 1..255 classes, got ${list.length}`);
  let prev = 0;
  for (const s of list) {
    if (!Number.isInteger(s) || s <= prev || s % 512 !== 0 || s > 65536) {
      throw invalid(`class size ${s} must be an integer above ${prev}, a multiple of 512, at most 65536`);
    }
    prev = s;
  }
  const sizes = Int32Array.from(list);
  const caps = new Int32Array(sizes.length);
  for (let c = 0; c < sizes.length; c++) {
    const cap = options.capacity === undefined ? defaultPoolCapacity(sizes[c]!) : typeof options.capacity === 'number' ? options.capacity : options.capacity[c];
    if (cap === undefined || !Number.isInteger(cap) || cap < 1 || cap > 4096) throw invalid(`capacity of class ${c} must be an integer in 1..4096, got ${cap}`);
    caps[c] = cap;
  }
  return new PoolTlsBox(sizes, caps, options.source, options.storage);
}
