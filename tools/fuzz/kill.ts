// Fault injection with workers: rounds in which workers run a random malloc / free /
// realloc stress over every tier on one shared heap (tools/fuzz/kill-worker.ts) and the
// creator terminates some of them at random moments — most often inside a heap call, often
// while a box lock is held — lets `heap.watch` reclaim them, and then checks:
//  - no deadlock: the survivors reach a quiet point, then allocate and free in every tier,
//    and so does the creator, each within a time limit;
//  - the heap is consistent: `validate()` with the survivors paused, and at the end;
//  - nothing is lost: the survivors' blocks kept their contents, the dead workers' live
//    blocks too (the creator frees them); a free or realloc the worker was in the middle of
//    left its block either live or freed, never both nor neither (resolved exactly, see
//    `isAllocated`); after every thread freed everything and `trim()`, no live byte is left
//    and os-boundary maps exactly what a fresh heap maps (the creator's caches).
// Used by packages/allocator/test/kill.test.ts (in CI) and by the fuzz campaign's kill cases.
import type { Worker } from 'node:worker_threads';
import { createHeap, type Heap, type ReclaimReport } from '@hakmem/allocator';
import {
  GH_DEBUG_BITMAP, GH_FREE_KEY, L25BlockState, MAX_THREADS, PAGE_SHIFT, PAGE_SIZE, PageKind, PD_BLOCK_SIZE, PD_CARVE, PD_FREE_HEAD,
  PD_REGION_STATE, REG_AUX_MASK, REG_AUX_SHIFT, REG_KIND_MASK, TR_POOL_CACHE_BASE, TR_POOL_CACHE_BYTES, TR_POOL_DRAIN,
  TR_POOL_REMOTE_HEAD, TR_TINY_CACHE_BASE, TR_TINY_CACHE_BYTES, TR_TINY_DRAIN, TR_TINY_REMOTE_HEAD, threadWord,
} from '@hakmem/contracts';
import { alignUp } from '@hakmem/primitives';
import { tsWorker } from '../worker/ts-worker.js';
import {
  C_PAUSE, C_RELEASE, C_RESUME, S_ALLOCATING, S_FREEING, S_LIVE, S_REALLOCATING, S_UNFILLED, SLOT_BASE, SLOT_WORDS, tableBytes,
  describeMismatch, verifyBlock, W_CMD, W_INCALL, W_MISMATCHES, W_OPS, W_STATE, W_TID, WS_FINISHED, WS_PAUSED, WS_RUNNING, xorshift,
  type KillWorkerJob,
} from './kill-table.js';

/** One replayable kill case (the fuzz campaign saves a failing one as packages/testkit/regressions/kill-<seed>.json). */
export interface KillCase {
  readonly kind: 'kill';
  readonly seed: number;
  readonly rounds: number;
  /** Workers per round. */
  readonly workers: number;
  /** At most this many of them are terminated per round (1..workers − 1: one survivor at least). */
  readonly kills: number;
  /** Live-block slots per worker. */
  readonly slots: number;
  /** Kill delay range after the workers run, in ms. */
  readonly minDelay: number;
  readonly maxDelay: number;
  readonly debug: number;
  readonly maxBytes: number;
  /** A growable SharedArrayBuffer (views re-covered after growth elsewhere) instead of the reserved one. */
  readonly growable?: boolean;
  /** A shared WebAssembly.Memory instead (its buffer replaced on every growth). */
  readonly wasm?: boolean;
}

/** What a kill case saw. */
export interface KillStats {
  rounds: number;
  kills: number;
  /** Kills that landed while the worker was inside a heap call (its in-call word). */
  inCall: number;
  /** Kills after which reclaim found the worker holding at least one lock. */
  holdingLocks: number;
  /** Kills after which reclaim finished or undid at least one operation in progress. */
  repairedOps: number;
  /** Kills inside a call, holding a lock, or with an operation in progress. */
  midOperation: number;
  /** Locks found held, by box. */
  locks: Record<string, number>;
  /** Operations repaired, by box. */
  repaired: Record<string, number>;
  strayBytes: number;
  /** Dead workers' blocks the creator freed (live ones, and pending frees found still allocated). */
  deadBlocksFreed: number;
  /** Pending frees / reallocs of dead workers whose block was found freed already. */
  pendingResolvedFreed: number;
  /** Pending frees / reallocs whose block was found still allocated (freed by the creator). */
  pendingResolvedLive: number;
  /** Worker operations in all. */
  ops: number;
  /** Pattern mismatches (must be 0). */
  mismatches: number;
}

