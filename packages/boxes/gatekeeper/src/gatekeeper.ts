import {
  ErrorCode, FREE_KEY_WORD, GH_FREE_KEY, HakmemError, L25BlockState, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PD_BLOCK_SIZE, PD_CARVE, PD_REGION_STATE, PageKind,
  REG_AUX_MASK, REG_AUX_SHIFT, REG_CLASS_MASK, REG_CLASS_SHIFT, REG_KIND_MASK, Route, TR_INFLIGHT_BLOCK, threadWord,
  type BigCache, type BoxContext, type Gatekeeper, type GatekeeperOptions, type GatekeeperStats, type HeapViews, type L25Pool,
  type PoolTls, type Ptr, type Recovery, type TinyRoute, type UnifiedCache,
} from '@hakmem/contracts';
import { ensureFreeKey, isPow2 } from '@hakmem/primitives';

const BOX = 'gatekeeper';
const INT_MIN = -0x8000_0000;

/**
 * Per class, the words of a division-free test "is `off` a multiple of the block size"
 * (size = odd << shift): with `m = off × inverse(odd) mod 2^32`, `off` is a multiple of
 * the size iff `m` rotated right by `shift` is at most floor((2^32 − 1) / size) — the
 * rotation moves any low bits that break the power-of-two part to the top. Words:
 * shift, inverse(odd), that bound XOR 2^31 (compared in the signed domain so every word
 * stays an int32), 0. Replaces an integer `%` (a division, tens of cycles) on every pool
 * free with one multiply, a rotate and one compare (three table loads); the tiny free uses
 * `slabMultipleTable`'s one-word test instead.
 */
export function divisibilityTable(sizes: Int32Array): Int32Array {
  const t = new Int32Array(sizes.length * 4);
  for (let c = 0; c < sizes.length; c++) {
    const size = sizes[c]!;
    const shift = 31 - Math.clz32(size & -size);
    const odd = size >>> shift;
    let inv = odd;
    for (let i = 0; i < 5; i++) inv = Math.imul(inv, 2 - Math.imul(odd, inv));
    t[c * 4] = shift;
    t[c * 4 + 1] = inv;
    t[c * 4 + 2] = Math.floor(0xffff_ffff / size) ^ INT_MIN;
  }
  return t;
}

/**
 * Per class, the one word of a division-free test "is `off` a multiple of the block
 * size" for offsets in a 64 KiB slab: `k = ceil(2^32 / size)`, and `off` (below 2^16) is
 * a multiple of `size` (below 2^16) iff `(off × k) mod 2^32 < k` (Lemire, Kaser & Kurz,
 * "Faster remainder by direct computation", 2019: exact when the offset's bits plus the
 * size's fit in 32). One table load, a multiply and an unsigned compare on every tiny
 * free, where `divisibilityTable`'s test takes three loads, a multiply and a rotate;
 * a span's offsets (up to 1 MiB, with sizes up to 64 KiB) are beyond its range, so the
 * pool's free keeps `divisibilityTable`.
 */
export function slabMultipleTable(sizes: Int32Array): Int32Array {
  const t = new Int32Array(sizes.length);
  for (let c = 0; c < sizes.length; c++) t[c] = Math.ceil(2 ** 32 / sizes[c]!) | 0;
  return t;
}
const ROUTE_NAMES = ['tiny', 'pool (pool-tls)', 'L2.5 (l25-pool)', 'big (bigcache)'];
/** Retries of an exhausted allocation after `onOutOfMemory` said it freed memory. */
const OOM_RETRIES = 3;

/** Why the tiers' class tables do not cover the route's thresholds, or undefined when they do. */
function tierProblem(route: TinyRoute, pool: PoolTls | undefined, l25: L25Pool | undefined): string | undefined {
  if (pool !== undefined) {
    const top = pool.classSizes[pool.numClasses - 1]!;
    if (top < route.poolMax) return `pool-tls's largest class (${top} B) does not hold the route's poolMax (${route.poolMax} B)`;
    if (pool.classSizes[0]! <= route.tinyMax) return `pool-tls's smallest class (${pool.classSizes[0]} B) is not above the route's tinyMax (${route.tinyMax} B)`;
  }
  if (l25 !== undefined) {
    const top = l25.classSizes[l25.numClasses - 1]!;
    if (top < route.l25Max) return `l25-pool's largest class (${top} B) does not hold the route's l25Max (${route.l25Max} B)`;
  }
  return undefined;
}

/**
 * The entry. Hot paths:
 * - `malloc(size ≤ tinyMax)`: one integer check, a class lookup, a cache pop.
 * - `free(ptr)`: a range check, one registry load, a block-boundary check against the
 *   slab descriptor, a cache push.
 * The mid tier's are one step aside: `malloc(size ≤ poolMax)` in `mallocSlow` (a class
 * lookup and a pool-tls pop), `free` of a pool block in `freePool` (the span start from
 * the registry's page index, the same block-boundary check, a pool-tls push).
 * Everything else (bad input, misses, L2.5 and big blocks) goes to a named slow path.
 */
