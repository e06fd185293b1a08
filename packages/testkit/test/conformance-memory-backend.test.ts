import { describe, expect, test } from 'vitest';
import { PAGE_SIZE, type MemoryBackend } from '@hakmem/contracts';
import { attachBackend, createNativeBackend, createWasmBackend } from '@hakmem/memory-backend';
import { FaultyBackend } from '../src/faulty-backend.js';
import { createTestBackend } from '../src/conformance/test-backend.js';
import { failureOf, runSuite, wrap } from './suite-helpers.js';
import { memoryBackendConformance, type MemoryBackendFactory } from '../src/conformance/memory-backend.js';

const P = PAGE_SIZE;

/**
 * Cases the backends fail today: contract clauses they do not honour. `test.fails` keeps
 * the gap visible and turns red as soon as the backend is fixed (then remove the entry).
 */
const KNOWN_GAPS = new Set<string>([]);

/** A backend over an existing WebAssembly.Memory, as examples/wasm-memory builds one. */
const existingWasm = (shared: boolean): MemoryBackendFactory => (o) => createWasmBackend({
  memory: new WebAssembly.Memory({ initial: o.initialBytes / P, maximum: o.maxBytes / P, shared }), maxBytes: o.maxBytes,
});

const BACKENDS: ReadonlyArray<readonly [string, MemoryBackendFactory, boolean]> = [
  ['native, reserved (the default)', (o) => createNativeBackend(o), false],
  ['native, reserved, shared', (o) => createNativeBackend({ ...o, shared: true }), true],
  ['native, growable', (o) => createNativeBackend({ ...o, growable: true }), false],
  ['native, growable, shared', (o) => createNativeBackend({ ...o, growable: true, shared: true }), true],
  ['wasm', (o) => createWasmBackend(o), false],
  ['wasm, shared', (o) => createWasmBackend({ ...o, shared: true }), true],
  ['wasm over an existing memory', existingWasm(false), false],
  ['wasm over an existing shared memory', existingWasm(true), true],
  ['FaultyBackend (testkit) with no fault scheduled, over native', (o) => new FaultyBackend(createNativeBackend(o), () => false), false],
  ['FaultyBackend (testkit) with no fault scheduled, over wasm, shared', (o) => new FaultyBackend(createWasmBackend({ ...o, shared: true }), () => false), true],
  ['testkit\'s own backend (the os-boundary suite\'s default)', (o) => createTestBackend({ ...o, shared: false }), false],
  ['testkit\'s own backend, shared', (o) => createTestBackend({ ...o, shared: true }), true],
];

describe('conformance: MemoryBackend', () => {
  for (const [name, make, shared] of BACKENDS) {
    describe(name, () => runSuite(memoryBackendConformance(make, shared ? { attach: attachBackend } : {}), KNOWN_GAPS));
  }
});

// ---------------------------------------------------------------------------------------
// Broken backends: wrappers of a correct one that break one clause each; the suite must
// catch each by the case named after that clause.
// ---------------------------------------------------------------------------------------

const growable = (o: { initialBytes: number; maxBytes: number }): MemoryBackend => createNativeBackend({ ...o, growable: true });

/** A growable native backend with some members replaced (`over(inner)` builds them). */
const broken = (over: (inner: MemoryBackend) => Partial<MemoryBackend>): MemoryBackendFactory => (o) => {
  const inner = growable(o);
  return wrap(inner, over(inner));
};

/** Own views object: fields copied from the inner backend's by `sync` (never on its own). */
const ownViews = (inner: MemoryBackend): MemoryBackend['views'] => ({ ...inner.views });

const BROKEN: ReadonlyArray<readonly [string, MemoryBackendFactory, string, RegExp]> = [
  ['grow returns the new size instead of the previous one', broken((b) => ({ grow: (n: number) => { const r = b.grow(n); return r < 0 ? r : r + n; } })),
    'grow(n) returns the previous size in pages', /want the previous size in pages/],
  ['grow does not refresh the views (they stay over the old size)', broken((b) => ({ views: ownViews(b) })),
    'grow(n) returns the previous size in pages, adds exactly n pages and refreshes', /covers \d+ bytes, byteLength\(\) is/],
  ['grown memory is not zeroed', broken((b) => ({
    grow(n: number): number {
      const old = b.grow(n);
      if (old >= 0) b.views.u8.fill(0xa5, old * P);
      return old;
    },
  })), 'memory obtained by growth reads as zero', /not zero/],
  ['maxBytes says less than the backend grows to', broken((b) => ({ maxBytes: b.maxBytes - 2 * P })),
    'grow past maxBytes returns -1', /want -1/],
  ['grow throws when refused', broken((b) => ({
    grow(n: number): number {
      const r = b.grow(n);
      if (r < 0) throw new RangeError('no memory');
      return r;
    },
  })), 'grow past maxBytes returns -1', /must never throw/],
  ['views.version is not bumped when the fields are replaced', broken((b) => {
    const views = ownViews(b);
    return {
      views,
      grow(n: number): number {
        const r = b.grow(n);
        const { version: _kept, ...fields } = b.views;
        Object.assign(views, fields);
        return r;
      },
    };
  }), 'views — one object for the life of the backend', /version stayed/],
  ['shrink says true but changes nothing', broken(() => ({ shrink: () => true })),
    'shrink(n) — with canShrink false it returns false', /returned true, want false/],
  ['shrink does not re-cover the views (they stay over the old length)', broken((b) => {
    const views = ownViews(b);
    return { views, grow(n: number): number { const r = b.grow(n); Object.assign(views, b.views); return r; } };
  }), 'shrink(n) — with canShrink false it returns false', /did not re-cover the views/],
  ['canShrink false, but shrink shrinks', broken((b) => ({ capabilities: { ...b.capabilities, canShrink: false } })),
    'shrink(n) — with canShrink false it returns false', /returned true, want false/],
  ['refresh replaces the views every time', broken((b) => ({ refresh: () => { b.grow(0); return true; } })),
    'refresh() never throws; with nothing changed it returns false', /returned true/],
  ['share() of a private backend hands out its buffer', broken((b) => ({ share: () => ({ kind: b.kind, memory: b.buffer() as SharedArrayBuffer, maxBytes: b.maxBytes }) })),
    'share() — on a shared backend a handle', /expected HakmemError\(E_INVALID_OPTION\)/],
  ['shared says true on private memory', broken(() => ({ shared: true })),
    'kind is \'wasm\' or \'native\'; shared says whether the memory is shared', /shared is true, but buffer\(\) is not a SharedArrayBuffer/],
];

describe('conformance: the MemoryBackend suite catches broken backends', () => {
  test.each(BROKEN)('%s', async (_what, make, fragment, message) => {
    expect(await failureOf(memoryBackendConformance(make), fragment)).toMatch(message);
  });

  test('an attached backend that never sees the other\'s growth fails the cross-thread case', async () => {
    const suite = memoryBackendConformance((o) => createNativeBackend({ ...o, growable: true, shared: true }), {
      attach: (h) => {
        const inner = attachBackend(h);
        return wrap(inner, { refresh: () => false });
      },
    });
    expect(await failureOf(suite, 'another thread — a backend attached to the share() handle')).toMatch(/covers \d+ bytes, the memory is/);
  });

  test('a FaultyBackend that refuses a grow is caught (the suite sees faults)', async () => {
    const make: MemoryBackendFactory = (o) => new FaultyBackend(createNativeBackend(o), (call) => call === 2);
    expect(await failureOf(memoryBackendConformance(make), 'grow(n) returns the previous size')).toMatch(/returned -1/);
  });
});
