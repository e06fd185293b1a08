import type { Ptr } from '@hakmem/contracts';
import type { HeapUnderTest } from '../api.js';
import { check, fail, type ConformanceCase } from './types.js';

/**
 * One thread's instance of a shared heap, as the reclaim clause drives it: a `Heap` of
 * `@hakmem/allocator` is one as it is.
 */
export interface ReclaimHeap extends HeapUnderTest {
  /** This instance's thread id. */
  readonly tid: number;
  /** Flushes this thread's caches, collects ABANDONED thread ids, gives back what is empty. */
  trim(): number;
  /** The heap's stats: the clause reads os-boundary's mapped bytes. */
  stats(): { readonly boxes: { readonly osBoundary: { readonly bytesInUse: number } } };
  /** The thread records in use (any state but FREE). */
  threads(): ReadonlyArray<{ readonly tid: number; readonly state: string }>;
}

/**
 * A fresh shared heap with the box under test swapped in, and the means to give it a
 * second thread that dies: what the clause "nothing is lost after reclaim" needs. Build
 * one with {@link sharedHeapWorld}.
 */
export interface ReclaimWorld {
  /** The creator's instance (a shared heap: `createHeap({ shared: true, boxes })`). */
  readonly heap: ReclaimHeap;
  /**
   * A second thread of the same heap, built with the same boxes (`attachHeap(heap.share(),
   * { boxes })`): "the worker".
   */
  attach(): ReclaimHeap;
  /**
   * `worker` dies without `detach()`; the creator reclaims its thread id as `heap.watch`
   * does on the worker's `exit` event. `worker` is not called again.
   */
  kill(worker: ReclaimHeap): void;
}

/** Builds a fresh {@link ReclaimWorld} per call. */
export type ReclaimWorldFactory = () => ReclaimWorld;

/** What {@link sharedHeapWorld} needs of `@hakmem/allocator`: its `createHeap` and `attachHeap`. */
export interface ReclaimAllocator<Boxes> {
  createHeap(options: { shared: true; maxBytes: number; boxes: Boxes }): ReclaimHeap & {
    share(): unknown;
    watch(worker: { readonly threadId: number; once(event: 'exit', listener: () => void): unknown }): void;
  };
  attachHeap(handle: never, options: { boxes: Boxes; hostThreadId: number }): ReclaimHeap;
}

/** Host thread ids the fake workers of {@link sharedHeapWorld} take: far above any worker_threads id. */
let nextHost = 100_000_000;

/**
 * A {@link ReclaimWorldFactory} over `@hakmem/allocator`: a shared heap of `maxBytes`
 * (default 64 MiB) composed with `boxes` (the box under test, e.g. `{ unifiedCache:
 * myFactory }`); `attach()` joins it from this same thread with the same boxes and a host
 * thread id of its own, and `kill(worker)` fires the `exit` of a watched fake worker with
 * that id — what `heap.watch` does when a real worker is terminated, without a worker.
 *
 * ```ts
 * import { attachHeap, createHeap } from '@hakmem/allocator';
 * const world = sharedHeapWorld({ createHeap, attachHeap }, { unifiedCache: myFactory });
 * unifiedCacheConformance(myFactory, world);
 * ```
 */
export function sharedHeapWorld<Boxes>(allocator: ReclaimAllocator<Boxes>, boxes: Boxes, maxBytes = 64 << 20): ReclaimWorldFactory {
  return () => {
    const heap = allocator.createHeap({ shared: true, maxBytes, boxes });
    const hosts = new Map<ReclaimHeap, number>();
    return {
      heap,
      attach() {
        const host = nextHost++;
        const worker = allocator.attachHeap(heap.share() as never, { boxes, hostThreadId: host });
        hosts.set(worker, host);
        return worker;
      },
      kill(worker) {
        const threadId = hosts.get(worker);
        if (threadId === undefined) fail('sharedHeapWorld kill: not a worker attach() made');
        let exit: (() => void) | undefined;
        heap.watch({ threadId, once: (_event, listener) => { exit = listener; } });
        check(exit !== undefined, 'sharedHeapWorld kill: heap.watch registered no exit listener');
        exit();
        hosts.delete(worker);
      },
    };
  };
}

/** Sizes the dying thread allocates: every tier (tiny, mid, L2.5, big), several classes of each. */
const SIZES: readonly number[] = [16, 48, 100, 256, 1000, 2000, 3000, 9000, 40_000, 100_000, 300_000, 1 << 20 | 4096, 3 << 20];

function stamp(heap: HeapUnderTest, p: Ptr, n: number, seed: number): void {
  const u8 = heap.views.u8;
  for (let i = 0; i < n; i++) u8[p + i] = (seed * 29 + i * 13 + 7) & 0xff;
}

