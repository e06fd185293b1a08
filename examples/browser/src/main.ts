// The page: a heap of its own (malloc, free, realloc, calloc, typed-array views), then a
// shared heap that a Web Worker attaches to and uses at the same time as the page. The
// figures go into the page and, as JSON, into #result and window.hakmemExample (what the
// test reads).
import { createHeap, type Heap } from '@hakmem/allocator';
import {
  CTL_DONE, CTL_GO, CTL_WORDS, WORKER_HOST_ID, allocate, holds,
  type Block, type WorkerJob, type WorkerMessage, type WorkerReport,
} from './protocol.js';

/** Figures of the heap on the page (not shared). */
export interface LocalResult {
  readonly allocated: number;
  readonly freed: number;
  /** The f64 values written through one view and read back through another. */
  readonly f64Sum: number;
  readonly callocZeroed: boolean;
  readonly reallocKept: boolean;
  readonly validate: 'ok';
  readonly liveBytesAfter: number;
  readonly byteLength: number;
}

/** Figures of the shared heap: the page's side and the worker's report. */
export interface SharedResult {
  readonly pageTid: number;
  readonly workerTid: number;
  /** Blocks the page allocated and filled before the worker started. */
  readonly pageAllocated: number;
  /** Of those, checked intact by the worker. */
  readonly workerChecked: number;
  /** Of those, freed by the worker (remote frees). */
  readonly remoteFreesByWorker: number;
  /** Blocks the worker allocated and filled. */
  readonly workerAllocated: number;
  readonly workerFreedOwn: number;
  /** Blocks the worker's boxes sent to the page's remote-free lists (detach flushes its caches). */
  readonly workerSentToOwners: number;
  /** The worker's live blocks the page found intact, then freed (remote frees the other way). */
  readonly workerBlocksCheckedByPage: number;
  readonly remoteFreesByPage: number;
  /** The page's own blocks the worker left alone, found intact. */
  readonly pageBlocksIntact: number;
  /** malloc + fill + check + free rounds the page ran while the worker worked. */
  readonly pageRoundsMeanwhile: number;
  /** Blocks the page box took back from the page thread's remote-free lists. */
  readonly remoteDrainedByPage: number;
  readonly workerDetached: boolean;
  readonly validate: 'ok';
  readonly liveBytesAfter: number;
  /** The thread records after the last trim (the worker's id collected). */
  readonly threadsAfter: readonly string[];
  readonly ms: number;
}

export interface PageResult {
  readonly state: 'done' | 'no-shared' | 'error';
  readonly crossOriginIsolated: boolean;
  readonly local: LocalResult | null;
  readonly shared: SharedResult | null;
  /** Without shared memory: what `createHeap({ shared: true })` threw (its name and message, which starts with its code). */
  readonly sharedRefused: string | null;
  readonly message: string;
}

declare global {
  interface Window {
    hakmemExample?: PageResult;
  }
}

const PAGE_BLOCKS = 600;
const WORKER_BLOCKS = 600;

const $ = (id: string): HTMLElement => document.getElementById(id)!;

function show(list: HTMLElement, figures: Record<string, unknown>): void {
  list.replaceChildren(...Object.entries(figures).flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = Array.isArray(v) ? v.join(', ') : String(v);
    return [dt, dd];
  }));
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

