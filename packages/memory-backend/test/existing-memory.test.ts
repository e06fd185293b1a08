import { describe, expect, test } from 'vitest';
import { ErrorCode, HakmemError, PAGE_SIZE } from '@hakmem/contracts';
import { attachBackend, createWasmBackend, DEFAULT_MAX_BYTES } from '@hakmem/memory-backend';

function expectInvalidOption(fn: () => unknown): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(HakmemError);
  expect((error as HakmemError).code).toBe(ErrorCode.INVALID_OPTION);
  expect((error as HakmemError).box).toBe('memory-backend');
}

describe('createWasmBackend({ memory }): a backend over an existing WebAssembly.Memory', () => {
  test('manages the memory given: same bytes, its size, growth seen on both sides', () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 8 });
    const b = createWasmBackend({ memory, maxBytes: 8 * PAGE_SIZE });
    expect(b.kind).toBe('wasm');
    expect(b.shared).toBe(false);
    expect(b.maxBytes).toBe(8 * PAGE_SIZE);
    expect(b.byteLength()).toBe(2 * PAGE_SIZE);
    expect(b.buffer()).toBe(memory.buffer);
    b.views.i32[5] = 1234;
    expect(new Int32Array(memory.buffer)[5]).toBe(1234);
    expect(b.grow(3)).toBe(2);
    expect(memory.buffer.byteLength).toBe(5 * PAGE_SIZE);
    expect(b.views.u8.length).toBe(5 * PAGE_SIZE);
    expect(b.views.i32[5]).toBe(1234);
    // Growth by the memory's owner (a wasm module's memory.grow, here from JS): refresh sees it.
    memory.grow(1);
    expect(b.refresh()).toBe(true);
    expect(b.byteLength()).toBe(6 * PAGE_SIZE);
    expect(b.views.u8.length).toBe(6 * PAGE_SIZE);
  });

  test('initialBytes is ignored, maxBytes defaults to 256 MiB and is rounded down to pages', () => {
    const memory = new WebAssembly.Memory({ initial: 3 });
    expect(createWasmBackend({ memory, initialBytes: PAGE_SIZE }).byteLength()).toBe(3 * PAGE_SIZE);
    expect(createWasmBackend({ memory }).maxBytes).toBe(DEFAULT_MAX_BYTES);
    expect(createWasmBackend({ memory, maxBytes: 4 * PAGE_SIZE + 100 }).maxBytes).toBe(4 * PAGE_SIZE);
  });

  test('growth past the memory\'s own maximum is refused (-1), nothing changes', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2 });
    const b = createWasmBackend({ memory, maxBytes: 16 * PAGE_SIZE });
    expect(b.grow(1)).toBe(1);
    expect(b.grow(1)).toBe(-1);
    expect(b.byteLength()).toBe(2 * PAGE_SIZE);
  });

  test('a shared memory: shared from the memory, share() hands it out, attachBackend sees the same bytes', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
    const b = createWasmBackend({ memory, maxBytes: 4 * PAGE_SIZE });
    expect(b.shared).toBe(true);
    const handle = b.share();
    expect(handle.memory).toBe(memory);
    const other = attachBackend(handle);
    b.views.i32[3] = 77;
    expect(other.views.i32[3]).toBe(77);
  });

  test('bad options throw E_INVALID_OPTION: not a memory, shared that disagrees, maxBytes below the current size', () => {
    expectInvalidOption(() => createWasmBackend({ memory: new ArrayBuffer(PAGE_SIZE) as unknown as WebAssembly.Memory }));
    expectInvalidOption(() => createWasmBackend({ memory: new WebAssembly.Memory({ initial: 1 }), shared: true }));
    expectInvalidOption(() => createWasmBackend({ memory: new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }), shared: false }));
    expectInvalidOption(() => createWasmBackend({ memory: new WebAssembly.Memory({ initial: 4 }), maxBytes: 2 * PAGE_SIZE }));
    expectInvalidOption(() => createWasmBackend({ memory: new WebAssembly.Memory({ initial: 1 }), maxBytes: -1 }));
  });
});
