import { PAGE_SHIFT, PAGE_SIZE, type MemoryBackend, type OsBoundary } from '@hakmem/contracts';
import { createOsBoundary, osBoundaryStateBytes } from '@hakmem/os-boundary';
import { createFakeBackend, type FakeBackend } from './fake-backend.js';

export const P = PAGE_SIZE;
export const MiB = 1 << 20;
/** Where the tests put os-boundary's state: in page 0, after a pretend global header. */
export const STATE_OFFSET = 1024;

export interface Rig {
  os: OsBoundary;
  backend: FakeBackend;
  stateBytes: number;
}

/** A boundary over a fresh fake backend; heapStart is page `heapStartPages` (default 1). */
export function rig(opts: { maxPages: number; initialPages?: number; heapStartPages?: number; shared?: boolean }): Rig {
  const heapStartPages = opts.heapStartPages ?? 1;
  const stateBytes = osBoundaryStateBytes(opts.maxPages);
  const backend = createFakeBackend({
    initialBytes: (opts.initialPages ?? heapStartPages) * P,
    maxBytes: opts.maxPages * P,
    shared: opts.shared ?? false,
  });
  return { os: boundaryOver(backend, heapStartPages, opts.shared ?? false), backend, stateBytes };
}

/** A boundary over `backend` with its state at STATE_OFFSET and heapStart at page `heapStartPages`. */
export function boundaryOver(backend: MemoryBackend, heapStartPages: number, shared: boolean): OsBoundary {
  const stateBytes = osBoundaryStateBytes(backend.maxBytes >>> PAGE_SHIFT);
  return createOsBoundary({ backend, stateOffset: STATE_OFFSET, stateBytes, heapStart: heapStartPages * P, shared });
}

/** Everything observable: the raw state bytes, stats, free ranges, end and the backend's size. */
export function snapshot(r: Rig): unknown {
  return {
    state: Array.from(r.backend.views.u8.subarray(STATE_OFFSET, STATE_OFFSET + r.stateBytes)),
    stats: r.os.stats(),
    ranges: r.os.freeRanges(),
    end: r.os.end(),
    length: r.backend.byteLength(),
  };
}

export function page(addr: number): number {
  return addr >>> PAGE_SHIFT;
}
