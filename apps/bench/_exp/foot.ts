import { createHeap } from '@hakmem/allocator';
import { loadTrace } from '../src/trace.js';
const t = loadTrace(process.argv[2]!);
const h = createHeap({ maxBytes: 512 << 20 });
const rec = t.records; const ptrs = new Int32Array(t.maxId + 1); const sizes = new Int32Array(t.maxId + 1);
let live = 0, peakLive = 0, lastFoot = 0; let atPeak: any = null; let liveAtFoot = 0;
const MiB = (x: number) => (x / 2 ** 20).toFixed(2);
for (let r = 0; r < t.count; r++) {
  const o = r << 2, op = rec[o]! & 0xff, id = rec[o + 1]!, size = rec[o + 2]!, aux = rec[o + 3]!;
  if (op === 2) { const p = ptrs[id]!; if (p) { h.free(p); live -= sizes[id]!; ptrs[id] = 0; } }
  else {
    let p = 0;
    if (op === 1) p = h.malloc(size);
    else if (op === 3) p = h.calloc(aux || 1, (size / (aux || 1)) | 0);
    else if (op === 4) { const old = ptrs[aux]!; p = old ? h.realloc(old, size) : h.malloc(size); if (old) { live -= sizes[aux]!; ptrs[aux] = 0; } }
    else p = h.memalign(aux, size);
    ptrs[id] = p; sizes[id] = size; live += size;
    if (live > peakLive) peakLive = live;
  }
  const f = h.stats().footprint;
  if (r % 64 === 0 || f !== lastFoot) {
    if (f > lastFoot) { if (process.env.GROW && lastFoot > (+process.env.GROW) * 2 ** 20) { const s0 = h.stats(); console.log('grow', r, 'op', op, 'size', size, MiB(lastFoot), '->', MiB(f), 'osfree', MiB(s0.boxes.osBoundary.bytesFree), 'ranges', s0.boxes.osBoundary.freeRanges, 'live', MiB(live)); console.log('   ranges', JSON.stringify((h as any).boxes.osBoundary.freeRanges().map(([a, b]: number[]) => [(a / 65536), b / 65536]))); } lastFoot = f; const s = h.stats(); liveAtFoot = live;
      atPeak = { r, live, tiny: s.tiny, pool: s.pool, l25: s.l25, big: s.big, os: { inUse: s.boxes.osBoundary.bytesInUse, free: s.boxes.osBoundary.bytesFree, ranges: s.boxes.osBoundary.freeRanges }, meta: s.metadataBytes }; }
  }
}
{ const pr = h.stats().boxes.poolRefill as any; console.log('pool spansCreated', pr.spansCreated, 'released', pr.spansReleased, 'chunks', pr.chunks, 'reused', pr.reused); }
console.log('T', (globalThis as any).T, (globalThis as any).TP, (globalThis as any).TS, 'R', (globalThis as any).R1, (globalThis as any).R2, (globalThis as any).R3);
console.log('footprint', MiB(lastFoot), 'peakLive', MiB(peakLive), 'ratio', (lastFoot / peakLive).toFixed(3), 'live at last growth', MiB(liveAtFoot));
const a = atPeak; console.log('at record', a.r, 'live req', MiB(a.live), 'meta', MiB(a.meta), 'os inUse', MiB(a.os.inUse), 'os free', MiB(a.os.free), 'ranges', a.os.ranges);
for (const k of ['tiny', 'pool', 'l25', 'big']) console.log(k, JSON.stringify(Object.fromEntries(Object.entries(a[k]).map(([x, v]: any) => [x, x.startsWith('bytes') ? +MiB(v) : v]))));
