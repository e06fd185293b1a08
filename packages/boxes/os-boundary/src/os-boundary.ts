import {
  ErrorCode, HakmemError, MAX_HEAP_BYTES, MAX_HEAP_PAGES, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE,
  type HeapViews, type MemoryBackend, type OsBoundary, type OsBoundaryOptions, type OsBoundaryStats, type Ptr,
} from '@hakmem/contracts';
import { alignUp, canBlockHere, isPow2, lockAcquire, lockRelease } from '@hakmem/primitives';
import {
  RANGE_DIRTY, RANGE_PAGES, RANGE_PAGES_MASK, RANGE_START, RANGE_WORDS, SIZEOF_RANGE,
  STATE_CAPACITY, STATE_COUNT, STATE_DECOMMITS, STATE_END, STATE_FREE_PAGES, STATE_GROWS, STATE_HEADER_BYTES,
  STATE_HEADER_WORDS, STATE_HEAP_START, STATE_LOCK, STATE_LOCK_CONTENDED, STATE_MAGIC, STATE_MAGIC_VALUE,
  STATE_MAPS, STATE_MAP_FAILURES, STATE_PAGES_DECOMMITTED, STATE_PAGES_MAPPED, STATE_PAGES_UNMAPPED,
  STATE_UNMAPS, rangeCapacity,
} from './layout.js';

const BOX = 'os-boundary';

/**
 * Bytes of state (header + free-range table) for a memory of at most `maxPages` pages:
 * `64 + 8 * (floor(maxPages / 2) + 1)`. Throws `HakmemError(E_INVALID_OPTION)` unless
 * `maxPages` is an integer in `[0, MAX_HEAP_PAGES]`.
 */
export function osBoundaryStateBytes(maxPages: number): number {
  if (!Number.isInteger(maxPages) || maxPages < 0 || maxPages > MAX_HEAP_PAGES) {
    throw invalidOption(`maxPages must be an integer in [0, ${MAX_HEAP_PAGES}], got ${maxPages}`);
  }
  return STATE_HEADER_BYTES + rangeCapacity(maxPages) * SIZEOF_RANGE;
}

/**
 * The OS boundary: page-granular map/unmap over an address-ordered, coalescing table of
 * free ranges kept in the linear memory (see layout.ts), growing the backend only when
 * no free range fits. Everything is in pages internally; addresses are `page << 16`.
 *
 * Every public method is a slow path (called on a refill or release, never per block):
 * it takes the lock when shared, works on typed-array words, allocates nothing unless it
 * throws or returns a snapshot (stats, freeRanges).
 */
class OsBoundaryBox implements OsBoundary {
  readonly name = BOX;
  private readonly backend: MemoryBackend;
  private readonly views: HeapViews;
  private readonly shared: boolean;
  private readonly canBlock: boolean;
  /** Int32 index of the state header (word 0 of layout.ts). */
  private readonly s: number;
  /** Int32 index of range 0 of the free-range table. */
  private readonly t: number;
  private readonly heapStartPage: number;
  private readonly capacity: number;
  /** lastMapZeroed of this instance (each thread has its own instance). */
  private zeroed = false;

  constructor(options: OsBoundaryOptions, capacity: number) {
    this.backend = options.backend;
    this.views = options.backend.views;
    this.shared = options.shared;
    this.canBlock = options.shared && canBlockHere();
    this.s = options.stateOffset >>> 2;
    this.t = this.s + STATE_HEADER_WORDS;
    this.heapStartPage = options.heapStart >>> PAGE_SHIFT;
    this.capacity = capacity;
    if (options.attach === true) this.checkAttached();
    else this.init();
  }

  map(bytes: number, align: number): Ptr {
    const pages = sizeToPages(bytes);
    const alignPages = alignToPages(align);
    this.enter();
    try {
      return this.mapLocked(pages, alignPages);
    } finally {
      this.leave();
    }
  }

  lastMapZeroed(): boolean {
    return this.zeroed;
  }