class GatekeeperBox implements Gatekeeper {
  readonly name = BOX;
  private readonly v: HeapViews;
  private readonly reg: number;
  private readonly pd: number;
  protected readonly maxBytes: number;
  private readonly tinyMax: number;
  private readonly route: TinyRoute;
  private readonly cache: UnifiedCache;
  private readonly throwOnOom: boolean;
  /** The composition's out-of-memory hook (slow path only). */
  private readonly onOom: ((size: number) => boolean) | undefined;
  private inOomHook = false;
  private inOomRetry = false;
  /** `slabMultipleTable` of the tiny classes. */
  private readonly div: Int32Array;
  private readonly poolMax: number;
  private readonly pool: PoolTls | undefined;
  /** `divisibilityTable` of the pool classes (empty without a pool). */
  private readonly poolDiv: Int32Array;
  /** The L2.5 and big tiers (slow paths only); declared after the hot paths' fields. */
  private readonly l25: L25Pool | undefined;
  private readonly l25Max: number;
  private readonly big: BigCache | undefined;
  /** The heap's free key (GH_FREE_KEY): the second word of every freed tiny or pool block. */
  private readonly key: number;
  /** The composition's exact free test beyond this thread's caches (slow path only). */
  private readonly freed: GatekeeperOptions['freed'];
  /** Int32 index of this thread's TR_INFLIGHT_BLOCK. */
  private readonly inflight: number;
  private readonly sharedHeap: boolean;
  private readonly backend: BoxContext['backend'];
  private callocs = 0;
  private reallocsInPlace = 0;
  private reallocsMoved = 0;
  private memaligns = 0;
  private failed = 0;
  private rejected = 0;

  constructor(ctx: BoxContext, options: GatekeeperOptions) {
    this.v = ctx.backend.views;
    this.reg = ctx.layout.registryOffset >>> 2;
    this.pd = ctx.layout.pageTableOffset >>> 2;
    this.maxBytes = ctx.layout.maxBytes;
    this.route = options.route;
    this.tinyMax = options.route.tinyMax;
    this.cache = options.cache;
    this.throwOnOom = options.throwOnOutOfMemory ?? false;
    this.onOom = options.onOutOfMemory;
    this.div = slabMultipleTable(options.route.classSizes);
    this.poolMax = options.route.poolMax;
    this.pool = options.pool;
    this.poolDiv = divisibilityTable(options.pool?.classSizes ?? new Int32Array(0));
    this.l25 = options.l25;
    this.l25Max = options.route.l25Max;
    this.big = options.big;
    this.inflight = threadWord(ctx.tid, TR_INFLIGHT_BLOCK);
    this.sharedHeap = ctx.shared;
    this.backend = ctx.backend;
    // Normally set by the heap's creator (initHeader); a heap built otherwise gets one here.
    this.key = ensureFreeKey(ctx.backend.views.i32, GH_FREE_KEY, ctx.shared);
    this.freed = options.freed;
  }

  /**
   * A block handed out loses the free key a free wrote into its second word (1 =
   * FREE_KEY_WORD), so that only a freed block carries it.
   */
  malloc(size: number): Ptr {
    if ((size >>> 0) === size && size <= this.tinyMax) {
      const cls = this.route.classOf(size);
      const p = this.cache.pop(cls);
      if (p === 0) return this.mallocRefill(cls, size);
      this.v.i32[(p >>> 2) + 1] = 0;
      return p;
    }
    return size <= this.poolMax ? this.mallocPool(size) : this.mallocSlow(size);
  }

  /** The mid tier's hot path: a class lookup and a pool-tls pop (bad sizes and a heap without a pool go on to `mallocSlow`). */
  private mallocPool(size: number): Ptr {
    const pool = this.pool;
    if ((size >>> 0) !== size || pool === undefined) return this.mallocSlow(size);
    const p = pool.alloc(pool.classOf(size));
    if (p === 0) return this.outOfMemory(size);
    this.v.i32[(p >>> 2) + 1] = 0;
    return p;
  }

  /** Cache miss: one bounded batch from the page box. */
  private mallocRefill(cls: number, size: number): Ptr {
    const p = this.cache.refill(cls);
    if (p === 0) return this.outOfMemory(size);
    this.v.i32[(p >>> 2) + FREE_KEY_WORD] = 0;
    return p;
  }

  /** Sizes above the tiny range: the mid tier first (its own hot path), then L2.5 and big; and bad sizes. */
  private mallocSlow(size: number): Ptr {
    if ((size >>> 0) === size) {
      if (size <= this.poolMax && this.pool !== undefined) return this.mallocPool(size);
      if (size > this.poolMax && size <= this.l25Max && this.l25 !== undefined) {
        const p = this.l25.alloc(this.l25.classOf(size));
        return p !== 0 ? p : this.outOfMemory(size);
      }
    }
    this.checkSize(size);
    if (size > this.maxBytes) return this.tooLarge(size);
    const route = this.route.route(size);
    if (route === Route.L25 && this.l25 !== undefined) {
      const p = this.l25.alloc(this.l25.classOf(size));
      return p !== 0 ? p : this.outOfMemory(size);
    }
    if (route === Route.BIG && this.big !== undefined) {
      const p = this.big.alloc(size);
      return p !== 0 ? p : this.outOfMemory(size);
    }
    throw this.noRoute(route, `size ${size}`);
  }

  private noRoute(route: Route, what: string): HakmemError {
    return this.reject(ErrorCode.NO_ROUTE, `${what} needs the ${ROUTE_NAMES[route]} route, which this heap does not compose`);
  }

