import {
  ErrorCode, GH_NEXT_THREAD_ID, GH_THREAD_LOCK, HakmemError, MAX_THREADS, PAGE_SHIFT, PAGE_SIZE, PageKind, REG_KIND_MASK,
  REG_THREAD_MASK, REG_THREAD_SHIFT, ThreadState, TR_ATTACHES, TR_HOST_ID, TR_POOL_CACHE_BASE,
  TR_POOL_CACHE_BYTES, TR_POOL_REMOTE_HEAD, TR_STATE, TR_TINY_CACHE_BASE, TR_TINY_CACHE_BYTES, TR_TINY_REMOTE_HEAD,
  threadWord,
  type HeapLayout, type MemoryBackend, type OsBoundary,
} from '@hakmem/contracts';
import { alignUp, canBlockHere, lockAcquire, lockRelease } from '@hakmem/primitives';

/**
 * The thread registry of a heap: the thread records in page 0 (see "Thread records" in
 * `@hakmem/contracts`' layout), taken and given back under the header's thread lock.
 * Every function here is a slow path (attach, detach, reclaim, trim).
 */

/** One thread record as `heap.threads()` reports it. */
export interface ThreadRecord {
  readonly tid: number;
  readonly state: 'live' | 'abandoned' | 'busy';
  /** The host's id of the thread that took it last (worker_threads' `threadId`), 0 unknown. */
  readonly hostId: number;
  /** Times the record was taken (attach or adoption). */
  readonly attaches: number;
}

/** What {@link takeThread} handed out. */
export interface TakenThread {
  readonly tid: number;
  /** True when the id was ABANDONED: its slabs and spans are still owned by it, to adopt. */
  readonly adopted: boolean;
}

/** The host's id of the calling thread: worker_threads' `threadId` under Node (0 on its main thread), else 0. */
export function hostThreadId(): number {
  const p = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  const wt = p?.getBuiltinModule?.('node:worker_threads') as { threadId?: number } | undefined;
  return typeof wt?.threadId === 'number' ? wt.threadId : 0;
}

function withThreadLock<T>(backend: MemoryBackend, fn: (i32: Int32Array) => T): T {
  const i32 = backend.views.i32;
  lockAcquire(i32, GH_THREAD_LOCK, backend.shared && canBlockHere());
  try {
    return fn(backend.views.i32);
  } finally {
    lockRelease(backend.views.i32, GH_THREAD_LOCK);
  }
}

/**
 * Takes a thread id for the calling thread: an ABANDONED one first (its slabs and spans
 * are adopted, as mimalloc adopts abandoned segments), else the lowest FREE one.
 * Throws `E_INVALID_OPTION` when all MAX_THREADS ids are taken.
 */
export function takeThread(backend: MemoryBackend, hostId: number): TakenThread {
  return withThreadLock(backend, (i32) => {
    let pick = 0;
    let adopted = false;
    for (let t = 1; t <= MAX_THREADS; t++) {
      const s = i32[threadWord(t, TR_STATE)];
      if (s === ThreadState.ABANDONED) {
        pick = t;
        adopted = true;
        break;
      }
      if (s === ThreadState.FREE && pick === 0) pick = t;
    }
    if (pick === 0) {
      throw new HakmemError(ErrorCode.INVALID_OPTION, `all ${MAX_THREADS} thread ids of the heap are taken (detach or reclaim threads that are gone)`, { box: 'allocator' });
    }
    Atomics.store(i32, threadWord(pick, TR_STATE), ThreadState.LIVE);
    i32[threadWord(pick, TR_HOST_ID)] = hostId;
    i32[threadWord(pick, TR_ATTACHES)]!++;
    if (pick >= i32[GH_NEXT_THREAD_ID]!) i32[GH_NEXT_THREAD_ID] = pick + 1;
    return { tid: pick, adopted };
  });
}

/**
 * Claims thread `tid` for collection by another thread: LIVE (the caller says its thread
 * is gone) or ABANDONED becomes BUSY. False when it is FREE or BUSY already.
 */
export function claimThread(backend: MemoryBackend, tid: number, live: boolean): boolean {
  return withThreadLock(backend, (i32) => {
    const w = threadWord(tid, TR_STATE);
    const s = i32[w];
    if (s !== ThreadState.ABANDONED && !(live && s === ThreadState.LIVE)) return false;
    Atomics.store(i32, w, ThreadState.BUSY);
    return true;
  });
}

/** Ids of the ABANDONED threads now (for trim to collect). */
export function abandonedThreads(backend: MemoryBackend): number[] {
  const i32 = backend.views.i32;
  const out: number[] = [];
  for (let t = 1; t <= MAX_THREADS; t++) if (Atomics.load(i32, threadWord(t, TR_STATE)) === ThreadState.ABANDONED) out.push(t);
  return out;
}

/** The records in use (not FREE). */
export function threadRecords(backend: MemoryBackend): ThreadRecord[] {
  const i32 = backend.views.i32;
  const out: ThreadRecord[] = [];
  const names = { [ThreadState.LIVE]: 'live', [ThreadState.ABANDONED]: 'abandoned', [ThreadState.BUSY]: 'busy' } as const;
  for (let t = 1; t <= MAX_THREADS; t++) {
    const s = Atomics.load(i32, threadWord(t, TR_STATE));
    if (s === ThreadState.FREE) continue;
    out.push({ tid: t, state: names[s as 1 | 2 | 3], hostId: i32[threadWord(t, TR_HOST_ID)]!, attaches: i32[threadWord(t, TR_ATTACHES)]! });
  }
  return out;
}