  mapAt(addr: Ptr, bytes: number): boolean {
    const pages = sizeToPages(bytes);
    if (!Number.isInteger(addr) || addr <= 0 || (addr & PAGE_MASK) !== 0) {
      throw invalidRange(0, `mapAt(${addr}): the address is not a page of the heap`);
    }
    const page = addr >>> PAGE_SHIFT;
    if (page < this.heapStartPage || page + pages > MAX_HEAP_PAGES) return false;
    this.enter();
    try {
      if (!this.mapAtLocked(page, pages)) return false;
      this.bump(STATE_MAPS, 1);
      this.bump(STATE_PAGES_MAPPED, pages);
      return true;
    } finally {
      this.leave();
    }
  }

  /**
   * Maps exactly `[page, page + pages)` when it is free: inside one free range, or at the
   * end of the managed area (possibly starting in the free range that touches it), grown.
   * False with nothing changed otherwise.
   */
  private mapAtLocked(page: number, pages: number): boolean {
    const end = this.word(STATE_END);
    if (page >= end) {
      if (page !== end || !this.growTo(page + pages)) return false;
      this.setWord(STATE_END, page + pages);
      this.bump(STATE_GROWS, 1);
      this.zeroed = true;
      return true;
    }
    const i = this.firstRangeEndingAfter(page);
    if (i >= this.word(STATE_COUNT) || this.rangeStart(i) > page) return false; // the page is mapped
    const rangeEnd = this.rangeStart(i) + this.rangePages(i);
    if (page + pages <= rangeEnd) {
      this.carveAt(i, page, pages);
      return true;
    }
    if (rangeEnd !== end || !this.growTo(page + pages)) return false;
    // The free tail range keeps [start, page); the block takes the rest and the growth.
    this.carveAt(i, page, rangeEnd - page);
    this.setWord(STATE_END, page + pages);
    this.bump(STATE_GROWS, 1);
    return true;
  }

  unmap(addr: Ptr, bytes: number): void {
    const pages = rangeToPages(addr, bytes);
    const page = addr >>> PAGE_SHIFT;
    this.enter();
    try {
      this.releaseRange(this.mappedIndex(page, pages), page, pages);
      this.bump(STATE_UNMAPS, 1);
      this.bump(STATE_PAGES_UNMAPPED, pages);
      this.bump(STATE_FREE_PAGES, pages);
    } finally {
      this.leave();
    }
  }

  decommit(addr: Ptr, bytes: number): void {
    const pages = rangeToPages(addr, bytes);
    this.enter();
    try {
      this.mappedIndex(addr >>> PAGE_SHIFT, pages);
      this.bump(STATE_DECOMMITS, 1);
      this.bump(STATE_PAGES_DECOMMITTED, pages);
    } finally {
      this.leave();
    }
  }

  end(): number {
    this.enter();
    try {
      return this.word(STATE_END) << PAGE_SHIFT;
    } finally {
      this.leave();
    }
  }

  stats(): OsBoundaryStats {
    this.enter();
    try {
      const end = this.word(STATE_END);
      const free = this.word(STATE_FREE_PAGES);
      return {
        maps: this.counter(STATE_MAPS),
        mapFailures: this.counter(STATE_MAP_FAILURES),
        unmaps: this.counter(STATE_UNMAPS),
        decommits: this.counter(STATE_DECOMMITS),
        grows: this.counter(STATE_GROWS),
        bytesMapped: this.counter(STATE_PAGES_MAPPED) * PAGE_SIZE,
        bytesUnmapped: this.counter(STATE_PAGES_UNMAPPED) * PAGE_SIZE,
        bytesDecommitted: this.counter(STATE_PAGES_DECOMMITTED) * PAGE_SIZE,
        bytesInUse: (end - this.heapStartPage - free) * PAGE_SIZE,
        bytesFree: free * PAGE_SIZE,
        freeRanges: this.word(STATE_COUNT),
        highWater: end * PAGE_SIZE,
        lockContended: this.counter(STATE_LOCK_CONTENDED),
      };
    } finally {
      this.leave();
    }
  }

  freeRanges(): Array<[Ptr, number]> {
    this.enter();
    try {
      const out: Array<[Ptr, number]> = [];
      for (let i = 0, n = this.word(STATE_COUNT); i < n; i++) {
        out.push([this.rangeStart(i) << PAGE_SHIFT, this.rangePages(i) * PAGE_SIZE]);
      }
      return out;
    } finally {
      this.leave();
    }
  }

