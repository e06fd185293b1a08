import { createHeap } from '@hakmem/allocator';
import { loadTrace } from '../src/trace.js';
const t = loadTrace(process.argv[2]!);
const h = createHeap({ maxBytes: 1024 << 20, growable: true });
const rec = t.records; const ptrs = new Int32Array(t.maxId + 1); const sizes = new Int32Array(t.maxId + 1);
let live = 0, peakLive = 0; const M = (x: number) => (x / 2 ** 20).toFixed(1);
const rss = () => process.memoryUsage().rss;
const rss0 = rss();
let peakRss = 0;
for (let r = 0; r < t.count; r++) {
  const o = r << 2, op = rec[o]! & 0xff, id = rec[o + 1]!, size = rec[o + 2]!, aux = rec[o + 3]!;
  if (op === 2) { const p = ptrs[id]!; if (p) { h.free(p); live -= sizes[id]!; ptrs[id] = 0; } }
  else { let p = 0;
    if (op === 1) p = h.malloc(size); else if (op === 3) p = h.calloc(aux || 1, (size / (aux || 1)) | 0);
    else if (op === 4) { const old = ptrs[aux]!; p = old ? h.realloc(old, size) : h.malloc(size); if (old) { live -= sizes[aux]!; ptrs[aux] = 0; } }
    else p = h.memalign(aux, size);
    // touch every page of the block, as a program would
    const u8 = h.views.u8; for (let k = 0; k < size; k += 4096) u8[p + k] = 1;
    ptrs[id] = p; sizes[id] = size; live += size; if (live > peakLive) peakLive = live; }
  if ((r & 0xffff) === 0) { const x = rss(); if (x > peakRss) peakRss = x; }
}
const s0 = h.stats();
const before = rss();
h.trim();
const s1 = h.stats();
console.log(`${process.argv[2]}: peak live ${M(peakLive)} MiB, footprint (high water) ${M(s0.footprint)}; at the end live ${M(live)} MiB (heap.liveBytes ${M(h.liveBytes())}), length ${M(s0.byteLength)} -> after trim ${M(s1.byteLength)} MiB; RSS at start ${M(rss0)}, peak ${M(peakRss)}, before trim ${M(before)}, after trim ${M(rss())} MiB`);
