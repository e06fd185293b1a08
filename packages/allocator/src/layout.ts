import {
  ErrorCode, GH_BOX_SLOTS_OFFSET, GH_BOX_SLOT_BYTES, GH_FLAGS, GH_FREE_KEY, GH_FLAG_SHARED, GH_HEAP_START, GH_MAGIC, GH_MAX_BYTES,
  GH_OS_STATE_BYTES, GH_OS_STATE_OFFSET, GH_PAGE_TABLE_OFFSET, GH_REGISTRY_OFFSET, GH_REGISTRY_PAGES, GH_VERSION,
  HakmemError, HEADER_MAGIC, LAYOUT_VERSION, PAGE_DESC_BYTES, PAGE_SHIFT, PAGE_SIZE, PageKind,
  type HeapLayout, type MemoryBackend,
} from '@hakmem/contracts';
import { alignUp, ensureFreeKey } from '@hakmem/primitives';
import { osBoundaryStateBytes } from '@hakmem/os-boundary';

/** Box state slots in page 0, by owner. */
export const SLOT_SUPERSLAB_TIER = 0;
export const SLOT_SHARED_POOL = 1;
/** bigcache: its cache index and counters (BIG_STATE_WORDS words: 4 slots, 2..5). */
export const SLOT_BIGCACHE = 2;
/** l25-pool: its shard records take `l25PoolStateBytes(shards, classes) / 64` slots from here (the last owner: it may take the rest of the slot area). */
export const SLOT_L25_POOL = 6;

/** Byte offset of box state slot `k`. */
export function slotOffset(k: number): number {
  return GH_BOX_SLOTS_OFFSET + k * GH_BOX_SLOT_BYTES;
}

/**
 * Plans the reserved prefix for a heap of `maxBytes` (a page multiple):
 * page 0 header | registry | page table | os-boundary state | heap.
 */
export function planLayout(maxBytes: number): HeapLayout {
  const maxPages = maxBytes >>> PAGE_SHIFT;
  const registryOffset = PAGE_SIZE;
  const pageTableOffset = registryOffset + alignUp(maxPages * 4, PAGE_SIZE);
  const osStateOffset = pageTableOffset + alignUp(maxPages * PAGE_DESC_BYTES, PAGE_SIZE);
  const osStateBytes = alignUp(osBoundaryStateBytes(maxPages), PAGE_SIZE);
  const heapStart = osStateOffset + osStateBytes;
  return { maxBytes, maxPages, registryOffset, pageTableOffset, osStateOffset, osStateBytes, heapStart };
}

/**
 * Grows a fresh backend to hold the prefix, writes the global header and stamps the
 * prefix pages META in the registry. Throws `E_INVALID_OPTION` when the maximum cannot
 * hold the prefix plus one SuperSlab.
 */
export function initHeader(backend: MemoryBackend, layout: HeapLayout): void {
  const need = (layout.heapStart - backend.byteLength()) >>> PAGE_SHIFT;
  if (layout.heapStart + (2 << 20) > layout.maxBytes || (need > 0 && backend.grow(need) < 0)) {
    throw new HakmemError(ErrorCode.INVALID_OPTION, `maxBytes ${layout.maxBytes} cannot hold the heap's ${layout.heapStart}-byte metadata and a SuperSlab`, { box: 'allocator' });
  }
  const i32 = backend.views.i32;
  i32[GH_MAGIC] = HEADER_MAGIC;
  i32[GH_VERSION] = LAYOUT_VERSION;
  i32[GH_MAX_BYTES] = layout.maxBytes;
  i32[GH_FLAGS] = backend.shared ? GH_FLAG_SHARED : 0;
  i32[GH_REGISTRY_OFFSET] = layout.registryOffset;
  i32[GH_REGISTRY_PAGES] = layout.maxPages;
  i32[GH_PAGE_TABLE_OFFSET] = layout.pageTableOffset;
  i32[GH_OS_STATE_OFFSET] = layout.osStateOffset;
  i32[GH_OS_STATE_BYTES] = layout.osStateBytes;
  i32[GH_HEAP_START] = layout.heapStart;
  i32[GH_FREE_KEY] = 0;
  ensureFreeKey(i32, GH_FREE_KEY, backend.shared); // before any box carves a block (pool-refill's prewarm)
  const reg = layout.registryOffset >>> 2;
  for (let p = 0; p < layout.heapStart >>> PAGE_SHIFT; p++) i32[reg + p] = PageKind.META;
}

/**
 * Reads the layout plan from the global header of an existing heap (attachHeap), after
 * checking that the memory holds a shared hakmem heap of this layout version. Throws
 * `E_INVALID_OPTION` otherwise.
 */
export function readLayout(backend: MemoryBackend): HeapLayout {
  const i32 = backend.views.i32;
  const bad = (why: string): HakmemError => new HakmemError(ErrorCode.INVALID_OPTION, `attach: ${why}`, { box: 'allocator' });
  if (i32.length < 16 || i32[GH_MAGIC] !== HEADER_MAGIC) throw bad('the memory holds no hakmem heap (no header magic)');
  if (i32[GH_VERSION] !== LAYOUT_VERSION) throw bad(`the heap's layout version is ${i32[GH_VERSION]}, this build reads ${LAYOUT_VERSION}`);
  if ((i32[GH_FLAGS]! & GH_FLAG_SHARED) === 0) throw bad('the heap was not created with shared: true');
  const layout = planLayout(i32[GH_MAX_BYTES]!);
  if (layout.maxBytes !== backend.maxBytes || i32[GH_REGISTRY_OFFSET] !== layout.registryOffset || i32[GH_PAGE_TABLE_OFFSET] !== layout.pageTableOffset
    || i32[GH_OS_STATE_OFFSET] !== layout.osStateOffset || i32[GH_HEAP_START] !== layout.heapStart) {
    throw bad('the header\'s layout does not match this build\'s plan for its maximum');
  }
  return layout;
}
