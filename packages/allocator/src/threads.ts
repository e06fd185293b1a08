import {
  ErrorCode, GH_NEXT_THREAD_ID, GH_THREAD_LOCK, HakmemError, MAX_THREADS, PAGE_SHIFT, PAGE_SIZE, PageKind, REG_KIND_MASK,
  REG_THREAD_MASK, REG_THREAD_SHIFT, ThreadState, TR_ATTACHES, TR_HOST_ID, TR_INFLIGHT_BLOCK, TR_POOL_CACHE_BASE,
  TR_POOL_CACHE_BYTES, TR_POOL_DRAIN, TR_POOL_REMOTE_HEAD, TR_STATE, TR_TINY_CACHE_BASE, TR_TINY_CACHE_BYTES, TR_TINY_REMOTE_HEAD,
  retiredEntry, threadWord,
  type HeapLayout, type MemoryBackend, type OsBoundary,
} from '@hakmem/contracts';
import { alignUp, canBlockHere, lockAcquire, lockBreak, lockRelease } from '@hakmem/primitives';

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

/** This thread's host id (hostThreadId()), once per thread: what it names as the holder of the thread lock. */
let ownHost = -1;

/**
 * The holder id the thread lock's word records for host thread `hostId`: above every heap
 * thread id (the thread lock is taken before a thread has one, in attach).
 */
export function threadLockHolder(hostId: number): number {
  return MAX_THREADS + 1 + hostId;
}

function withThreadLock<T>(backend: MemoryBackend, fn: (i32: Int32Array) => T): T {
  const i32 = backend.views.i32;
  if (ownHost < 0) ownHost = hostThreadId();
  lockAcquire(i32, GH_THREAD_LOCK, backend.shared && canBlockHere(), threadLockHolder(ownHost));
  try {
    return fn(backend.views.i32);
  } finally {
    lockRelease(backend.views.i32, GH_THREAD_LOCK);
  }
}

/**
 * Releases the thread lock when host thread `hostId`, which is gone, holds it (it was
 * killed inside attach, detach or a reclaim: each critical section under the thread lock
 * is one run of stores, so the thread table is consistent). Returns true when it did.
 * Not for the calling thread's own host id, nor for 0 when host ids are not known.
 */
export function breakThreadLock(backend: MemoryBackend, hostId: number): boolean {
  if (ownHost < 0) ownHost = hostThreadId();
  if (hostId === ownHost) return false;
  return lockBreak(backend.views.i32, GH_THREAD_LOCK, threadLockHolder(hostId));
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
    // One run of stores (indexes first): a thread stopped anywhere either took the record,
    // with its host id and clean in-flight words, or did not.
    const w = threadWord(pick, 0);
    i32.fill(0, w + TR_INFLIGHT_BLOCK, w + TR_POOL_DRAIN + 1);
    i32[w + TR_HOST_ID] = hostId;
    i32[w + TR_ATTACHES]!++;
    if (pick >= i32[GH_NEXT_THREAD_ID]!) i32[GH_NEXT_THREAD_ID] = pick + 1;
    Atomics.store(i32, w + TR_STATE, ThreadState.LIVE);
    return { tid: pick, adopted };
  });
}

/**
 * Claims thread `tid` for collection by another thread: ABANDONED becomes BUSY, and so
 * does LIVE when `deadHost` is given and the record names that host thread (which the
 * caller saw exit: the check and the claim are one step under the thread lock, so a record
 * another thread took in between is not claimed). False otherwise.
 */
export function claimThread(backend: MemoryBackend, tid: number, deadHost?: number): boolean {
  return withThreadLock(backend, (i32) => {
    const w = threadWord(tid, TR_STATE);
    const s = i32[w];
    const dead = deadHost !== undefined && s === ThreadState.LIVE && i32[threadWord(tid, TR_HOST_ID)] === deadHost;
    if (s !== ThreadState.ABANDONED && !dead) return false;
    Atomics.store(i32, w, ThreadState.BUSY);
    return true;
  });
}

/**
 * Gives back the id the calling thread took when building its instance failed: ABANDONED,
 * so that the next `trim()` of any thread collects whatever its boxes had mapped (an
 * adopted id's slabs and spans stay its own until then).
 */
