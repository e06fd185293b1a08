// `npm start -w @hakmem/example-compose-by-hand`: the tour on a heap composed by hand.
import { composeByHand, tour } from './index.js';

const heap = composeByHand({ maxBytes: 64 << 20 });
const report = tour(heap);
console.log(JSON.stringify(report, null, 2));
const s = heap.stats();
console.log(`footprint ${s.footprint} bytes (metadata ${s.metadataBytes}), unified-cache refills ${s.boxes.unifiedCache.refills}`);
