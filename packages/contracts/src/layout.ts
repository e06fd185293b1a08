/**
 * Layout constants shared by every box.
 *
 * ```
 *  address space of one heap (pages of 64 KiB; the composition root plans the prefix)
 *  +----------------+------------------+-------------------+--------------------+------------------
 *  | page 0         | page registry    | page table        | os-boundary state  | managed by
 *  | global header  | 4 B per page     | 64 B per page     | free-range table   | os-boundary:
 *  | + box slots    | (maxPages x 4 B) | (maxPages x 64 B) | ((maxPages/2+1)x8) | SuperSlabs, pool
 *  |                |                  |                   |                    | chunks, bundles, big
 *  +----------------+------------------+-------------------+--------------------+------------------
 *  0              64 KiB        each part rounded up to whole pages        heapStart      maxBytes
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
//  9     page table offset  creator, once                 attach
//  10    os state offset    creator, once                 attach
//  11    os state bytes     creator, once                 attach
//  12    heap start         creator, once                 attach
//  13    debug live bitmap  creator, once (debug ≥ 1,      every thread's gatekeeper
//                         shared heaps; 0 = none)
//  14    free key           the first gatekeeper (CAS)     every thread's gatekeeper
//  15    reserved
//  16..  box state slots: 64-byte slots handed out by the composition root
// ---------------------------------------------------------------------------------------

/** 'HKMM' little-endian: marks a memory that holds a hakmem heap. */
export const HEADER_MAGIC = 0x4d4d_4b48;
/** Bumped whenever the in-memory layout changes incompatibly. */
export const LAYOUT_VERSION = 4;
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
export const GH_PAGE_TABLE_OFFSET = 9;
export const GH_OS_STATE_OFFSET = 10;
export const GH_OS_STATE_BYTES = 11;
export const GH_HEAP_START = 12;
/** Base of the debug live-block bitmap in a shared heap at debug level ≥ 1 (0 = none). */
export const GH_DEBUG_BITMAP = 13;
/**
 * The heap's free key (odd, random, set once by the first gatekeeper; 0 = not yet):
 * a freed tiny or pool block holds it in its second word (FREE_KEY_WORD), `malloc` clears
 * it. A free that finds the key runs the exact double-free check.
 */
export const GH_FREE_KEY = 14;
/** Word of a free tiny or pool block that holds GH_FREE_KEY (the first is the tiers' free-list link). */
export const FREE_KEY_WORD = 1;
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
//  4      L2.5 block (l25-pool)      l25 class        allocating tid   page index in block (0 = head)
//  5      big block (bigcache)       -                -                page index in block (saturating)
//  6      mapped, not yet owned       -               -                -
//
// Big blocks (bigcache): every page of a live block is BIG; aux is the page's index in
// the block, saturating at REG_AUX_MASK (4095), so aux 0 marks the block's head page and
// aux > 0 a continuation page (the head is not found from a continuation page in O(1):
// a pointer into one is an interior pointer). While a block sits in bigcache's cache
// (freed, kept for reuse) its entries stay BIG: the head descriptor's state (CACHED, not
// LIVE) tells a cached block from a live one, so a free of it is a double free. The same
// holds for L2.5 blocks (L25BlockState). Neither restamps its pages on reuse.
//
// The box that takes pages from os-boundary stamps their entries, and clears them
// (kind 0) before it unmaps them. Entries change only while the page is not in use
// by any block, so a reader of a live block's entry sees a stable value.
//
// In a shared heap os-boundary keeps the registry in step with its free ranges, under its
// lock: `map` stamps the range MAPPED with the calling thread's id, `unmap` clears it to
// NONE; a box restamps a range MAPPED with its thread's id ({@link retiredEntry}), not
// NONE, in the same commit that takes the range out of its lists, then unmaps it. So a
// page is NONE exactly when it is free, and a range in flight between a box and
// os-boundary (mapped and not yet owned, or leaving) says which thread has it: when that
// thread dies, `heap.reclaim` gives such ranges back.
// ---------------------------------------------------------------------------------------

export const REG_KIND_MASK = 0xf;
export const REG_CLASS_SHIFT = 4;
export const REG_CLASS_MASK = 0xff;
export const REG_THREAD_SHIFT = 12;
export const REG_THREAD_MASK = 0xff;
export const REG_AUX_SHIFT = 20;
export const REG_AUX_MASK = 0xfff;

/**
 * The registry entry a box writes over a range it is about to unmap: in a shared heap
 * MAPPED with its thread id (os-boundary's unmap clears it), else NONE.
 */
export function retiredEntry(shared: boolean, tid: number): number {
  return shared ? PageKind.MAPPED | ((tid & REG_THREAD_MASK) << REG_THREAD_SHIFT) : PageKind.NONE;
}

