import {
  ErrorCode, HakmemError, MAX_BATCH,
  type BlockSink, type BlockSource, type PoolTls, type PoolTlsOptions, type PoolTlsStats, type Ptr,
} from '@hakmem/contracts';
import { classStackHolds, classStackWords, layoutClassStacks } from '@hakmem/primitives';
import { DEFAULT_POOL_BUDGET, DEFAULT_POOL_CLASS_SIZES, defaultPoolCapacity } from './api.js';

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
  /** Capacity of each class (the slots it has; the limit word moves below it). */
  private readonly caps: Int32Array;
  /**
   * Per class, the blocks taken from the source net of those given back (refills less
   * spills and flushes), so `held − count` is what the thread holds live. JS-side: an
   * adopter starts from what it finds cached.
   */
  private readonly held: Int32Array;
  /** Per class, `minBytes / size` of the budget (blocks, fractional; the capacity with `budget: false`). */
  private readonly minBlocks: Float64Array;
  /** The budget's share of the live blocks (0 with `budget: false`). */
  private readonly share: number;
  private refills = 0;
  private refillBlocks = 0;
  private spills = 0;
  private spillBlocks = 0;

  constructor(sizes: Int32Array, caps: Int32Array, source: BlockSource & BlockSink, storage: ((words: number) => Int32Array) | undefined, minBytes: number, share: number) {
    const n = sizes.length;
    this.numClasses = n;
    this.classSizes = sizes;
    this.source = source;
    this.caps = caps;
    this.share = share;
    this.held = new Int32Array(n);
    this.minBlocks = new Float64Array(n);
    for (let c = 0; c < n; c++) this.minBlocks[c] = minBytes < 0 ? caps[c]! : minBytes / sizes[c]!;
    const words = classStackWords(caps);
    this.a = storage === undefined ? new Int32Array(words) : storage(words);
    if (!(this.a instanceof Int32Array) || this.a.length !== words) throw invalid(`storage must return an Int32Array of ${words} words`);
    const batches = new Int32Array(n);
    for (let c = 0; c < n; c++) batches[c] = Math.max(1, Math.min(caps[c]! >>> 1, MAX_BATCH));
    // An adopted region may hold a limit below the capacity: the layout check wants the
    // capacity there (the class's end), so it is put back first; the limits are redone below.
    for (let c = 0, at = n * 4; c < n; c++) {
      at++;
      const m = c * 4;
      if (this.a[m + 1] === at && this.a[m + 2]! >= this.a[m]! && this.a[m + 2]! < at + caps[c]!) this.a[m + 2] = at + caps[c]!;
      at += caps[c]!;
    }
    layoutClassStacks(this.a, caps, batches);
    for (let c = 0; c < n; c++) {
      const m = c * 4;
      const count = this.a[m]! - this.a[m + 1]!;
      this.held[c] = count;
      this.a[m + 2] = this.a[m + 1]! + Math.max(this.limitFor(c, count), count);
    }
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

  /**
   * Blocks class `cls` may cache with `count` cached now: `minBytes` plus `share` of what
   * the thread holds live in the class, in blocks, within 1..capacity. Per class, so it
   * costs a few loads on the slow paths.
   */
  private limitFor(cls: number, count: number): number {
    const live = this.held[cls]! - count;
    const l = Math.floor(this.minBlocks[cls]! + this.share * (live > 0 ? live : 0));
    const cap = this.caps[cls]!;
    return l < 1 ? 1 : l > cap ? cap : l;
  }

  /**
   * Miss: the limit follows the live set, then one batch of at most half of it straight
   * into the class's slots, then pop. The new top and limit are one run of stores.
   */
  private refill(cls: number): Ptr {
    const a = this.a;
    const m = cls * 4;
    const base = a[m + 1]!;
    const t = a[m]!;
    const lim = this.limitFor(cls, t - base);
    const want = Math.max(1, Math.min(a[m + 3]!, lim >>> 1));
    const got = this.source.allocBatch(cls, a, t, Math.min(want, base + this.caps[cls]! - t));
    this.refills++;
    this.held[cls] = this.held[cls]! + got;
    this.refillBlocks += got;
    const limit = base + lim > t + got ? base + lim : t + got;
    if (got === 0) {
      a[m + 2] = limit;
      return 0;
    }
    a[m] = t + got - 1;
    a[m + 2] = limit;
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

  /**
   * Overflow: the limit follows the live set. Below it now, `ptr` is pushed and the limit
   * raised; else the oldest blocks (bottom of the stack) go to the sink, down to half the
   * limit (at least what makes room for `ptr`, in batches of at most MAX_BATCH), and the
   * hot top stays.
   */
  private spill(cls: number, ptr: Ptr): void {
    const a = this.a;
    const m = cls * 4;
    const base = a[m + 1]!;
    let t = a[m]!;
    const lim = this.limitFor(cls, t - base);
    if (t - base < lim) {
      a[t] = ptr;
      a[m] = t + 1;
      a[m + 2] = base + lim;
      return;
    }
    const need = t - base - lim + 1;
    const half = t - base - (lim - (lim >>> 1));
    let left = Math.max(need, Math.min(half, MAX_BATCH));
    this.spills++;
    this.spillBlocks += left;
    this.held[cls] = this.held[cls]! - left;
    while (left > 0) {
      const out = left < MAX_BATCH ? left : MAX_BATCH;
      this.source.freeBatch(cls, a, base, out);
      // One run of stores with the source's commit: the shift and the new top.
      a.copyWithin(base, base + out, t);
      t -= out;
      a[m] = t;
      left -= out;
    }
    a[t] = ptr;
    a[m] = t + 1;
    a[m + 2] = base + lim;
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
        this.held[c] = this.held[c]! - out;
      }
      a[c * 4 + 2] = base + this.limitFor(c, 0);
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
    return this.caps[cls]!;
  }

  limit(cls: number): number {
    return this.a[cls * 4 + 2]! - this.a[cls * 4 + 1]!;
  }

  stats(): PoolTlsStats {
    let cached = 0;
    let cachedBytes = 0;
    let budgetBytes = 0;
    for (let c = 0; c < this.numClasses; c++) {
      cached += this.count(c);
      cachedBytes += this.count(c) * this.classSizes[c]!;
      budgetBytes += this.limit(c) * this.classSizes[c]!;
    }
    return { refills: this.refills, refillBlocks: this.refillBlocks, spills: this.spills, spillBlocks: this.spillBlocks, cached, cachedBytes, budgetBytes };
  }

  checkInvariants(): void {
    const seen = new Set<number>();
    for (let c = 0; c < this.numClasses; c++) {
      const n = this.count(c);
      const base = this.a[c * 4 + 1]!;
      if (n < 0 || n > this.limit(c) || this.limit(c) > this.capacity(c)) this.corrupt(`class ${c} count ${n}, limit ${this.limit(c)}: not 0 <= count <= limit <= capacity ${this.capacity(c)}`);
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
 * multiple of 512 or is above 65536, when a capacity is not an integer in 1..4096, or
 * when `budget` is neither false nor `{ minBytes, share }` with an integer minBytes in
 * 0..2^30 and a finite share ≥ 0.
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
  const budget = options.budget ?? DEFAULT_POOL_BUDGET;
  if (budget !== false && !(Number.isInteger(budget.minBytes) && budget.minBytes >= 0 && budget.minBytes <= 1 << 30 && Number.isFinite(budget.share) && budget.share >= 0)) {
    throw invalid(`budget must be false or { minBytes: an integer in 0..2^30, share: a finite number >= 0 }, got ${JSON.stringify(budget)}`);
  }
  return new PoolTlsBox(sizes, caps, options.source, options.storage, budget === false ? -1 : budget.minBytes, budget === false ? 0 : budget.share);
}