  /**
   * The hot path spells its layout constants as literals: an imported or module-level
   * `const` is a module variable in V8, loaded through the module context with a TDZ
   * hole check at every use (+15 % on the bench's default band without them).
   * `test/gatekeeper.test.ts` checks each literal against `@hakmem/contracts`:
   * 16 = PAGE_SHIFT, 0xffff = PAGE_MASK, 0xf = REG_KIND_MASK, 2 = PageKind.TINY,
   * 4 = REG_CLASS_SHIFT, 0xff = REG_CLASS_MASK, 1 = PD_CARVE, 4 = PAGE_DESC_WORDS log2,
   * and `(ptr >>> 2) + 1` the block's FREE_KEY_WORD: a block that already holds the key
   * goes through the exact double-free check (`checkFreed`) first.
   */
  free(ptr: Ptr): void {
    if ((ptr >>> 0) === ptr && ptr < this.maxBytes) {
      const i32 = this.v.i32;
      const e = i32[(this.reg + (ptr >>> 16)) | 0]!;
      if ((e & 0xf) === 2) {
        const cls = (e >>> 4) & 0xff;
        const off = ptr & 0xffff;
        const k = this.div[cls]!;
        if ((Math.imul(off, k) >>> 0) < (k >>> 0) && off < i32[(this.pd + ((ptr >>> 16) << 4) + 1) | 0]!) {
          const w = ((ptr >>> 2) + 1) | 0;
          const key = this.key;
          if (i32[w] === key) this.checkFreed(ptr, 2, cls, 'free');
          i32[w] = key;
          if (!this.cache.push(cls, ptr)) this.cache.spill(cls, ptr);
          return;
        }
      } else if ((e & 0xf) === 3) {
        if (this.freePool(ptr, e)) return;
      } else if (this.freeLarge(ptr, e)) {
        return;
      }
    }
    this.freeSlow(ptr);
  }

  /**
   * A pointer on a pool page (`e` its registry entry, kind 3 = PageKind.POOL): the span
   * starts `aux` pages before the pointer's page (20 = REG_AUX_SHIFT, 0xfff = its mask);
   * a block start is a multiple of the class size from there, below the span's carve
   * offset. True when it was one and went to pool-tls, its second word set to the free
   * key (a key already there: the exact double-free check first).
   */
  private freePool(ptr: Ptr, e: number): boolean {
    const pool = this.pool;
    if (pool === undefined) return false;
    const head = (ptr >>> 16) - ((e >>> 20) & 0xfff);
    const off = ptr - (head << 16);
    const cls = (e >>> 4) & 0xff;
    const q = cls << 2;
    const div = this.poolDiv;
    const m = Math.imul(off, div[q + 1]!);
    const sh = div[q]!;
    const i32 = this.v.i32;
    if ((((m >>> sh) | (m << (32 - sh))) ^ -0x8000_0000) <= div[q + 2]! && off < i32[this.pd + (head << 4) + 1]!) {
      const w = (ptr >>> 2) + 1;
      if (i32[w] === this.key) this.checkFreed(ptr, 3, cls, 'free');
      i32[w] = this.key;
      pool.free(cls, ptr);
      return true;
    }
    return false;
  }

  /**
   * A pointer on an L2.5 (kind 4) or big (kind 5) page: a live block's head is page
   * aligned, aux 0 (the top 12 bits: `e >>> 20`), and its head descriptor's state word
   * (8 = PD_REGION_STATE) is LIVE (1, in both tiers). True when it was one and went to
   * its tier; anything else goes to `freeSlow`, which names the problem.
   */
  private freeLarge(ptr: Ptr, e: number): boolean {
    const kind = e & 0xf;
    if ((ptr & 0xffff) !== 0 || (e >>> 20) !== 0 || this.v.i32[this.pd + ((ptr >>> 16) << 4) + 8] !== 1) return false;
    if (kind === 4) {
      const l25 = this.l25;
      if (l25 === undefined) return false;
      l25.free(ptr);
      return true;
    }
    if (kind !== 5) return false;
    const big = this.big;
    if (big === undefined) return false;
    big.free(ptr);
    return true;
  }

  /** free(0), and every pointer the fast paths did not accept. */
  private freeSlow(ptr: Ptr): void {
    if (ptr === 0) return;
    const kind = this.resolve(ptr, 'free'); // a freed tiny or pool block: E_DOUBLE_FREE
    const cls = (this.v.i32[this.reg + (ptr >>> PAGE_SHIFT)]! >>> REG_CLASS_SHIFT) & REG_CLASS_MASK;
    if (kind === PageKind.BIG) this.big!.free(ptr);
    else if (kind === PageKind.L25) this.l25!.free(ptr);
    else {
      this.v.i32[(ptr >>> 2) + FREE_KEY_WORD] = this.key;
      if (kind === PageKind.POOL) this.pool!.free(cls, ptr);
      // A valid tiny block the fast path did not take (e.g. a non-Smi number that is an integer).
      else if (!this.cache.push(cls, ptr)) this.cache.spill(cls, ptr);
    }
  }

  /**
   * A tiny or pool block start whose second word holds the free key: freed already (it
   * sits in a cache, on a free list or a remote list: E_DOUBLE_FREE, or E_INVALID_POINTER
   * from usableSize), or live data that happens to equal the key (then nothing happens).
   * Exact: this thread's cache, then the composition's answer (`freed`).
   */
  private checkFreed(ptr: Ptr, kind: number, cls: number, op: string): void {
    if (!this.isFreeBlock(ptr, kind, cls)) return;
    const where = kind === PageKind.TINY ? 'tiny' : 'pool';
    throw this.reject(op === 'usableSize' ? ErrorCode.INVALID_POINTER : ErrorCode.DOUBLE_FREE, `${op}(0x${ptr.toString(16)}): the ${where} block is not allocated (freed already)`, ptr);
  }

  /** Exact: true when the tiny or pool block start `ptr` of class `cls` is free (cached by any thread, on a free or remote list). */
  private isFreeBlock(ptr: Ptr, kind: number, cls: number): boolean {
    if (kind === PageKind.TINY ? this.cache.holds(cls, ptr) : this.pool!.holds(cls, ptr)) return true;
    return this.freed !== undefined && this.freed(ptr, kind, cls);
  }

