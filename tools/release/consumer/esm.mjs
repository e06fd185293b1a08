// Consumer smoke test (ESM), run by tools/release/release-dry.mjs in a fresh project
// outside the workspace, where every @hakmem package is installed from its tarball.
// A real malloc / write / read back / free through the published ESM build.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createHeap } from '@hakmem/allocator';

const entry = fileURLToPath(import.meta.resolve('@hakmem/allocator'));
assert.match(entry, /[\\/]node_modules[\\/]@hakmem[\\/]allocator[\\/]dist[\\/]index\.js$/, `ESM entry: ${entry}`);
assert.equal(typeof createHeap, 'function', 'createHeap is a function');

const heap = createHeap({ maxBytes: 64 << 20 });
// One size per tier: tiny, mid (pool), L2.5, big.
for (const size of [24, 80, 2000, 9000, 100_000, 3 << 20]) {
  const p = heap.malloc(size);
  assert.ok(p > 0 && p % 16 === 0, `malloc(${size}) returned ${p}`);
  assert.ok(heap.usableSize(p) >= size, `usableSize(${p}) < ${size}`);
  const block = heap.u8(p, size);
  for (let i = 0; i < size; i++) block[i] = (i * 31 + size) & 255;
  const back = heap.u8(p, size);
  for (let i = 0; i < size; i++) {
    if (back[i] !== ((i * 31 + size) & 255)) assert.fail(`malloc(${size}): byte ${i} read back ${back[i]}`);
  }
  heap.free(p);
}
heap.validate();
console.log(`esm: ok (${entry})`);