  checkInvariants(): void {
    this.enter();
    try {
      this.checkHeader();
      this.checkTable();
    } finally {
      this.leave();
    }
  }

  // --- map: first fit over the free ranges, else growth ----------------------------------

  /**
   * Returns the address mapped, or 0 (counted as a failure, nothing else changed). Page 0
   * doubles as "no page" below: heapStart > 0, so it is never handed out.
   */
  private mapLocked(pages: number, alignPages: number): Ptr {
    const i = this.firstFit(pages, alignPages);
    const page = i >= 0 ? this.takeFromRange(i, pages, alignPages) : this.takeByGrowing(pages, alignPages);
    if (page === 0) {
      this.bump(STATE_MAP_FAILURES, 1);
      return 0;
    }
    this.bump(STATE_MAPS, 1);
    this.bump(STATE_PAGES_MAPPED, pages);
    return page << PAGE_SHIFT;
  }

  /** Index of the first range (address order) holding `pages` at an aligned page; -1 if none. */
  private firstFit(pages: number, alignPages: number): number {
    for (let i = 0, n = this.word(STATE_COUNT); i < n; i++) {
      const start = this.rangeStart(i);
      if (alignUp(start, alignPages) + pages <= start + this.rangePages(i)) return i;
    }
    return -1;
  }

  /**
   * Carves `pages` at the first aligned page of range `i`; the leading padding and the
   * trailing remainder stay free with the range's dirty bit. Returns the first page.
   */
  private takeFromRange(i: number, pages: number, alignPages: number): number {
    const page = alignUp(this.rangeStart(i), alignPages);
    this.carveAt(i, page, pages);
    return page;
  }

  /** Takes `[page, page + pages)`, which lies inside free range `i`; padding and remainder stay free with its dirty bit. */
  private carveAt(i: number, page: number, pages: number): void {
    const m = this.views.i32;
    const at = this.t + i * RANGE_WORDS;
    const start = m[at + RANGE_START]!;
    const word = m[at + RANGE_PAGES]!;
    const dirty = word & RANGE_DIRTY;
    const pad = page - start;
    const rest = start + (word & RANGE_PAGES_MASK) - page - pages;
    if (pad > 0) {
      m[at + RANGE_PAGES] = pad | dirty;
      if (rest > 0) this.insertRange(i + 1, page + pages, rest | dirty);
    } else if (rest > 0) {
      m[at + RANGE_START] = page + pages;
      m[at + RANGE_PAGES] = rest | dirty;
    } else {
      this.removeRange(i);
    }
    this.bump(STATE_FREE_PAGES, -pages);
    this.zeroed = dirty === 0;
  }

  /**
   * Slow path of map: no free range fits, so grow the backend. The block starts at the
   * first aligned page of the free range touching the end (if any; only the part beyond
   * the end is grown) or at the end; padding before it stays (or becomes) a free range.
   * Returns the first page, or 0 when the backend cannot grow (nothing changed).
   */
  private takeByGrowing(pages: number, alignPages: number): number {
    const end = this.word(STATE_END);
    const last = this.word(STATE_COUNT) - 1;
    const tailFree = last >= 0 && this.rangeStart(last) + this.rangePages(last) === end;
    const from = tailFree ? this.rangeStart(last) : end;
    const page = alignUp(from, alignPages);
    if (!this.growTo(page + pages)) return 0;
    if (tailFree) {
      this.trimTail(last, from, page, end);
    } else {
      if (page > end) this.insertRange(last + 1, end, page - end);
      this.zeroed = true;
    }
    this.setWord(STATE_END, page + pages);
    this.bump(STATE_FREE_PAGES, page - end);
    this.bump(STATE_GROWS, 1);
    return page;
  }

  /**
   * The free range `last` (starting at `from`, touching the old `end`) keeps only the
   * padding `[from, page)`; the block takes the rest. Zeroed unless the block reuses
   * dirty pages below the old end.
   */
  private trimTail(last: number, from: number, page: number, end: number): void {
    const m = this.views.i32;
    const at = this.t + last * RANGE_WORDS;
    const dirty = m[at + RANGE_PAGES]! & RANGE_DIRTY;
    this.zeroed = dirty === 0 || page >= end;
    if (page > from) m[at + RANGE_PAGES] = (page - from) | dirty;
    else this.removeRange(last);
  }

