import { ErrorCode, HakmemError, MAX_THREADS, type MemoryBackend } from '@hakmem/contracts';
import type { BoxFactories, BoxTuning } from './api.js';

/**
 * The checks of every option and argument of `createHeap`, `compose`, `attachHeap` and
 * `heap.watch`, made at the call, before anything is built: a bad value, an unknown key (a
 * typo) or a malformed box is `E_INVALID_OPTION` naming it, not a TypeError later. Slow
 * paths only.
 */

/** `HakmemError(E_INVALID_OPTION)` of the composition root. */
export function invalidOption(message: string): HakmemError {
  return new HakmemError(ErrorCode.INVALID_OPTION, message, { box: 'allocator' });
}

/** The keys of `BoxFactories`, in the order `compose` builds them. */
export const BOX_NAMES: readonly (keyof BoxFactories)[] = [
  'osBoundary', 'superslabTier', 'sharedPool', 'tinyRoute', 'warmPool', 'pageBox', 'unifiedCache', 'poolRefill', 'poolTls', 'l25Pool',
  'bigCache', 'gatekeeper',
];

/** What `BoxTuning` lets through to each default box (its README documents them). */
const TUNING_KEYS: { readonly [K in keyof Required<BoxTuning>]: readonly string[] } = {
  tinyRoute: ['classSizes', 'poolMax', 'l25Max'],
  unifiedCache: ['capacity', 'batch'],
  pageBox: ['pooledClasses', 'pagesPerClass'],
  warmPool: ['capacity'],
  superslabTier: ['retain'],
  poolTls: ['classSizes', 'capacity', 'budget'],
  poolRefill: ['arenaInitial', 'arenaMax', 'prewarm'],
  l25Pool: ['classSizes', 'shards', 'keepPerClass', 'budget', 'budgetFloor', 'liveShare', 'splitSpan'],
  bigCache: ['budget', 'budgetFloor', 'liveShare'],
};

/**
 * The methods of each box that the heap and the other boxes call (its contract's methods,
 * less the ones nothing in a composed heap calls).
 */
export const BOX_METHODS: { readonly [K in keyof BoxFactories]: readonly string[] } = {
  osBoundary: ['map', 'unmap', 'lastMapZeroed', 'releaseTop', 'end', 'freeRanges', 'stats', 'checkInvariants'],
  superslabTier: ['acquireSuperSlab', 'releaseSuperSlab', 'trim', 'stats', 'checkInvariants'],
  sharedPool: ['acquireSuperSlab', 'releaseSuperSlab', 'releaseSlab', 'stats', 'checkInvariants'],
  warmPool: ['acquireSlab', 'releaseSlab', 'flush', 'adopt', 'stats', 'checkInvariants'],
  pageBox: ['allocBatch', 'freeBatch', 'holds', 'flush', 'adopt', 'stats', 'checkInvariants'],
  unifiedCache: ['pop', 'push', 'refill', 'spill', 'holds', 'count', 'capacity', 'flush', 'stats', 'checkInvariants'],
  tinyRoute: ['classOf', 'classSize', 'route', 'stats', 'checkInvariants'],
  gatekeeper: ['malloc', 'free', 'calloc', 'realloc', 'memalign', 'usableSize', 'isAllocated', 'flush', 'stats', 'checkInvariants'],
  poolTls: ['classOf', 'alloc', 'free', 'holds', 'count', 'capacity', 'flush', 'stats', 'checkInvariants'],
  poolRefill: ['allocBatch', 'freeBatch', 'holds', 'adopt', 'trim', 'stats', 'checkInvariants'],
  l25Pool: ['classOf', 'alloc', 'free', 'usableSize', 'lastAllocZeroed', 'trim', 'stats', 'checkInvariants'],
  bigCache: ['alloc', 'free', 'usableSize', 'lastAllocZeroed', 'resizeInPlace', 'trim', 'adopt', 'stats', 'checkInvariants'],
};

/** Host thread ids the thread lock's word can name (see threads.ts, threadLockHolder). */
const MAX_HOST_ID = (1 << 29) - MAX_THREADS - 1;

const HEAP_KEYS = ['backend', 'maxBytes', 'shared', 'growable', 'boxes', 'tuning', 'throwOnOutOfMemory', 'onOutOfMemory', 'debug'];
const COMPOSE_KEYS = ['backend', 'boxes', 'tuning', 'throwOnOutOfMemory', 'onOutOfMemory', 'debug'];
const ATTACH_KEYS = ['boxes', 'onOutOfMemory', 'hostThreadId'];
const HANDLE_KEYS = ['kind', 'backend', 'options'];
const HANDLE_OPTION_KEYS = ['tuning', 'debug', 'throwOnOutOfMemory'];

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(where: string, value: unknown): Record<string, unknown> {
  if (!isRecord(value)) throw invalidOption(`${where} must be an object, got ${describe(value)}`);
  return value;
}

