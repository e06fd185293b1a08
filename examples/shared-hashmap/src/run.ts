// The main thread: a shared heap, a map in it, workers that fill and empty it at once.
import { Worker } from 'node:worker_threads';
import { createHeap, type Heap } from '@hakmem/allocator';
import { SharedHashMap } from './hashmap.js';
import { expectedContents, type WorkerJob, type WorkerReport } from './workload.js';

const BOOT = new URL('./boot.mjs', import.meta.url);
const SCRIPT = new URL('./worker.ts', import.meta.url).href;

export interface RunOptions {
  readonly workers?: number;
  readonly keysPerWorker?: number;
  readonly buckets?: number;
  readonly maxBytes?: number;
}

export interface RunResult {
  /** The creator's heap (still attached) and the map, for the caller to check and free. */
  readonly heap: Heap;
  readonly map: SharedHashMap;
  readonly reports: WorkerReport[];
  /** What the map must hold now. */
  readonly expected: Map<string, number>;
}

function startWorker(job: WorkerJob, heap: Heap): Promise<WorkerReport> {
  const worker = new Worker(BOOT, { workerData: job, execArgv: ['--conditions=@hakmem/source'] });
  heap.watch(worker); // a worker that dies without detach() is reclaimed
  return new Promise<WorkerReport>((resolve, reject) => {
    worker.once('message', (r: WorkerReport) => resolve(r));
    worker.once('error', reject);
    worker.once('exit', (code) => { if (code !== 0) reject(new Error(`worker ${job.worker} exited with ${code}`)); });
  });
}

/**
 * Creates a shared heap and a map in it, runs `workers` workers on it at once (each
 * attached to the heap through `heap.share()`), and waits until every one has detached.
 */
export async function runSharedHashMap(options: RunOptions = {}): Promise<RunResult> {
  const { workers = 4, keysPerWorker = 3000, buckets = 512, maxBytes = 64 << 20 } = options;
  const heap = createHeap({ shared: true, maxBytes });
  const map = SharedHashMap.create(heap, buckets);
  const handle = heap.share();
  const start = new SharedArrayBuffer(4);
  const jobs = Array.from({ length: workers }, (_, worker): WorkerJob => ({
    handle, table: map.table, worker, workers, keysPerWorker, start, script: SCRIPT,
  }));
  const reports = await Promise.all(jobs.map((job) => startWorker(job, heap)));
  return { heap, map, reports, expected: expectedContents(workers, keysPerWorker) };
}
