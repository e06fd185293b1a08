// An experiment for `hakmem-bench compare` that is worse by a known, small amount: the
// default unified cache behind a wrapper that delegates every call and does one
// multiplication more on every pop and push: 5 % more instructions per operation on the
// default band. The bench's tests and README use it to show that `compare` reports a
// change that small (`--instructions` always; timing when the noise floor allows):
//
//   npx hakmem-bench compare --b apps/bench/experiments/slowed-cache.ts --instructions
import { createHeap, defaultBoxes, type Heap } from '@hakmem/allocator';
import type { Ptr, UnifiedCache, UnifiedCacheOptions, UnifiedCacheStats } from '@hakmem/contracts';

class SlowedCache implements UnifiedCache {
  readonly name = 'unified-cache (slowed)';
  private readonly inner: UnifiedCache;
  private x = 1;

  constructor(inner: UnifiedCache) {
    this.inner = inner;
  }

  pop(cls: number): Ptr {
    this.x = Math.imul(this.x, 0x9e3779b1) ^ cls; // kept in a field: the compiler cannot drop it
    return this.inner.pop(cls);
  }

  push(cls: number, ptr: Ptr): boolean {
    this.x = Math.imul(this.x, 0x9e3779b1) ^ ptr;
    return this.inner.push(cls, ptr);
  }

  refill(cls: number): Ptr {
    return this.inner.refill(cls);
  }

  spill(cls: number, ptr: Ptr): void {
    this.inner.spill(cls, ptr);
  }

  holds(cls: number, ptr: Ptr): boolean {
    return this.inner.holds(cls, ptr);
  }

  count(cls: number): number {
    return this.inner.count(cls);
  }

  capacity(cls: number): number {
    return this.inner.capacity(cls);
  }

  flush(): void {
    this.inner.flush();
  }

  stats(): UnifiedCacheStats {
    return this.inner.stats();
  }

  checkInvariants(): void {
    this.inner.checkInvariants();
  }
}

export function heap({ maxBytes }: { maxBytes: number }): Heap {
  return createHeap({ maxBytes, boxes: { unifiedCache: (options: UnifiedCacheOptions) => new SlowedCache(defaultBoxes.unifiedCache(options)) } });
}
