import { beforeAll, describe, expect, test } from 'vitest';
import { compileKernels, loadKernels, MAX_BYTES } from '../src/index.js';

let module: WebAssembly.Module;

beforeAll(async () => {
  module = await compileKernels();
});

describe('wasm-memory: a hakmem heap in a wasm module\'s own memory', () => {
  test('kernels.wat compiles (wabt) to a module that exports its memory and imports hakmem\'s malloc/free', () => {
    expect(WebAssembly.Module.exports(module).map((e) => `${e.kind} ${e.name}`).sort()).toEqual([
      'function axpb_f64', 'function free_list', 'function make_list', 'function prefix_sums_f64', 'function sum_f64',
      'function sum_list', 'function upper_ascii', 'memory memory',
    ]);
    expect(WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`)).toEqual(['hakmem.malloc', 'hakmem.free']);
  });

  test('the heap manages the module\'s memory: same buffer, wasm backend, header written at offset 0', async () => {
    const { heap, memory } = await loadKernels(module);
    expect(heap.backend.kind).toBe('wasm');
    expect(heap.backend.maxBytes).toBe(MAX_BYTES);
    expect(heap.backend.buffer()).toBe(memory.buffer);
    expect(new Int32Array(memory.buffer)[0]).not.toBe(0); // the heap's header magic
    const p = heap.malloc(64);
    expect(p).toBeGreaterThan(0);
    expect(p + 64).toBeLessThanOrEqual(memory.buffer.byteLength);
    heap.free(p);
  });

  test('JS writes f64s, wasm sums them and transforms them in place; the neighbours are untouched', async () => {
    const { heap, kernels } = await loadKernels(module);
    const n = 777;
    const before = heap.malloc(32);
    const xs = heap.malloc(n * 8);
    const after = heap.malloc(32);
    heap.u8(before, 32).fill(0x5a);
    heap.u8(after, 32).fill(0xa5);
    const values = Array.from({ length: n }, (_, i) => Math.sin(i) * 1000 + i / 7);
    heap.f64(xs, n).set(values);
    const expected = values.reduce((a, x) => a + x, 0); // same order of additions as the wasm loop
    expect(kernels.sum_f64(xs, n)).toBe(expected);
    expect(kernels.sum_f64(xs, 0)).toBe(0);
    kernels.axpb_f64(xs, n, -3, 0.25);
    expect([...heap.f64(xs, n)]).toEqual(values.map((x) => x * -3 + 0.25));
    expect(heap.u8(before, 32).every((b) => b === 0x5a)).toBe(true);
    expect(heap.u8(after, 32).every((b) => b === 0xa5)).toBe(true);
    for (const p of [before, xs, after]) heap.free(p);
    heap.validate();
  });

  test('bytes: wasm upper-cases ASCII in place and counts the changes', async () => {
    const { heap, kernels } = await loadKernels(module);
    const text = 'Hello, hakmem! zz 123 äö';
    const bytes = new TextEncoder().encode(text);
    const p = heap.malloc(bytes.length);
    heap.u8(p, bytes.length).set(bytes);
    expect(kernels.upper_ascii(p, bytes.length)).toBe(12); // e l l o h a k m e m z z
    expect(new TextDecoder().decode(heap.u8(p, bytes.length))).toBe('HELLO, HAKMEM! ZZ 123 äö');
    heap.free(p);
  });

  test('wasm allocates through hakmem: a block of prefix sums that JS reads, sizes and frees', async () => {
    const { heap, kernels } = await loadKernels(module);
    const n = 5000; // 40 000 bytes: a mid-tier block
    const src = heap.malloc(n * 8);
    heap.f64(src, n).forEach((_, i, a) => { a[i] = i % 10; });
    const live = heap.liveBytes();
    const dst = kernels.prefix_sums_f64(src, n);
    expect(dst).not.toBe(0);
    expect(dst % 8).toBe(0);
    expect(heap.usableSize(dst)).toBeGreaterThanOrEqual(n * 8);
    expect(heap.liveBytes()).toBe(live + heap.usableSize(dst));
    let acc = 0;
    const out = heap.f64(dst, n);
    const want = Array.from({ length: n }, (_, i) => (acc += i % 10));
    expect([...out]).toEqual(want);
    heap.free(dst);
    heap.free(src);
    expect(heap.liveBytes()).toBe(0);
    heap.validate();
  });

  test('a linked list built and freed by wasm (50 000 mallocs through the imports); the memory grows under it', async () => {
    const { heap, memory, kernels } = await loadKernels(module);
    const bytesBefore = memory.buffer.byteLength;
    const head = kernels.make_list(50_000);
    expect(head).not.toBe(0);
    expect(memory.buffer.byteLength).toBeGreaterThan(bytesBefore);
    expect(kernels.sum_list(head)).toBe((50_000 * 49_999) / 2);
    expect(heap.liveBytes()).toBe(50_000 * heap.usableSize(head));
    // JS walks the list the same way, through views refreshed after the growth.
    const i32 = heap.views.i32;
    let count = 0;
    for (let node = head; node !== 0; node = i32[node >>> 2]!) count++;
    expect(count).toBe(50_000);
    heap.validate();
    kernels.free_list(head);
    expect(heap.liveBytes()).toBe(0);
    heap.trim();
    heap.validate();
  });

  test('a node JS allocated is freed by wasm, and the heap stays bounded by the module\'s maximum: out of memory → 0, nothing leaks', async () => {
    const { heap, memory, kernels } = await loadKernels(module);
    const node = heap.malloc(8);
    heap.i32(node, 2).set([0, 41]);
    expect(kernels.sum_list(node)).toBe(41);
    kernels.free_list(node);
    expect(heap.liveBytes()).toBe(0);
    // More 8-byte nodes than 32 MiB holds: make_list gets 0 from malloc and frees what it built.
    expect(kernels.make_list(5_000_000)).toBe(0);
    expect(memory.buffer.byteLength).toBe(MAX_BYTES);
    expect(heap.liveBytes()).toBe(0);
    heap.trim();
    heap.validate();
    // And the memory serves again.
    const again = kernels.make_list(1000);
    expect(kernels.sum_list(again)).toBe(499_500);
    kernels.free_list(again);
  });
});
