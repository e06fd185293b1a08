import {
  MAX_THREADS, PageKind, TR_POOL_CACHE_BASE, TR_TINY_CACHE_BASE, threadWord,
  type GatekeeperOptions, type MemoryBackend, type PageBox, type PoolRefill, type Ptr,
} from '@hakmem/contracts';
import { classStackHolds } from '@hakmem/primitives';

/**
 * The gatekeeper's exact "is this tiny or pool block free?" beyond its own thread's
 * cache (`GatekeeperOptions.freed`): the tier's lists in the linear memory (page-box,
 * pool-refill: free lists, remote-free lists, drains), and in a shared heap every other
 * thread's cache region — read as the default caches' class-stack layout, so only where
 * that cache is the default box (`stacks`: a swapped cache keeps its own layout there).
 * Slow path: run when a freed block's key word matches, and by `heap.isAllocated`.
 */
export function freedTest(
  backend: MemoryBackend, tid: number, pageBox: PageBox, poolRefill: PoolRefill, stacks: { readonly tiny: boolean; readonly pool: boolean },
): NonNullable<GatekeeperOptions['freed']> {
  return (ptr: Ptr, kind: number, cls: number): boolean => {
    const tiny = kind === PageKind.TINY;
    if (tiny ? pageBox.holds(ptr) : poolRefill.holds(ptr)) return true;
    if (!backend.shared || !(tiny ? stacks.tiny : stacks.pool)) return false;
    const i32 = backend.views.i32;
    const baseWord = tiny ? TR_TINY_CACHE_BASE : TR_POOL_CACHE_BASE;
    for (let t = 1; t <= MAX_THREADS; t++) {
      const base = i32[threadWord(t, baseWord)]!;
      if (t !== tid && base !== 0 && classStackHolds(i32, base >>> 2, cls, ptr)) return true;
    }
    return false;
  };
}