/** True when a tiny slab or a pool span still belongs to thread `tid` (the registry's thread field). */
export function ownsPages(backend: MemoryBackend, layout: HeapLayout, tid: number, end: number): boolean {
  const i32 = backend.views.i32;
  const reg = layout.registryOffset >>> 2;
  const last = Math.min(end, i32.byteLength) >>> PAGE_SHIFT;
  for (let p = layout.heapStart >>> PAGE_SHIFT; p < last; p++) {
    const e = i32[reg + p]!;
    const k = e & REG_KIND_MASK;
    if ((k === PageKind.TINY || k === PageKind.POOL) && ((e >>> REG_THREAD_SHIFT) & REG_THREAD_MASK) === tid) return true;
  }
  return false;
}

/**
 * Gives thread `tid`'s record back after its caches were flushed: ABANDONED when it still
 * owns slabs or spans with live blocks (frees of them queue on its remote lists until an
 * adopter or a trim collects them), else FREE, with its cache regions unmapped.
 */
export function releaseThread(backend: MemoryBackend, layout: HeapLayout, os: OsBoundary, tid: number): ThreadState {
  const owns = ownsPages(backend, layout, tid, os.end())
    || backend.views.i32[threadWord(tid, TR_TINY_REMOTE_HEAD)] !== 0 || backend.views.i32[threadWord(tid, TR_POOL_REMOTE_HEAD)] !== 0;
  if (!owns) {
    unmapCacheRegion(backend, layout, os, tid, TR_TINY_CACHE_BASE, TR_TINY_CACHE_BYTES);
    unmapCacheRegion(backend, layout, os, tid, TR_POOL_CACHE_BASE, TR_POOL_CACHE_BYTES);
  }
  const state = owns ? ThreadState.ABANDONED : ThreadState.FREE;
  withThreadLock(backend, (i32) => {
    Atomics.store(i32, threadWord(tid, TR_STATE), state);
    if (!owns) i32[threadWord(tid, TR_HOST_ID)] = 0;
  });
  return state;
}

/**
 * The storage of a thread's cache in the linear memory (a shared heap): the region named
 * by record words `baseWord` / `bytesWord` when it is large enough (an adopted id's: its
 * blocks are kept), else a fresh region mapped from os-boundary (registry META with the
 * thread id). Throws `E_OUT_OF_MEMORY` when the memory cannot hold it.
 */
export function cacheStorage(backend: MemoryBackend, layout: HeapLayout, os: OsBoundary, tid: number, baseWord: number, bytesWord: number): (words: number) => Int32Array {
  return (words: number): Int32Array => {
    const i32 = backend.views.i32;
    const bw = threadWord(tid, baseWord);
    const nw = threadWord(tid, bytesWord);
    let base = i32[bw]!;
    if (base === 0 || i32[nw]! < words * 4) {
      if (base !== 0) unmapCacheRegion(backend, layout, os, tid, baseWord, bytesWord);
      const bytes = alignUp(words * 4, PAGE_SIZE);
      base = os.map(bytes, PAGE_SIZE);
      if (base === 0) throw new HakmemError(ErrorCode.OUT_OF_MEMORY, `no memory for thread ${tid}'s cache storage (${bytes} bytes)`, { box: 'allocator' });
      const v = backend.views.i32;
      const reg = layout.registryOffset >>> 2;
      v.fill(PageKind.META | (tid << REG_THREAD_SHIFT), reg + (base >>> PAGE_SHIFT), reg + ((base + bytes) >>> PAGE_SHIFT));
      if (os.lastMapZeroed() === false) new Int32Array(backend.buffer(), base, bytes >>> 2).fill(0);
      v[bw] = base;
      v[nw] = bytes;
    }
    return new Int32Array(backend.buffer(), base, words);
  };
}

function unmapCacheRegion(backend: MemoryBackend, layout: HeapLayout, os: OsBoundary, tid: number, baseWord: number, bytesWord: number): void {
  const i32 = backend.views.i32;
  const base = i32[threadWord(tid, baseWord)]!;
  const bytes = i32[threadWord(tid, bytesWord)]!;
  if (base === 0) return;
  const reg = layout.registryOffset >>> 2;
  i32.fill(PageKind.NONE, reg + (base >>> PAGE_SHIFT), reg + ((base + bytes) >>> PAGE_SHIFT));
  os.unmap(base, bytes);
  i32[threadWord(tid, baseWord)] = 0;
  i32[threadWord(tid, bytesWord)] = 0;
}

/** Blocks waiting on every thread's tiny (or pool) remote-free list, and their bytes by `sizeOf(block)`. */
export function pendingRemote(backend: MemoryBackend, field: number, sizeOf: (block: number) => number): { blocks: number; bytes: number } {
  const i32 = backend.views.i32;
  let blocks = 0;
  let bytes = 0;
  for (let t = 1; t <= MAX_THREADS; t++) {
    for (let p = i32[threadWord(t, field)]!, k = 0; p !== 0 && k < 1 << 24; p = i32[p >>> 2]!, k++) {
      blocks++;
      bytes += sizeOf(p);
    }
  }
  return { blocks, bytes };
}