const SCRIPT = new URL('./kill-worker.ts', import.meta.url);
const FINAL_SIZES = [24, 700, 2048, 5000, 40_000, 65_535, 100_000, 600_000, 1 << 20, (1 << 20) + 1, 3 << 20];

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

export async function waitFor(cond: () => boolean, ms: number, what: string, detail?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) {
      const u0 = process.cpuUsage();
      await sleep(500);
      const u = process.cpuUsage(u0);
      throw new Error(`deadlock? ${what} did not happen within ${ms} ms (process CPU over the last 0.5 s: ${((u.user + u.system) / 5000).toFixed(0)} %)${detail === undefined ? '' : `: ${detail()}`}`);
    }
    await sleep(1);
  }
}

/** True when `p` is an address on `list` (a chain through the blocks' first words), walking at most `limit` links. */
function onList(i32: Int32Array, head: number, p: number, limit = 1 << 22): boolean {
  for (let b = head, k = 0; b !== 0 && k < limit; b = i32[b >>> 2]!, k++) if (b === p) return true;
  return false;
}

/** True when `p` sits in the per-class stacks of a thread's cache region (record word `baseWord`), `classes` classes. */
function inCacheRegion(i32: Int32Array, tid: number, baseWord: number, classes: number, p: number): boolean {
  const base = i32[threadWord(tid, baseWord)]! >>> 2;
  if (base === 0) return false;
  for (let c = 0; c < classes; c++) {
    const top = i32[base + c * 4]!;
    for (let i = i32[base + c * 4 + 1]!; i < top; i++) if (i32[base + i] === p) return true;
  }
  return false;
}

/**
 * Whether `p` is a block the heap has handed out and not taken back — `heap.isAllocated(p)`,
 * the question the application asks after a reclaim, checked against this file's own walk
 * of the metadata (`allocatedByWalk`): a disagreement throws. Pre: no other thread is
 * inside a heap call.
 */
export function isAllocated(heap: Heap, p: number): boolean {
  const said = heap.isAllocated(p);
  const walked = allocatedByWalk(heap, p);
  if (said !== walked) throw new Error(`heap.isAllocated(0x${p.toString(16)}) is ${said}, the metadata walk says ${walked}`);
  return said;
}

/**
 * Whether `p` is a block the heap has handed out and not taken back: exact from the
 * metadata (a tiny or pool block is not on its slab's or span's free list, no remote list
 * or drain, no thread's cache; an L2.5 or big block's head is LIVE).
 */
function allocatedByWalk(heap: Heap, p: number): boolean {
  heap.refresh();
  const i32 = heap.views.i32;
  const reg = heap.layout.registryOffset >>> 2;
  const pd = heap.layout.pageTableOffset >>> 2;
  const e = i32[reg + (p >>> PAGE_SHIFT)]!;
  const kind = e & REG_KIND_MASK;
  if (kind === PageKind.L25 || kind === PageKind.BIG) {
    return (p & 0xffff) === 0 && ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK) === 0 && i32[pd + ((p >>> PAGE_SHIFT) << 4) + PD_REGION_STATE] === L25BlockState.LIVE;
  }
  if (kind !== PageKind.TINY && kind !== PageKind.POOL) return false;
  const head = kind === PageKind.TINY ? p >>> PAGE_SHIFT : (p >>> PAGE_SHIFT) - ((e >>> REG_AUX_SHIFT) & REG_AUX_MASK);
  const d = pd + (head << 4);
  const off = p - (head << PAGE_SHIFT);
  if (off % i32[d + PD_BLOCK_SIZE]! !== 0 || off >= i32[d + PD_CARVE]!) return false;
  if (onList(i32, i32[d + PD_FREE_HEAD]!, p)) return false;
  const tiny = kind === PageKind.TINY;
  const classes = tiny ? heap.boxes.tinyRoute.numClasses : heap.boxes.poolTls.numClasses;
  for (let t = 1; t <= MAX_THREADS; t++) {
    if (onList(i32, i32[threadWord(t, tiny ? TR_TINY_REMOTE_HEAD : TR_POOL_REMOTE_HEAD)]!, p)) return false;
    if (onList(i32, i32[threadWord(t, tiny ? TR_TINY_DRAIN : TR_POOL_DRAIN)]!, p)) return false;
    if (inCacheRegion(i32, t, tiny ? TR_TINY_CACHE_BASE : TR_POOL_CACHE_BASE, classes, p)) return false;
  }
  return true;
}

