// Consumer smoke test (CommonJS), run by tools/release/release-dry.mjs in a fresh project
// outside the workspace. require() must load the published CJS build and work.
/* global require */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports */
const assert = require('node:assert/strict');
const allocator = require('@hakmem/allocator');
/* eslint-enable @typescript-eslint/no-require-imports */

const entry = require.resolve('@hakmem/allocator');
assert.match(entry, /[\\/]node_modules[\\/]@hakmem[\\/]allocator[\\/]dist[\\/]index\.cjs$/, `CJS entry: ${entry}`);
assert.equal(typeof allocator.createHeap, 'function', 'createHeap is a function');

const heap = allocator.createHeap({ maxBytes: 64 << 20 });
const ptrs = [];
for (const size of [16, 640, 5000, 200_000]) {
  const p = heap.malloc(size);
  assert.ok(p > 0 && p % 16 === 0, `malloc(${size}) returned ${p}`);
  heap.u8(p, size).fill(size & 255);
  ptrs.push([p, size]);
}
for (const [p, size] of ptrs) {
  const back = heap.u8(p, size);
  for (let i = 0; i < size; i++) {
    if (back[i] !== (size & 255)) assert.fail(`malloc(${size}): byte ${i} read back ${back[i]}`);
  }
  heap.free(p);
}
heap.validate();
console.log(`cjs: ok (${entry})`);