  /** Grows the backend so that it covers pages `[0, endPage)`; false when it cannot. */
  private growTo(endPage: number): boolean {
    const backend = this.backend;
    backend.refresh();
    return backend.grow(endPage - (backend.byteLength() >>> PAGE_SHIFT)) >= 0;
  }

  // --- unmap: validation and coalescing --------------------------------------------------

  /**
   * Checks that pages `[page, page + pages)` are inside `[heapStart, end)` and overlap
   * no free range; returns the index where such a range would be inserted.
   * Throws `HakmemError(E_INVALID_RANGE)` otherwise (nothing changed).
   */
  private mappedIndex(page: number, pages: number): number {
    const end = this.word(STATE_END);
    if (page < this.heapStartPage || page + pages > end) {
      throw invalidRange(page, `[${addrOf(page)}, +${pages} pages) lies outside the managed area [${addrOf(this.heapStartPage)}, ${addrOf(end)})`);
    }
    const i = this.firstRangeEndingAfter(page);
    if (i < this.word(STATE_COUNT) && this.rangeStart(i) < page + pages) {
      const start = this.rangeStart(i);
      throw invalidRange(page, `[${addrOf(page)}, +${pages} pages) overlaps the free range [${addrOf(start)}, +${this.rangePages(i)} pages) (double unmap?)`);
    }
    return i;
  }

  /** Binary search: index of the first free range whose end is above `page` (count if none). */
  private firstRangeEndingAfter(page: number): number {
    let lo = 0;
    let hi = this.word(STATE_COUNT);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rangeStart(mid) + this.rangePages(mid) <= page) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Returns `[page, page + pages)` to the table at index `i`, merged with its neighbours (dirty). */
  private releaseRange(i: number, page: number, pages: number): void {
    const m = this.views.i32;
    const left = i > 0 && this.rangeStart(i - 1) + this.rangePages(i - 1) === page;
    const right = i < this.word(STATE_COUNT) && this.rangeStart(i) === page + pages;
    const at = this.t + i * RANGE_WORDS;
    if (left) {
      m[at - RANGE_WORDS + RANGE_PAGES] = (this.rangePages(i - 1) + pages + (right ? this.rangePages(i) : 0)) | RANGE_DIRTY;
      if (right) this.removeRange(i);
    } else if (right) {
      m[at + RANGE_START] = page;
      m[at + RANGE_PAGES] = (this.rangePages(i) + pages) | RANGE_DIRTY;
    } else {
      this.insertRange(i, page, pages | RANGE_DIRTY);
    }
  }

  // --- the table -------------------------------------------------------------------------

  /** Inserts a range at index `i`, shifting the later ones up (cannot overflow: see layout.ts). */
  private insertRange(i: number, start: number, pagesWord: number): void {
    const m = this.views.i32;
    const at = this.t + i * RANGE_WORDS;
    const count = this.word(STATE_COUNT);
    m.copyWithin(at + RANGE_WORDS, at, this.t + count * RANGE_WORDS);
    m[at + RANGE_START] = start;
    m[at + RANGE_PAGES] = pagesWord;
    m[this.s + STATE_COUNT] = count + 1;
  }

  /** Removes the range at index `i`, shifting the later ones down. */
  private removeRange(i: number): void {
    const m = this.views.i32;
    const at = this.t + i * RANGE_WORDS;
    const count = this.word(STATE_COUNT);
    m.copyWithin(at, at + RANGE_WORDS, this.t + count * RANGE_WORDS);
    m[this.s + STATE_COUNT] = count - 1;
  }

  private rangeStart(i: number): number {
    return this.views.i32[this.t + i * RANGE_WORDS + RANGE_START]!;
  }

  private rangePages(i: number): number {
    return this.views.i32[this.t + i * RANGE_WORDS + RANGE_PAGES]! & RANGE_PAGES_MASK;
  }

  private word(w: number): number {
    return this.views.i32[this.s + w]!;
  }

  /** A cumulative counter, read as uint32 (counters wrap at 2^32). */
  private counter(w: number): number {
    return this.views.i32[this.s + w]! >>> 0;
  }

