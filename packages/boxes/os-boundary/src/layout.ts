/**
 * os-boundary's state in the linear memory, at `options.stateOffset` (8-byte aligned).
 * Word offsets into an Int32Array view: word `k` of the state is
 * `views.i32[(stateOffset >>> 2) + k]`. All page numbers are absolute
 * (`address >>> PAGE_SHIFT`).
 *
 * ```
 *  stateOffset
 *  +--------+--------+--------+--------+--------+--------+--------+--------+
 *  | lock   | magic  | heap   | range  | end    | range  | free   | maps   |  words 0..7
 *  |        | 'OSBD' | start  | cap    | page   | count  | pages  |        |
 *  +--------+--------+--------+--------+--------+--------+--------+--------+
 *  | map    | unmaps | decom- | grows  | pages  | pages  | pages  | lock   |  words 8..15
 *  | fails  |        | mits   |        | mapped | unmapp.| decomm.| contnd |
 *  +--------+--------+--------+--------+--------+--------+--------+--------+
 *  | high   | relea- | pages  | (0)    |                                        words 16..19
 *  | water  | ses    | releas.|        |
 *  +--------+--------+--------+--------+
 *  | range 0          | range 1          | ...   | range cap-1      |          words 20..
 *  | start | pages|D  | start | pages|D  |       | start | pages|D  |          (2 per range)
 *  +-------+----------+-------+----------+-------+-------+----------+
 *  stateOffset + 80                                 stateOffset + 80 + 8 x cap
 *
 *  range word 1:   31  30                                      0
 *                 +---+-----------------------------------------+
 *                 | D |  pages (>= 1)                           |
 *                 +---+-----------------------------------------+
 *  D (dirty): the range may hold non-zero bytes (it was mapped before).
 * ```
 *
 * Ranges `0 .. count-1` are the free ranges in address order: sorted, disjoint and
 * non-adjacent (adjacent free ranges are always merged), all inside `[heapStart, end)`.
 * Since between two free ranges lies at least one mapped page, `n` free ranges need at
 * least `2n - 1` pages, so `count <= floor(pages / 2) + 1` ({@link rangeCapacity}): the
 * table can never run dry (HAKMEM's fixed node pools did).
 *
 * Who writes / reads each word. "Under the lock" means: in a shared heap, with the lock
 * word held; in a private heap, by the one thread that owns it.
 *
 *  word  field                writer                               reader
 *  0     lock                 any instance (Atomics, shared only)   any instance
 *  1     magic                creator, once (init)                  attach (checks it)
 *  2     heapStart page       creator, once                         attach (checks it), all
 *  3     range capacity       creator, once                         attach (checks it), checks
 *  4     end page             map (growth), releaseTop, under lock  all, under the lock
 *  5     range count          map / unmap, under the lock           all, under the lock
 *  6     free pages           map / unmap, under the lock           stats, checks
 *  7..14 counters             the operation counted, under lock     stats (as uint32)
 *  15    lock contended       any instance after a contended lock   stats
 *  16    high-water page      releaseTop (the end before lowering)  stats (max with end)
 *  17,18 release counters     releaseTop                            stats (as uint32)
 *  19    reserved (0)
 *  20..  free-range table     map / unmap / releaseTop, under lock  map / unmap / checks
 */

/** Word: the three-state lock of `@hakmem/primitives` (0 free, 1 held, 2 sleepers). */
export const STATE_LOCK = 0;
/** Word: {@link STATE_MAGIC_VALUE} once the state is initialised. */
export const STATE_MAGIC = 1;
/** Word: `heapStart >>> PAGE_SHIFT`. */
export const STATE_HEAP_START = 2;
/** Word: capacity of the free-range table, in ranges. */
export const STATE_CAPACITY = 3;
/**
 * Word: end of the managed area, in pages (exclusive). Grows with the memory; lowered
 * only by `releaseTop` (a private boundary over a backend that can shrink).
 */
export const STATE_END = 4;
/** Word: number of free ranges in the table. */
export const STATE_COUNT = 5;
/** Word: sum of the free ranges' pages. */
export const STATE_FREE_PAGES = 6;
/** Word: successful `map` calls. */
export const STATE_MAPS = 7;
/** Word: `map` calls that returned 0. */
export const STATE_MAP_FAILURES = 8;
/** Word: successful `unmap` calls. */
export const STATE_UNMAPS = 9;
/** Word: `decommit` calls. */
export const STATE_DECOMMITS = 10;
/** Word: successful `backend.grow` calls. */
export const STATE_GROWS = 11;
/** Word: pages handed out by `map` (cumulative; stats multiply by PAGE_SIZE). */
export const STATE_PAGES_MAPPED = 12;
/** Word: pages returned by `unmap` (cumulative). */
export const STATE_PAGES_UNMAPPED = 13;
/** Word: pages passed to `decommit` (cumulative). */
export const STATE_PAGES_DECOMMITTED = 14;
/** Word: lock acquisitions that found the lock held. */
export const STATE_LOCK_CONTENDED = 15;
/**
 * Word: the highest end the area had before a `releaseTop` lowered it, in pages (0 until
 * then); `stats().highWater` is the larger of it and the end.
 */
export const STATE_HIGH_WATER = 16;
/** Word: `releaseTop` calls that gave memory back. */
export const STATE_RELEASES = 17;
/** Word: pages given back to the backend by `releaseTop` (cumulative). */
export const STATE_PAGES_RELEASED = 18;
/** Words in the header (word 19 is reserved, 0); the free-range table starts right after it. */
export const STATE_HEADER_WORDS = 20;
/** Bytes of the header. */
export const STATE_HEADER_BYTES = STATE_HEADER_WORDS * 4;

/** 'OSBD' little-endian: marks initialised os-boundary state. */
export const STATE_MAGIC_VALUE = 0x4442_534f;

/** Word of a range entry: its first page. */
export const RANGE_START = 0;
/** Word of a range entry: its length in pages, with {@link RANGE_DIRTY} or'ed in. */
export const RANGE_PAGES = 1;
/** Words per range entry. */
export const RANGE_WORDS = 2;
/** Bytes per range entry. */
export const SIZEOF_RANGE = RANGE_WORDS * 4;
/** Bit 31 of {@link RANGE_PAGES}: the range may hold non-zero bytes. */
export const RANGE_DIRTY = 1 << 31;
/** Mask of the page count in {@link RANGE_PAGES}. */
export const RANGE_PAGES_MASK = 0x7fff_ffff;

/** Capacity of the free-range table for a memory of `maxPages` pages (see the invariant above). */
export function rangeCapacity(maxPages: number): number {
  return (maxPages >>> 1) + 1;
}