/** True when `e` is a registry entry a range may have when it is unmapped: NONE, or MAPPED with a thread id (see {@link retiredEntry}). */
export function isRetiredEntry(e: number): boolean {
  const thread = (e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK;
  return e === PageKind.NONE || (e === (PageKind.MAPPED | (thread << REG_THREAD_SHIFT)) && thread !== 0);
}

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

// ---------------------------------------------------------------------------------------
// Page descriptors: one 64-byte descriptor per 64 KiB page of the address space, in the
// page table (reserved prefix, after the registry): the descriptor of page p is at byte
// offset `pageTableOffset + (p << PAGE_DESC_SHIFT)`, i.e. Int32Array index
// `(pageTableOffset >>> 2) + (p << 4)` plus one of the word offsets below.
//
// Words 0..7 describe the page as a slab (tiny path). Words 8..15 describe the region
// that starts at this page (a SuperSlab, a pool chunk, an L2.5 bundle, a big block); they
// are meaningful only in the descriptor of a region's first page.
//
//  word  field            written by                           read by
//  0     freeHead         owner thread (page-box)              owner
//  1     carve            owner thread: next uncarved offset   owner, validate
//  2     used             owner thread: blocks not free        owner, validate
//  3     capacity         slab assignment (warm/shared pool)   everyone
//  4     blockSize        slab assignment                      gatekeeper (usableSize)
//  5     remoteHead       any thread: Atomics CAS push         owner drains (Atomics.exchange)
//  6     slabNext         owner: link in its class's queue of slabs with free blocks
//  7     slabPrev         owner: (a slab is queued iff used < capacity)
//  8     regionState      region owner box (e.g. HOT/DRAINING/FREE)
//  9     regionOwner      thread id owning the region (0 = shared / none)
//  10    regionMask       e.g. SuperSlab: bit i set = slab i is free
//  11    regionGuard      release guard: pins held by threads that may still touch it
//  12    regionNext       intrusive list link (base address, 0 = end)
//  13    regionPrev       intrusive list link
//  14    regionPages      region length in pages
//  15    regionAux        box-specific (e.g. SuperSlab: 1 while a release is deferred
//                         by the guard; big block: unused, 0)
//
// A big block (bigcache) uses, in its head page's descriptor: regionState
// (BigBlockState: LIVE or CACHED), regionPages (its length in pages), regionNext /
// regionPrev (links of its cache class's list while CACHED, 0 otherwise). Its other
// pages' descriptors are not used. All are written by the owning thread only.
//
// A SuperSlab's regionState is written by superslab-tier under its lock and read without
// it by shared-pool and warm-pool (a DRAINING SuperSlab is not lent and no slab is taken
// from it), so in a shared heap it is stored and loaded with Atomics.
// ---------------------------------------------------------------------------------------

/** Bytes of one page descriptor. */
export const PAGE_DESC_BYTES = 64;
/** log2 of {@link PAGE_DESC_BYTES}. */
export const PAGE_DESC_SHIFT = 6;
/** Int32 words per page descriptor. */
export const PAGE_DESC_WORDS = 16;
export const PD_FREE_HEAD = 0;
export const PD_CARVE = 1;
export const PD_USED = 2;
export const PD_CAPACITY = 3;
export const PD_BLOCK_SIZE = 4;
export const PD_REMOTE_HEAD = 5;
export const PD_SLAB_NEXT = 6;
export const PD_SLAB_PREV = 7;
export const PD_REGION_STATE = 8;
export const PD_REGION_OWNER = 9;
export const PD_REGION_MASK = 10;
export const PD_REGION_GUARD = 11;
export const PD_REGION_NEXT = 12;
export const PD_REGION_PREV = 13;
export const PD_REGION_PAGES = 14;
export const PD_REGION_AUX = 15;

/** Slabs per SuperSlab. */
export const SUPERSLAB_SLABS = 16;
/** A SuperSlab: 16 slabs of 64 KiB, aligned to its size (1 MiB). */
export const SUPERSLAB_SIZE = SUPERSLAB_SLABS * PAGE_SIZE;
/** log2 of {@link SUPERSLAB_SIZE}. */
export const SUPERSLAB_SHIFT = 20;
/** PD_REGION_MASK of a SuperSlab whose slabs are all free (bit i = slab i free). */
export const SUPERSLAB_ALL_FREE = (1 << SUPERSLAB_SLABS) - 1;

/**
 * SuperSlab lifecycle (superslab-tier), kept in PD_REGION_STATE of its first page.
 * HOT: slabs may be taken from it. DRAINING: no new slab may be taken; it waits for
 * its last blocks and for its release guard to drop to zero. FREE: every slab free;
 * retained for reuse or unmapped.
 */
export const SuperSlabState = { FREE: 0, HOT: 1, DRAINING: 2 } as const;
export type SuperSlabState = (typeof SuperSlabState)[keyof typeof SuperSlabState];

/**
 * Big block state (bigcache), kept in PD_REGION_STATE of its head page. LIVE: handed out.
 * CACHED: freed and kept for reuse. The registry says BIG in both states.
 */
export const BigBlockState = { NONE: 0, LIVE: 1, CACHED: 2 } as const;
export type BigBlockState = (typeof BigBlockState)[keyof typeof BigBlockState];

/**
 * L2.5 block state (l25-pool), kept in PD_REGION_STATE of its head page. The registry
 * stays `PageKind.L25` while the block is cached, so the state word is what tells a live
 * block from a cached one (a free of a cached block is a double free). NONE once unmapped.
 */
export const L25BlockState = { NONE: 0, LIVE: 1, CACHED: 2 } as const;
export type L25BlockState = (typeof L25BlockState)[keyof typeof L25BlockState];

// ---------------------------------------------------------------------------------------
// Pool spans (pool-refill): a run of 1..16 pages carved from a thread's arena chunk and
// assigned to one pool class; its blocks are carved from the span start at multiples of
// the class size. Registry of each page: kind POOL, class, owning thread, aux = page
// index in the span (0 = the span's first page). The descriptor of the span's first page
// uses the slab words: freeHead, carve (bytes carved from the span start), used,
// capacity, blockSize, slabNext / slabPrev (the owner's queue of spans with free
// blocks), and regionPages (the span's length in pages), regionOwner (the thread id).
// ---------------------------------------------------------------------------------------

/** The longest pool span in pages (so the page index fits any registry aux). */
export const POOL_SPAN_MAX_PAGES = 16;

// ---------------------------------------------------------------------------------------
// Thread records: page 0 from THREAD_TABLE_OFFSET, THREAD_RECORD_BYTES per thread id
// (0..MAX_THREADS; record 0 unused). The thread registry of a shared heap: `attachHeap`
// takes a record under the header's thread lock (GH_THREAD_LOCK). Words of a record:
//
//  word  field            written by                           read by
//  0     poolRemoteHead   any thread: Atomics CAS push of a    the owner drains it
//                         pool block it frees but does not own (Atomics.exchange)
//                         (linked through the block's first word)
//  1     tinyRemoteHead   any thread: Atomics CAS push of a    the owner drains it
//                         chain of tiny blocks of the owner's  (Atomics.exchange)
//                         slabs (one CAS per chain)
//  2     state            ThreadState, under the thread lock   attach, reclaim, trim
//  3     tinyCacheBase    the thread's unified-cache storage   reclaim / adoption
//                         in the linear memory (0 = JS-side)
//  4     tinyCacheBytes   bytes of that region                 reclaim / adoption
//  5     hostId           the host's thread id (worker_threads' threadId; 0 unknown)
//  6     attaches         times the record was taken           stats
//  7     poolCacheBase    the thread's pool-tls storage        reclaim / adoption
//  8     poolCacheBytes   bytes of that region                 reclaim / adoption
//  9     inFlightBlock    the gatekeeper: a block its calloc /  reclaim (frees it)
//                         realloc allocated and has not
//                         returned yet (0 = none)
//  10    batchAt          page-box / pool-refill: word index   reclaim (completes or
//                         of a batch of blocks moving between  undoes the batch)
//                         a cache and slabs / spans (0 = none)
//  11    batchState       its size, kind, tier and progress    reclaim
//                         (BATCH_* fields; left as is when the
//                         batch ends: batchAt 0 says none)
//  12    tinyDrain        page-box: the rest of a tiny remote- reclaim (puts it back on
//                         free chain being drained (0 = none)  the slabs' free lists)
//  13    l25InFlight      l25-pool: block | flags of an alloc  reclaim (gives it back)
//                         not returned yet (L25_INFLIGHT_*)
//  14    bigInFlight      bigcache: block | pages of an alloc, reclaim (gives it back)
//                         free or in-place grow in progress
//  15    poolDrain        pool-refill: the rest of a pool      reclaim (puts it back on
//                         remote-free chain being drained      the spans' free lists)
//
// Words 9..15 are the thread's in-flight records: each says which multi-step operation the
// thread is in the middle of, written by the thread itself (plain stores) so that when it
// dies there (a terminated worker) `heap.reclaim` can finish or undo exactly that step.
// See docs/debug.md, "Killed threads".
// ---------------------------------------------------------------------------------------

/** Byte offset of the thread table in page 0 (box slots end below it). */
export const THREAD_TABLE_OFFSET = 0x8000;
/** Bytes of one thread record. */
export const THREAD_RECORD_BYTES = 64;
/** Word index in a thread record: head of the pool's remote-free list of that thread. */
export const TR_POOL_REMOTE_HEAD = 0;
/** Word index in a thread record: head of the tiny tier's remote-free list of that thread. */
export const TR_TINY_REMOTE_HEAD = 1;
/** Word index in a thread record: its {@link ThreadState}. */
export const TR_STATE = 2;
/** Word index in a thread record: base of the region holding the thread's unified-cache storage (0 = JS-side). */
export const TR_TINY_CACHE_BASE = 3;
/** Word index in a thread record: bytes of that region. */
export const TR_TINY_CACHE_BYTES = 4;
/** Word index in a thread record: the host's id of the thread (worker_threads' `threadId`), 0 unknown. */
export const TR_HOST_ID = 5;
/** Word index in a thread record: how many times the record was taken (attach or adoption). */
export const TR_ATTACHES = 6;
/** Word index in a thread record: base of the region holding the thread's pool-tls storage (0 = JS-side). */
export const TR_POOL_CACHE_BASE = 7;
/** Word index in a thread record: bytes of that region. */
export const TR_POOL_CACHE_BYTES = 8;
/** Word index in a thread record: a block the gatekeeper's calloc / realloc allocated and has not returned yet (0 = none). */
export const TR_INFLIGHT_BLOCK = 9;
/** Word index in a thread record: word index in the memory of the batch page-box or pool-refill is moving (0 = none). */
export const TR_BATCH_AT = 10;
/** Word index in a thread record: the batch's size, kind, tier and progress ({@link BATCH_PROGRESS_SHIFT}). */
export const TR_BATCH_STATE = 11;
/** Word index in a thread record: the part of a tiny remote-free chain page-box is still draining (0 = none). */
export const TR_TINY_DRAIN = 12;
/** Word index in a thread record: the part of a pool remote-free chain pool-refill is still draining (0 = none). */
export const TR_POOL_DRAIN = 15;
/** Word index in a thread record: l25-pool's block in flight: `base | flags` ({@link L25_INFLIGHT_MISS}), 0 = none. */
export const TR_L25_INFLIGHT = 13;
/** Word index in a thread record: bigcache's block in flight: `base | pages` (pages < 2^15) | {@link BIG_INFLIGHT_RANGE}, 0 = none. */
export const TR_BIG_INFLIGHT = 14;
/** TR_BATCH_STATE: the batch's block count (0..256) in bits 0..8. */
export const BATCH_COUNT_MASK = 0x1ff;
/** TR_BATCH_STATE bit: the batch is being freed (freeBatch), else allocated (allocBatch). */
export const BATCH_FREE = 1 << 9;
/** TR_BATCH_STATE bit: the batch is pool-refill's (a pool batch), else page-box's (tiny). */
export const BATCH_POOL = 1 << 10;
/**
 * TR_BATCH_STATE: the batch's progress from this bit — `n | flags | progress << 11`. An
 * allocation batch: its first `progress` blocks are committed (taken off their slabs or
 * spans); a free batch: its blocks before index `progress` are done, and for page-box
 * `progress = n + k` once the remote chains of the first `k` owners (in the order they
 * first appear in the batch) are pushed.
 */
export const BATCH_PROGRESS_SHIFT = 11;
/**
 * TR_L25_INFLIGHT flag: the block was mapped fresh and is not yet counted live (else: it is
 * counted live — popped from a cache, or mapped and counted). The word is
 * `base | (cls + 1) | ((k + 1) << 6) | flag`: the class asked for, and the class whose cached
 * block was taken (its tail beyond `cls` split off).
 */
export const L25_INFLIGHT_MISS = 0x8000;
/**
 * TR_BIG_INFLIGHT flag: the range is to be given back as it is — a block being freed (not
 * yet filed in the cache), or the pages an in-place growth mapped (not yet part of the
 * block). Without it: a block an alloc took or mapped and has not returned yet (given back
 * too, its live count undone if it was counted).
 */
export const BIG_INFLIGHT_RANGE = 0x8000;
/** The last byte offset box slots may use (exclusive). */
export const GH_BOX_SLOTS_END = THREAD_TABLE_OFFSET;

/**
 * A thread record's state. FREE: unused (the thread id may be handed out). LIVE: a thread
 * runs with this id. ABANDONED: its thread left (detach, or reclaim after it died) while
 * blocks of its slabs or spans were still live: those stay owned by the id, frees of them
 * queue on its remote lists, and the next `attachHeap` adopts the id (or `trim()` of
 * another thread collects it). BUSY: a thread is adopting or collecting it right now.
 */
export const ThreadState = { FREE: 0, LIVE: 1, ABANDONED: 2, BUSY: 3 } as const;
export type ThreadState = (typeof ThreadState)[keyof typeof ThreadState];

/** Word index of a thread record's field: `threadWord(tid, TR_STATE)` indexes an Int32Array view. */
export function threadWord(tid: number, field: number): number {
  return ((THREAD_TABLE_OFFSET + tid * THREAD_RECORD_BYTES) >>> 2) + field;
}