  private setWord(w: number, value: number): void {
    this.views.i32[this.s + w] = value;
  }

  private bump(w: number, delta: number): void {
    const m = this.views.i32;
    m[this.s + w] = m[this.s + w]! + delta;
  }

  // --- lock ------------------------------------------------------------------------------

  /** Takes the lock when shared; a private boundary uses no atomics at all. */
  private enter(): void {
    if (this.shared) this.lockShared();
  }

  private leave(): void {
    if (this.shared) lockRelease(this.views.i32, this.s + STATE_LOCK);
  }

  private lockShared(): void {
    const contended = lockAcquire(this.views.i32, this.s + STATE_LOCK, this.canBlock);
    // Another thread may have grown the memory: cover it before handing out a range of it.
    this.backend.refresh();
    if (contended !== 0) this.bump(STATE_LOCK_CONTENDED, contended);
  }

  // --- init, attach, checks --------------------------------------------------------------

  /**
   * Writes a fresh header. The area managed starts empty at heapStart; if the backend is
   * already longer, `[heapStart, byteLength)` becomes one clean free range (fresh memory
   * reads as zero).
   */
  private init(): void {
    const m = this.views.i32;
    const have = this.backend.byteLength() >>> PAGE_SHIFT;
    const initialFree = Math.max(0, have - this.heapStartPage);
    m.fill(0, this.s, this.t);
    this.setWord(STATE_MAGIC, STATE_MAGIC_VALUE);
    this.setWord(STATE_HEAP_START, this.heapStartPage);
    this.setWord(STATE_CAPACITY, this.capacity);
    this.setWord(STATE_END, this.heapStartPage + initialFree);
    if (initialFree > 0) this.insertRange(0, this.heapStartPage, initialFree);
    this.setWord(STATE_FREE_PAGES, initialFree);
  }

  /** True when the header's write-once words match this instance's options. */
  private headerMatches(): boolean {
    return this.word(STATE_MAGIC) === STATE_MAGIC_VALUE && this.word(STATE_HEAP_START) === this.heapStartPage
      && this.word(STATE_CAPACITY) === this.capacity;
  }

  private checkAttached(): void {
    if (!this.headerMatches()) throw invalidOption('attach: no os-boundary state with this heapStart and maxBytes at stateOffset');
  }

  private checkHeader(): void {
    if (!this.headerMatches()) throw corruption('header: magic, heapStart or capacity overwritten');
    const end = this.word(STATE_END);
    this.backend.refresh();
    if (end < this.heapStartPage || (end > this.heapStartPage && end > this.backend.byteLength() >>> PAGE_SHIFT)) {
      throw corruption(`end ${addrOf(end)} is below heapStart or beyond the backend's length`);
    }
    const count = this.word(STATE_COUNT);
    if (count < 0 || count > this.capacity) throw corruption(`range count ${count} outside [0, capacity ${this.capacity}]`);
    const counted = (this.word(STATE_PAGES_MAPPED) - this.word(STATE_PAGES_UNMAPPED)) | 0;
    const inUse = end - this.heapStartPage - this.word(STATE_FREE_PAGES);
    if (counted !== inUse) throw corruption(`counters: pages mapped - unmapped (${counted}) != managed - free pages (${inUse})`);
  }

  private checkTable(): void {
    const end = this.word(STATE_END);
    let prevEnd = this.heapStartPage;
    let sum = 0;
    for (let i = 0, n = this.word(STATE_COUNT); i < n; i++) {
      const start = this.rangeStart(i);
      const pages = this.rangePages(i);
      if (pages < 1) throw corruption(`range ${i} is empty`);
      if (start < prevEnd) throw corruption(`range ${i} at ${addrOf(start)} is unsorted, overlapping, or below heapStart`);
      if (i > 0 && start === prevEnd) throw corruption(`ranges ${i - 1} and ${i} are adjacent (not merged) at ${addrOf(start)}`);
      if (start + pages > end) throw corruption(`range ${i} [${addrOf(start)}, +${pages} pages) runs past the end ${addrOf(end)}`);
      prevEnd = start + pages;
      sum += pages;
    }
    if (sum !== this.word(STATE_FREE_PAGES)) throw corruption(`free pages ${this.word(STATE_FREE_PAGES)} != sum of the ranges ${sum}`);
  }
}

