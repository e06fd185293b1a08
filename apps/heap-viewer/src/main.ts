import './style.css';
import { FOOTPRINT_COLOUR, LIVE_COLOUR, TimelineChart } from './chart.js';
import { MODES, paint, type Mode } from './colors.js';
import { describePage } from './details.js';
import { MapView, type Geometry } from './map.js';
import { bytes, FrameCache, hex, PAGE_SIZE, parseBytes, toSeries, type Frame, type Series } from './model.js';
import { boxesHtml, esc, legendHtml, summaryHtml, tiersHtml } from './panel.js';

/** What the page exposes for scripts and the browser test (`window.heapViewer`). */
export interface ViewerApi {
  ready: boolean;
  frames: number;
  frame: number;
  mode: Mode;
  /** Milliseconds the last frame took to decode (when not cached), paint and draw. */
  drawMs: number;
  geometry: Geometry | null;
  /** Cells per owner category of the frame shown. */
  counts: readonly number[];
  show(index: number): void;
  setMode(mode: Mode): void;
  load(bytes: Uint8Array, name: string): Promise<void>;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const els = {
  source: $('source'), mode: $<HTMLSelectElement>('mode'), crop: $<HTMLInputElement>('crop'), open: $<HTMLButtonElement>('open'), file: $<HTMLInputElement>('file'),
  mapArea: $('map-area'), map: $<HTMLCanvasElement>('map'), overlay: $<HTMLCanvasElement>('overlay'), rows: $('rows'),
  tooltip: $('tooltip'), mapHint: $('map-hint'), frameTitle: $('frame-title'), summary: $('summary'), legend: $('legend'), legendTitle: $('legend-title'),
  tiers: $('tiers'), boxes: $('boxes'), play: $<HTMLButtonElement>('play'), slider: $<HTMLInputElement>('slider'),
  frameLabel: $('frame-label'), chart: $<HTMLCanvasElement>('chart'), message: $('message'), drop: $('drop'), chartKey: $('chart-key'),
};

const mapView = new MapView(els.map, els.overlay);
const chart = new TimelineChart(els.chart, (i) => schedule(i));
let series: Series | null = null;
let cache: FrameCache | null = null;
let current: Frame | null = null;
let colours = new Uint32Array(0);
let hovered = -1;
/** The highest os-boundary end of the series, in pages (what "up to the footprint" shows). */
let seriesEndPage = 0;
let playing: ReturnType<typeof setInterval> | null = null;
const openBoxes = new Set<string>(['osBoundary']);

const api: ViewerApi = {
  ready: false, frames: 0, frame: 0, mode: 'owner', drawMs: 0, geometry: null, counts: [],
  show: (i) => show(i),
  setMode: (m) => {
    els.mode.value = m;
    setMode(m);
  },
  load: (b, name) => load(b, name),
};
(window as unknown as { heapViewer: ViewerApi }).heapViewer = api;

for (const m of MODES) els.mode.add(new Option(m.name, m.id));
els.chartKey.innerHTML = `<span class="swatch" style="background:${FOOTPRINT_COLOUR}"></span>footprint <span class="swatch" style="background:${LIVE_COLOUR}"></span>live bytes`;

function setState(state: 'loading' | 'ready' | 'empty' | 'error', message = ''): void {
  document.body.dataset.state = state;
  els.message.hidden = message === '';
  els.message.innerHTML = message;
}

/** Cells the map shows: the whole address space, or (cropped) up to the series' highest end. */
function visiblePages(): number {
  if (current === null) return 0;
  return els.crop.checked ? Math.max(16, Math.min(current.totalPages, Math.ceil(seriesEndPage / 16) * 16)) : current.totalPages;
}

/** Lays the map out for the current window width; redraws when the geometry changed. */
function layout(): void {
  if (current === null) return;
  const width = Math.max(320, els.mapArea.clientWidth - 90);
  if (!mapView.resize(visiblePages(), width)) return;
  const g = mapView.layout;
  api.geometry = g;
  // Address labels down the left side: at most ~20.
  const every = Math.max(1, 2 ** Math.ceil(Math.log2(Math.max(1, (g.rows * g.cell) / 26) / g.cell)));
  let html = '';
  for (let r = 0; r < g.rows; r += every) html += `<div style="top:${r * g.cell}px">${hex(r * g.columns * PAGE_SIZE)}</div>`;
  els.rows.innerHTML = html;
  els.rows.style.height = `${g.rows * g.cell}px`;
  els.mapHint.textContent = `One cell = one 64 KiB page; address 0 is top-left, ${g.columns} cells (${bytes(g.columns * PAGE_SIZE)}) per row, `
    + `16 cells = one SuperSlab. ${g.pages.toLocaleString('en-US')} cells: ${g.pages === current.totalPages ? 'the whole address space up to maxBytes' : 'the address space up to the highest footprint of the series'}. Hover a cell for its details; ← → step through the timeline.`;
  draw();
}

function draw(): void {
  if (current === null) return;
  if (colours.length !== current.totalPages) colours = new Uint32Array(current.totalPages);
  paint(current, api.mode, colours);
  mapView.draw(colours);
  els.map.dataset.frame = String(api.frame);
  els.map.dataset.mode = api.mode;
}

function show(index: number): void {
  if (series === null || cache === null) return;
  const t0 = performance.now();
  const i = Math.max(0, Math.min(series.frames.length - 1, Math.round(index)));
  current = cache.get(i);
  api.frame = i;
  api.counts = current.counts;
  const g = mapView.layout;
  if (g.pages !== visiblePages()) layout();
  draw();
  const s = current.snapshot;
  els.slider.value = String(i);
  els.frameLabel.textContent = `${i + 1} / ${series.frames.length} · event ${current.event.toLocaleString('en-US')}`;
  els.frameTitle.textContent = `${current.label}`;
  els.summary.innerHTML = summaryHtml(current);
  showLegend();
  els.tiers.innerHTML = tiersHtml(current);
  els.boxes.innerHTML = boxesHtml(current, openBoxes);
  chart.setCurrent(i);
  if (hovered >= 0) hover(hovered);
  api.drawMs = performance.now() - t0;
  document.title = `heap viewer · ${series.name} · ${bytes(s.footprint)}`;
}

let pending = -1;
/** Slider and chart input: one draw per animation frame, whatever the event rate. */
function schedule(i: number): void {
  const first = pending < 0;
  pending = i;
  if (first) {
    requestAnimationFrame(() => {
      const p = pending;
      pending = -1;
      show(p);
    });
  }
}

function setMode(m: Mode): void {
  api.mode = m;
  if (current === null) return;
  draw();
  showLegend();
}

const LEGEND_TITLES: Record<Mode, string> = { owner: 'Pages by owner', class: 'Size classes', occupancy: 'Occupancy', thread: 'Pages by owner thread' };
function showLegend(): void {
  if (current === null) return;
  els.legendTitle.textContent = LEGEND_TITLES[api.mode];
  els.legend.innerHTML = legendHtml(current, api.mode);
}

function hover(page: number): void {
  hovered = page;
  if (current === null || page < 0) {
    els.tooltip.hidden = true;
    mapView.highlight(-1);
    return;
  }
  const d = describePage(current, page);
  els.tooltip.innerHTML = `<strong>${esc(d.title)}</strong><table>${d.rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
  els.tooltip.dataset.page = String(page);
  els.tooltip.hidden = false;
  mapView.highlight(page, d.region.from, d.region.count);
}

function placeTooltip(e: MouseEvent): void {
  const t = els.tooltip;
  const pad = 14;
  let x = e.clientX + pad;
  let y = e.clientY + pad;
  const r = t.getBoundingClientRect();
  if (x + r.width > window.innerWidth - 4) x = e.clientX - r.width - pad;
  if (y + r.height > window.innerHeight - 4) y = e.clientY - r.height - pad;
  t.style.left = `${Math.max(4, x)}px`;
  t.style.top = `${Math.max(4, y)}px`;
}

els.overlay.addEventListener('mousemove', (e) => {
  const p = mapView.pageAt(e.offsetX, e.offsetY);
  if (p !== hovered) hover(p);
  placeTooltip(e);
});
els.overlay.addEventListener('mouseleave', () => hover(-1));
els.mode.addEventListener('change', () => setMode(els.mode.value as Mode));
els.crop.addEventListener('change', () => layout());
els.slider.addEventListener('input', () => schedule(Number(els.slider.value)));
els.boxes.addEventListener('toggle', (e) => {
  const d = e.target as HTMLDetailsElement;
  const name = d.dataset.box;
  if (name === undefined) return;
  if (d.open) openBoxes.add(name);
  else openBoxes.delete(name);
}, true);
els.play.addEventListener('click', () => togglePlay());
window.addEventListener('resize', () => {
  layout();
  chart.draw();
});
window.addEventListener('keydown', (e) => {
  if (series === null || e.target instanceof HTMLSelectElement || e.target instanceof HTMLInputElement) return;
  if (e.key === 'ArrowRight') schedule(api.frame + 1);
  else if (e.key === 'ArrowLeft') schedule(api.frame - 1);
  else if (e.key === 'Home') schedule(0);
  else if (e.key === 'End') schedule(series.frames.length - 1);
  else return;
  e.preventDefault();
});

function togglePlay(): void {
  if (playing !== null) {
    clearInterval(playing);
    playing = null;
    els.play.textContent = '▶';
    return;
  }
  if (series === null) return;
  if (api.frame >= series.frames.length - 1) show(0);
  els.play.textContent = '⏸';
  playing = setInterval(() => {
    if (series === null || api.frame >= series.frames.length - 1) {
      togglePlay();
      return;
    }
    show(api.frame + 1);
  }, 120);
}

// Opening a file: the button, or a drop anywhere on the page.
els.open.addEventListener('click', () => els.file.click());
els.file.addEventListener('change', () => {
  const f = els.file.files?.[0];
  if (f !== undefined) void f.arrayBuffer().then((b) => load(new Uint8Array(b), f.name));
});
window.addEventListener('dragover', (e) => {
  e.preventDefault();
  els.drop.hidden = false;
});
window.addEventListener('dragleave', (e) => {
  if (e.relatedTarget === null) els.drop.hidden = true;
});
window.addEventListener('drop', (e) => {
  e.preventDefault();
  els.drop.hidden = true;
  const f = e.dataTransfer?.files[0];
  if (f !== undefined) void f.arrayBuffer().then((b) => load(new Uint8Array(b), f.name));
});

async function load(data: Uint8Array, name: string): Promise<void> {
  setState('loading', `Reading ${esc(name)}…`);
  api.ready = false;
  try {
    const s = toSeries(await parseBytes(data), name);
    series = s;
    cache = new FrameCache(s);
    seriesEndPage = Math.max(...s.frames.map((f) => Math.ceil(f.snapshot.end / PAGE_SIZE)));
    api.frames = s.frames.length;
    els.source.textContent = `${name}${s.source ? ` — ${s.source}` : ''} · ${s.frames.length} snapshot${s.frames.length === 1 ? '' : 's'}`;
    els.slider.max = String(s.frames.length - 1);
    els.slider.disabled = s.frames.length < 2;
    els.play.disabled = s.frames.length < 2;
    chart.setPoints(s.frames.map((f) => ({ event: f.event, footprint: f.snapshot.footprint, live: f.snapshot.liveBytes })));
    current = null;
    hovered = -1;
    show(0);
    layout();
    setState('ready');
    api.ready = true;
  } catch (error) {
    setState('error', `Could not read ${esc(name)}: ${esc(error instanceof Error ? error.message : String(error))}`);
  }
}

/** At start: the file the local server serves (`?src=URL`, default `snapshot`), else an invitation to open one. */
async function boot(): Promise<void> {
  const src = new URLSearchParams(location.search).get('src') ?? 'snapshot';
  setState('loading', 'Loading the snapshot…');
  try {
    const res = await fetch(src, { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    await load(new Uint8Array(await res.arrayBuffer()), decodeURIComponent(res.headers.get('x-snapshot-name') ?? src));
  } catch {
    setState('empty', 'No snapshot loaded. <b>Open file…</b> (or drop one here): a <code>heap.snapshot()</code> written as JSON, '
      + 'or a series from <code>hakmem-bench trace snapshots</code> (<code>.json</code> or <code>.json.gz</code>). '
      + 'From the repository: <code>npm run viewer -- FILE</code>.');
  }
}

void boot();