/** Edit distance, for "did you mean": short option names only. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

function knownKeys(where: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const close = known.find((k) => k.toLowerCase() === key.toLowerCase()) ?? known.find((k) => distance(k.toLowerCase(), key.toLowerCase()) <= 2);
    throw invalidOption(`${where}: unknown option "${key}"${close === undefined ? '' : ` (did you mean "${close}"?)`}; known: ${known.join(', ')}`);
  }
}

function optionalBoolean(where: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') throw invalidOption(`${where} must be true or false, got ${describe(value)}`);
}

function optionalFunction(where: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw invalidOption(`${where} must be a function, got ${describe(value)}`);
}

/** `debug`: an integer 0..3. */
export function checkDebug(where: string, debug: unknown): void {
  if (debug !== undefined && (!Number.isInteger(debug) || (debug as number) < 0 || (debug as number) > 3)) {
    throw invalidOption(`${where} must be an integer 0..3, got ${describe(debug)}`);
  }
}

/** `tuning`: an object of known box names, each an object of that box's known options (the box checks their values). */
function checkTuning(where: string, tuning: unknown): void {
  if (tuning === undefined) return;
  const t = record(where, tuning);
  knownKeys(where, t, Object.keys(TUNING_KEYS));
  for (const [box, value] of Object.entries(t)) {
    if (value === undefined) continue;
    const keys = TUNING_KEYS[box as keyof BoxTuning];
    knownKeys(`${where}.${box}`, record(`${where}.${box}`, value), keys);
  }
}

/** `boxes`: an object of known box names, each a factory function. */
function checkFactories(where: string, boxes: unknown): void {
  if (boxes === undefined) return;
  const b = record(where, boxes);
  knownKeys(where, b, BOX_NAMES);
  for (const [name, factory] of Object.entries(b)) {
    if (factory !== undefined && typeof factory !== 'function') throw invalidOption(`${where}.${name} must be a box factory (a function), got ${describe(factory)}`);
  }
}

/** The options `createHeap`, `compose` and a shared handle have in common. */
function checkCommon(where: string, o: Record<string, unknown>): void {
  checkFactories(`${where}.boxes`, o.boxes);
  checkTuning(`${where}.tuning`, o.tuning);
  optionalBoolean(`${where}.throwOnOutOfMemory`, o.throwOnOutOfMemory);
  optionalFunction(`${where}.onOutOfMemory`, o.onOutOfMemory);
  checkDebug(`${where}.debug`, o.debug);
}

/** A `MemoryBackend`: the members the heap uses. */
export function checkBackend(where: string, backend: unknown): asserts backend is MemoryBackend {
  const b = record(where, backend);
  for (const m of ['byteLength', 'grow', 'refresh', 'buffer', 'share']) {
    if (typeof b[m] !== 'function') throw invalidOption(`${where} is not a MemoryBackend: it has no method ${m}() (createNativeBackend / createWasmBackend make one)`);
  }
  if (!Number.isInteger(b.maxBytes) || (b.maxBytes as number) <= 0) throw invalidOption(`${where}.maxBytes must be a positive integer, got ${describe(b.maxBytes)}`);
  if (typeof b.shared !== 'boolean') throw invalidOption(`${where}.shared must be true or false, got ${describe(b.shared)}`);
  const v = b.views as Record<string, unknown> | undefined;
  if (!isRecord(v) || !(v.u8 instanceof Uint8Array) || !(v.i32 instanceof Int32Array)) throw invalidOption(`${where}.views must hold typed-array views of the memory (u8, i32, …)`);
}

