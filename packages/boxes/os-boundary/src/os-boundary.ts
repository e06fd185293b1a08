import {
  ErrorCode, HakmemError, MAX_HEAP_BYTES, MAX_HEAP_PAGES, MAX_THREADS, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, PageKind, REG_THREAD_SHIFT,
  type HeapViews, type MemoryBackend, type OsBoundary, type OsBoundaryOptions, type OsBoundaryStats, type Ptr, type Recovery,
} from '@hakmem/contracts';
import { alignUp, canBlockHere, isPow2, lockAcquire, lockHolder, lockRelease } from '@hakmem/primitives';
import {
  RANGE_DIRTY, RANGE_PAGES, RANGE_PAGES_MASK, RANGE_START, RANGE_WORDS, SIZEOF_RANGE,
  STATE_CAPACITY, STATE_COUNT, STATE_DECOMMITS, STATE_END, STATE_FREE_PAGES, STATE_GROWS, STATE_HEADER_BYTES,
  STATE_HEADER_WORDS, STATE_HEAP_START, STATE_LOCK, STATE_LOCK_CONTENDED, STATE_MAGIC, STATE_MAGIC_VALUE,
  STATE_HIGH_WATER, STATE_MAPS, STATE_MAP_FAILURES, STATE_PAGES_DECOMMITTED, STATE_PAGES_MAPPED, STATE_PAGES_RELEASED,
  STATE_PAGES_UNMAPPED, STATE_RELEASES, STATE_UNMAPS, rangeCapacity,
} from './layout.js';

const BOX = 'os-boundary';

