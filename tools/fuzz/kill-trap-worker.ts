// A worker of the kill test's deterministic cases (packages/allocator/test/kill.test.ts):
// it attaches with an os-boundary whose region calls — and whose backend's grow — can be
// trapped: the first call of the armed kind stops the thread right there (it says so in
// its table and sleeps until the creator terminates it). So a kill lands at a chosen point
// inside a heap call: inside the superslab tier's lock (a SuperSlab mapped, not yet
// committed), inside os-boundary's lock (the memory grown, the range not yet committed),
// inside an L2.5 shard's lock (a block mapped), inside bigcache's lock (a block evicted, not
// yet unmapped), or between boxes with no lock (a pool arena chunk, a big block mapped).
//
// table (Int32): 0 state (1 attached, 2 trapped, 3 done without a trap), 1 tid, 3 the size of
// the call that was trapped, 8.. the blocks it holds (0 once freed).
import { workerData, parentPort } from 'node:worker_threads';
import { attachHeap, defaultBoxes } from '@hakmem/allocator';
import type { MemoryBackend, OsBoundary, OsBoundaryOptions, OsBoundaryStats, Ptr } from '@hakmem/contracts';

export const TRAP_MAP_AFTER = 1;
export const TRAP_MAP_BEFORE = 2;
export const TRAP_UNMAP_BEFORE = 3;
export const TRAP_GROW_AFTER = 4;

export interface TrapJob {
  readonly handle: import('@hakmem/allocator').SharedHeapHandle;
  readonly table: SharedArrayBuffer;
  /** TRAP_* kind armed, and the smallest size (bytes; pages for grow) of a call that springs it. */
  readonly trap: number;
  readonly minBytes: number;
  /** What the worker does once attached: sizes to malloc (then free, in order, if `free`). */
  readonly sizes: readonly number[];
  readonly free: boolean;
  /** Keep the trap armed through detach() (e.g. its unmap of the thread's cache regions). */
  readonly inDetach?: boolean;
}

const job = (workerData as { data?: TrapJob } | null)?.data;
const table = job === undefined ? new Int32Array(16) : new Int32Array(job.table);
let armed = false;

function spring(kind: number, bytes: number): void {
  if (!armed || job === undefined || job.trap !== kind || bytes < job.minBytes) return;
  armed = false;
  Atomics.store(table, 3, bytes);
  Atomics.store(table, 0, 2);
  for (;;) Atomics.wait(table, 0, 2, 1000); // here until terminated
}

function trapBackend(b: MemoryBackend): MemoryBackend {
  return new Proxy(b, {
    get(target, prop, receiver) {
      if (prop === 'grow') {
        return (delta: number): number => {
          const r = target.grow(delta);
          spring(TRAP_GROW_AFTER, delta);
          return r;
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

class TrappedOsBoundary implements OsBoundary {
  readonly name = 'os-boundary';
  private readonly inner: OsBoundary;
  constructor(inner: OsBoundary) {
    this.inner = inner;
  }
  map(bytes: number, align: number): Ptr {
    spring(TRAP_MAP_BEFORE, bytes);
    const p = this.inner.map(bytes, align);
    if (p !== 0) spring(TRAP_MAP_AFTER, bytes);
    return p;
  }
  lastMapZeroed(): boolean { return this.inner.lastMapZeroed(); }
  unmap(addr: Ptr, bytes: number): void {
    spring(TRAP_UNMAP_BEFORE, bytes);
    this.inner.unmap(addr, bytes);
  }
  decommit(addr: Ptr, bytes: number): void { this.inner.decommit(addr, bytes); }
  mapAt(addr: Ptr, bytes: number): boolean { return this.inner.mapAt(addr, bytes); }
  releaseTop(): number { return this.inner.releaseTop(); }
  end(): number { return this.inner.end(); }
  freeRanges(): Array<[Ptr, number]> { return this.inner.freeRanges(); }
  stats(): OsBoundaryStats { return this.inner.stats(); }
  checkInvariants(): void { this.inner.checkInvariants(); }
  recover(): { locks: number; repaired: number } { return this.inner.recover?.() ?? { locks: 0, repaired: 0 }; }
}

if (job !== undefined) {
  const heap = attachHeap(job.handle, {
    boxes: { osBoundary: (o: OsBoundaryOptions) => new TrappedOsBoundary(defaultBoxes.osBoundary({ ...o, backend: trapBackend(o.backend) })) },
  });
  Atomics.store(table, 1, heap.tid);
  Atomics.store(table, 0, 1);
  armed = true;
  // Its blocks in the table from word 8 (stored right after malloc returns, cleared right after free returns).
  for (let i = 0; i < job.sizes.length; i++) table[8 + i] = heap.malloc(job.sizes[i]!);
  if (job.free) {
    for (let i = 0; i < job.sizes.length; i++) {
      heap.free(table[8 + i]!);
      table[8 + i] = 0;
    }
  }
  armed = job.inDetach === true;
  heap.detach();
  armed = false;
  Atomics.store(table, 0, 3);
  parentPort!.postMessage({ done: true });
}
