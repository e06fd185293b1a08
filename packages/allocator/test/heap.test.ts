import { describe, expect, test } from 'vitest';
import { errorCodeOf } from '@hakmem/testkit';
import { ErrorCode, PAGE_SIZE } from '@hakmem/contracts';
import { createHeap } from '@hakmem/allocator';


describe('createHeap: the tiny path', () => {
  test('malloc returns distinct, aligned, writable blocks; free reuses them', () => {
    const heap = createHeap({ maxBytes: 32 << 20 });
    const ptrs = new Set<number>();
    for (let size = 0; size <= 2048; size += 7) {
      const p = heap.malloc(size);
      expect(p).toBeGreaterThan(0);
      expect(p % (size >= 16 ? 16 : 8)).toBe(0);
      expect(heap.usableSize(p)).toBeGreaterThanOrEqual(size);
      expect(ptrs.has(p)).toBe(false);
      ptrs.add(p);
      heap.views.u8.fill(0xab, p, p + size);
    }
    heap.validate();
    for (const p of ptrs) heap.free(p);
    heap.validate();
    expect(heap.liveBytes()).toBe(0);
    const again = heap.malloc(100);
    expect(ptrs.has(again)).toBe(true);
  });

  test('typed-array helpers view the block', () => {
    const heap = createHeap({ maxBytes: 32 << 20 });
    const p = heap.malloc(8 * 10);
    const f = heap.f64(p, 10);
    f[3] = Math.PI;
    expect(new Float64Array(heap.views.u8.buffer, p, 10)[3]).toBe(Math.PI);
    expect(heap.f64(p, 10)[3]).toBe(Math.PI);
  });

  test('calloc zeroes, realloc keeps contents and frees the old block', () => {
    const heap = createHeap({ maxBytes: 32 << 20 });
    const dirty = heap.malloc(64);
    heap.views.u8.fill(0xff, dirty, dirty + 64);
    heap.free(dirty);
    const z = heap.calloc(8, 8);
    expect([...heap.u8(z, 64)].every((b) => b === 0)).toBe(true);
    const u8 = heap.views.u8;
    for (let i = 0; i < 64; i++) u8[z + i] = i;
    const r = heap.realloc(z, 1000);
    expect(r).not.toBe(z);
    for (let i = 0; i < 64; i++) expect(heap.views.u8[r + i]).toBe(i);
    expect(heap.liveBytes()).toBe(heap.usableSize(r));
    expect(heap.realloc(r, 0)).toBe(0);
    expect(heap.liveBytes()).toBe(0);
    heap.validate();
  });

  test('memalign gives aligned tiny blocks', () => {
    const heap = createHeap({ maxBytes: 32 << 20 });
    for (const align of [8, 16, 32, 64, 128, 256, 512, 1024, 2048]) {
      const p = heap.memalign(align, 24);
      expect(p % align).toBe(0);
      heap.free(p);
    }
  });

  test('phase test: memory freed in one class is reused by another, the heap does not grow', () => {
    const heap = createHeap({ maxBytes: 64 << 20 });
    const phase = (size: number, count: number): void => {
      const ptrs: number[] = [];
      for (let i = 0; i < count; i++) ptrs.push(heap.malloc(size));
      for (const p of ptrs) heap.free(p);
    };
    phase(64, 100_000); // ~6.4 MB of 64-byte blocks
    heap.validate();
    const after1 = heap.stats().footprint;
    phase(1024, 6_000); // ~6 MB of 1 KiB blocks
    phase(256, 25_000);
    heap.validate();
    expect(heap.stats().footprint).toBe(after1);
    expect(heap.liveBytes()).toBe(0);
  });

  test('trim hands cached memory back to os-boundary', () => {
    const heap = createHeap({ maxBytes: 64 << 20 });
    const ptrs: number[] = [];
    for (let i = 0; i < 50_000; i++) ptrs.push(heap.malloc(128));
    for (const p of ptrs) heap.free(p);
    const before = heap.stats().boxes.osBoundary.bytesInUse;
    const unmapped = heap.trim();
    expect(unmapped).toBeGreaterThan(0);
    expect(heap.stats().boxes.osBoundary.bytesInUse).toBe(before - unmapped);
    // Nothing was live, so every SuperSlab went back.
    expect(heap.stats().boxes.osBoundary.bytesInUse).toBe(0);
    expect(heap.stats().boxes.superslabTier).toMatchObject({ hot: 0, draining: 0, free: 0 });
    heap.validate();
    expect(heap.malloc(128)).toBeGreaterThan(0);
  });

  test('out of memory: malloc returns 0, the heap stays usable', () => {
    const heap = createHeap({ maxBytes: 4 << 20 });
    const ptrs: number[] = [];
    let p: number;
    while ((p = heap.malloc(2048)) !== 0) ptrs.push(p);
    expect(ptrs.length).toBeGreaterThan(100);
    expect(heap.stats().boxes.gatekeeper.failed).toBe(1);
    heap.validate();
    for (const q of ptrs) heap.free(q);
    expect(heap.malloc(2048)).toBeGreaterThan(0);
    heap.validate();
  });

  test('throwOnOutOfMemory throws E_OUT_OF_MEMORY instead', () => {
    const heap = createHeap({ maxBytes: 4 << 20, throwOnOutOfMemory: true });
    expect(errorCodeOf(() => {
      for (;;) heap.malloc(2048);
    })).toBe(ErrorCode.OUT_OF_MEMORY);
    heap.validate();
  });

  test('bad input gets a typed error and leaves the heap intact', () => {
    const heap = createHeap({ maxBytes: 32 << 20 });
    const p = heap.malloc(48);
    heap.views.u8.fill(7, p, p + 48);
    expect(errorCodeOf(() => heap.malloc(-1))).toBe(ErrorCode.INVALID_SIZE);
    expect(errorCodeOf(() => heap.malloc(NaN))).toBe(ErrorCode.INVALID_SIZE);
    expect(errorCodeOf(() => heap.malloc(1.5))).toBe(ErrorCode.INVALID_SIZE);
    expect(errorCodeOf(() => heap.malloc(Infinity))).toBe(ErrorCode.INVALID_SIZE);
    expect(heap.malloc(1 << 30)).toBe(0); // above maxBytes: out of memory, as C's malloc (NULL)
    expect(errorCodeOf(() => heap.free(p + 8))).toBe(ErrorCode.INTERIOR_POINTER);
    expect(errorCodeOf(() => heap.free(12345))).toBe(ErrorCode.INVALID_POINTER);
    expect(errorCodeOf(() => heap.free(-16))).toBe(ErrorCode.INVALID_POINTER);
    expect(errorCodeOf(() => heap.free(0.5))).toBe(ErrorCode.INVALID_POINTER);
    expect(errorCodeOf(() => heap.free(heap.stats().footprint + PAGE_SIZE * 4))).toBe(ErrorCode.INVALID_POINTER);
    expect(errorCodeOf(() => heap.free(1 << 30))).toBe(ErrorCode.INVALID_POINTER);
    expect(errorCodeOf(() => heap.usableSize(p + 1))).toBe(ErrorCode.INTERIOR_POINTER);
    expect(errorCodeOf(() => heap.memalign(24, 8))).toBe(ErrorCode.INVALID_ALIGNMENT);
    expect(errorCodeOf(() => heap.memalign(0, 8))).toBe(ErrorCode.INVALID_ALIGNMENT);
    expect(heap.calloc(1 << 20, 1 << 20)).toBe(0); // n × size above maxBytes: out of memory
    expect(errorCodeOf(() => heap.calloc(-1, 8))).toBe(ErrorCode.INVALID_SIZE);
    expect(errorCodeOf(() => heap.realloc(p, -5))).toBe(ErrorCode.INVALID_SIZE);
    expect(errorCodeOf(() => heap.realloc(p + 16, 8))).toBe(ErrorCode.INTERIOR_POINTER);
    heap.free(0);
    expect(heap.usableSize(0)).toBe(0);
    heap.validate();
    expect([...heap.u8(p, 48)].every((b) => b === 7)).toBe(true);
    expect(heap.stats().boxes.gatekeeper.rejected).toBe(16);
    expect(heap.stats().boxes.gatekeeper.failed).toBe(2);
    heap.free(p);
    expect(heap.liveBytes()).toBe(0);
  });

  test.each([
    ['the wasm backend', { backend: 'wasm' }],
    ['the growable native backend', { growable: true }],
  ] as const)('a heap on %s works the same', (_name, options) => {
    const heap = createHeap({ ...options, maxBytes: 32 << 20 });
    const ptrs: number[] = [];
    for (let i = 0; i < 20_000; i++) ptrs.push(heap.malloc(16 + (i % 1000)));
    heap.validate();
    for (const p of ptrs) heap.free(p);
    expect(heap.liveBytes()).toBe(0);
  });
});