/**
 * Bytes of state (header + free-range table) for a memory of at most `maxPages` pages:
 * `80 + 8 * (floor(maxPages / 2) + 1)`. Throws `HakmemError(E_INVALID_OPTION)` unless
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
  /** This instance's thread id: the lock holder it names, and the thread `map` stamps in the registry. */
  private readonly tid: number;
  /** Int32 index of the page registry when the boundary keeps it (shared heaps given `registryOffset`), else -1. */
  private readonly reg: number;
  /** The registry entry `map` stamps: MAPPED for this thread, not yet owned by a box. */
  private readonly mappedEntry: number;

  constructor(options: OsBoundaryOptions, capacity: number) {
    this.backend = options.backend;
    this.views = options.backend.views;
    this.shared = options.shared;
    this.canBlock = options.shared && canBlockHere();
    this.s = options.stateOffset >>> 2;
    this.t = this.s + STATE_HEADER_WORDS;
    this.heapStartPage = options.heapStart >>> PAGE_SHIFT;
    this.capacity = capacity;
    this.tid = options.tid ?? 1;
    this.reg = options.shared && options.registryOffset !== undefined ? options.registryOffset >>> 2 : -1;
    this.mappedEntry = PageKind.MAPPED | (this.tid << REG_THREAD_SHIFT);
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
      return this.mapAtLocked(page, pages);
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
      this.commitGrownAt(page, pages);
      return true;
    }
    const i = this.firstRangeEndingAfter(page);
    if (i >= this.word(STATE_COUNT) || this.rangeStart(i) > page) return false; // the page is mapped
    const rangeEnd = this.rangeStart(i) + this.rangePages(i);
    if (page + pages <= rangeEnd) {
      this.commitCarve(i, page, pages, pages, 0);
      return true;
    }
    if (rangeEnd !== end || !this.growTo(page + pages)) return false;
    // The free tail range keeps [start, page); the block takes the rest and the growth.
    this.commitCarve(i, page, rangeEnd - page, pages, page + pages);
    return true;
  }

  unmap(addr: Ptr, bytes: number): void {
    const pages = rangeToPages(addr, bytes);
    const page = addr >>> PAGE_SHIFT;
    this.enter();
    try {
      this.commitRelease(this.mappedIndex(page, pages), page, pages);
    } finally {
      this.leave();
    }
  }

  decommit(addr: Ptr, bytes: number): void {
    const pages = rangeToPages(addr, bytes);
    this.enter();
    try {
      this.mappedIndex(addr >>> PAGE_SHIFT, pages);
      const m = this.views.i32;
      m[this.s + STATE_DECOMMITS] = m[this.s + STATE_DECOMMITS]! + 1;
      m[this.s + STATE_PAGES_DECOMMITTED] = m[this.s + STATE_PAGES_DECOMMITTED]! + pages;
    } finally {
      this.leave();
    }
  }

  releaseTop(): number {
    // A shared boundary never shrinks: another worker may be using the top through its views.
    if (this.shared || !this.backend.capabilities.canShrink) return 0;
    const end = this.word(STATE_END);
    const last = this.word(STATE_COUNT) - 1;
    const tailFree = last >= 0 && this.rangeStart(last) + this.rangePages(last) === end;
    // The free tail range starts at or above heapStart: the metadata prefix is never cut.
    const newEnd = tailFree ? this.rangeStart(last) : end;
    const have = this.backend.byteLength() >>> PAGE_SHIFT;
    if (newEnd >= have) return 0;
    // The backend first: refused, nothing changed (pages beyond the end must read as zero).
    if (!this.backend.shrink(newEnd)) return 0;
    this.commitReleaseTop(end, newEnd, tailFree, have - newEnd);
    return (have - newEnd) * PAGE_SIZE;
  }

  /**
   * The commit of releaseTop: the free tail range (if `tailFree`) leaves the table, the end
   * falls to `newEnd`, the high-water mark keeps the old end, `released` pages counted.
   * Pages mapped − unmapped and the managed − free pages both stay as they were.
   */
  private commitReleaseTop(end: number, newEnd: number, tailFree: boolean, released: number): void {
    const m = this.views.i32;
    const s = this.s;
    if (tailFree) {
      m[s + STATE_COUNT] = m[s + STATE_COUNT]! - 1;
      m[s + STATE_FREE_PAGES] = m[s + STATE_FREE_PAGES]! - (end - newEnd);
    }
    if (end > m[s + STATE_HIGH_WATER]!) m[s + STATE_HIGH_WATER] = end;
    m[s + STATE_END] = newEnd;
    m[s + STATE_RELEASES] = m[s + STATE_RELEASES]! + 1;
    m[s + STATE_PAGES_RELEASED] = m[s + STATE_PAGES_RELEASED]! + released;
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
        highWater: Math.max(end, this.word(STATE_HIGH_WATER)) * PAGE_SIZE,
        lockContended: this.counter(STATE_LOCK_CONTENDED),
        releases: this.counter(STATE_RELEASES),
        bytesReleased: this.counter(STATE_PAGES_RELEASED) * PAGE_SIZE,
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

  /**
   * Run by `heap.reclaim` on the dead thread's instance: every operation commits the
   * table, the header, the counters and the registry in one run of stores (see "Kill
   * safety" in the README), so a thread stopped anywhere inside the lock left them
   * consistent; what it was given and had not stamped yet carries its id in the registry
   * (reclaim gives it back). The lock, if the dead thread held it, is released.
   */
  recover(): Recovery {
    if (!this.shared || lockHolder(this.views.i32, this.s + STATE_LOCK) !== this.tid) return { locks: 0, repaired: 0 };
    lockRelease(this.views.i32, this.s + STATE_LOCK);
    return { locks: 1, repaired: 0 };
  }

  // --- map: first fit over the free ranges, else growth ----------------------------------

  /**
   * Returns the address mapped, or 0 (counted as a failure, nothing else changed). Page 0
   * doubles as "no page" below: heapStart > 0, so it is never handed out.
   */
  private mapLocked(pages: number, alignPages: number): Ptr {
    const i = this.firstFit(pages, alignPages);
    let page: number;
    if (i >= 0) {
      page = alignUp(this.rangeStart(i), alignPages);
      this.commitCarve(i, page, pages, pages, 0);
    } else {
      page = this.takeByGrowing(pages, alignPages);
    }
    if (page === 0) {
      const m = this.views.i32;
      m[this.s + STATE_MAP_FAILURES] = m[this.s + STATE_MAP_FAILURES]! + 1;
      return 0;
    }
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
   * The commit of a map that takes `[page, page + taken)` out of free range `i` (the
   * leading padding and the trailing remainder stay free with the range's dirty bit) and
   * hands out `pages` (more than `taken` when the range touched the end and the memory
   * grew to `grownEnd`, else `grownEnd` is 0): the table, the header, the counters and the
   * registry stamp, as one run of stores with no call between them (a thread stopped
   * anywhere else leaves the state as before or as after it).
   */
  private commitCarve(i: number, page: number, taken: number, pages: number, grownEnd: number): void {
    const m = this.views.i32;
    const s = this.s;
    const at = this.t + i * RANGE_WORDS;
    const start = m[at + RANGE_START]!;
    const word = m[at + RANGE_PAGES]!;
    const dirty = word & RANGE_DIRTY;
    const pad = page - start;
    const rest = start + (word & RANGE_PAGES_MASK) - page - taken;
    const count = m[s + STATE_COUNT]!;
    const tableEnd = this.t + count * RANGE_WORDS;
    if (pad > 0) {
      m[at + RANGE_PAGES] = pad | dirty;
      if (rest > 0) {
        m.copyWithin(at + 2 * RANGE_WORDS, at + RANGE_WORDS, tableEnd);
        m[at + RANGE_WORDS + RANGE_START] = page + taken;
        m[at + RANGE_WORDS + RANGE_PAGES] = rest | dirty;
        m[s + STATE_COUNT] = count + 1;
      }
    } else if (rest > 0) {
      m[at + RANGE_START] = page + taken;
      m[at + RANGE_PAGES] = rest | dirty;
    } else {
      m.copyWithin(at, at + RANGE_WORDS, tableEnd);
      m[s + STATE_COUNT] = count - 1;
    }
    m[s + STATE_FREE_PAGES] = m[s + STATE_FREE_PAGES]! - taken;
    if (grownEnd !== 0) {
      m[s + STATE_END] = grownEnd;
      m[s + STATE_GROWS] = m[s + STATE_GROWS]! + 1;
    }
    m[s + STATE_MAPS] = m[s + STATE_MAPS]! + 1;
    m[s + STATE_PAGES_MAPPED] = m[s + STATE_PAGES_MAPPED]! + pages;
    if (this.reg >= 0) m.fill(this.mappedEntry, this.reg + page, this.reg + page + pages);
    this.zeroed = dirty === 0;
  }

  /** The commit of mapAt at the end of the managed area, grown to `page + pages`: one run of stores. */
  private commitGrownAt(page: number, pages: number): void {
    const m = this.views.i32;
    const s = this.s;
    m[s + STATE_END] = page + pages;
    m[s + STATE_GROWS] = m[s + STATE_GROWS]! + 1;
    m[s + STATE_MAPS] = m[s + STATE_MAPS]! + 1;
    m[s + STATE_PAGES_MAPPED] = m[s + STATE_PAGES_MAPPED]! + pages;
    if (this.reg >= 0) m.fill(this.mappedEntry, this.reg + page, this.reg + page + pages);
    this.zeroed = true;
  }

  /**
   * Slow path of map: no free range fits, so grow the backend. The block starts at the
   * first aligned page of the free range touching the end (if any; only the part beyond
   * the end is grown) or at the end; padding before it stays (or becomes) a free range.
   * Returns the first page, or 0 when the backend cannot grow (nothing changed). The
   * growth comes first; a thread stopped after it leaves the backend longer than the
   * managed area, which the next growth takes in its stride.
   */
  private takeByGrowing(pages: number, alignPages: number): number {
    const end = this.word(STATE_END);
    const last = this.word(STATE_COUNT) - 1;
    const tailFree = last >= 0 && this.rangeStart(last) + this.rangePages(last) === end;
    const from = tailFree ? this.rangeStart(last) : end;
    const page = alignUp(from, alignPages);
    if (!this.growTo(page + pages)) return 0;
    this.commitGrow(page, pages, end, last, tailFree, from);
    return page;
  }

  /**
   * The commit of takeByGrowing, one run of stores: the free range `last` (starting at
   * `from`, touching the old `end`) keeps only the padding `[from, page)` when `tailFree`,
   * else the padding `[end, page)` becomes a free range; the block takes the rest and the
   * growth. Zeroed unless the block reuses dirty pages below the old end.
   */
  private commitGrow(page: number, pages: number, end: number, last: number, tailFree: boolean, from: number): void {
    const m = this.views.i32;
    const s = this.s;
    const at = this.t + last * RANGE_WORDS;
    if (tailFree) {
      const dirty = m[at + RANGE_PAGES]! & RANGE_DIRTY;
      this.zeroed = dirty === 0 || page >= end;
      if (page > from) m[at + RANGE_PAGES] = (page - from) | dirty;
      else m[s + STATE_COUNT] = last; // the tail range was the last one: nothing to shift
    } else {
      if (page > end) {
        m[at + RANGE_WORDS + RANGE_START] = end;
        m[at + RANGE_WORDS + RANGE_PAGES] = page - end;
        m[s + STATE_COUNT] = last + 2;
      }
      this.zeroed = true;
    }
    m[s + STATE_END] = page + pages;
    m[s + STATE_FREE_PAGES] = m[s + STATE_FREE_PAGES]! + page - end;
    m[s + STATE_GROWS] = m[s + STATE_GROWS]! + 1;
    m[s + STATE_MAPS] = m[s + STATE_MAPS]! + 1;
    m[s + STATE_PAGES_MAPPED] = m[s + STATE_PAGES_MAPPED]! + pages;
    if (this.reg >= 0) m.fill(this.mappedEntry, this.reg + page, this.reg + page + pages);
  }

  /** Grows the backend so that it covers pages `[0, endPage)`; false when it cannot. */
  private growTo(endPage: number): boolean {
    const backend = this.backend;
    backend.refresh();
    const have = backend.byteLength() >>> PAGE_SHIFT;
    // Longer already: a thread stopped between its growth and its commit left pages beyond the end.
    return endPage <= have || backend.grow(endPage - have) >= 0;
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

  /**
   * The commit of unmap, one run of stores: `[page, page + pages)` goes back to the table
   * at index `i`, merged with its neighbours (dirty); the counters; the registry cleared.
   */
  private commitRelease(i: number, page: number, pages: number): void {
    const m = this.views.i32;
    const s = this.s;
    const at = this.t + i * RANGE_WORDS;
    const count = m[s + STATE_COUNT]!;
    const left = i > 0 && m[at - RANGE_WORDS + RANGE_START]! + (m[at - RANGE_WORDS + RANGE_PAGES]! & RANGE_PAGES_MASK) === page;
    const right = i < count && m[at + RANGE_START] === page + pages;
    const rightPages = right ? m[at + RANGE_PAGES]! & RANGE_PAGES_MASK : 0;
    if (left) {
      m[at - RANGE_WORDS + RANGE_PAGES] = ((m[at - RANGE_WORDS + RANGE_PAGES]! & RANGE_PAGES_MASK) + pages + rightPages) | RANGE_DIRTY;
      if (right) {
        m.copyWithin(at, at + RANGE_WORDS, this.t + count * RANGE_WORDS);
        m[s + STATE_COUNT] = count - 1;
      }
    } else if (right) {
      m[at + RANGE_START] = page;
      m[at + RANGE_PAGES] = (rightPages + pages) | RANGE_DIRTY;
    } else {
      m.copyWithin(at + RANGE_WORDS, at, this.t + count * RANGE_WORDS);
      m[at + RANGE_START] = page;
      m[at + RANGE_PAGES] = pages | RANGE_DIRTY;
      m[s + STATE_COUNT] = count + 1;
    }
    m[s + STATE_UNMAPS] = m[s + STATE_UNMAPS]! + 1;
    m[s + STATE_PAGES_UNMAPPED] = m[s + STATE_PAGES_UNMAPPED]! + pages;
    m[s + STATE_FREE_PAGES] = m[s + STATE_FREE_PAGES]! + pages;
    if (this.reg >= 0) m.fill(0, this.reg + page, this.reg + page + pages);
  }

  // --- the table -------------------------------------------------------------------------

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

  // --- lock ------------------------------------------------------------------------------

  /** Takes the lock when shared; a private boundary uses no atomics at all. */
  private enter(): void {
    if (this.shared) this.lockShared();
  }

  private leave(): void {
    if (this.shared) lockRelease(this.views.i32, this.s + STATE_LOCK);
  }

  private lockShared(): void {
    const contended = lockAcquire(this.views.i32, this.s + STATE_LOCK, this.canBlock, this.tid);
    // Another thread may have grown the memory: cover it before handing out a range of it.
    this.backend.refresh();
    if (contended !== 0) {
      const m = this.views.i32;
      m[this.s + STATE_LOCK_CONTENDED] = m[this.s + STATE_LOCK_CONTENDED]! + contended;
    }
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
    m[this.s + STATE_MAGIC] = STATE_MAGIC_VALUE;
    m[this.s + STATE_HEAP_START] = this.heapStartPage;
    m[this.s + STATE_CAPACITY] = this.capacity;
    m[this.s + STATE_END] = this.heapStartPage + initialFree;
    if (initialFree > 0) {
      m[this.t + RANGE_START] = this.heapStartPage;
      m[this.t + RANGE_PAGES] = initialFree;
      m[this.s + STATE_COUNT] = 1;
    }
    m[this.s + STATE_FREE_PAGES] = initialFree;
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
    const highWater = this.word(STATE_HIGH_WATER);
    if (highWater !== 0 && highWater < this.heapStartPage) throw corruption(`high-water page ${highWater} below heapStart`);
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
  if (o.tid !== undefined && (!Number.isInteger(o.tid) || o.tid < 1 || o.tid > MAX_THREADS)) throw invalidOption(`tid must be an integer in 1..${MAX_THREADS}, got ${o.tid}`);
  if (o.registryOffset !== undefined && (!Number.isInteger(o.registryOffset) || o.registryOffset < 0 || o.registryOffset % 4 !== 0 || o.registryOffset >= o.heapStart)) {
    throw invalidOption(`registryOffset ${o.registryOffset} must be a multiple of 4 below heapStart`);
  }
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