// --- argument validation (before any state is touched) -----------------------------------

/** Pages of a size: `bytes` a positive integer up to MAX_HEAP_BYTES, else E_INVALID_SIZE. */
function sizeToPages(bytes: number): number {
  if ((bytes | 0) !== bytes || bytes <= 0 || bytes > MAX_HEAP_BYTES) {
    throw new HakmemError(ErrorCode.INVALID_SIZE, `size ${bytes} is not an integer in [1, ${MAX_HEAP_BYTES}]`, { box: BOX });
  }
  return (bytes + PAGE_MASK) >>> PAGE_SHIFT;
}

/** Alignment in pages (at least 1): `align` a power of two up to 2^30, else E_INVALID_ALIGNMENT. */
function alignToPages(align: number): number {
  if (!isPow2(align)) {
    throw new HakmemError(ErrorCode.INVALID_ALIGNMENT, `alignment ${align} is not a power of two in [1, 2^30]`, { box: BOX });
  }
  return align <= PAGE_SIZE ? 1 : align >>> PAGE_SHIFT;
}

/** Pages of an unmap/decommit range: `addr` page-aligned (E_INVALID_RANGE), `bytes` a valid size. */
function rangeToPages(addr: Ptr, bytes: number): number {
  if ((addr | 0) !== addr || addr < 0 || (addr & PAGE_MASK) !== 0) {
    throw new HakmemError(ErrorCode.INVALID_RANGE, `address ${addr} is not a page-aligned address`, { box: BOX, ptr: addr });
  }
  return sizeToPages(bytes);
}

function validateOptions(o: OsBoundaryOptions, stateBytes: number): void {
  const b = o.backend;
  if (!Number.isInteger(o.stateOffset) || o.stateOffset < 0 || o.stateOffset % 8 !== 0) {
    throw invalidOption(`stateOffset ${o.stateOffset} must be a non-negative multiple of 8`);
  }
  if (!Number.isInteger(o.heapStart) || o.heapStart <= 0 || (o.heapStart & PAGE_MASK) !== 0 || o.heapStart > b.maxBytes) {
    throw invalidOption(`heapStart ${o.heapStart} must be a positive multiple of ${PAGE_SIZE} up to maxBytes ${b.maxBytes}`);
  }
  if (o.stateBytes < stateBytes) {
    throw invalidOption(`stateBytes ${o.stateBytes} < osBoundaryStateBytes(${b.maxBytes >>> PAGE_SHIFT}) = ${stateBytes}`);
  }
  if (o.stateOffset + o.stateBytes > o.heapStart || o.stateOffset + stateBytes > b.byteLength()) {
    throw invalidOption(`state [${o.stateOffset}, +${o.stateBytes}) must lie below heapStart ${o.heapStart} and inside the backend (${b.byteLength()} bytes)`);
  }
  if (o.shared && !b.shared) throw invalidOption('shared: true needs a shared backend');
}

/**
 * Creates an OS boundary over `options.backend`, initialising its state at
 * `options.stateOffset` (or attaching to it when `options.attach`).
 * Throws `HakmemError(E_INVALID_OPTION)` for options that cannot work (see README).
 */
export function createOsBoundary(options: OsBoundaryOptions): OsBoundary {
  const maxPages = options.backend.maxBytes >>> PAGE_SHIFT;
  validateOptions(options, osBoundaryStateBytes(maxPages));
  return new OsBoundaryBox(options, rangeCapacity(maxPages));
}

/** A page number as a hexadecimal byte address, for messages. */
function addrOf(page: number): string {
  return `0x${(page * PAGE_SIZE).toString(16)}`;
}

function invalidRange(page: number, message: string): HakmemError {
  return new HakmemError(ErrorCode.INVALID_RANGE, message, { box: BOX, ptr: page * PAGE_SIZE });
}

function invalidOption(message: string): HakmemError {
  return new HakmemError(ErrorCode.INVALID_OPTION, message, { box: BOX });
}

function corruption(message: string): HakmemError {
  return new HakmemError(ErrorCode.CORRUPTION, message, { box: BOX });
}