/** A heap on the page: every tier, views, calloc, realloc, then everything freed. */
function localHeap(): LocalResult {
  const heap = createHeap({ maxBytes: 32 << 20 }); // an ArrayBuffer; no isolation needed
  const blocks: Block[] = [];
  for (let i = 0; i < 400; i++) blocks.push(allocate(heap, 0, i));
  const big = heap.malloc(3 << 20); // a big block (> 1 MiB)
  expect(big !== 0, 'malloc(3 MiB) returned 0');
  const v = heap.f64(big, 1000);
  for (let k = 0; k < v.length; k++) v[k] = k * 0.5;
  const z = heap.calloc(100, 8);
  const callocZeroed = heap.u8(z, 800).every((b) => b === 0);
  let r = heap.malloc(24);
  heap.u8(r, 24).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
  r = heap.realloc(r, 5000); // moves it into the mid tier, contents kept
  const reallocKept = heap.u8(r, 24).every((b, k) => b === k + 1);
  for (const b of blocks) expect(holds(heap, b), `block at ${b.ptr} was overwritten`);
  const f64Sum = heap.f64(big, 1000).reduce((s, x) => s + x, 0);
  for (const p of [big, z, r, ...blocks.map((b) => b.ptr)]) heap.free(p);
  heap.validate();
  heap.trim();
  return {
    allocated: blocks.length + 3, freed: blocks.length + 3, f64Sum, callocZeroed, reallocKept, validate: 'ok',
    liveBytesAfter: heap.liveBytes(), byteLength: heap.stats().byteLength,
  };
}

/** The worker's messages as a queue of promises. */
function messages(worker: Worker): () => Promise<WorkerMessage> {
  const queue: WorkerMessage[] = [];
  const waiting: ((m: WorkerMessage) => void)[] = [];
  const deliver = (m: WorkerMessage): void => {
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  };
  worker.addEventListener('message', (e: MessageEvent<WorkerMessage>) => deliver(e.data));
  worker.addEventListener('error', (e) => deliver({ type: 'error', message: `the worker failed: ${e.message || 'could not load its script'}` }));
  return async () => {
    const m = queue.shift() ?? await new Promise<WorkerMessage>((resolve) => waiting.push(resolve));
    if (m.type === 'error') throw new Error(m.message);
    return m;
  };
}

function remoteDrained(heap: Heap): number {
  const s = heap.stats().boxes;
  return s.pageBox.remoteDrained + s.poolRefill.remoteDrained;
}

/** A shared heap: the page and a worker allocate, fill, check and free each other's blocks. */
async function sharedHeap(): Promise<SharedResult> {
  const t0 = performance.now();
  const heap = createHeap({ shared: true, maxBytes: 64 << 20 }); // a SharedArrayBuffer
  const pageBlocks: Block[] = [];
  for (let i = 0; i < PAGE_BLOCKS; i++) pageBlocks.push(allocate(heap, 0, i));
  const freeIndexes = pageBlocks.map((_, i) => i).filter((i) => i % 2 === 1); // the worker frees these

  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  // No worker_threads here: the page names its worker's host id itself, and tells watch
  // when the worker is gone for good (it reclaims a worker that never detached).
  let gone: (() => void) | undefined;
  heap.watch({ threadId: WORKER_HOST_ID, once: (_event, fn) => (gone = fn) });
  const next = messages(worker);
  const control = new SharedArrayBuffer(CTL_WORDS * 4);
  const ctl = new Int32Array(control);
  const job: WorkerJob = { handle: heap.share(), control, pageBlocks, freeIndexes, blocks: WORKER_BLOCKS };
  worker.postMessage(job);
  try {
    const attached = await next();
    expect(attached.type === 'attached', `the worker sent ${attached.type} first`);
    const workerTid = attached.type === 'attached' ? attached.tid : 0;

    // Go: the worker works; the page allocates and frees at the same time, until it is done.
    Atomics.store(ctl, CTL_GO, 1);
    Atomics.notify(ctl, CTL_GO);
    let rounds = 0;
    const until = performance.now() + 20_000;
    while (Atomics.load(ctl, CTL_DONE) === 0 && performance.now() < until) {
      const b = allocate(heap, 0, 100_000 + (rounds % 1000));
      expect(holds(heap, b), `the page's block at ${b.ptr} was overwritten`);
      heap.free(b.ptr);
      rounds++;
    }
    const done = await next();
    expect(done.type === 'done', `the worker sent ${done.type}`);
    const report = (done as { report: WorkerReport }).report;
    worker.terminate();
    gone?.();

    // The worker's blocks, written in its thread, read and freed in this one.
    let workerBlocksCheckedByPage = 0;
    for (const b of report.kept) {
      if (holds(heap, b)) workerBlocksCheckedByPage++;
      heap.free(b.ptr);
    }
    // The page's blocks the worker did not free: intact, then freed.
    let pageBlocksIntact = 0;
    const freedByWorker = new Set(freeIndexes);
    for (const [i, b] of pageBlocks.entries()) {
      if (freedByWorker.has(i)) continue;
      if (holds(heap, b)) pageBlocksIntact++;
      heap.free(b.ptr);
    }
    // A malloc of each tier takes back what the worker sent to the page's remote-free lists.
    for (const size of [16, 64, 256, 1024, 2048, 4096, 16_384, 60_000]) heap.free(heap.malloc(size));
    heap.validate();
    heap.trim(); // gives back the empty slabs and collects the worker's abandoned thread id
    heap.validate();
    return {
      pageTid: heap.tid, workerTid, pageAllocated: pageBlocks.length, workerChecked: report.pageBlocksChecked,
      remoteFreesByWorker: report.remoteFrees, workerAllocated: report.allocated, workerFreedOwn: report.freedOwn,
      workerSentToOwners: report.sentToOwners, workerBlocksCheckedByPage, remoteFreesByPage: report.kept.length,
      pageBlocksIntact, pageRoundsMeanwhile: rounds, remoteDrainedByPage: remoteDrained(heap), workerDetached: report.detached,
      validate: 'ok', liveBytesAfter: heap.liveBytes(), threadsAfter: heap.threads().map((t) => `${t.tid} ${t.state}`),
      ms: Math.round(performance.now() - t0),
    };
  } finally {
    worker.terminate();
  }
}

