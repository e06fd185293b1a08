import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import type { BackendOptions, MemoryBackend } from '@hakmem/contracts';
import { createNativeBackend, createWasmBackend } from '@hakmem/memory-backend';
import { P, boundaryOver, rig } from './helpers.js';

// Differential test: the same random map / unmap sequence on a real backend and on the
// fake one must give the same addresses, flags, counters and lengths. On wasm the views
// are replaced by every grow, so this also checks that os-boundary never keeps a stale view.

const MAX_PAGES = 96;

type Cmd = { kind: 'map'; pages: number; alignLog: number } | { kind: 'unmap'; pick: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('map' as const), pages: fc.integer({ min: 1, max: 24 }), alignLog: fc.integer({ min: 16, max: 21 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('unmap' as const), pick: fc.nat() }) },
);

const backends: Array<{ name: string; create: (o: BackendOptions) => MemoryBackend; shared: boolean }> = [
  { name: 'native, resizable ArrayBuffer', create: createNativeBackend, shared: false },
  { name: 'native, growable SharedArrayBuffer', create: createNativeBackend, shared: true },
  { name: 'wasm, private memory', create: createWasmBackend, shared: false },
  { name: 'wasm, shared memory', create: createWasmBackend, shared: true },
];

describe('os-boundary over the real backends', () => {
  test.each(backends)('$name: behaves exactly like the fake backend', ({ create, shared }) => {
    fc.assert(fc.property(fc.array(cmdArb, { minLength: 50, maxLength: 100 }), (cmds) => {
      const fake = rig({ maxPages: MAX_PAGES, shared });
      const backend = create({ initialBytes: P, maxBytes: MAX_PAGES * P, shared });
      const os = boundaryOver(backend, 1, shared);
      const held: Array<[number, number]> = [];
      for (const cmd of cmds) {
        if (cmd.kind === 'map') {
          const addr = os.map(cmd.pages * P, 2 ** cmd.alignLog);
          expect(addr).toBe(fake.os.map(cmd.pages * P, 2 ** cmd.alignLog));
          if (addr === 0) continue;
          expect(os.lastMapZeroed()).toBe(fake.os.lastMapZeroed());
          const i32 = backend.views.i32; // re-read: a wasm grow replaced it
          const last = (addr + cmd.pages * P - 4) >>> 2;
          if (os.lastMapZeroed()) expect([i32[addr >>> 2], i32[last]]).toEqual([0, 0]);
          i32[addr >>> 2] = addr;
          i32[last] = -1;
          held.push([addr, cmd.pages]);
        } else if (held.length > 0) {
          const [addr, pages] = held.splice(cmd.pick % held.length, 1)[0]!;
          expect(backend.views.i32[addr >>> 2]).toBe(addr);
          os.unmap(addr, pages * P);
          fake.os.unmap(addr, pages * P);
        }
        expect(os.stats()).toEqual(fake.os.stats());
        expect(backend.byteLength()).toBe(fake.backend.byteLength());
        os.checkInvariants();
      }
      expect(os.freeRanges()).toEqual(fake.os.freeRanges());
    }), { numRuns: 30 });
  });
});