  isAllocated(ptr: Ptr): boolean {
    if (!Number.isInteger(ptr) || ptr <= 0 || ptr >= this.maxBytes) return false;
    if (this.sharedHeap) this.backend.refresh();
    const i32 = this.v.i32;
    const e = i32[this.reg + (ptr >>> PAGE_SHIFT)] ?? 0;
    const kind = e & REG_KIND_MASK;
    if ((kind === PageKind.BIG && this.big !== undefined) || (kind === PageKind.L25 && this.l25 !== undefined)) {
      return (ptr & PAGE_MASK) === 0 && ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) === 0
        && i32[this.pd + ((ptr >>> PAGE_SHIFT) << 4) + PD_REGION_STATE] === L25BlockState.LIVE;
    }
    if (kind !== PageKind.TINY && (kind !== PageKind.POOL || this.pool === undefined)) return false;
    const head = kind === PageKind.TINY ? ptr >>> PAGE_SHIFT : (ptr >>> PAGE_SHIFT) - ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK);
    const d = this.pd + (head << 4);
    const off = ptr - (head << PAGE_SHIFT);
    if (off >= i32[d + PD_CARVE]! || off % i32[d + PD_BLOCK_SIZE]! !== 0) return false;
    return !this.isFreeBlock(ptr, kind, (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK);
  }

  /**
   * Checks that `ptr` is the start of a block handed out by a composed tier and returns
   * its registry kind (`PageKind.TINY | POOL | L25 | BIG`); throws a typed error naming
   * what is wrong otherwise (a free of a cached L2.5 block is E_DOUBLE_FREE: its state
   * word tells, at no cost; of a freed tiny or pool block too: its free key, then the
   * exact check).
   */
  protected resolve(ptr: Ptr, op: string): number {
    if (!Number.isInteger(ptr) || ptr < 0 || ptr >= this.maxBytes) {
      throw this.reject(ErrorCode.INVALID_POINTER, `${op}(${ptr}): not an address inside the heap`, ptr);
    }
    const i32 = this.v.i32;
    const e = i32[this.reg + (ptr >>> PAGE_SHIFT)] ?? 0;
    const kind = e & REG_KIND_MASK;
    if ((kind === PageKind.BIG && this.big !== undefined) || (kind === PageKind.L25 && this.l25 !== undefined)) {
      const tier = kind === PageKind.BIG ? 'big' : 'L2.5';
      if ((ptr & PAGE_MASK) !== 0 || ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) !== 0) {
        throw this.reject(ErrorCode.INTERIOR_POINTER, `${op}(0x${ptr.toString(16)}): points into a ${tier} block, not at its start`, ptr);
      }
      // A freed block stays in its tier's registry entries; its head's state word tells (LIVE = 1 for both tiers).
      if (i32[this.pd + ((ptr >>> PAGE_SHIFT) << 4) + PD_REGION_STATE] !== L25BlockState.LIVE) {
        throw this.reject(op === 'usableSize' ? ErrorCode.INVALID_POINTER : ErrorCode.DOUBLE_FREE, `${op}(0x${ptr.toString(16)}): the ${tier} block is not allocated (freed already: it sits in ${kind === PageKind.BIG ? 'bigcache' : 'l25-pool'}'s cache)`, ptr);
      }
      return kind;
    }
    let d: number;
    let off: number;
    let where: string;
    if (kind === PageKind.TINY) {
      d = this.pd + ((ptr >>> PAGE_SHIFT) << 4);
      off = ptr & PAGE_MASK;
      where = 'slab';
    } else if (kind === PageKind.POOL && this.pool !== undefined) {
      const head = (ptr >>> PAGE_SHIFT) - ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK);
      d = this.pd + (head << 4);
      off = ptr - (head << PAGE_SHIFT);
      where = 'span';
    } else {
      throw this.reject(ErrorCode.INVALID_POINTER, `${op}(0x${ptr.toString(16)}): the page holds no allocated block (owner kind ${kind})`, ptr);
    }
    if (off >= i32[d + PD_CARVE]!) {
      throw this.reject(ErrorCode.INVALID_POINTER, `${op}(0x${ptr.toString(16)}): beyond the blocks handed out in its ${where}`, ptr);
    }
    const size = i32[d + PD_BLOCK_SIZE]!;
    if (off % size !== 0) {
      throw this.reject(ErrorCode.INTERIOR_POINTER, `${op}(0x${ptr.toString(16)}): points ${off % size} bytes into a ${size}-byte block`, ptr);
    }
    if (i32[(ptr >>> 2) + FREE_KEY_WORD] === this.key) this.checkFreed(ptr, kind, (e >>> REG_CLASS_SHIFT) & REG_CLASS_MASK, op);
    return kind;
  }

  usableSize(ptr: Ptr): number {
    if (ptr === 0) return 0;
    return this.usableAt(ptr, this.resolve(ptr, 'usableSize'));
  }

  /** Usable bytes of a block `resolve` accepted as `kind`. */
  protected usableAt(ptr: Ptr, kind: number): number {
    if (kind === PageKind.BIG) return this.big!.usableSize(ptr);
    if (kind === PageKind.L25) return this.l25!.usableSize(ptr);
    const page = ptr >>> PAGE_SHIFT;
    const head = kind === PageKind.POOL ? page - ((this.v.i32[this.reg + page]! >>> REG_AUX_SHIFT) & REG_AUX_MASK) : page;
    return this.v.i32[this.pd + (head << 4) + PD_BLOCK_SIZE]!;
  }

  calloc(n: number, size: number): Ptr {
    this.callocs++;
    this.checkSize(n);
    this.checkSize(size);
    const total = n * size;
    if (total > this.maxBytes) return this.tooLarge(total);
    const p = this.malloc(total);
    if (p === 0) return 0;
    // In flight until it is returned (a thread stopped in between leaves it to its reclaim: recover()).
    this.v.i32[this.inflight] = p;
    if (!this.freshZero(p)) this.v.u8.fill(0, p, p + total);
    this.v.i32[this.inflight] = 0;
    return p;
  }

  /** True when the block `malloc` just returned is fresh memory its tier vouches is zero (L2.5 and big blocks). */
  private freshZero(p: Ptr): boolean {
    const kind = this.v.i32[this.reg + (p >>> PAGE_SHIFT)]! & REG_KIND_MASK;
    if (kind === PageKind.BIG) return this.big!.lastAllocZeroed();
    return kind === PageKind.L25 && this.l25!.lastAllocZeroed();
  }

  realloc(ptr: Ptr, size: number): Ptr {
    if (ptr === 0) return this.malloc(size);
    this.checkSize(size);
    const kind = this.resolve(ptr, 'realloc');
    const usable = this.usableAt(ptr, kind);
    if (size === 0) {
      this.free(ptr);
      return 0;
    }
    // A big block resized to a big size: shrink in place (or grow, when bigcache can).
    if (kind === PageKind.BIG && size > this.l25Max && this.big!.resizeInPlace(ptr, size)) {
      this.reallocsInPlace++;
      return ptr;
    }
    // In place when it fits and moving would not free much: the block `size` would get
    // is still above a quarter of this one (this very class included), in any tier.
    if (size <= usable && this.blockFor(size) > usable >>> 2) {
      this.reallocsInPlace++;
      return ptr;
    }
    return this.reallocMove(ptr, size, usable);
  }

  /** Usable bytes of the block `malloc(size)` would return (size validated, ≥ 1). */
  private blockFor(size: number): number {
    if (size <= this.tinyMax) return this.route.classSize(this.route.classOf(size));
    if (size <= this.poolMax && this.pool !== undefined) return this.pool.classSizes[this.pool.classOf(size)]!;
    if (size <= this.l25Max && this.l25 !== undefined) return this.l25.classSizes[this.l25.classOf(size)]!;
    return (size + PAGE_MASK) & ~PAGE_MASK;
  }

  /** realloc that moves: a new block, min(usable, size) bytes copied, the old one freed; 0 (old intact) on exhaustion. */
  private reallocMove(ptr: Ptr, size: number, usable: number): Ptr {
    const p = this.malloc(size);
    if (p === 0) return 0;
    this.v.i32[this.inflight] = p; // in flight until returned: see calloc
    if (this.sharedHeap) this.backend.refresh(); // both blocks inside this thread's views (growth elsewhere: growable, wasm)
    this.v.u8.copyWithin(p, ptr, ptr + Math.min(usable, size));
    this.free(ptr);
    this.v.i32[this.inflight] = 0;
    this.reallocsMoved++;
    return p;
  }

  memalign(align: number, size: number): Ptr {
    this.memaligns++;
    if (!Number.isInteger(align) || align <= 0 || !isPow2(align) || align > 1 << 30) {
      throw this.reject(ErrorCode.INVALID_ALIGNMENT, `memalign(${align}, ${size}): the alignment must be a power of two up to 2^30`);
    }
    this.checkSize(size);
    if (size > this.maxBytes) return this.tooLarge(size);
    if (align <= 16) return this.malloc(size < align ? align : size);
    let s = size > align ? size : align;
    if (align <= PAGE_SIZE) {
      // Blocks of a power-of-two tiny or pool class are carved at multiples of their size
      // from a 64 KiB aligned slab or span, so they are aligned to their size.
      let p2 = align;
      while (p2 < s) p2 *= 2;
      if (p2 <= this.tinyMax && this.route.classSize(this.route.classOf(p2)) === p2) return this.malloc(p2);
      if (p2 <= this.poolMax && this.pool !== undefined && this.pool.classSizes[this.pool.classOf(p2)] === p2) return this.malloc(p2);
      // L2.5 and big blocks are 64 KiB aligned.
      if (s <= this.poolMax) s = this.poolMax + 1;
      if (s <= this.l25Max ? this.l25 !== undefined : this.big !== undefined) return this.malloc(s);
    }
    // Above 64 KiB: a big block mapped at that alignment.
    if (this.big !== undefined) {
      const p = this.big.alloc(s, align);
      return p !== 0 ? p : this.outOfMemory(size, align);
    }
    throw this.noRoute(Route.BIG, `memalign(${align}, ${size})`);
  }

  /**
   * Exhaustion of `malloc(size)` (`align` 0) or `memalign(align, size)`: first the
   * `onOutOfMemory` hook, up to OOM_RETRIES times while it says it freed something, each
   * time followed by one more attempt; then 0 like C, or a throw when the heap was created
   * so. An allocation the hook itself makes that finds the memory exhausted fails at once
   * (no nested hook).
   */
  private outOfMemory(size: number, align = 0): Ptr {
    const hook = this.onOom;
    if (hook !== undefined && !this.inOomHook && !this.inOomRetry) {
      for (let attempt = 0; attempt < OOM_RETRIES; attempt++) {
        this.inOomHook = true;
        let again: boolean;
        try {
          again = hook(size);
        } finally {
          this.inOomHook = false;
        }
        if (!again) break;
        this.inOomRetry = true;
        let p: Ptr;
        try {
          p = align === 0 ? this.malloc(size) : this.memalign(align, size);
        } finally {
          this.inOomRetry = false;
        }
        if (p !== 0) return p;
      }
    }
    if (this.inOomRetry) return 0; // the retry's own failure: the outer call counts and decides
    this.failed++;
    if (this.throwOnOom) throw new HakmemError(ErrorCode.OUT_OF_MEMORY, `malloc(${size}): the memory is at its maximum (${this.maxBytes} bytes)`, { box: BOX });
    return 0;
  }

  /**
   * A request above the heap's maximum: out of memory at once (no trim, no hook: nothing
   * freed could make room), as C's malloc returns NULL for a size no heap can hold.
   */
  private tooLarge(size: number): Ptr {
    this.failed++;
    if (this.throwOnOom) throw new HakmemError(ErrorCode.OUT_OF_MEMORY, `${size} bytes: above the heap's maximum (${this.maxBytes} bytes)`, { box: BOX });
    return 0;
  }

  /** A size must be a non-negative integer; one above the maximum is a request the tiers fail (out of memory). */
  protected checkSize(size: number): void {
    if (!Number.isInteger(size) || size < 0) {
      throw this.reject(ErrorCode.INVALID_SIZE, `size ${size} is not a non-negative integer`);
    }
  }

  protected reject(code: ErrorCode, message: string, ptr?: Ptr): HakmemError {
    this.rejected++;
    return new HakmemError(code, message, ptr === undefined ? { box: BOX } : { box: BOX, ptr });
  }

  /** Nothing to give back at levels 0 and 1 (level 2 empties its quarantine). */
  flush(): void {}

  /**
   * Run by `heap.reclaim` on the dead thread's instance, once the boxes below are
   * repaired and adopted: a block its calloc or realloc had allocated and not returned yet
   * (TR_INFLIGHT_BLOCK) is freed — the caller never got it. (Of a realloc that moved, the
   * old block is live or freed, as the free in progress left it: one call, all or nothing.)
   */
  recover(): Recovery {
    const p = this.v.i32[this.inflight]!;
    if (p === 0) return { locks: 0, repaired: 0 };
    this.v.i32[this.inflight] = 0;
    this.free(p);
    return { locks: 0, repaired: 1 };
  }

  stats(): GatekeeperStats {
    return {
      callocs: this.callocs, reallocsInPlace: this.reallocsInPlace, reallocsMoved: this.reallocsMoved,
      memaligns: this.memaligns, failed: this.failed, rejected: this.rejected, ...this.guardStats(),
    };
  }

  /** Level 2's counters (0 below). */
  protected guardStats(): { quarantined: number; quarantinedBytes: number; guardBytes: number } {
    return { quarantined: 0, quarantinedBytes: 0, guardBytes: 0 };
  }

  checkInvariants(): void {
    if (this.route.route(this.tinyMax) !== Route.TINY) {
      throw new HakmemError(ErrorCode.CORRUPTION, 'the route table does not send tinyMax to the tiny route', { box: BOX });
    }
    const problem = tierProblem(this.route, this.pool, this.l25);
    if (problem !== undefined) throw new HakmemError(ErrorCode.CORRUPTION, problem, { box: BOX });
  }
}