interface Running {
  readonly worker: Worker;
  readonly t: Int32Array;
  exited: boolean;
  report?: ReclaimReport;
  record?: number[];
}

function bump(m: Record<string, number>, names: readonly string[]): void {
  for (const n of names) m[n] = (m[n] ?? 0) + 1;
}

/**
 * What os-boundary maps in a shared heap with nothing allocated and everything trimmed:
 * the creator's two cache regions (and the debug bitmap at debug ≥ 1).
 */
export function expectedMapped(heap: Heap): number {
  const i32 = heap.views.i32;
  const bitmap = i32[GH_DEBUG_BITMAP] !== 0 ? alignUp((heap.layout.maxBytes >>> 6) + 1, PAGE_SIZE) : 0;
  return i32[threadWord(heap.tid, TR_TINY_CACHE_BYTES)]! + i32[threadWord(heap.tid, TR_POOL_CACHE_BYTES)]! + bitmap;
}

/** The creator allocates and frees in every tier (after a kill: no lock left held). */
export function everyTier(heap: Heap): void {
  for (const n of FINAL_SIZES) {
    const p = heap.malloc(n);
    if (p === 0) throw new Error(`creator: malloc(${n}) failed after the kill`);
    heap.u8(p, n).fill(0x5a);
    heap.free(p);
  }
}

