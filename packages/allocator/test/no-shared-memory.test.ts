import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { ErrorCode, HakmemError } from '@hakmem/contracts';
import { attachBackend, createNativeBackend, createWasmBackend } from '@hakmem/memory-backend';
import { createHeap } from '../src/index.js';

/**
 * A host without SharedArrayBuffer: a browser page that is not cross-origin isolated (no
 * COOP/COEP headers). A heap that is not shared works there; `shared: true` is refused
 * with a typed error that says what the page needs. (The real thing, in Chromium:
 * examples/browser/test/browser.test.ts.)
 */
describe('a host without SharedArrayBuffer', () => {
  beforeAll(() => {
    vi.stubGlobal('SharedArrayBuffer', undefined);
    expect(typeof SharedArrayBuffer).toBe('undefined');
  });
  afterAll(() => {
    vi.unstubAllGlobals();
  });

  test('createHeap() on every backend: malloc, views, realloc, free, validate, trim', () => {
    for (const options of [{}, { growable: true }, { backend: 'wasm' as const }]) {
      const heap = createHeap({ ...options, maxBytes: 16 << 20 });
      const ptrs = [16, 3000, 100_000, 2 << 20].map((size) => {
        const p = heap.malloc(size);
        heap.u8(p, size).fill(7);
        return p;
      });
      const r = heap.realloc(ptrs[0]!, 5000);
      expect(heap.u8(r, 16).every((b) => b === 7)).toBe(true);
      for (const p of [r, ...ptrs.slice(1)]) heap.free(p);
      heap.validate();
      heap.trim();
      expect(heap.liveBytes()).toBe(0);
    }
  });

  test('shared: true is refused with E_INVALID_OPTION naming the two headers, not a ReferenceError', () => {
    const attempts = [
      () => createHeap({ shared: true }),
      () => createHeap({ shared: true, growable: true }),
      () => createNativeBackend({ shared: true }),
      () => createWasmBackend({ shared: true }),
    ];
    for (const attempt of attempts) {
      let error: unknown;
      try {
        attempt();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(HakmemError);
      expect((error as HakmemError).code).toBe(ErrorCode.INVALID_OPTION);
      expect((error as HakmemError).message).toContain('Cross-Origin-Opener-Policy: same-origin');
      expect((error as HakmemError).message).toContain('Cross-Origin-Embedder-Policy: require-corp');
    }
  });

  test('attachBackend of a handle without shared memory: E_INVALID_OPTION', () => {
    const handle = { kind: 'native' as const, memory: new ArrayBuffer(65536) as unknown as SharedArrayBuffer, maxBytes: 65536 };
    expect(() => attachBackend(handle)).toThrow(HakmemError);
  });
});
