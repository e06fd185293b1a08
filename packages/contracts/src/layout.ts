/**
 * Layout constants shared by every box.
 *
 * ```
 *  address space of one heap (all offsets in bytes, pages of 64 KiB)
 *  +-------------------+----------------------+----------------------+---------------------
 *  | page 0            | page registry        | os-boundary state    | managed by os-boundary
 *  | global header     | 4 B per 64 KiB page  | free-range table     | (SuperSlabs, pool arenas,
 *  | + box state slots | of maxBytes          | (maxPages/2+1) x 8 B | L2.5 bundles, big blocks)
 *  +-------------------+----------------------+----------------------+---------------------
 *  0                 64 KiB          (rounded up to pages)     (rounded up)         ... maxBytes
 * ```
 * Address 0 lies in the header, so no allocation is ever 0 ({@link NULL}).
 */

/** log2 of the page size: the backend grows, and the registry maps, in 64 KiB pages. */
export const PAGE_SHIFT = 16;
/** 64 KiB: the wasm page and the granularity of os-boundary, the registry and slabs. */
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Mask of the offset inside a page. */
export const PAGE_MASK = PAGE_SIZE - 1;

/**
 * The largest heap: addresses must stay below 2^31 so that pointers are V8 Smis.
 * One page less than 2 GiB so that `maxBytes` itself is a Smi too.
 */
export const MAX_HEAP_BYTES = 0x8000_0000 - PAGE_SIZE;
/** {@link MAX_HEAP_BYTES} in pages. */
export const MAX_HEAP_PAGES = MAX_HEAP_BYTES >>> PAGE_SHIFT;

/** Minimum alignment of every returned pointer. */
export const MIN_ALIGN = 8;
/** Alignment of every returned pointer whose requested size is at least this. */
export const ALIGN_16_FROM = 16;

// ---------------------------------------------------------------------------------------
// Global header (page 0). Word offsets into an Int32Array view (byte offset = 4 x index).
//
//  word  field              written by                    read by
//  0     magic 'HKMM'       creator, once                 attach (checks it)
//  1     layout version     creator, once                 attach
//  2     maxBytes           creator, once                 everyone
//  3     flags              creator, once                 everyone
//  4     registry offset    creator, once                 gatekeeper, boxes that own pages
//  5     registry pages     creator, once                 -
//  6     grow epoch         os-boundary (Atomics.add)     backends (refresh views)
//  7     thread lock        Atomics (attach/detach)       -
//  8     next thread id     under thread lock             -
//  9..15 reserved
//  16..  box state slots: 64-byte slots handed out by the composition root
// ---------------------------------------------------------------------------------------

/** 'HKMM' little-endian: marks a memory that holds a hakmem heap. */
export const HEADER_MAGIC = 0x4d4d_4b48;
/** Bumped whenever the in-memory layout changes incompatibly. */
export const LAYOUT_VERSION = 1;
/** Word indexes of the global header fields (see the table above). */
export const GH_MAGIC = 0;
export const GH_VERSION = 1;
export const GH_MAX_BYTES = 2;
export const GH_FLAGS = 3;
export const GH_REGISTRY_OFFSET = 4;
export const GH_REGISTRY_PAGES = 5;
export const GH_GROW_EPOCH = 6;
export const GH_THREAD_LOCK = 7;
export const GH_NEXT_THREAD_ID = 8;
/** Byte offset of the first box state slot in page 0. */
export const GH_BOX_SLOTS_OFFSET = 64;
/** Size of one box state slot in bytes (16 words). */
export const GH_BOX_SLOT_BYTES = 64;
/** Flag bit in GH_FLAGS: the heap lives in shared memory and uses atomics. */
export const GH_FLAG_SHARED = 1;

// ---------------------------------------------------------------------------------------
// Page registry: one u32 per 64 KiB page, `registry[ptr >>> PAGE_SHIFT]`.
//
//   31           20 19        12 11         4 3      0
//  +---------------+------------+------------+--------+
//  | aux (12 bits) | thread (8) | class (8)  | kind(4)|
//  +---------------+------------+------------+--------+
//
//  kind   owner box                  class            thread           aux
//  0      none (free / unmapped)     -                -                -
//  1      heap metadata (header...)  -                -                -
//  2      tiny slab (superslab-tier) tiny class       owning thread    slab index in SuperSlab
//  3      pool arena (pool-refill)   pool class       owning thread    page index in arena chunk (saturating)
//  4      L2.5 bundle (l25-pool)     l25 class        shard            page index in bundle (saturating)
//  5      big block (bigcache)       -                -                page index in block (saturating)
//  6      mapped, not yet owned       -               -                -
//
// The box that takes pages from os-boundary stamps their entries, and clears them
// (kind 0) before it unmaps them. Entries change only while the page is not in use
// by any block, so a reader of a live block's entry sees a stable value.
// ---------------------------------------------------------------------------------------

export const REG_KIND_MASK = 0xf;
export const REG_CLASS_SHIFT = 4;
export const REG_CLASS_MASK = 0xff;
export const REG_THREAD_SHIFT = 12;
export const REG_THREAD_MASK = 0xff;
export const REG_AUX_SHIFT = 20;
export const REG_AUX_MASK = 0xfff;

/** Registry owner kinds (low 4 bits of an entry). */
export const PageKind = {
  NONE: 0,
  META: 1,
  TINY: 2,
  POOL: 3,
  L25: 4,
  BIG: 5,
  MAPPED: 6,
} as const;
export type PageKind = (typeof PageKind)[keyof typeof PageKind];

/** The largest thread id a registry entry can carry; thread ids are 1..MAX_THREADS. */
export const MAX_THREADS = 255;
