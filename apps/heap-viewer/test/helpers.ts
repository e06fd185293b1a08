import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_HEAP_BYTES, PageKind } from '@hakmem/contracts';
import {
  createHeap, decodeSnapshotPages, SNAPSHOT_SERIES_FORMAT, SNAPSHOT_VERSION, SnapshotPageState,
  type Heap, type HeapSnapshot, type HeapSnapshotSeries, type SnapshotFrame,
} from '@hakmem/allocator';
import { Owner } from '../src/model.js';

export const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
export const OUTPUT_DIR = fileURLToPath(new URL('../test-output/', import.meta.url));
export const CLI = fileURLToPath(new URL('../bin/heap-viewer.mjs', import.meta.url));
const MiB = 1 << 20;

export function outputDir(): string {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return OUTPUT_DIR;
}

/** xorshift32 in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/**
 * A workload in phases that reaches every tier, a snapshot after each step: tiny
 * blocks, then mid (pool) blocks, then L2.5 and big blocks, then frees (cached blocks,
 * free slabs, free ranges), then a second wave, then a trim. Deterministic.
 */
export function phasedSeries(maxBytes = 128 * MiB, steps = 24, seed = 1): HeapSnapshotSeries {
  const heap = createHeap({ maxBytes });
  const rnd = prng(seed);
  const live: number[] = [];
  const frames: SnapshotFrame[] = [];
  let event = 0;
  const take = (label: string): void => {
    frames.push({ event, label, snapshot: heap.snapshot() });
  };
  const alloc = (size: number): void => {
    event++;
    const p = heap.malloc(size);
    if (p !== 0) live.push(p);
  };
  const freeSome = (share: number): void => {
    for (let i = live.length - 1; i >= 0; i--) {
      if (rnd() < share) {
        event++;
        heap.free(live[i]!);
        live[i] = live[live.length - 1]!;
        live.pop();
      }
    }
  };
  take('fresh heap');
  for (let s = 1; s <= steps; s++) {
    const phase = Math.floor(((s - 1) * 6) / steps);
    if (phase === 0) for (let i = 0; i < 5000; i++) alloc(1 + Math.floor(rnd() * 2048));
    else if (phase === 1) for (let i = 0; i < 300; i++) alloc(2049 + Math.floor(rnd() * 62_000));
    else if (phase === 2) {
      for (let i = 0; i < 12; i++) alloc(65_536 + Math.floor(rnd() * (MiB - 65_536)));
      alloc(MiB + 1 + Math.floor(rnd() * 3 * MiB));
    } else if (phase === 3) freeSome(0.3);
    else if (phase === 4) {
      for (let i = 0; i < 400; i++) alloc(1 + Math.floor(rnd() * 60_000));
      freeSome(0.1);
    } else {
      freeSome(0.35);
      if (s === steps) {
        heap.trim();
        event++;
      }
    }
    take(`step ${s}: ${['tiny blocks', 'mid blocks', 'L2.5 and big blocks', 'frees', 'a second wave', 'frees and a trim'][phase]}`);
  }
  return { format: SNAPSHOT_SERIES_FORMAT, version: SNAPSHOT_VERSION, source: 'a phased workload (test)', every: 0, frames };
}

/**
 * `distinct` snapshots of a 2 GiB heap filled nearly to its end, repeated into a series
 * of `frames` frames (the viewer does not care that they repeat).
 */