/** Runs one kill case; throws what failed. */
export async function runKill(c: KillCase): Promise<KillStats> {
  const heap = createHeap({ shared: true, maxBytes: c.maxBytes, debug: c.debug, ...(c.wasm === true ? { backend: 'wasm' as const } : { growable: c.growable ?? false }) });
  const handle = heap.share();
  const rand = xorshift(c.seed);
  everyTier(heap);
  heap.trim();
  const baseline = expectedMapped(heap);
  if (heap.stats().boxes.osBoundary.bytesInUse !== baseline) throw new Error('a fresh heap, trimmed, maps more than the creator\'s caches');
  const stats: KillStats = {
    rounds: 0, kills: 0, inCall: 0, holdingLocks: 0, repairedOps: 0, midOperation: 0, locks: {}, repaired: {}, strayBytes: 0,
    deadBlocksFreed: 0, pendingResolvedFreed: 0, pendingResolvedLive: 0, ops: 0, mismatches: 0,
  };
  for (let round = 0; round < c.rounds; round++) {
    const run: Running[] = [];
    for (let w = 0; w < c.workers; w++) {
      const table = new SharedArrayBuffer(tableBytes(c.slots));
      const job: KillWorkerJob = { handle, table, seed: (rand() | 1) >>> 0, slots: c.slots };
      const worker = tsWorker(SCRIPT, { data: job });
      const r: Running = { worker, t: new Int32Array(table), exited: false };
      // Before watch's reclaim: the dead thread's record as it left it (failure messages).
      worker.once('exit', () => {
        const w = threadWord(r.t[W_TID]!, 0);
        r.record = Array.from(heap.views.i32.subarray(w, w + 16));
      });
      heap.watch(worker, (report) => { r.report = report; });
      worker.once('exit', () => { r.exited = true; });
      worker.once('error', (e) => { (r as { error?: unknown }).error = e; });
      run.push(r);
    }
    await waitFor(() => run.every((r) => Atomics.load(r.t, W_STATE) >= WS_RUNNING || r.exited), 30_000, 'every worker attached');
    for (const r of run) if (r.exited) throw new Error(`a worker exited early: ${String((r as { error?: unknown }).error)}`);
    // Let them run, then kill 1..kills of them at random moments.
    await sleep(c.minDelay + (rand() % (c.maxDelay - c.minDelay + 1)));
    const k = 1 + (rand() % c.kills);
    const victims = run.slice(0, k);
    const survivors = run.slice(k);
    for (const v of victims) {
      await v.worker.terminate();
      await waitFor(() => v.exited, 10_000, 'the victim\'s exit');
      if (Atomics.load(v.t, W_STATE) !== WS_RUNNING) throw new Error('a victim was not running when killed');
      stats.kills++;
      const rep = v.report;
      const inCall = v.t[W_INCALL] !== 0;
      if (inCall) stats.inCall++;
      if (rep !== undefined && rep.locks.length > 0) stats.holdingLocks++;
      if (rep !== undefined && rep.repaired.length > 0) stats.repairedOps++;
      if (inCall || (rep !== undefined && (rep.locks.length > 0 || rep.repaired.length > 0))) stats.midOperation++;
      if (rep !== undefined) {
        bump(stats.locks, rep.locks);
        bump(stats.repaired, rep.repaired);
        stats.strayBytes += rep.strayBytes;
      }
      if (rep === undefined && heap.threads().some((t) => t.tid === v.t[W_TID] && t.state === 'live')) throw new Error(`victim thread ${v.t[W_TID]} was not reclaimed`);
      if (random(rand, 2) === 0) await sleep(random(rand, 5)); // survivors go on meanwhile
    }
    // Survivors: to a quiet point (each within the limit: a lock the dead held and did not give back would stop them here).
    for (const s of survivors) Atomics.store(s.t, W_CMD, C_PAUSE);
    await waitFor(() => survivors.every((s) => Atomics.load(s.t, W_STATE) === WS_PAUSED || s.exited), 10_000, 'the survivors pausing after the kill', () => `locks ${describeLocks(heap)}; survivors ${JSON.stringify(survivors.map((x) => ({ tid: x.t[W_TID], inCall: x.t[W_INCALL], state: x.t[W_STATE] })))}; victims ${JSON.stringify(victims.map((x) => ({ tid: x.t[W_TID], inCall: x.t[W_INCALL], report: x.report ?? null })))}; threads ${JSON.stringify(heap.threads())}\n${describeSlabs(heap)}`);
    for (const s of survivors) if (s.exited) throw new Error(`a survivor died: ${String((s as { error?: unknown }).error)}`);
    try {
      heap.validate();
    } catch (e) {
      throw new Error(`after the kill: ${(e as Error).message}\nvictims ${JSON.stringify(victims.map((x) => ({ tid: x.t[W_TID], inCall: x.t[W_INCALL], report: x.report ?? null })))}\n${describeMapped(heap)}`);
    }
    // The dead workers' blocks: live ones checked and freed; a pending free / realloc resolved exactly.
    // A block is held (live or unfilled) by one slot at most; a pending free's block may be
    // held by another dead worker too: the free finished, that worker got the block since.
    const seen = new Map<number, string>();
    for (const v of victims) {
      for (let i = 0; i < c.slots; i++) {
        const s = SLOT_BASE + i * SLOT_WORDS;
        const st = v.t[s + 2]!;
        if (st !== S_LIVE && st !== S_UNFILLED) continue;
        const p = v.t[s]!;
        const who = `thread ${v.t[W_TID]} slot ${i} state ${st} size ${v.t[s + 1]}`;
        if (seen.has(p)) throw new Error(`block 0x${p.toString(16)} is held twice: ${seen.get(p)} and ${who}`);
        seen.set(p, who);
      }
    }
    for (const v of victims) {
      for (let i = 0; i < c.slots; i++) {
        const s = SLOT_BASE + i * SLOT_WORDS;
        const state = v.t[s + 2]!;
        const p = v.t[s]!;
        const n = v.t[s + 1]!;
        if (state === S_LIVE || state === S_UNFILLED) {
          if (state === S_LIVE && !verifyBlock(heap, p, n)) {
            throw new Error(`a dead worker's live block 0x${p.toString(16)} (${n} B, slot ${i}) lost its contents (allocated: ${isAllocated(heap, p)}; registry 0x${(heap.views.i32[(heap.layout.registryOffset >>> 2) + (p >>> PAGE_SHIFT)]! >>> 0).toString(16)}; first words ${Array.from(heap.views.u32.subarray(p >>> 2, (p >>> 2) + 4)).map((x) => x.toString(16)).join(' ')})\nreports: ${JSON.stringify(victims.map((x) => x.report ?? null))} inCall ${JSON.stringify(victims.map((x) => x.t[W_INCALL]))}`);
          }
          if (!isAllocated(heap, p)) throw new Error(`a dead worker's live block 0x${p.toString(16)} (${n} B) was freed by its reclaim`);
          heap.free(p);
          stats.deadBlocksFreed++;
        } else if (state === S_FREEING || state === S_REALLOCATING) {
          // Freed and taken by another thread since: the tag at offset 8 is gone (their pattern covers it).
          const tagged = heap.views.i32[(p + 8) >>> 2] === v.t[s + 3]!;
          if (tagged && !seen.has(p) && isAllocated(heap, p)) {
            heap.free(p);
            stats.pendingResolvedLive++;
            stats.deadBlocksFreed++;
          } else {
            stats.pendingResolvedFreed++;
          }
        } else if (state !== S_ALLOCATING && state !== 0) {
          throw new Error(`slot state ${state}`);
        }
      }
      stats.ops += v.t[W_OPS]!;
      stats.mismatches += v.t[W_MISMATCHES]!;
    }
    heap.validate();
    // After the kill, every tier serves the survivors and the creator.
    for (const s of survivors) {
      Atomics.store(s.t, W_CMD, C_RESUME);
      Atomics.notify(s.t, W_CMD);
    }
    everyTier(heap);
    await waitFor(() => survivors.every((s) => Atomics.load(s.t, W_STATE) === WS_FINISHED || s.exited), 15_000, 'the survivors\' allocations in every tier');
    for (const s of survivors) if (s.exited) throw new Error(`a survivor died: ${String((s as { error?: unknown }).error)}`);
    for (const s of survivors) {
      Atomics.store(s.t, W_CMD, C_RELEASE);
      Atomics.notify(s.t, W_CMD);
    }
    await waitFor(() => survivors.every((s) => s.exited), 15_000, 'the survivors freeing and detaching');
    for (const s of survivors) {
      if ((s as { error?: unknown }).error !== undefined) throw (s as { error?: unknown }).error;
      stats.ops += s.t[W_OPS]!;
      stats.mismatches += s.t[W_MISMATCHES]!;
    }
    if (stats.mismatches > 0) {
      const key = heap.views.i32[GH_FREE_KEY]!;
      const first = run.map((r) => describeMismatch(r.t, key)).filter((x) => x !== '');
      throw new Error(`round ${round}: ${stats.mismatches} blocks lost their contents; first in ${first.join('; ')}\nvictims ${JSON.stringify(victims.map((x) => ({ tid: x.t[W_TID], inCall: x.t[W_INCALL], report: x.report ?? null })))}`);
    }
    // Nothing lost: everything freed, trimmed: no live byte, no thread but the creator, the fresh heap's mapping.
    heap.trim();
    heap.validate();
    const live = heap.liveBytes();
    if (live !== 0) {
      const st = heap.stats();
      throw new Error(`round ${round}: ${live} live bytes remain after every block was freed: tiny ${JSON.stringify(st.tiny)} pool ${JSON.stringify(st.pool)} l25 ${JSON.stringify(st.l25)} big ${JSON.stringify(st.big)}\nreports: ${JSON.stringify(run.map((r) => r.report ?? null))} inCall ${JSON.stringify(victims.map((v) => v.t[W_INCALL]))} records ${JSON.stringify(victims.map((v) => v.record))}\n${describeMapped(heap)}`);
    }
    const threads = heap.threads();
    if (threads.length !== 1 || threads[0]!.tid !== heap.tid) throw new Error(`round ${round}: thread records left: ${JSON.stringify(threads)}`);
    const inUse = heap.stats().boxes.osBoundary.bytesInUse;
    if (inUse !== baseline) throw new Error(`round ${round}: os-boundary maps ${inUse} bytes, a fresh heap ${baseline}: ${inUse - baseline} bytes lost\n${describeMapped(heap)}\nreports: ${JSON.stringify(run.map((r) => r.report))}`);
    stats.rounds++;
  }
  return stats;
}