function stamped(heap: HeapUnderTest, p: Ptr, n: number, seed: number): boolean {
  const u8 = heap.views.u8;
  for (let i = 0; i < n; i++) if (u8[p + i] !== ((seed * 29 + i * 13 + 7) & 0xff)) return false;
  return true;
}

const STAMP_BYTES = 64;

/**
 * The clause "nothing is lost after reclaim" for the box `box` (its name in the case):
 * in a shared heap built with the box under test, a second thread allocates and frees
 * blocks of every tier (so that its caches, slabs, spans and pools hold them), keeps
 * some live, and dies without `detach()`; the creator reclaims it (as `heap.watch` does on
 * the worker's exit). Then the heap validates and `liveBytes()` is exactly the live
 * blocks the dead thread left (their contents intact); once the creator freed them and ran
 * `trim()`, `liveBytes()` is 0, no thread record but the creator's is left, `validate()`
 * passes and os-boundary maps exactly what it mapped before the worker attached. A box
 * that keeps per-thread state the reclaim cannot find (JS-side caches, a rebuild that
 * ignores what the thread owned) leaks it here.
 *
 * `world` undefined: the case fails, saying what to pass (the clause cannot be skipped
 * silently).
 */
export function reclaimCase(box: string, world: ReclaimWorldFactory | undefined): ConformanceCase {
  const clause = `${box} reclaim: "nothing is lost after reclaim"`;
  return {
    name: `${box}: nothing is lost after reclaim — a thread of a shared heap built with this box allocates and frees in every tier, dies without detach() and is reclaimed: liveBytes() is what it left live, and after those are freed and trim() runs, 0, validate() passes and os-boundary maps what it mapped before the thread attached`,
    run() {
      if (world === undefined) {
        fail(`${clause}: the suite needs a shared heap built with the box under test to check it — pass sharedHeapWorld({ createHeap, attachHeap }, { <key>: factory }) of @hakmem/testkit as the suite's last argument`);
      }
      const { heap, attach, kill } = world();
      heap.trim();
      const mappedBefore = heap.stats().boxes.osBoundary.bytesInUse;
      const worker = attach();
      check(worker.tid !== heap.tid, `${clause}: the second thread has the creator's thread id ${heap.tid}`);
      const kept: Array<{ p: Ptr; seed: number }> = [];
      let seed = 1;
      for (const size of SIZES) {
        const n = size >= 1 << 20 ? 3 : size >= 65_536 ? 4 : 40;
        for (let round = 0; round < 2; round++) {
          const blocks: Ptr[] = [];
          for (let i = 0; i < n; i++) {
            const p = worker.malloc(size);
            check(p !== 0, `${clause}: the worker's malloc(${size}) returned 0 in a ${64} MiB heap`);
            stamp(worker, p, Math.min(size, STAMP_BYTES), seed);
            blocks.push(p);
            seed++;
          }
          // Free all but one of each round (into the worker's caches and pools); the last stays live.
          for (let i = 0; i < blocks.length - 1; i++) worker.free(blocks[i]!);
          kept.push({ p: blocks[blocks.length - 1]!, seed: seed - 1 });
        }
      }
      // The creator frees a few of the worker's blocks too: remote frees, queued on the worker's lists.
      for (let i = 0; i < 4; i++) {
        const { p } = kept.shift()!;
        heap.free(p);
      }
      kill(worker);
      try {
        heap.validate();
      } catch (e) {
        fail(`${clause}: the heap does not validate after the reclaim: ${String(e)}`);
      }
      let want = 0;
      for (const { p, seed: s } of kept) {
        check(stamped(heap, p, Math.min(heap.usableSize(p), STAMP_BYTES), s), `${clause}: the dead thread's live block 0x${p.toString(16)} lost its contents`);
        want += heap.usableSize(p);
      }
      const live = heap.liveBytes();
      check(live === want, `${clause}: liveBytes() is ${live} after the reclaim, but the dead thread left ${want} bytes live (${live - want} bytes it had cached or held are lost)`);
      for (const { p } of kept) heap.free(p);
      heap.trim();
      try {
        heap.validate();
      } catch (e) {
        fail(`${clause}: the heap does not validate after trim(): ${String(e)}`);
      }
      const after = heap.liveBytes();
      check(after === 0, `${clause}: liveBytes() is ${after} with no block live (after the reclaim, the frees and trim()): the dead thread's cached blocks leaked`);
      const others = heap.threads().filter((t) => t.tid !== heap.tid);
      check(others.length === 0, `${clause}: after trim() thread records ${others.map((t) => `${t.tid} (${t.state})`).join(', ')} are still held`);
      const mapped = heap.stats().boxes.osBoundary.bytesInUse;
      check(mapped === mappedBefore, `${clause}: os-boundary maps ${mapped} bytes after trim(), ${mappedBefore} before the thread attached (${mapped - mappedBefore} bytes the dead thread held are lost)`);
    },
  };
}