/**
 * Debug level ≥ 1: the same entry plus a bitmap of the blocks handed out (one bit per
 * 8-byte granule of the address space, `maxBytes / 64` bytes, JS-side and so per thread:
 * a block freed by another worker is not seen here). `free` and `realloc` of a block
 * that is not live throw E_DOUBLE_FREE before anything changes: a second free, or a
 * free of a carved block still sitting in a cache (never handed out), either of which
 * would otherwise put one block in the cache twice. A subclass, so a release heap's
 * entry carries no debug branch; its call sites see only one class. The bitmap is
 * JS-side (this thread's) unless the composition passes one in the linear memory
 * (`liveBitmap`: a shared heap does), updated with Atomics then, so a block allocated by
 * one worker and freed twice by others is caught too.
 */
class DebugGatekeeperBox extends GatekeeperBox {
  private readonly live: Uint8Array;
  private readonly shared: boolean;

  constructor(ctx: BoxContext, options: GatekeeperOptions) {
    super(ctx, options);
    const bytes = (ctx.layout.maxBytes >>> 6) + 1;
    const given = options.liveBitmap;
    if (given !== undefined && (!(given instanceof Uint8Array) || given.length < bytes)) {
      throw new HakmemError(ErrorCode.INVALID_OPTION, `liveBitmap must be a Uint8Array of at least ${bytes} bytes`, { box: BOX });
    }
    this.live = given ?? new Uint8Array(bytes);
    this.shared = ctx.shared && given !== undefined;
  }

