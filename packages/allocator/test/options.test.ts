import { describe, expect, it } from 'vitest';
import { ErrorCode, HakmemError, type UnifiedCache, type UnifiedCacheOptions } from '@hakmem/contracts';
import { createNativeBackend } from '@hakmem/memory-backend';
import { attachHeap, compose, createHeap, defaultBoxes, type SharedHeapHandle } from '../src/index.js';

// Every option and argument of createHeap, compose, attachHeap and watch is checked at the
// call (issue 19, "Safe by default"): a wrong type, an unknown key (a typo), a box factory
// that is not a function or a box without a method the heap calls is E_INVALID_OPTION naming
// it — not a TypeError later, not a value silently taken for another.

const MAX = 16 << 20;

/** The error a call throws: its code and message ('returned' when it does not throw). */
function failure(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof HakmemError) return { code: e.code, message: e.message };
    return { code: `${(e as Error).name}`, message: (e as Error).message };
  }
  return { code: 'returned', message: '' };
}

/** A box built by the default factory with one method replaced by a non-function. */
const brokenCache = (o: UnifiedCacheOptions): UnifiedCache => Object.assign(defaultBoxes.unifiedCache(o), { pop: 5 }) as unknown as UnifiedCache;

type Row = readonly [call: string, fn: () => unknown, names: readonly string[]];

const backend = (): ReturnType<typeof createNativeBackend> => createNativeBackend({ maxBytes: MAX });
const any = (x: unknown): never => x as never;