export function abandonThread(backend: MemoryBackend, tid: number): void {
  withThreadLock(backend, (i32) => { Atomics.store(i32, threadWord(tid, TR_STATE), ThreadState.ABANDONED); });
}

/** The state of thread record `tid` now. */
export function threadState(backend: MemoryBackend, tid: number): ThreadState {
  return Atomics.load(backend.views.i32, threadWord(tid, TR_STATE)) as ThreadState;
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
  const w = threadWord(tid, 0);
  withThreadLock(backend, (i32) => {
    // The Atomics call first (V8 may stop a thread at its entry), then one plain store.
    Atomics.store(i32, w + TR_STATE, state);
    if (!owns) i32[w + TR_HOST_ID] = 0;
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
      const reg = layout.registryOffset >>> 2;
      const meta = PageKind.META | (tid << REG_THREAD_SHIFT);
      base = os.map(bytes, PAGE_SIZE);
      if (base === 0) throw new HakmemError(ErrorCode.OUT_OF_MEMORY, `no memory for thread ${tid}'s cache storage (${bytes} bytes)`, { box: 'allocator' });
      // One run with map's return: the registry and the record name the region together.
      const v = backend.views.i32;
      v.fill(meta, reg + (base >>> PAGE_SHIFT), reg + ((base + bytes) >>> PAGE_SHIFT));
      v[bw] = base;
      v[nw] = bytes;
      if (os.lastMapZeroed() === false) new Int32Array(backend.buffer(), base, bytes >>> 2).fill(0);
    }
    return new Int32Array(backend.buffer(), base, words);
  };
}

function unmapCacheRegion(backend: MemoryBackend, layout: HeapLayout, os: OsBoundary, tid: number, baseWord: number, bytesWord: number): void {
  const i32 = backend.views.i32;
  const bw = threadWord(tid, baseWord);
  const nw = threadWord(tid, bytesWord);
  const base = i32[bw]!;
  const bytes = i32[nw]!;
  if (base === 0) return;
  const reg = layout.registryOffset >>> 2;
  const retired = retiredEntry(backend.shared, tid);
  // One run: the record forgets the region as its registry entries are retired; then it is unmapped.
  i32.fill(retired, reg + (base >>> PAGE_SHIFT), reg + ((base + bytes) >>> PAGE_SHIFT));
  i32[bw] = 0;
  i32[nw] = 0;
  os.unmap(base, bytes);
}

/**
 * Gives back to os-boundary every page the registry says thread `tid` has mapped and no
 * box owns (MAPPED with its id): what a thread killed between os-boundary and a box had
 * in flight — a range it was given and had not stamped yet, or was giving back. Pages
 * that are in a free range already (left so by a region source that does not clear the
 * registry on unmap) are left alone. Returns the bytes unmapped. Pre: no live thread has
 * `tid`.
 */
export function sweepThread(backend: MemoryBackend, layout: HeapLayout, os: OsBoundary, tid: number): number {
  backend.refresh();
  const free = os.freeRanges();
  const i32 = backend.views.i32;
  const reg = layout.registryOffset >>> 2;
  const entry = PageKind.MAPPED | (tid << REG_THREAD_SHIFT);
  const last = Math.min(os.end(), i32.byteLength) >>> PAGE_SHIFT;
  let bytes = 0;
  let f = 0;
  // Free ranges in address order, as pages: `inFree(q)` for ascending q moves one cursor.
  const inFree = (q: number): boolean => {
    while (f < free.length && (free[f]![0] + free[f]![1]) >>> PAGE_SHIFT <= q) f++;
    return f < free.length && free[f]![0] >>> PAGE_SHIFT <= q;
  };
  for (let p = layout.heapStart >>> PAGE_SHIFT; p < last; p++) {
    if (i32[reg + p] !== entry) continue;
    const stale = inFree(p);
    let run = 1;
    while (p + run < last && i32[reg + p + run] === entry && inFree(p + run) === stale) run++;
    // os-boundary clears their entries as it takes them back (and another thread may map
    // them at once: nothing is written here after the unmap).
    if (!stale) {
      os.unmap(p << PAGE_SHIFT, run << PAGE_SHIFT);
      bytes += run << PAGE_SHIFT;
    }
    p += run - 1;
  }
  return bytes;
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

