import { createHeap } from '@hakmem/allocator';
import { loadTrace } from '../src/trace.js';
const t = loadTrace(process.argv[2]!); const stopAt = +process.argv[3]!;
const h = createHeap({ maxBytes: 512 << 20 });
const rec = t.records; const ptrs = new Int32Array(t.maxId + 1); const sizes = new Int32Array(t.maxId + 1);
for (let r = 0; r <= stopAt; r++) {
  const o = r << 2, op = rec[o]! & 0xff, id = rec[o + 1]!, size = rec[o + 2]!, aux = rec[o + 3]!;
  if (op === 2) { const p = ptrs[id]!; if (p) { h.free(p); ptrs[id] = 0; } }
  else { let p = 0;
    if (op === 1) p = h.malloc(size); else if (op === 3) p = h.calloc(aux || 1, (size / (aux || 1)) | 0);
    else if (op === 4) { const old = ptrs[aux]!; p = old ? h.realloc(old, size) : h.malloc(size); if (old) ptrs[aux] = 0; }
    else p = h.memalign(aux, size);
    ptrs[id] = p; sizes[id] = size; }
}
const bySize = new Map<number, [number, number, number]>(); let req = 0, use = 0;
const band = (u: number) => u <= 2048 ? 'tiny' : u <= 65536 ? 'pool' : u <= 1 << 20 ? 'l25' : 'big';
const byBand: Record<string, [number, number]> = {};
for (let id = 1; id < ptrs.length; id++) { const p = ptrs[id]!; if (!p) continue; const u = h.usableSize(p); const s = sizes[id]!; req += s; use += u;
  const e = bySize.get(s) ?? [0, 0, u]; e[0]++; e[1] += u - s; bySize.set(s, e); const b = band(u); (byBand[b] ??= [0, 0]); byBand[b][0] += s; byBand[b][1] += u; }
const M = (x: number) => (x / 2 ** 20).toFixed(2);
console.log('req', M(req), 'usable', M(use), 'waste', M(use - req), ((use - req) / req * 100).toFixed(1) + '%');
for (const [b, [r, u]] of Object.entries(byBand)) console.log(b, 'req', M(r), 'usable', M(u), ((u - r) / r * 100).toFixed(1) + '%');
console.log('top waste sizes: size count wasteMiB usable');
for (const [s, [n, w, u]] of [...bySize].sort((a, b) => b[1][1] - a[1][1]).slice(0, 15)) console.log(s, n, M(w), u);
