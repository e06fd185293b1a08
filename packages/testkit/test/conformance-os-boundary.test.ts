import { describe, expect, test } from 'vitest';
import { ErrorCode, HakmemError, isHakmemError, PAGE_SIZE, type OsBoundary, type OsBoundaryOptions } from '@hakmem/contracts';
import { createNativeBackend, createWasmBackend } from '@hakmem/memory-backend';
import { createOsBoundary } from '@hakmem/os-boundary';
import { tsWorker } from '../../../tools/worker/ts-worker.js';
import { failureOf, runSuite, wrap } from './suite-helpers.js';
import {
  osBoundaryConformance, type OsBoundaryEnv, type OsBoundaryFactory, type OsBoundaryThreadReport,
} from '../src/conformance/os-boundary.js';

const P = PAGE_SIZE;

/**
 * Cases the default box fails today: contract clauses it does not honour. `test.fails`
 * keeps the gap visible and turns red as soon as the box is fixed (then remove the entry).
 */
const KNOWN_GAPS = new Set<string>([]);

const entry = new URL('./fixtures/os-boundary-thread.ts', import.meta.url);

/** The threads case's workers: fixtures/os-boundary-thread.ts runs osBoundaryThread on createOsBoundary. */
const threads: NonNullable<OsBoundaryEnv['threads']> = (data) => new Promise((resolve, reject) => {
  const w = tsWorker(entry, { data });
  w.once('message', (report: OsBoundaryThreadReport) => {
    resolve(report);
    void w.terminate();
  });
  w.once('error', reject);
});

describe('conformance: os-boundary (createOsBoundary)', () => {
  describe('over testkit\'s own backend (no env)', () => runSuite(osBoundaryConformance(createOsBoundary), KNOWN_GAPS));
  describe('over the native backend (reserved), with two workers', () => {
    runSuite(osBoundaryConformance(createOsBoundary, { backend: (o) => createNativeBackend(o), threads }), KNOWN_GAPS);
  });
  describe('over the native backend (growable: can shrink)', () => runSuite(osBoundaryConformance(createOsBoundary, { backend: (o) => createNativeBackend({ ...o, growable: true }) }), KNOWN_GAPS));
  describe('over the wasm backend', () => runSuite(osBoundaryConformance(createOsBoundary, { backend: (o) => createWasmBackend(o) }), KNOWN_GAPS));
});

// ---------------------------------------------------------------------------------------
// Broken implementations: wrappers of the default that break one clause each; the suite
// must catch each by the case named after that clause.
// ---------------------------------------------------------------------------------------

/** The default with some members replaced (`over(inner)` builds them). */
const broken = (over: (inner: OsBoundary) => Partial<OsBoundary>): OsBoundaryFactory => (o: OsBoundaryOptions) => {
  const inner = createOsBoundary(o);
  return wrap(inner, over(inner));
};

const BROKEN: ReadonlyArray<readonly [string, OsBoundaryFactory, string, RegExp]> = [
  ['map ignores alignments above a page', broken((os) => ({ map: (bytes: number) => os.map(bytes, P) })),
    'map rounds bytes up to whole 64 KiB pages', /is not a multiple of/],
  ['map always grows at the end (never reuses a free range)', broken((os) => ({
    map(bytes: number, align: number): number {
      const end = os.end();
      return align <= P && os.mapAt(end, bytes) ? end : os.map(bytes, align);
    },
  })), 'map reuses unmapped ranges before the memory grows', /reused from unmapped ranges before the memory grows/],
  ['map throws when the memory is exhausted', broken((os) => ({
    map(bytes: number, align: number): number {
      const p = os.map(bytes, align);
      if (p === 0) throw new HakmemError(ErrorCode.OUT_OF_MEMORY, 'no memory', { box: 'os-boundary' });
      return p;
    },
  })), 'map returns 0, never throwing', /never throws for exhaustion/],
  ['map accepts a size of 0, negative or NaN as one page', broken((os) => ({
    map: (bytes: number, align: number) => os.map(bytes > 0 ? Math.ceil(bytes) : P, align),
  })), 'map with a bad size', /expected HakmemError\(E_INVALID_SIZE\)/],
  ['lastMapZeroed always says true', broken(() => ({ lastMapZeroed: () => true })),
    'lastMapZeroed — when true every byte of the range reads as zero', /is not zero/],
  ['unmap of a free range (double unmap) is silently ignored', broken((os) => ({
    unmap(addr: number, bytes: number): void {
      try {
        os.unmap(addr, bytes);
      } catch (e) {
        if (!isHakmemError(e, ErrorCode.INVALID_RANGE)) throw e;
      }
    },
  })), 'unmap of a range that is not page-aligned, lies outside', /expected HakmemError\(E_INVALID_RANGE\)/],
  ['freeRanges reports every free page as its own range (no coalescing)', broken((os) => ({
    freeRanges: () => os.freeRanges().flatMap(([a, n]) => Array.from({ length: n / P }, (_, i): [number, number] => [a + i * P, P])),
  })), 'unmap gives the range back to the free-range map, coalesced', /coalesced/],
  ['decommit unmaps the range', broken((os) => ({ decommit: (addr: number, bytes: number) => os.unmap(addr, bytes) })),
    'decommit of a mapped range', /stays mapped|decommits|never throw/],
  ['mapAt says true even when a page is mapped', broken((os) => ({ mapAt: (addr: number, bytes: number) => os.mapAt(addr, bytes) || true })),
    'mapAt maps exactly', /returned true, but/],
  ['stats do not count failed maps', broken((os) => ({ stats: () => ({ ...os.stats(), mapFailures: 0 }) })),
    'stats are exact', /mapFailures/],
  ['checkInvariants sees nothing', broken(() => ({ checkInvariants: () => undefined })),
    'checkInvariants throws E_CORRUPTION', /did not detect/],
  ['a shared boundary takes no lock', (o) => createOsBoundary({ ...o, shared: false }),
    'shared: false takes no atomics at all; shared: true takes an Atomics-based lock', /made no Atomics call on a word of its state/],
  ['the registry is not kept', (o) => {
    const { registryOffset: _ignored, ...rest } = o;
    return createOsBoundary(rest);
  }, 'registry — given registryOffset', /want 0x3006 \(MAPPED for thread 3\)/],
  ['recover does not release the dead thread\'s lock', broken(() => ({ recover: () => ({ locks: 0, repaired: 0 }) })),
    'recover (when implemented)', /still held after recover/],
  ['releaseTop never gives anything back', broken(() => ({ releaseTop: () => 0 })),
    'releaseTop — private, over a backend with canShrink', /releaseTop\(\) returned 0, want \d+/],
  ['releaseTop returns pages instead of bytes', broken((os) => ({ releaseTop: () => os.releaseTop() / P })),
    'releaseTop — private, over a backend with canShrink', /releaseTop\(\) returned \d+, want \d+/],
];

describe('conformance: the os-boundary suite catches broken boundaries', () => {
  test.each(BROKEN)('%s', async (_what, factory, fragment, message) => {
    expect(await failureOf(osBoundaryConformance(factory), fragment)).toMatch(message);
  });
});