/** `createHeap(options)`. */
export function checkHeapOptions(options: unknown): void {
  const o = record('createHeap(options)', options);
  knownKeys('createHeap(options)', o, HEAP_KEYS);
  const { backend } = o;
  if (typeof backend === 'object' && backend !== null) {
    checkBackend('createHeap(options).backend', backend);
    for (const k of ['maxBytes', 'shared', 'growable']) {
      if (o[k] !== undefined) throw invalidOption(`createHeap(options).${k} applies to the 'native' and 'wasm' backends: a MemoryBackend object brings its own (drop ${k}, or set it when you create the backend)`);
    }
  } else if (backend !== undefined && backend !== 'native' && backend !== 'wasm') {
    throw invalidOption(`createHeap(options).backend must be 'native', 'wasm' or a MemoryBackend, got ${describe(backend)}`);
  }
  if (o.maxBytes !== undefined && (!Number.isInteger(o.maxBytes) || (o.maxBytes as number) <= 0)) {
    throw invalidOption(`createHeap(options).maxBytes must be a positive integer number of bytes, got ${describe(o.maxBytes)}`);
  }
  optionalBoolean('createHeap(options).shared', o.shared);
  optionalBoolean('createHeap(options).growable', o.growable);
  if (backend === 'wasm' && o.growable === true) throw invalidOption('createHeap(options).growable is for the native backend: a wasm memory always grows');
  checkCommon('createHeap(options)', o);
}

/** `compose(options)`. */
export function checkComposeOptions(options: unknown): void {
  const o = record('compose(options)', options);
  knownKeys('compose(options)', o, COMPOSE_KEYS);
  if (o.backend === undefined) throw invalidOption('compose(options).backend is required: a MemoryBackend (createNativeBackend / createWasmBackend)');
  checkBackend('compose(options).backend', o.backend);
  checkCommon('compose(options)', o);
}

/** `attachHeap(handle, options)`. */
export function checkAttach(handle: unknown, options: unknown): void {
  if (!isRecord(handle) || handle.kind !== 'hakmem-heap') throw invalidOption('attachHeap needs the handle returned by heap.share()');
  knownKeys('attachHeap(handle)', handle, HANDLE_KEYS);
  if (!isRecord(handle.backend)) throw invalidOption('attachHeap(handle).backend must be the backend handle of heap.share()');
  const h = record('attachHeap(handle).options', handle.options);
  knownKeys('attachHeap(handle).options', h, HANDLE_OPTION_KEYS);
  checkTuning('attachHeap(handle).options.tuning', h.tuning);
  checkDebug('attachHeap(handle).options.debug', h.debug);
  optionalBoolean('attachHeap(handle).options.throwOnOutOfMemory', h.throwOnOutOfMemory);
  const o = record('attachHeap(handle, options)', options);
  knownKeys('attachHeap(options)', o, ATTACH_KEYS);
  checkFactories('attachHeap(options).boxes', o.boxes);
  optionalFunction('attachHeap(options).onOutOfMemory', o.onOutOfMemory);
  // The thread lock's word holds the host id above the heap's thread ids, shifted by 2.
  if (o.hostThreadId !== undefined && (!Number.isInteger(o.hostThreadId) || (o.hostThreadId as number) < 0 || (o.hostThreadId as number) >= MAX_HOST_ID)) {
    throw invalidOption(`attachHeap(options).hostThreadId must be an integer in 0..${MAX_HOST_ID - 1}, got ${describe(o.hostThreadId)}`);
  }
}

/**
 * `heap.watch(worker, onReclaim)`: a worker that is running (worker_threads' `threadId`
 * is -1 once it exited, and 0 is the main thread, whose exit is the process's), not this
 * thread itself, with `once`; `onReclaim` a function.
 */
export function checkWatch(worker: unknown, onReclaim: unknown, ownHost: number): void {
  const w = record('watch(worker)', worker);
  if (typeof w.once !== 'function') throw invalidOption('watch(worker): the worker has no once() method (a worker_threads Worker, or an object that calls its \'exit\' listener when its thread is gone)');
  const id = w.threadId;
  if (id === -1) throw invalidOption('watch(worker): the worker has exited already (threadId -1): watch it right after you create it');
  if (!Number.isInteger(id) || (id as number) < 1 || (id as number) >= MAX_HOST_ID) throw invalidOption(`watch(worker).threadId must be the worker's host thread id, an integer in 1..${MAX_HOST_ID - 1}, got ${describe(id)}`);
  if (id === ownHost) throw invalidOption(`watch(worker): thread ${String(id)} is this thread: a thread cannot watch its own exit`);
  optionalFunction('watch(worker, onReclaim): onReclaim', onReclaim);
}

/** A box a factory returned: an object with every method of `BOX_METHODS[name]`. */
export function checkBox<T>(where: string, name: keyof BoxFactories, box: T): T {
  if (typeof box !== 'object' || box === null) throw invalidOption(`${where}.${name} returned ${describe(box)}, not a box`);
  for (const m of BOX_METHODS[name]) {
    if (typeof (box as Record<string, unknown>)[m] !== 'function') {
      throw invalidOption(`${where}.${name} returned a box without ${m}(): a ${name} box must have ${BOX_METHODS[name].join(', ')}`);
    }
  }
  return box;
}