export function bigSeries(frames = 200, distinct = 4): HeapSnapshotSeries {
  const heap: Heap = createHeap({ maxBytes: MAX_HEAP_BYTES });
  const rnd = prng(9);
  const shots: HeapSnapshot[] = [];
  const ptrs: number[] = [];
  for (let i = 0; i < 20_000; i++) ptrs.push(heap.malloc(1 + Math.floor(rnd() * 2048)));
  for (let i = 0; i < 2000; i++) ptrs.push(heap.malloc(2049 + Math.floor(rnd() * 62_000)));
  for (let i = 0; i < 100; i++) ptrs.push(heap.malloc(65_536 + Math.floor(rnd() * 900_000)));
  // Untouched big blocks up to the maximum (the native backend commits only written pages).
  const big: number[] = [];
  for (let p = heap.malloc(20 * MiB); p !== 0; p = heap.malloc(20 * MiB)) big.push(p);
  for (let k = 0; k < distinct; k++) {
    shots.push(heap.snapshot());
    for (let i = 0; i < 6 && big.length > 0; i++) heap.free(big.splice(Math.floor(rnd() * big.length), 1)[0]!);
    for (let i = 0; i < 4000; i++) {
      const j = Math.floor(rnd() * ptrs.length);
      if (ptrs[j] !== 0) heap.free(ptrs[j]!);
      ptrs[j] = 0;
    }
  }
  return {
    format: SNAPSHOT_SERIES_FORMAT, version: SNAPSHOT_VERSION, source: `2 GiB heap, ${distinct} snapshots repeated`, every: 1000,
    frames: Array.from({ length: frames }, (_, i) => ({ event: i * 1000, label: `frame ${i}`, snapshot: shots[i % distinct]! })),
  };
}

/**
 * The owner category of every cell of the address space (0 … maxBytes), derived here
 * from the snapshot's documented columns with the allocator's own decoder — not with the
 * page's code — so that a page that draws something else is caught.
 */
export function expectedOwners(snap: HeapSnapshot): Uint8Array {
  const pages = decodeSnapshotPages(snap.pages);
  const total = Math.floor(snap.maxBytes / 65536);
  const out = new Uint8Array(total).fill(Owner.UNMAPPED);
  out.fill(Owner.META, 0, pages.first);
  for (let i = 0; i < pages.count; i++) {
    const k = pages.kind[i]!;
    const s = pages.state[i]!;
    let o: number;
    if (k === PageKind.NONE) o = Owner.FREE;
    else if (k === PageKind.META) o = Owner.META;
    else if (k === PageKind.TINY) o = Owner.TINY;
    else if (k === PageKind.POOL) o = Owner.POOL;
    else if (k === PageKind.L25) o = s === SnapshotPageState.CACHED ? Owner.L25_CACHED : Owner.L25_LIVE;
    else if (k === PageKind.BIG) o = s === SnapshotPageState.CACHED ? Owner.BIG_CACHED : Owner.BIG_LIVE;
    else if (k === PageKind.MAPPED) o = s >= SnapshotPageState.SUPERSLAB_HOT ? Owner.FREE_SLAB : pages.thread[i]! !== 0 ? Owner.POOL_ARENA : Owner.OTHER;
    else o = Owner.OTHER;
    out[pages.first + i] = o;
  }
  return out;
}

export function countOwners(owners: Uint8Array | readonly number[]): number[] {
  const counts = new Array<number>(12).fill(0);
  for (const o of owners) counts[o]!++;
  return counts;
}

/**
 * Builds the page when dist/ is missing or stale (`heap-viewer.mjs --build-only`), one
 * test file at a time: the files run in parallel workers, and two vite builds into one
 * dist/ would trip over each other. The lock is a directory (mkdir is atomic).
 */
export function ensureBuilt(): void {
  const lock = join(outputDir(), '.build-lock');
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than a build can take was left by a killed run.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the build lock ${lock} stayed taken`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    const r = spawnSync(process.execPath, [CLI, '--build-only'], { cwd: APP_DIR, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building the heap viewer failed:\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The viewer's CLI in a child process (the page built first): resolves with its URL once it prints it. */
export function startViewer(args: readonly string[]): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  ensureBuilt();
  const child = spawn(process.execPath, [CLI, ...args, '--port', '0', '--no-build'], { cwd: APP_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the viewer printed no URL in 60 s:\n${out}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /heap viewer: (http:\/\/\S+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child, output: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the viewer exited (${code}) before printing its URL:\n${out}`));
    });
  });
}
