// `npm start -w @hakmem/example-wasm-memory`: JS and wasm share one hakmem heap.
import { loadKernels } from './index.js';

const { heap, memory, kernels } = await loadKernels();

// JS allocates and fills 1000 doubles; wasm sums them and transforms them in place.
const n = 1000;
const xs = heap.malloc(n * 8);
heap.f64(xs, n).forEach((_, i, a) => { a[i] = i + 1; });
console.log(`sum_f64 of 1..${n}: ${kernels.sum_f64(xs, n)}`);
kernels.axpb_f64(xs, n, 2, 0.5);
console.log(`after axpb_f64(x * 2 + 0.5): x[0] = ${heap.f64(xs, n)[0]}, x[${n - 1}] = ${heap.f64(xs, n)[n - 1]}`);

// wasm allocates a block of its own (hakmem's malloc, imported); JS reads and frees it.
const sums = kernels.prefix_sums_f64(xs, n);
console.log(`prefix_sums_f64 → block ${sums} (usable ${heap.usableSize(sums)} bytes), last = ${heap.f64(sums, n)[n - 1]}`);
heap.free(sums);
heap.free(xs);

// Bytes: text written by JS, upper-cased in place by wasm.
const text = new TextEncoder().encode('hakmem manages this memory; wasm reads it in place');
const t = heap.malloc(text.length);
heap.u8(t, text.length).set(text);
const changed = kernels.upper_ascii(t, text.length);
console.log(`upper_ascii changed ${changed} bytes: ${new TextDecoder().decode(heap.u8(t, text.length))}`);
heap.free(t);

// A linked list built, walked and freed by wasm, with 50 000 mallocs through the imports.
const list = kernels.make_list(50_000);
console.log(`make_list(50000): sum ${kernels.sum_list(list)}, live ${heap.liveBytes()} bytes, memory ${memory.buffer.byteLength} bytes`);
kernels.free_list(list);
heap.trim();
heap.validate();
console.log(`after free_list + trim: live ${heap.liveBytes()} bytes`);
