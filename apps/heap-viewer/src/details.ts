import { OWNERS } from './colors.js';
import { bytes, findRegion, hex, Owner, PAGE_SHIFT, PAGE_SIZE, type Frame } from './model.js';

/** What the tooltip says about one page, and the run of pages it belongs to (outlined on the map). */
export interface PageDetails {
  readonly title: string;
  readonly owner: Owner;
  readonly rows: readonly (readonly [string, string])[];
  /** First page and length of its SuperSlab, span, block or free range (the page itself when none). */
  readonly region: { readonly from: number; readonly count: number };
}

const SS_STATE = ['FREE (retained)', 'HOT', 'DRAINING'];
const BLOCK_STATE = ['none', 'live', 'cached (freed, kept for reuse)'];

const pct = (a: number, b: number): string => (b === 0 ? '–' : `${Math.round((100 * a) / b)} %`);
const popcount = (x: number): number => {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
};
const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;

/** Which part of the metadata prefix a page below heapStart holds (the allocator's planLayout). */
function prefixPart(frame: Frame, page: number): string {
  const maxPages = frame.totalPages;
  const addr = page * PAGE_SIZE;
  const pageTable = PAGE_SIZE + alignUp(maxPages * 4, PAGE_SIZE);
  const osState = pageTable + alignUp(maxPages * 64, PAGE_SIZE);
  if (page === 0) return 'page 0: global header, box state slots, thread records';
  if (addr < pageTable) return 'page registry (4 B per page)';
  if (addr < osState) return 'page table (64 B descriptor per page)';
  return 'os-boundary state (free-range table)';
}

export function describePage(frame: Frame, page: number): PageDetails {
  const s = frame.snapshot;
  const addr = page * PAGE_SIZE;
  const owner = frame.owner[page]! as Owner;
  const info = OWNERS[owner]!;
  const rows: [string, string][] = [['address', `${hex(addr)} – ${hex(addr + PAGE_SIZE - 1)}`]];
  let region = { from: page, count: 1 };
  const thread = frame.thread[page]!;
  const cls = frame.cls[page]!;
  const ssOf = (): void => {
    const k = findRegion(s.superslabs.base, 16, addr);
    if (k < 0) return;
    const base = s.superslabs.base[k]!;
    const mask = s.superslabs.freeMask[k]!;
    rows.push(['SuperSlab', `${hex(base)} · ${SS_STATE[s.superslabs.state[k]!] ?? s.superslabs.state[k]} · ${16 - popcount(mask)} of 16 slabs in use`]);
    rows.push(['slab', `${(addr - base) >>> PAGE_SHIFT} of 16${s.superslabs.owner[k] ? ` · warm pool of thread ${s.superslabs.owner[k]}` : ' · shared pool / tier'}`]);
    region = { from: base >>> PAGE_SHIFT, count: 16 };
  };
  switch (owner) {
    case Owner.UNMAPPED:
      rows.push(['', `above os-boundary's end (${hex(s.end)}); the heap may grow to ${bytes(s.maxBytes)}`]);
      region = { from: frame.endPage, count: frame.totalPages - frame.endPage };
      break;
    case Owner.META:
      if (page < frame.heapPage) {
        rows.push(['holds', prefixPart(frame, page)]);
        region = { from: 0, count: frame.heapPage };
      } else {
        rows.push(['holds', thread !== 0 ? `thread ${thread}'s cache storage (unified-cache / pool-tls)` : 'heap metadata']);
      }
      break;
    case Owner.FREE: {
      const k = findRegion(s.freeRanges.base, s.freeRanges.bytes.map((b) => b / PAGE_SIZE), addr);
      if (k >= 0) {
        rows.push(['free range', `${hex(s.freeRanges.base[k]!)} · ${bytes(s.freeRanges.bytes[k]!)}`]);
        region = { from: s.freeRanges.base[k]! >>> PAGE_SHIFT, count: s.freeRanges.bytes[k]! / PAGE_SIZE };
      }
      break;
    }
    case Owner.TINY: {
      const used = frame.used[page]!;
      const cap = frame.cap[page]!;
      rows.push(['class', `${cls} · ${s.classes.tiny[cls] ?? '?'} B blocks`]);
      rows.push(['used', `${used} / ${cap} blocks (${pct(used, cap)})`]);
      rows.push(['thread', `${thread}`]);
      ssOf();
      break;
    }
    case Owner.FREE_SLAB:
      ssOf();
      break;
    case Owner.POOL: {
      const k = findRegion(s.spans.base, s.spans.pages, addr);
      rows.push(['class', `${cls} · ${s.classes.pool[cls] ?? '?'} B blocks`]);
      rows.push(['used', `${frame.used[page]} / ${frame.cap[page]} blocks (${pct(frame.used[page]!, frame.cap[page]!)})`]);
      rows.push(['thread', `${thread}`]);
      if (k >= 0) {
        rows.push(['span', `${hex(s.spans.base[k]!)} · ${s.spans.pages[k]} page${s.spans.pages[k] === 1 ? '' : 's'} · ${bytes(s.spans.carved[k]!)} carved`]);
        region = { from: s.spans.base[k]! >>> PAGE_SHIFT, count: s.spans.pages[k]! };
      }
      break;
    }
    case Owner.POOL_ARENA:
      rows.push(['thread', `${thread}`]);
      rows.push(['holds', 'pool-refill arena not yet cut into spans, or an empty span kept for reuse']);
      break;
    case Owner.L25_LIVE:
    case Owner.L25_CACHED:
    case Owner.BIG_LIVE:
    case Owner.BIG_CACHED: {
      const l25 = owner === Owner.L25_LIVE || owner === Owner.L25_CACHED;
      const list = l25 ? s.l25 : s.big;
      const k = findRegion(list.base, list.pages, addr);
      if (k >= 0) {
        const base = list.base[k]!;
        rows.push(['block', `${hex(base)} · ${bytes(list.pages[k]! * PAGE_SIZE)} (${list.pages[k]} pages) · page ${(addr - base) >>> PAGE_SHIFT}`]);
        rows.push(['state', BLOCK_STATE[list.state[k]!] ?? String(list.state[k])]);
        if (l25) rows.push(['class', `${list.cls[k]} · ${bytes(s.classes.l25[list.cls[k]!] ?? 0)}`]);
        if (list.thread[k]) rows.push([l25 ? 'thread' : 'cached by', `thread ${list.thread[k]}`]);
        region = { from: base >>> PAGE_SHIFT, count: list.pages[k]! };
      }
      break;
    }
    default:
      break;
  }
  return { title: `page ${page} · ${info.name}`, owner, rows, region };
}