function random(rand: () => number, n: number): number {
  return rand() % n;
}

/** The mapped pages of a heap as runs of equal registry entries (kind, class, thread, aux of the first) and SuperSlab descriptors: for failure messages. */
export function describeMapped(heap: Heap): string {
  const i32 = heap.views.i32;
  const reg = heap.layout.registryOffset >>> 2;
  const pd = heap.layout.pageTableOffset >>> 2;
  const free = heap.boxes.osBoundary.freeRanges().map(([a, b]) => [a >>> PAGE_SHIFT, (a + b) >>> PAGE_SHIFT] as const);
  const end = heap.boxes.osBoundary.end() >>> PAGE_SHIFT;
  const out: string[] = [];
  for (let p = heap.layout.heapStart >>> PAGE_SHIFT; p < end;) {
    const f = free.find(([a, b]) => a <= p && p < b);
    if (f !== undefined) { p = f[1]; continue; }
    const e = i32[reg + p]!;
    let q = p + 1;
    while (q < end && !free.some(([a, b]) => a <= q && q < b) && (i32[reg + q]! & 0xff00f) === (e & 0xff00f)) q++;
    const d = pd + (p << 4);
    out.push(`0x${(p << PAGE_SHIFT).toString(16)} +${q - p}p kind ${e & 15} cls ${(e >>> 4) & 255} thread ${(e >>> 12) & 255} aux ${e >>> 20} | desc state ${i32[d + 8]} owner ${i32[d + 9]} mask 0x${(i32[d + 10]! >>> 0).toString(16)} used ${i32[d + 2]}`);
    p = q;
  }
  return out.join('\n') + `\ntier ${JSON.stringify(heap.boxes.superslabTier.stats())} pool ${JSON.stringify(heap.boxes.sharedPool.stats())} threads ${JSON.stringify(heap.threads())}`;
}