  override malloc(size: number): Ptr {
    return this.markLive(super.malloc(size));
  }

  override memalign(align: number, size: number): Ptr {
    return this.markLive(super.memalign(align, size));
  }

  private markLive(p: Ptr): Ptr {
    if (p === 0) return p;
    if (this.shared) Atomics.or(this.live, p >>> 6, 1 << ((p >>> 3) & 7));
    else this.live[p >>> 6]! |= 1 << ((p >>> 3) & 7);
    return p;
  }

  /** Clears the block's bit (before the block is really freed: another thread may get it at once). */
  protected markFree(ptr: Ptr): void {
    if (this.shared) Atomics.and(this.live, ptr >>> 6, ~(1 << ((ptr >>> 3) & 7)));
    else this.live[ptr >>> 6]! &= ~(1 << ((ptr >>> 3) & 7));
  }

  override free(ptr: Ptr): void {
    if (ptr === 0) return;
    this.checkLive(ptr, 'free');
    this.markFree(ptr);
    try {
      super.free(ptr);
    } catch (e) {
      this.markLive(ptr);
      throw e;
    }
  }

  override realloc(ptr: Ptr, size: number): Ptr {
    if (ptr !== 0) this.checkLive(ptr, 'realloc');
    return super.realloc(ptr, size);
  }

