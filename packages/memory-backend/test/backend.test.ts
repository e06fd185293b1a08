import { describe, expect, test } from 'vitest';
import {
  ErrorCode, HakmemError, MAX_HEAP_BYTES, PAGE_SIZE,
  type BackendOptions, type MemoryBackend, type SharedBackendHandle,
} from '@hakmem/contracts';
import { attachBackend, createNativeBackend, createWasmBackend, DEFAULT_MAX_BYTES } from '@hakmem/memory-backend';

const MiB = 1 << 20;
const growable = (options: BackendOptions = {}): MemoryBackend => createNativeBackend({ ...options, growable: true });
/** Backends whose views follow growth by re-covering (`viewsTrackGrowth: false`). */
const factories = [
  ['wasm', createWasmBackend],
  ['native (growable)', growable],
] as const;

/** Runs `fn` and returns what it threw (fails the test when it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function expectInvalidOption(fn: () => unknown): void {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(HakmemError);
  expect((e as HakmemError).code).toBe(ErrorCode.INVALID_OPTION);
  expect((e as HakmemError).box).toBe('memory-backend');
}

function expectViewsCover(b: MemoryBackend, bytes: number): void {
  const v = b.views;
  expect([v.u8.length, v.i8.length, v.u16.length, v.i16.length, v.u32.length, v.i32.length, v.f32.length, v.f64.length])
    .toEqual([bytes, bytes, bytes / 2, bytes / 2, bytes / 4, bytes / 4, bytes / 4, bytes / 8]);
  for (const view of [v.u8, v.i8, v.u16, v.i16, v.u32, v.i32, v.f32, v.f64]) expect(view.buffer).toBe(b.buffer());
}

describe.each(factories)('%s backend', (label, create) => {
  const kind = label === 'wasm' ? 'wasm' : 'native';
  describe.each([false, true])('shared: %s', (shared) => {
    const make = (opts: Omit<BackendOptions, 'shared'> = {}): MemoryBackend => create({ ...opts, shared });

    test('defaults: one page, 256 MiB maximum, kind, shared and capabilities', () => {
      const b = make();
      expect(b.kind).toBe(kind);
      expect(b.shared).toBe(shared);
      expect(b.maxBytes).toBe(DEFAULT_MAX_BYTES);
      expect(b.byteLength()).toBe(PAGE_SIZE);
      expect(b.buffer() instanceof SharedArrayBuffer).toBe(shared);
      expect(b.capabilities).toEqual({
        pageSize: PAGE_SIZE, canShrink: kind === 'native' && !shared, canDecommit: false, viewsTrackGrowth: false, shareable: shared,
      });
      expect(b.views.version).toBe(0);
      expectViewsCover(b, PAGE_SIZE);
    });

    test('initialBytes rounds up to pages, maxBytes rounds down and is clamped', () => {
      expect(make({ initialBytes: 0 }).byteLength()).toBe(PAGE_SIZE);
      expect(make({ initialBytes: 1 }).byteLength()).toBe(PAGE_SIZE);
      const b = make({ initialBytes: PAGE_SIZE + 1, maxBytes: 4 * PAGE_SIZE - 1 });
      expect(b.byteLength()).toBe(2 * PAGE_SIZE);
      expect(b.maxBytes).toBe(3 * PAGE_SIZE);
      expectViewsCover(b, 2 * PAGE_SIZE);
      expect(make({ maxBytes: Number.MAX_SAFE_INTEGER }).maxBytes).toBe(MAX_HEAP_BYTES);
      expect(make({ initialBytes: 2 * PAGE_SIZE, maxBytes: 2 * PAGE_SIZE }).maxBytes).toBe(2 * PAGE_SIZE);
    });

    test('grow returns the old size in pages; new memory reads zero; old content survives', () => {
      const b = make({ maxBytes: 8 * PAGE_SIZE });
      const views = b.views;
      b.views.i32[0] = 0x1234_5678;
      b.views.u8[PAGE_SIZE - 1] = 0xab;
      expect(b.grow(2)).toBe(1);
      expect(b.byteLength()).toBe(3 * PAGE_SIZE);
      expect(b.views).toBe(views);
      expect(b.views.version).toBe(1);
      expectViewsCover(b, 3 * PAGE_SIZE);
      expect(b.views.i32[0]).toBe(0x1234_5678);
      expect(b.views.u8[PAGE_SIZE - 1]).toBe(0xab);
      expect(b.views.u8.subarray(PAGE_SIZE).every((x) => x === 0)).toBe(true);
      b.views.f64[(3 * PAGE_SIZE) / 8 - 1] = 1.5;
      expect(b.grow(1)).toBe(3);
      expect(b.views.f64[(3 * PAGE_SIZE) / 8 - 1]).toBe(1.5);
      expect(b.views.i32[0]).toBe(0x1234_5678);
    });

    test('grow(0) returns the size in pages and changes nothing', () => {
      const b = make({ initialBytes: 2 * PAGE_SIZE });
      b.views.u8[7] = 7;
      expect(b.grow(0)).toBe(2);
      expect(b.byteLength()).toBe(2 * PAGE_SIZE);
      expectViewsCover(b, 2 * PAGE_SIZE);
      expect(b.views.u8[7]).toBe(7);
    });

    test('grow past the maximum (or by a bad delta) returns -1 and leaves size, views and content unchanged', () => {
      const b = make({ initialBytes: 2 * PAGE_SIZE, maxBytes: 4 * PAGE_SIZE });
      b.views.u32[100] = 0xdead_beef;
      const version = b.views.version;
      for (const delta of [3, 1000, -1, 1.5, Number.NaN, 2 ** 32 + 1]) {
        expect(b.grow(delta)).toBe(-1);
        expect(b.byteLength()).toBe(2 * PAGE_SIZE);
      }
      expect(b.views.version).toBe(version);
      expectViewsCover(b, 2 * PAGE_SIZE);
      expect(b.views.u32[100]).toBe(0xdead_beef);
      expect(b.grow(2)).toBe(2);
      expect(b.grow(1)).toBe(-1);
      expect(b.byteLength()).toBe(4 * PAGE_SIZE);
      expect(b.views.u32[100]).toBe(0xdead_beef);
    });

    test('byteLength never exceeds maxBytes, page by page up to it', () => {
      const max = 2 * MiB;
      const b = make({ maxBytes: max });
      let pages = 1;
      for (;;) {
        const old = b.grow(1);
        if (old < 0) break;
        expect(old).toBe(pages++);
        expect(b.byteLength()).toBe(pages * PAGE_SIZE);
        expect(b.byteLength()).toBeLessThanOrEqual(max);
      }
      expect(b.byteLength()).toBe(max);
      expectViewsCover(b, max);
    });

    test('refresh returns false when nothing changed', () => {
      const b = make();
      expect(b.refresh()).toBe(false);
      b.grow(1);
      expect(b.refresh()).toBe(false);
      // Both backends re-cover their fixed-length views on grow.
      expect(b.views.version).toBe(1);
    });

    if (kind === 'native' && !shared) {
      test('shrink lowers byteLength, re-covers the views, keeps the bytes below; growth after it reads zero', () => {
        const b = make({ initialBytes: 8 * PAGE_SIZE, maxBytes: 16 * PAGE_SIZE });
        const views = b.views;
        b.views.u8.fill(0x77);
        expect(b.shrink(3)).toBe(true);
        expect(b.byteLength()).toBe(3 * PAGE_SIZE);
        expect(b.views).toBe(views);
        expect(b.views.version).toBe(1);
        expectViewsCover(b, 3 * PAGE_SIZE);
        expect(b.views.u8.every((x) => x === 0x77)).toBe(true);
        expect(b.refresh()).toBe(false);
        expect(b.shrink(3)).toBe(true);
        expect(b.views.version).toBe(1);
        expect(b.grow(5)).toBe(3);
        expectViewsCover(b, 8 * PAGE_SIZE);
        expect(b.views.u8.subarray(0, 3 * PAGE_SIZE).every((x) => x === 0x77)).toBe(true);
        expect(b.views.u8.subarray(3 * PAGE_SIZE).every((x) => x === 0)).toBe(true);
      });

      test('shrink refuses a length outside [1, current pages] with nothing changed', () => {
        const b = make({ initialBytes: 4 * PAGE_SIZE, maxBytes: 8 * PAGE_SIZE });
        for (const bad of [0, -1, 5, 1.5, Number.NaN, 2 ** 32]) expect(b.shrink(bad)).toBe(false);
        expect(b.byteLength()).toBe(4 * PAGE_SIZE);
        expect(b.views.version).toBe(0);
        expectViewsCover(b, 4 * PAGE_SIZE);
      });
    } else {
      test('cannot shrink: canShrink false, shrink returns false and changes nothing', () => {
        const b = make({ initialBytes: 4 * PAGE_SIZE, maxBytes: 8 * PAGE_SIZE });
        expect(b.capabilities.canShrink).toBe(false);
        expect(b.shrink(1)).toBe(false);
        expect(b.byteLength()).toBe(4 * PAGE_SIZE);
        expect(b.views.version).toBe(0);
        expectViewsCover(b, 4 * PAGE_SIZE);
      });
    }

    test('bad options throw HakmemError(E_INVALID_OPTION)', () => {
      for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '65536', null]) {
        expectInvalidOption(() => make({ initialBytes: bad as number }));
        expectInvalidOption(() => make({ maxBytes: bad as number }));
      }
      expectInvalidOption(() => make({ maxBytes: PAGE_SIZE - 1 }));
      expectInvalidOption(() => make({ initialBytes: 3 * PAGE_SIZE, maxBytes: 2 * PAGE_SIZE }));
      expectInvalidOption(() => make({ initialBytes: 2 * PAGE_SIZE + 1, maxBytes: 3 * PAGE_SIZE - 1 }));
      expectInvalidOption(() => create({ shared: 'yes' as unknown as boolean }));
    });

    if (!shared) {
      test('share() throws E_INVALID_OPTION', () => {
        expectInvalidOption(() => make().share());
      });
      return;
    }

    test('share() hands out the memory; attachBackend sees the same bytes and growth', () => {
      const a = make({ maxBytes: 8 * PAGE_SIZE });
      const handle = a.share();
      expect(handle.kind).toBe(kind);
      expect(handle.maxBytes).toBe(8 * PAGE_SIZE);
      expect(handle.memory).toBeInstanceOf(kind === 'wasm' ? WebAssembly.Memory : SharedArrayBuffer);
      const b = attachBackend(handle);
      expect([b.kind, b.shared, b.maxBytes]).toEqual([kind, true, 8 * PAGE_SIZE]);
      expect(b.capabilities).toEqual(a.capabilities);
      a.views.i32[5] = 55;
      expect(b.views.i32[5]).toBe(55);

      expect(a.grow(2)).toBe(1);
      expect(b.byteLength()).toBe(3 * PAGE_SIZE);
      // Fixed-length views (both kinds): b sees a's growth after refresh().
      expect(b.views.u8.length).toBe(PAGE_SIZE);
      expect(b.refresh()).toBe(true);
      expect(b.refresh()).toBe(false);
      expectViewsCover(b, 3 * PAGE_SIZE);
      a.views.i32[(3 * PAGE_SIZE) / 4 - 1] = 77;
      expect(b.views.i32[(3 * PAGE_SIZE) / 4 - 1]).toBe(77);

      expect(b.grow(5)).toBe(3);
      expect(b.grow(1)).toBe(-1);
      expect(a.refresh()).toBe(true);
      expectViewsCover(a, 8 * PAGE_SIZE);
    });
  });
});

describe('attachBackend', () => {
  test('rejects a handle that does not describe a shared memory of its kind', () => {
    const wasm = createWasmBackend({ shared: true }).share();
    const native = createNativeBackend({ shared: true }).share();
    const bad: SharedBackendHandle[] = [
      { ...wasm, kind: 'native' },
      { ...native, kind: 'wasm' },
      { ...wasm, memory: new WebAssembly.Memory({ initial: 1, maximum: 2 }) },
      { ...native, memory: new SharedArrayBuffer(PAGE_SIZE) },
      { ...native, maxBytes: native.maxBytes * 2 },
      { ...native, maxBytes: PAGE_SIZE + 1 },
      { ...wasm, maxBytes: 0 },
      { ...wasm, maxBytes: MAX_HEAP_BYTES + PAGE_SIZE },
      { ...wasm, kind: 'other' as 'wasm' },
    ];
    for (const handle of bad) expectInvalidOption(() => attachBackend(handle));
  });
});

describe('wasm views', () => {
  test.each([false, true])('grow(0) replaces the buffer object and the views follow (shared: %s)', (shared) => {
    const b = createWasmBackend({ shared });
    const before = b.buffer();
    expect(b.grow(0)).toBe(1);
    // V8 hands out a new buffer object on every grow, even by 0 pages (non-shared: the old one is detached).
    expect(b.buffer() === before).toBe(false);
    expect(before.byteLength).toBe(shared ? PAGE_SIZE : 0);
    expect(b.views.version).toBe(1);
    expectViewsCover(b, PAGE_SIZE);
    expect(b.refresh()).toBe(false);
  });
});

describe('native backend (reserved: the default)', () => {
  describe.each([false, true])('shared: %s', (shared) => {
    const make = (opts: Omit<BackendOptions, 'shared'> = {}): MemoryBackend => createNativeBackend({ ...opts, shared });

    test('one plain buffer of maxBytes; the views cover all of it for good; the length starts at initialBytes', () => {
      const b = make({ initialBytes: PAGE_SIZE + 1, maxBytes: 8 * PAGE_SIZE });
      const buf = b.buffer();
      expect(buf instanceof SharedArrayBuffer).toBe(shared);
      expect(buf.byteLength).toBe(8 * PAGE_SIZE);
      expect((buf as ArrayBuffer & { resizable?: boolean }).resizable ?? false).toBe(false);
      expect((buf as SharedArrayBuffer & { growable?: boolean }).growable ?? false).toBe(false);
      expect(b.byteLength()).toBe(2 * PAGE_SIZE);
      expect(b.capabilities).toEqual({
        pageSize: PAGE_SIZE, canShrink: false, canDecommit: false, viewsTrackGrowth: true, shareable: shared,
      });
      expectViewsCover(b, 8 * PAGE_SIZE);
      expect(b.views.version).toBe(0);
      expect(b.shrink(1)).toBe(false);
      expect(b.byteLength()).toBe(2 * PAGE_SIZE);
    });

    test('grow is bookkeeping: old size in pages, -1 past the maximum or for a bad delta, views never replaced', () => {
      const b = make({ maxBytes: 4 * PAGE_SIZE });
      const u8 = b.views.u8;
      u8[10] = 10;
      expect(b.grow(2)).toBe(1);
      expect(b.byteLength()).toBe(3 * PAGE_SIZE);
      expect(b.views.u8).toBe(u8);
      expect(b.views.version).toBe(0);
      expect(u8.subarray(PAGE_SIZE, 3 * PAGE_SIZE).every((x) => x === 0)).toBe(true);
      for (const delta of [2, -1, 1.5, Number.NaN]) expect(b.grow(delta)).toBe(-1);
      expect(b.byteLength()).toBe(3 * PAGE_SIZE);
      expect(b.grow(0)).toBe(3);
      expect(b.grow(1)).toBe(3);
      expect(b.grow(1)).toBe(-1);
      expect(b.refresh()).toBe(false);
      expect(u8[10]).toBe(10);
    });

    if (!shared) return;

    test('share() carries the length cell; attachBackend sees growth by either side with no refresh', () => {
      const a = make({ maxBytes: 8 * PAGE_SIZE });
      const handle = a.share();
      expect(handle.length).toBeInstanceOf(SharedArrayBuffer);
      const b = attachBackend(handle);
      expect([b.kind, b.shared, b.maxBytes, b.byteLength()]).toEqual(['native', true, 8 * PAGE_SIZE, PAGE_SIZE]);
      expect(a.grow(2)).toBe(1);
      expect(b.byteLength()).toBe(3 * PAGE_SIZE);
      expect(b.grow(5)).toBe(3);
      expect(a.byteLength()).toBe(8 * PAGE_SIZE);
      expect(a.grow(1)).toBe(-1);
      a.views.i32[(8 * PAGE_SIZE) / 4 - 1] = 77;
      expect(b.views.i32[(8 * PAGE_SIZE) / 4 - 1]).toBe(77);
      expect(() => attachBackend({ kind: 'native', memory: handle.memory, maxBytes: handle.maxBytes })).toThrow(HakmemError);
    });
  });

  test('growable must be a boolean', () => {
    expectInvalidOption(() => createNativeBackend({ growable: 'yes' as unknown as boolean }));
  });
});

describe('native backend (reserved): a host that cannot reserve maxBytes', () => {
  test('gets E_OUT_OF_MEMORY naming the way out (smaller maxBytes or growable: true)', () => {
    const Real = globalThis.ArrayBuffer;
    const refusing = function ArrayBuffer(length: number, options?: unknown): ArrayBuffer {
      if (length > 1 << 20) throw new RangeError('Array buffer allocation failed');
      return new Real(length, options as undefined);
    } as unknown as ArrayBufferConstructor;
    globalThis.ArrayBuffer = refusing;
    let e: unknown;
    try {
      createNativeBackend({ maxBytes: 64 << 20 });
    } catch (error) {
      e = error;
    } finally {
      globalThis.ArrayBuffer = Real;
    }
    expect(e).toBeInstanceOf(HakmemError);
    expect((e as HakmemError).code).toBe(ErrorCode.OUT_OF_MEMORY);
    expect((e as HakmemError).message).toMatch(/growable: true/);
    expect(createNativeBackend({ maxBytes: 64 << 20 }).maxBytes).toBe(64 << 20);
  });
});
