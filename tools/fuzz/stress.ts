// The multi-worker stress case of the fuzz campaign: `pairs` producer → consumer pairs of
// workers over one shared heap (the xmalloc shape of packages/allocator/test/workers.test.ts:
// a pattern in every block, checked before free), then every worker detaches and the heap
// must be empty and valid.
import { createHeap } from '@hakmem/allocator';
import type { WorkerJob } from './stress-worker.js';
import { tsWorker } from '../worker/ts-worker.js';

export interface StressCase {
  readonly kind: 'stress';
  readonly seed: number;
  readonly pairs: number;
  readonly blocks: number;
  readonly debug: number;
}

const SCRIPT = new URL('./stress-worker.ts', import.meta.url);

function run(job: WorkerJob): Promise<{ mismatches: number }> {
  const w = tsWorker(SCRIPT, { data: job });
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`worker exited with ${code}`)); });
  });
}

export async function runStress(c: StressCase): Promise<void> {
  const heap = createHeap({ shared: true, maxBytes: 512 << 20, debug: c.debug });
  const handle = heap.share();
  const jobs: Promise<{ mismatches: number }>[] = [];
  for (let i = 0; i < c.pairs; i++) {
    const ring = new SharedArrayBuffer((2 + 1024 * 2) * 4);
    jobs.push(run({ handle, role: 'producer', ring, count: c.blocks, seed: c.seed + 2 * i }));
    jobs.push(run({ handle, role: 'consumer', ring, count: c.blocks, seed: c.seed + 2 * i + 1 }));
  }
  const reports = await Promise.all(jobs);
  const bad = reports.reduce((a, r) => a + r.mismatches, 0);
  if (bad > 0) throw new Error(`${bad} blocks lost their pattern between producer and consumer`);
  heap.trim();
  heap.validate();
  if (heap.liveBytes() !== 0) throw new Error(`after every worker detached, ${heap.liveBytes()} live bytes remain`);
  if (heap.threads().length !== 1) throw new Error(`thread records left: ${JSON.stringify(heap.threads())}`);
}