const ROWS: readonly Row[] = [
  // createHeap
  ['createHeap(null)', () => createHeap(any(null)), ['createHeap(options)', 'object']],
  ['createHeap(5)', () => createHeap(any(5)), ['createHeap(options)']],
  ['a typo: maxbytes', () => createHeap(any({ maxbytes: MAX })), ['"maxbytes"', 'did you mean "maxBytes"']],
  ['a typo: throwOnOutOfMemmory', () => createHeap(any({ maxBytes: MAX, throwOnOutOfMemmory: true })), ['"throwOnOutOfMemmory"', '"throwOnOutOfMemory"']],
  ['onOutOfMemory: 5', () => createHeap(any({ maxBytes: MAX, onOutOfMemory: 5 })), ['onOutOfMemory', 'function']],
  ['throwOnOutOfMemory: \'no\'', () => createHeap(any({ maxBytes: MAX, throwOnOutOfMemory: 'no' })), ['throwOnOutOfMemory', '"no"']],
  ['debug: 4', () => createHeap({ maxBytes: MAX, debug: 4 }), ['debug', '0..3']],
  ['debug: \'1\'', () => createHeap(any({ maxBytes: MAX, debug: '1' })), ['debug']],
  ['maxBytes: \'8M\'', () => createHeap(any({ maxBytes: '8M' })), ['maxBytes']],
  ['maxBytes: -1', () => createHeap({ maxBytes: -1 }), ['maxBytes']],
  ['shared: \'yes\'', () => createHeap(any({ maxBytes: MAX, shared: 'yes' })), ['shared']],
  ['growable: 1', () => createHeap(any({ maxBytes: MAX, growable: 1 })), ['growable']],
  ['backend: \'Native\'', () => createHeap(any({ backend: 'Native' })), ['backend', '"Native"']],
  ['backend: null', () => createHeap(any({ backend: null })), ['backend']],
  ['backend: {}', () => createHeap(any({ backend: {} })), ['backend', 'MemoryBackend']],
  ['backend: \'wasm\' with growable', () => createHeap({ backend: 'wasm', maxBytes: MAX, growable: true }), ['growable', 'wasm']],
  ['a backend object and maxBytes', () => createHeap({ backend: backend(), maxBytes: MAX }), ['maxBytes', 'MemoryBackend']],
  ['tuning: 5', () => createHeap(any({ maxBytes: MAX, tuning: 5 })), ['tuning']],
  ['tuning: an unknown box', () => createHeap(any({ maxBytes: MAX, tuning: { unifiedcache: { capacity: 8 } } })), ['tuning', '"unifiedcache"', '"unifiedCache"']],
  ['tuning: an unknown option of a box', () => createHeap(any({ maxBytes: MAX, tuning: { unifiedCache: { capacty: 8 } } })), ['tuning.unifiedCache', '"capacty"', '"capacity"']],
  ['tuning: wiring instead of tuning', () => createHeap(any({ maxBytes: MAX, tuning: { bigCache: { regions: {} } } })), ['tuning.bigCache', '"regions"']],
  ['tuning: a box\'s tuning not an object', () => createHeap(any({ maxBytes: MAX, tuning: { bigCache: 5 } })), ['tuning.bigCache']],
  ['boxes: 5', () => createHeap(any({ maxBytes: MAX, boxes: 5 })), ['boxes']],
  ['boxes: a factory that is not a function', () => createHeap(any({ maxBytes: MAX, boxes: { bigCache: 5 } })), ['boxes.bigCache', 'function']],
  ['boxes: an unknown box', () => createHeap(any({ maxBytes: MAX, boxes: { bigcache: defaultBoxes.bigCache } })), ['"bigcache"', '"bigCache"']],
  ['boxes: a factory returning nothing', () => createHeap(any({ maxBytes: MAX, boxes: { l25Pool: () => undefined } })), ['boxes.l25Pool', 'undefined']],
  ['boxes: a box without its methods', () => createHeap(any({ maxBytes: MAX, boxes: { unifiedCache: () => ({}) } })), ['boxes.unifiedCache', 'pop()']],
  ['boxes: a box with a method that is not a function', () => createHeap({ maxBytes: MAX, boxes: { unifiedCache: brokenCache } }), ['boxes.unifiedCache', 'pop()']],
  // compose
  ['compose()', () => compose(any(undefined)), ['compose(options)']],
  ['compose({})', () => compose(any({})), ['compose(options).backend']],
  ['compose({ backend: {} })', () => compose(any({ backend: {} })), ['compose(options).backend', 'MemoryBackend']],
  ['compose: a typo', () => compose(any({ backend: backend(), debg: 1 })), ['"debg"', '"debug"']],
  ['compose: maxBytes is the backend\'s', () => compose(any({ backend: backend(), maxBytes: MAX })), ['"maxBytes"']],
  ['compose: onOutOfMemory: true', () => compose(any({ backend: backend(), onOutOfMemory: true })), ['onOutOfMemory']],
  ['compose: a box factory that is not a function', () => compose(any({ backend: backend(), boxes: { gatekeeper: {} } })), ['boxes.gatekeeper']],
  ['compose: a backend that holds a heap', () => { const b = backend(); compose({ backend: b }); return compose({ backend: b }); }, ['compose(options).backend', 'holds a heap already']],
];

