import type { MemoryBackend } from '@hakmem/contracts';

/** Decides whether grow call number `call` (from 1) of `deltaPages` pages fails. */
export type GrowFault = (call: number, deltaPages: number, byteLength: number) => boolean;

/**
 * A MemoryBackend that forwards to `inner` but fails `grow` (returns -1, as a host that
 * refuses memory does) whenever `fault` says so: fault injection for out-of-memory paths
 * at chosen moments. `grows` and `failed` count the calls.
 */
export class FaultyBackend implements MemoryBackend {
  grows = 0;
  failed = 0;
  constructor(private readonly inner: MemoryBackend, private readonly fault: GrowFault) {}

  get kind(): MemoryBackend['kind'] { return this.inner.kind; }
  get shared(): boolean { return this.inner.shared; }
  get maxBytes(): number { return this.inner.maxBytes; }
  get capabilities(): MemoryBackend['capabilities'] { return this.inner.capabilities; }
  get views(): MemoryBackend['views'] { return this.inner.views; }

  byteLength(): number { return this.inner.byteLength(); }
  refresh(): boolean { return this.inner.refresh(); }
  shrink(toPages: number): boolean { return this.inner.shrink(toPages); }
  buffer(): ArrayBuffer | SharedArrayBuffer { return this.inner.buffer(); }
  share(): ReturnType<MemoryBackend['share']> { return this.inner.share(); }

  grow(deltaPages: number): number {
    this.grows++;
    if (this.fault(this.grows, deltaPages, this.inner.byteLength())) {
      this.failed++;
      return -1;
    }
    return this.inner.grow(deltaPages);
  }
}

/** Fails every grow after the first `okFirst` with probability `p` (a seeded xorshift), e.g. for fuzzing. */
export function randomGrowFaults(seed: number, p: number, okFirst = 1): GrowFault {
  let s = seed >>> 0 || 1;
  return (call) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return call > okFirst && s / 2 ** 32 < p;
  };
}