/** Every lock word of a default composition and the holder it names (-1 free): for failure messages. */
export function describeLocks(heap: Heap): string {
  const i32 = heap.views.i32;
  const slot = (k: number): number => (64 >>> 2) + k * 16;
  const words: Array<[string, number]> = [
    ['thread', 7], ['os-boundary', heap.layout.osStateOffset >>> 2], ['superslab-tier', slot(0)], ['shared-pool', slot(1)],
    ['bigcache', slot(2) + 56],
  ];
  for (let k = 0; k < 8; k++) words.push([`l25[${k}]`, slot(6) + k * 48]);
  return words.map(([n, w]) => {
    const v = Atomics.load(i32, w);
    return `${n}: ${v === 0 ? 'free' : `holder ${v >>> 2} state ${v & 3}`}`;
  }).join(', ');
}

/** Checks every tiny slab and pool span of every thread (free list + used = carved), for failure messages. */
export function describeSlabs(heap: Heap): string {
  const out: string[] = [];
  try {
    heap.validate();
  } catch (e) {
    out.push(`validate: ${(e as Error).message}`);
  }
  const i32 = heap.views.i32;
  const reg = heap.layout.registryOffset >>> 2;
  const pd = heap.layout.pageTableOffset >>> 2;
  const end = heap.boxes.osBoundary.end() >>> PAGE_SHIFT;
  for (let p = heap.layout.heapStart >>> PAGE_SHIFT; p < end; p++) {
    const e = i32[reg + p]!;
    const kind = e & 15;
    if (kind !== PageKind.POOL && kind !== PageKind.TINY) continue;
    if (kind === PageKind.POOL && (e >>> 20) !== 0) continue;
    const d = pd + (p << 4);
    const size = i32[d + PD_BLOCK_SIZE]!;
    const carve = i32[d + PD_CARVE]!;
    const used = i32[d + 2]!;
    let free = 0;
    for (let f = i32[d + PD_FREE_HEAD]!; f !== 0 && free < 100_000; f = i32[f >>> 2]!) free++;
    if (free + used !== carve / size) out.push(`${kind === PageKind.TINY ? 'slab' : 'span'} 0x${(p << PAGE_SHIFT).toString(16)} thread ${(e >>> 12) & 255}: free ${free} + used ${used} != carved ${carve / size} (cap ${i32[d + 3]})`);
  }
  for (let t = 1; t <= MAX_THREADS; t++) {
    for (const w of [TR_TINY_REMOTE_HEAD, TR_POOL_REMOTE_HEAD, TR_TINY_DRAIN, TR_POOL_DRAIN]) {
      let n = 0;
      for (let b = i32[threadWord(t, w)]!; b !== 0 && n < 1_000_000; b = i32[b >>> 2]!) n++;
      if (n >= 1_000_000) out.push(`thread ${t} word ${w}: a cycle`);
      else if (n > 0) out.push(`thread ${t} word ${w}: ${n} blocks`);
    }
    const w9 = threadWord(t, 9);
    const rec = Array.from(i32.subarray(w9, w9 + 7));
    if (rec.some((x) => x !== 0)) out.push(`thread ${t} in-flight words ${rec.join(' ')}`);
  }
  return out.join('\n');
}
