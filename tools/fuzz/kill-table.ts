// The shared table of a kill-test worker (tools/fuzz/kill-worker.ts) and what the creator
// reads from it after the worker was terminated (tools/fuzz/kill.ts). Int32 words:
//
//  word  field         written by       meaning
//  0     state         worker           WS_*: 0 starting, running, paused (quiet), finished, detached
//  1     tid           worker           its heap thread id (once attached)
//  2     cmd           creator          C_*: 0 run, pause, resume (final phase), release (free all, detach)
//  3     inCall        worker           0, or the call in progress: 1 malloc, 2 free, 3 realloc
//  4     ops           worker           operations done
//  5     mismatches    worker           blocks whose pattern was wrong
//  6     finalOps      worker           allocations of the final phase (every tier, after the kill)
//  7..12 bad           worker           the first wrong block: ptr, size, byte index, words 0 and 1, phase (W_BAD_*)
//  16..  slots         worker           SLOT_WORDS per slot: ptr, size, state (S_*), tag
import type { Heap, SharedHeapHandle } from '@hakmem/allocator';

export const W_STATE = 0;
export const W_TID = 1;
export const W_CMD = 2;
export const W_INCALL = 3;
export const W_OPS = 4;
export const W_MISMATCHES = 5;
export const W_FINAL_OPS = 6;
/** The first block whose pattern was wrong: ptr, size, first wrong byte, its words 0 and 1, the phase (1 run, 2 after the kill, 3 release). */
export const W_BAD = 7;
export const SLOT_BASE = 16;
export const SLOT_WORDS = 4;

export const WS_RUNNING = 1;
export const WS_PAUSED = 2;
export const WS_FINISHED = 3;
export const WS_DETACHED = 4;

export const C_PAUSE = 1;
export const C_RESUME = 2;
export const C_RELEASE = 3;

/** Slot states. */
export const S_EMPTY = 0;
/** malloc(size) called (or about to be): no block yet. */
export const S_ALLOCATING = 1;
/** ptr allocated, its pattern not written yet. */
export const S_UNFILLED = 2;
/** ptr allocated, size bytes with the pattern. */
export const S_LIVE = 3;
/** free(ptr) called (or about to be): the block carries `tag` at offset 8. */
export const S_FREEING = 4;
/** realloc(ptr, ·) called (or about to be): the old block carries `tag` at offset 8. */
export const S_REALLOCATING = 5;

export interface KillWorkerJob {
  readonly handle: SharedHeapHandle;
  readonly table: SharedArrayBuffer;
  readonly seed: number;
  readonly slots: number;
}

export function tableBytes(slots: number): number {
  return (SLOT_BASE + slots * SLOT_WORDS) * 4;
}

export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Every tier, weighted towards the ones whose calls take locks (L2.5 and big): tiny 55 %, pool 20 %, L2.5 18 %, big 7 %. */
export function randomSize(rand: () => number): number {
  const r = rand() % 100;
  if (r < 55) return 16 + (rand() % 2033);
  if (r < 75) return 2049 + (rand() % 63487);
  if (r < 93) return 65536 + (rand() % 983041);
  return (1 << 20) + 1 + (rand() % (2 << 20));
}

export function fillBlock(u8: Uint8Array, p: number, n: number): void {
  const k = Math.min(n - 1, 64);
  for (let i = 0; i < k; i++) u8[p + i] = (p + i * 31 + n) & 255;
  u8[p + n - 1] = (n * 7 + p) & 255;
}

export function verifyBlock(h: Heap, p: number, n: number): boolean {
  return badByte(h, p, n) < 0;
}

/** The index of the first byte of block `p` (`n` bytes) that differs from `fillBlock`'s pattern; -1 when none does. */
export function badByte(h: Heap, p: number, n: number): number {
  h.refresh();
  const u8 = h.views.u8;
  const k = Math.min(n - 1, 64);
  for (let i = 0; i < k; i++) if (u8[p + i] !== ((p + i * 31 + n) & 255)) return i;
  return u8[p + n - 1] === ((n * 7 + p) & 255) ? -1 : n - 1;
}

/** Counts a wrong block in the worker's table; the first one's details go to W_BAD.. (what the creator's error shows). */
export function recordMismatch(t: Int32Array, h: Heap, p: number, n: number, phase: number): void {
  if (Atomics.add(t, W_MISMATCHES, 1) !== 0) return;
  const u32 = h.views.u32;
  t[W_BAD] = p;
  t[W_BAD + 1] = n;
  t[W_BAD + 2] = badByte(h, p, n);
  t[W_BAD + 3] = u32[p >>> 2]! | 0;
  t[W_BAD + 4] = u32[(p >>> 2) + 1]! | 0;
  t[W_BAD + 5] = phase;
}

/** What the worker recorded of its first wrong block, for an error message. */
export function describeMismatch(t: Int32Array, freeKey: number): string {
  if (t[W_MISMATCHES] === 0) return '';
  const p = t[W_BAD]! >>> 0;
  const hex = (x: number): string => (x >>> 0).toString(16);
  return `thread ${t[W_TID]}: block 0x${hex(p)} (${t[W_BAD + 1]} B), byte ${t[W_BAD + 2]} wrong, words ${hex(t[W_BAD + 3]!)} ${hex(t[W_BAD + 4]!)}` +
    `${t[W_BAD + 4] === freeKey ? ' (the free key)' : ''}, phase ${['', 'run', 'after the kill', 'release'][t[W_BAD + 5]!]}`;
}