const NO_SHARED = 'Shared memory is unavailable: this page is not cross-origin isolated (crossOriginIsolated is false), '
  + 'so the browser gives it no SharedArrayBuffer and createHeap({ shared: true }) cannot work. Serve the page with the headers '
  + '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" (npm run dev and npm run preview do). '
  + 'The heap on the page, which is not shared, works without them.';

async function main(): Promise<PageResult> {
  const isolated = globalThis.crossOriginIsolated === true;
  let local: LocalResult | null = null;
  let shared: SharedResult | null = null;
  try {
    local = localHeap();
    show($('local-figures'), { ...local });
    if (!isolated || typeof SharedArrayBuffer === 'undefined') {
      // What the allocator says when asked anyway: a typed error, E_INVALID_OPTION.
      let sharedRefused = 'not refused';
      try {
        createHeap({ shared: true, maxBytes: 1 << 20 });
      } catch (error) {
        sharedRefused = error instanceof Error ? `${error.name}: ${error.message}` : String(error); // HakmemError: E_INVALID_OPTION: …
      }
      show($('shared-figures'), { crossOriginIsolated: isolated, 'createHeap({ shared: true })': sharedRefused });
      return { state: 'no-shared', crossOriginIsolated: isolated, local, shared, sharedRefused, message: NO_SHARED };
    }
    shared = await sharedHeap();
    show($('shared-figures'), { crossOriginIsolated: isolated, ...shared });
    return {
      state: 'done', crossOriginIsolated: isolated, local, shared, sharedRefused: null,
      message: `Done: the page and the worker allocated ${shared.pageAllocated} + ${shared.workerAllocated} blocks in one shared heap, `
        + `${shared.remoteFreesByWorker} + ${shared.remoteFreesByPage} remote frees, validate ok, live bytes ${shared.liveBytesAfter} at the end.`,
    };
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { state: 'error', crossOriginIsolated: isolated, local, shared, sharedRefused: null, message: `Failed: ${message}` };
  }
}

void main().then((result) => {
  const msg = $('message');
  msg.textContent = result.message;
  msg.dataset.kind = result.state === 'done' ? 'ok' : result.state === 'no-shared' ? 'warning' : 'error';
  const out = $('result');
  out.textContent = JSON.stringify(result, null, 2);
  out.hidden = false;
  document.body.dataset.state = result.state;
  window.hakmemExample = result;
});
