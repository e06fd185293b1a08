import { CACHED_RGB, classColour, css, NO_CLASS_RGB, OWNERS, ramp, threadColour, type Mode } from './colors.js';
import { bytes, Kind, MiB, Owner, PAGE_SIZE, type Frame } from './model.js';

/** The side panel: the frame's summary, the legend of the current colouring, the tiers and every box's counters. */

export const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (n: number): string => n.toLocaleString('en-US');
const sw = (colour: string): string => `<span class="swatch" style="background:${colour}"></span>`;

/** The legend: in "owner" mode every category with its cell count (what the map's colours add up to). */
export function legendHtml(frame: Frame, mode: Mode): string {
  const counts = frame.counts;
  if (mode === 'owner') {
    return `<table class="legend">${OWNERS.map((o) => `<tr data-owner="${o.id}" title="${esc(o.what)}"><td>${sw(css(o.rgb))}${esc(o.name)}</td>`
      + `<td class="n" data-count="${counts[o.id]}">${num(counts[o.id]!)}</td><td class="n">${bytes(counts[o.id]! * PAGE_SIZE)}</td></tr>`).join('')}</table>`
      + '<p class="hint">cells per owner: one cell = one 64 KiB page</p>';
  }
  const base = [Owner.UNMAPPED, Owner.META, Owner.FREE].map((id) => `<tr><td>${sw(css(OWNERS[id]!.rgb))}${esc(OWNERS[id]!.name)}</td><td class="n">${num(counts[id]!)}</td></tr>`).join('');
  if (mode === 'class') {
    const c = frame.snapshot.classes;
    const bar = (kind: number, n: number): string => `<span class="bar" style="background:linear-gradient(to right, ${css(classColour(kind, 0, n))}, ${css(classColour(kind, n - 1, n))})"></span>`;
    return `<table class="legend"><tr><td>${bar(Kind.TINY, c.tiny.length)}tiny classes</td><td class="n">${c.tiny[0]} – ${c.tiny[c.tiny.length - 1]} B</td></tr>`
      + `<tr><td>${bar(Kind.POOL, c.pool.length)}pool classes</td><td class="n">${bytes(c.pool[0]!)} – ${bytes(c.pool[c.pool.length - 1]!)}</td></tr>`
      + `<tr><td>${bar(Kind.L25, c.l25.length)}L2.5 classes</td><td class="n">${bytes(c.l25[0]!)} – ${bytes(c.l25[c.l25.length - 1]!)}</td></tr>`
      + `<tr><td>${sw('rgb(163, 113, 247)')}big blocks</td><td class="n">&gt; 1 MiB</td></tr>`
      + `<tr><td>${sw(css(NO_CLASS_RGB))}mapped, no class</td><td class="n">free slabs, arena</td></tr>${base}</table>`
      + '<p class="hint">darker = smaller class within its tier</p>';
  }
  if (mode === 'occupancy') {
    const stops = [0, 0.25, 0.5, 0.75, 1].map((x) => css(ramp(x))).join(', ');
    return `<table class="legend"><tr><td><span class="bar" style="background:linear-gradient(to right, ${stops})"></span>used ÷ capacity</td><td class="n">0 → 100 %</td></tr>`
      + `<tr><td>${sw(css(ramp(1)))}L2.5 / big live</td><td class="n">${num(counts[Owner.L25_LIVE]! + counts[Owner.BIG_LIVE]!)}</td></tr>`
      + `<tr><td>${sw(css(CACHED_RGB))}L2.5 / big cached</td><td class="n">${num(counts[Owner.L25_CACHED]! + counts[Owner.BIG_CACHED]!)}</td></tr>${base}</table>`
      + '<p class="hint">tiny slabs and pool spans: blocks handed out (per-thread caches included) ÷ blocks the slab or span holds</p>';
  }
  const threads = new Map<number, number>();
  for (let i = frame.heapPage; i < frame.endPage; i++) {
    const o = frame.owner[i]!;
    if (o === Owner.FREE || o === Owner.OTHER) continue;
    threads.set(frame.thread[i]!, (threads.get(frame.thread[i]!) ?? 0) + 1);
  }
  return `<table class="legend">${[...threads.entries()].sort((a, b) => a[0] - b[0]).map(([t, n]) => `<tr><td>${sw(css(threadColour(t)))}${t === 0 ? 'no thread (shared, big)' : `thread ${t}`}</td><td class="n">${num(n)}</td></tr>`).join('')}${base}</table>`;
}

export function summaryHtml(frame: Frame): string {
  const s = frame.snapshot;
  const mapped = (s.end - s.heapStart) / PAGE_SIZE - frame.counts[Owner.FREE]!;
  const rows: [string, string][] = [
    ['footprint', `${bytes(s.footprint)}`],
    ['live bytes', `${bytes(s.liveBytes)}${s.footprint > 0 ? ` (${((100 * s.liveBytes) / s.footprint).toFixed(1)} % of the footprint)` : ''}`],
    ['in use by boxes', `${num(mapped)} pages (${bytes(mapped * PAGE_SIZE)})`],
    ['free ranges', `${s.freeRanges.base.length} (${bytes(frame.counts[Owner.FREE]! * PAGE_SIZE)})`],
    ['metadata prefix', `${bytes(s.heapStart)}`],
    ['maximum', `${bytes(s.maxBytes)} (${num(frame.totalPages)} pages)`],
    ['SuperSlabs', `${s.superslabs.base.length}`],
    ['threads', s.threads.map((t) => `${t.tid} ${t.state}`).join(', ') || '–'],
  ];
  return `<table class="kv">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

export function tiersHtml(frame: Frame): string {
  const st = frame.snapshot.stats;
  const tiers: [string, { blocksInUse: number; bytesInUse: number; blocksCached: number; bytesCached: number; bytesFree?: number }][] = [
    ['tiny', st.tiny], ['pool', st.pool], ['L2.5', st.l25], ['big', st.big],
  ];
  const cell = (blocks: number, b: number): string => `<td class="n">${num(blocks)}</td><td class="n">${bytes(b)}</td>`;
  return '<table class="tiers"><tr><th></th><th colspan="2">in use</th><th colspan="2">cached</th><th>free</th></tr>'
    + tiers.map(([name, u]) => `<tr><th>${name}</th>${cell(u.blocksInUse, u.bytesInUse)}${cell(u.blocksCached, u.bytesCached)}<td class="n">${u.bytesFree === undefined ? '–' : bytes(u.bytesFree)}</td></tr>`).join('')
    + '</table>';
}

/** Every box's counters (heap.stats().boxes), one collapsible section per box; `open` names the sections to keep open. */
export function boxesHtml(frame: Frame, open: ReadonlySet<string>): string {
  const boxes = frame.snapshot.stats.boxes as unknown as Record<string, Record<string, unknown>>;
  return Object.entries(boxes).map(([name, counters]) => {
    const rows = Object.entries(counters).map(([k, v]) => {
      const text = typeof v === 'number' ? (/bytes|Bytes|highWater|footprint/.test(k) && Math.abs(v) >= 4 * 1024 ? `${bytes(v)}` : num(v)) : esc(JSON.stringify(v));
      return `<tr><th>${esc(k)}</th><td class="n">${text}</td></tr>`;
    }).join('');
    return `<details data-box="${esc(name)}"${open.has(name) ? ' open' : ''}><summary>${esc(name)}</summary><table class="kv">${rows}</table></details>`;
  }).join('');
}

export const formatMiB = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;
