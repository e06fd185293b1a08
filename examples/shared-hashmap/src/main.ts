// `npm start -w @hakmem/example-shared-hashmap`: four workers fill and empty one map in a
// shared heap; the main thread checks what is left and that the heap accounts for it.
import { NODE_HEADER } from './hashmap.js';
import { runSharedHashMap } from './run.js';

const t0 = performance.now();
const { heap, map, reports, expected } = await runSharedHashMap({ workers: 4, keysPerWorker: 3000 });
const ms = performance.now() - t0;
for (const r of reports) {
  console.log(`worker ${r.worker} (thread id ${r.tid}): ${r.inserted} inserted, ${r.updated} updated, ${r.deleted} deleted ` +
    `(${r.early} tried before the insert), ${r.remoteFreed} remote frees, detached ${r.detached}`);
}
const entries = new Map(map.entries());
const same = entries.size === expected.size && [...expected].every(([k, v]) => entries.get(k) === v);
console.log(`${ms.toFixed(0)} ms; map holds ${map.size} entries, ${same ? 'exactly the expected ones' : 'NOT the expected ones'}`);
heap.trim();
heap.validate();
const nodes = map.nodes();
const nodeBytes = nodes.reduce((s, p) => s + heap.usableSize(p), 0);
const tableBytes = heap.usableSize(map.table);
console.log(`threads left: ${heap.threads().map((t) => `${t.tid} ${t.state}`).join(', ')}`);
console.log(`live ${heap.liveBytes()} bytes = table ${tableBytes} + ${nodes.length} nodes ${nodeBytes} (key bytes + ${NODE_HEADER}-byte headers, rounded to their classes)`);
map.destroy();
heap.trim();
heap.validate();
console.log(`after destroy: live ${heap.liveBytes()} bytes`);