describe('options and arguments are checked at the call', () => {
  for (const [call, fn, names] of ROWS) {
    it(`${call}: E_INVALID_OPTION naming it`, () => {
      const { code, message } = failure(fn);
      expect(code, message).toBe(ErrorCode.INVALID_OPTION);
      for (const name of names) expect(message).toContain(name);
    });
  }

  it('the valid forms still work: undefined for any option, the defaults passed as boxes, tuning of the default boxes', () => {
    // (undefined where the types, with exactOptionalPropertyTypes, want the key left out: as from JavaScript)
    const heap = createHeap(any({
      maxBytes: MAX, debug: undefined, tuning: { unifiedCache: { capacity: 32 }, bigCache: undefined }, boxes: { unifiedCache: defaultBoxes.unifiedCache, bigCache: undefined },
      throwOnOutOfMemory: false, onOutOfMemory: () => false,
    }));
    heap.free(heap.malloc(100));
    heap.validate();
  });

  describe('attachHeap', () => {
    const shared = (): { heap: ReturnType<typeof createHeap>; handle: SharedHeapHandle } => {
      const heap = createHeap({ shared: true, maxBytes: MAX });
      return { heap, handle: heap.share() };
    };
    const rows: ReadonlyArray<readonly [string, (h: SharedHeapHandle) => unknown, readonly string[]]> = [
      ['no handle', () => attachHeap(any(undefined)), ['heap.share()']],
      ['a handle with an unknown key', (h) => attachHeap(any({ ...h, extra: 1 })), ['attachHeap(handle)', '"extra"']],
      ['a handle whose options are not an object', (h) => attachHeap(any({ ...h, options: 5 })), ['attachHeap(handle).options']],
      ['a handle with bad tuning', (h) => attachHeap(any({ ...h, options: { tuning: { warmPool: { capacit: 4 } } } })), ['tuning.warmPool', '"capacit"']],
      ['a handle with a bad debug level', (h) => attachHeap(any({ ...h, options: { debug: 7 } })), ['debug']],
      ['options: 5', (h) => attachHeap(h, any(5)), ['attachHeap(handle, options)']],
      ['options: a typo', (h) => attachHeap(h, any({ hostThreadID: 3 })), ['"hostThreadID"', '"hostThreadId"']],
      ['options: hostThreadId -1', (h) => attachHeap(h, { hostThreadId: -1 }), ['hostThreadId']],
      ['options: hostThreadId 1.5', (h) => attachHeap(h, { hostThreadId: 1.5 }), ['hostThreadId']],
      ['options: onOutOfMemory not a function', (h) => attachHeap(h, any({ onOutOfMemory: 'retry' })), ['onOutOfMemory']],
      ['options: tuning cannot be given here', (h) => attachHeap(h, any({ tuning: {} })), ['"tuning"']],
      ['options: a box factory that is not a function', (h) => attachHeap(h, any({ boxes: { pageBox: null } })), ['boxes.pageBox']],
    ];
    for (const [call, fn, names] of rows) {
      it(`${call}: E_INVALID_OPTION naming it, the thread registry unchanged`, () => {
        const { heap, handle } = shared();
        const { code, message } = failure(() => fn(handle));
        expect(code, message).toBe(ErrorCode.INVALID_OPTION);
        for (const name of names) expect(message).toContain(name);
        expect(heap.threads().map((t) => t.tid)).toEqual([heap.tid]);
      });
    }

    it('a malformed box refused after the thread id was taken: the id goes back, and trim() collects what its boxes mapped', () => {
      const { heap, handle } = shared();
      const { code, message } = failure(() => attachHeap(handle, { boxes: { gatekeeper: () => any({ malloc: () => 0 }) } }));
      expect(code, message).toBe(ErrorCode.INVALID_OPTION);
      expect(message).toContain('boxes.gatekeeper');
      expect(message).toContain('free()');
      expect(heap.threads().filter((t) => t.state === 'live').map((t) => t.tid)).toEqual([heap.tid]);
      heap.trim();
      heap.validate();
      expect(heap.threads().map((t) => t.tid)).toEqual([heap.tid]);
      const w = attachHeap(handle); // the registry works: the id is handed out again
      w.free(w.malloc(64));
      w.detach();
    });
  });

  describe('heap.watch', () => {
    const heap = createHeap({ shared: true, maxBytes: MAX });
    const once = (): void => undefined;
    const rows: ReadonlyArray<readonly [string, () => unknown, readonly string[]]> = [
      ['watch(null)', () => heap.watch(any(null)), ['watch(worker)']],
      ['a worker without once()', () => heap.watch(any({ threadId: 5 })), ['once()']],
      ['a worker that exited (threadId -1)', () => heap.watch({ threadId: -1, once }), ['exited']],
      ['the main thread (threadId 0)', () => heap.watch({ threadId: 0, once }), ['threadId']],
      ['a threadId that is not a number', () => heap.watch(any({ threadId: '5', once })), ['threadId']],
      ['onReclaim not a function', () => heap.watch({ threadId: 5, once }, any({ log: true })), ['onReclaim', 'function']],
    ];
    for (const [call, fn, names] of rows) {
      it(`${call}: E_INVALID_OPTION naming it`, () => {
        const { code, message } = failure(fn);
        expect(code, message).toBe(ErrorCode.INVALID_OPTION);
        for (const name of names) expect(message).toContain(name);
      });
    }
  });
});