  /** The base entry's free (no liveness bit): level 2 frees quarantined blocks with it. */
  protected freeUnchecked(ptr: Ptr): void {
    super.free(ptr);
  }

  override usableSize(ptr: Ptr): number {
    if (ptr === 0) return 0;
    const kind = this.resolve(ptr, 'usableSize'); // throws for anything that is no block start
    if (!this.isLive(ptr)) {
      throw this.reject(ErrorCode.INVALID_POINTER, `usableSize(0x${ptr.toString(16)}): the block is not allocated (freed, or never handed out)`, ptr);
    }
    return this.usableAt(ptr, kind);
  }

  /** Also the live bitmap: at level 2 a block in the quarantine is freed to its caller, allocated in its tier. */
  override isAllocated(ptr: Ptr): boolean {
    return super.isAllocated(ptr) && this.isLive(ptr);
  }

  private isLive(ptr: Ptr): boolean {
    const byte = this.shared ? Atomics.load(this.live, ptr >>> 6) : this.live[ptr >>> 6]!;
    return (byte & (1 << ((ptr >>> 3) & 7))) !== 0;
  }

  /** Throws E_DOUBLE_FREE for a block start that is not live; the base class's errors for anything else. */
  protected checkLive(ptr: Ptr, op: string): void {
    if (Number.isInteger(ptr) && ptr > 0 && ptr < this.maxBytes && this.isLive(ptr)) return;
    this.resolve(ptr, op); // its own error for anything that is no block start (and for a cached big / L2.5 block)
    throw this.reject(ErrorCode.DOUBLE_FREE, `${op}(0x${ptr.toString(16)}): the block is not allocated (freed already, or never handed out)`, ptr);
  }
}

/** Byte written over fresh blocks at level 2 (calloc's are zeroed instead). */
export const FRESH_FILL = 0xa5;
/** Byte written over freed blocks at level 2, checked when they leave the quarantine. */
export const FREED_FILL = 0xdd;
/** Bytes of a freed block not checked for FREED_FILL (the tiers link free blocks through their first word). */
const FREED_SKIP = 8;
/** Extra bytes asked for each block at level 2: at least 4 of canary and the 4-byte requested size. */
const GUARD_BYTES = 8;

function canaryByte(ptr: Ptr, i: number): number {
  return (0xc3 ^ ((ptr >>> 3) + i * 29)) & 0xff;
}

/**
 * Debug level 2: level 1 plus
 * - **fill patterns**: a fresh block reads FRESH_FILL (calloc's: 0), a freed one FREED_FILL;
 * - **canaries**: every block is asked `size + 8` bytes of its tier; the bytes from `size`
 *   to the usable end − 4 are a canary (an address-derived pattern), the last 4 bytes hold
 *   the requested size, so any thread can check a block: `free` and `realloc` check the
 *   canary first and throw `E_CORRUPTION` ("buffer overrun") naming the block, its size and
 *   the first bad offset, and leave the block live; `usableSize` is the requested size;
 * - **quarantine**: a freed block waits in this thread's FIFO (bounded by blocks and bytes)
 *   before it is really freed, so that it is not reused at once; when it leaves (or on
 *   `flush()`), its FREED_FILL is checked from byte 8 on, and a block written after its
 *   free is reported as `E_CORRUPTION` ("use after free") naming the block and the offset
 *   — the block is freed first, so nothing is lost;
 * - `realloc` always moves (a stale pointer to the old block then trips the quarantine).
 */
class GuardedGatekeeperBox extends DebugGatekeeperBox {
  private readonly q: Int32Array;
  private readonly qBytes: number;
  private head = 0;
  private count = 0;
  private bytes = 0;
  /** Σ (usable − requested) over the blocks this thread handed out and has not freed. */
  private overhead = 0;
  private readonly u8: () => Uint8Array;

  constructor(ctx: BoxContext, options: GatekeeperOptions) {
    super(ctx, options);
    const blocks = options.quarantineBlocks ?? 1024;
    const qb = options.quarantineBytes ?? 8 << 20;
    if (!Number.isInteger(blocks) || blocks < 0 || !Number.isInteger(qb) || qb < 0) {
      throw new HakmemError(ErrorCode.INVALID_OPTION, `quarantineBlocks / quarantineBytes must be non-negative integers, got ${blocks} / ${qb}`, { box: BOX });
    }
    this.q = new Int32Array(Math.max(1, blocks));
    this.qBytes = blocks === 0 ? -1 : qb;
    const views = ctx.backend.views;
    this.u8 = () => views.u8;
  }

  /** True inside malloc / memalign: the base's inner calls (memalign's exact class sizes, out-of-memory retries) stay unguarded. */
  private raw = false;

  override malloc(size: number): Ptr {
    if (this.raw || (size >>> 0) !== size || size > this.maxBytes - GUARD_BYTES) return super.malloc(size); // its error, or 0
    // raw: the base's out-of-memory retry calls malloc again; that inner call must not guard too.
    this.raw = true;
    let p: Ptr;
    try {
      p = super.malloc(size + GUARD_BYTES);
    } finally {
      this.raw = false;
    }
    return this.guard(p, size, FRESH_FILL);
  }

  override memalign(align: number, size: number): Ptr {
    if (this.raw || (size >>> 0) !== size || size > this.maxBytes - GUARD_BYTES) return super.memalign(align, size);
    this.raw = true;
    let p: Ptr;
    try {
      p = super.memalign(align, size + GUARD_BYTES);
    } finally {
      this.raw = false;
    }
    return this.guard(p, size, FRESH_FILL);
  }

  override calloc(n: number, size: number): Ptr {
    const p = super.calloc(n, size); // checks n × size; its malloc is ours (guarded, FRESH_FILL)
    if (p !== 0) this.u8().fill(0, p, p + n * size);
    return p;
  }

