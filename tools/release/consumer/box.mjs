// Consumer smoke test of one box on its own, run by tools/release/release-dry.mjs in a
// fresh project where only @hakmem/os-boundary and @hakmem/memory-backend were installed
// (their own dependencies came along; the allocator did not). map / write / read back /
// unmap: os-boundary's malloc and free.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createNativeBackend } from '@hakmem/memory-backend';
import { createOsBoundary, osBoundaryStateBytes } from '@hakmem/os-boundary';

assert.ok(!existsSync('node_modules/@hakmem/allocator'), 'the box project must not pull in @hakmem/allocator');

const PAGE = 64 * 1024;
const maxBytes = 16 << 20;
const backend = createNativeBackend({ maxBytes, initialBytes: PAGE });
const stateOffset = 1024;
const os = createOsBoundary({
  backend, stateOffset, stateBytes: osBoundaryStateBytes(maxBytes / PAGE), heapStart: PAGE, shared: false,
});

const size = 3 * PAGE + 100;
const p = os.map(size, PAGE);
assert.ok(p >= PAGE && p % PAGE === 0, `map(${size}) returned ${p}`);
const u8 = backend.views.u8;
for (let i = 0; i < size; i++) u8[p + i] = (i * 7 + 3) & 255;
for (let i = 0; i < size; i++) {
  if (backend.views.u8[p + i] !== ((i * 7 + 3) & 255)) assert.fail(`byte ${i} read back ${backend.views.u8[p + i]}`);
}
os.unmap(p, size);
os.checkInvariants();
assert.equal(os.map(PAGE, PAGE), p, 'the unmapped range is reused first');
console.log('box: ok (@hakmem/os-boundary over @hakmem/memory-backend)');