  /** Writes the fill, the canary and the requested size into a block just handed out. */
  private guard(p: Ptr, size: number, fill: number): Ptr {
    if (p === 0) return 0;
    const u8 = this.u8();
    const end = p + super.usableSize(p);
    this.overhead += end - p - size;
    u8.fill(fill, p, p + size);
    for (let i = p + size; i < end - 4; i++) u8[i] = canaryByte(p, i - p);
    new DataView(u8.buffer, u8.byteOffset).setUint32(end - 4, size, true);
    return p;
  }

  /** The requested size of a live block (its last 4 usable bytes). */
  private requested(p: Ptr): number {
    const u8 = this.u8();
    return new DataView(u8.buffer, u8.byteOffset).getUint32(p + super.usableSize(p) - 4, true);
  }

  /** Throws E_CORRUPTION when a live block's canary was overwritten. */
  private checkCanary(p: Ptr, op: string): void {
    const u8 = this.u8();
    const usable = super.usableSize(p);
    const size = this.requested(p);
    if (size > usable - GUARD_BYTES) {
      throw this.reject(ErrorCode.CORRUPTION, `${op}(0x${p.toString(16)}): buffer overrun — the block's size word (its last 4 usable bytes) was overwritten`, p);
    }
    for (let i = size; i < usable - 4; i++) {
      if (u8[p + i] !== canaryByte(p, i)) {
        throw this.reject(ErrorCode.CORRUPTION, `${op}(0x${p.toString(16)}): buffer overrun — the block of ${size} bytes was written past its end, at offset ${i} (the ${this.tierOf(p)} block's canary)`, p);
      }
    }
  }

  private tierOf(p: Ptr): string {
    return TIER_NAMES[this.resolve(p, 'check')] ?? 'unknown';
  }

  override usableSize(ptr: Ptr): number {
    if (super.usableSize(ptr) === 0) return 0; // usableSize(0); its checks otherwise (a live block start)
    return this.requested(ptr);
  }

  override free(ptr: Ptr): void {
    if (ptr === 0) return;
    this.checkLive(ptr, 'free');
    this.checkCanary(ptr, 'free');
    const usable = super.usableSize(ptr);
    this.overhead -= usable - this.requested(ptr);
    this.markFree(ptr); // a second free is E_DOUBLE_FREE from here on
    this.u8().fill(FREED_FILL, ptr, ptr + usable);
    if (this.qBytes < 0) {
      this.freeUnchecked(ptr);
      return;
    }
    const cap = this.q.length;
    this.q[(this.head + this.count) % cap] = ptr;
    this.count++;
    this.bytes += usable;
    while (this.count > 0 && (this.count > cap - 1 || this.bytes > this.qBytes)) this.evict();
  }

  override realloc(ptr: Ptr, size: number): Ptr {
    if (ptr === 0) return this.malloc(size);
    this.checkSize(size);
    this.checkLive(ptr, 'realloc');
    this.checkCanary(ptr, 'realloc');
    if (size === 0) {
      this.free(ptr);
      return 0;
    }
    const old = this.requested(ptr);
    const q = this.malloc(size);
    if (q === 0) return 0; // the old block is intact
    const u8 = this.u8();
    u8.copyWithin(q, ptr, ptr + Math.min(old, size));
    this.free(ptr);
    return q;
  }

  /** Really frees the oldest quarantined block, after checking nobody wrote to it. */
  private evict(): void {
    const p = this.q[this.head]!;
    this.head = (this.head + 1) % this.q.length;
    this.count--;
    const u8 = this.u8();
    const usable = this.usableOfFreed(p);
    this.bytes -= usable;
    let bad = -1;
    for (let i = FREED_SKIP; i < usable; i++) {
      if (u8[p + i] !== FREED_FILL) {
        bad = i;
        break;
      }
    }
    this.freeUnchecked(p);
    if (bad >= 0) {
      throw this.reject(ErrorCode.CORRUPTION, `use after free: block 0x${p.toString(16)} (${usable} usable bytes) was written at offset ${bad} after it was freed`, p);
    }
  }

  /** The usable size of a quarantined block (still allocated in its tier). */
  private usableOfFreed(p: Ptr): number {
    return this.usableAt(p, this.resolve(p, 'quarantine'));
  }

  protected override guardStats(): { quarantined: number; quarantinedBytes: number; guardBytes: number } {
    return { quarantined: this.count, quarantinedBytes: this.bytes, guardBytes: this.overhead };
  }

  override flush(): void {
    let error: unknown;
    while (this.count > 0) {
      try {
        this.evict();
      } catch (e) {
        error ??= e;
      }
    }
    if (error !== undefined) throw error;
  }
}

const TIER_NAMES: Record<number, string> = { 2: 'tiny (unified-cache)', 3: 'pool (pool-tls)', 4: 'L2.5 (l25-pool)', 5: 'big (bigcache)' };

/**
 * Creates one thread's entry over the composed boxes: at `ctx.debug >= 1` the entry that
 * also detects double frees (see `DebugGatekeeperBox`).
 */
export function createGatekeeper(ctx: BoxContext, options: GatekeeperOptions): Gatekeeper {
  const problem = tierProblem(options.route, options.pool, options.l25);
  if (problem !== undefined) throw new HakmemError(ErrorCode.INVALID_OPTION, problem, { box: BOX });
  if (ctx.debug >= 2) return new GuardedGatekeeperBox(ctx, options);
  return ctx.debug >= 1 ? new DebugGatekeeperBox(ctx, options) : new GatekeeperBox(ctx, options);
}
