import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@hakmem/contracts';
import { attachHeap, createHeap, Heap, type Heap as HeapT } from '../src/index.js';
import { codeOf } from './helpers/code-of.js';

// A detached heap instance (issue 19, "Safe by default"): every call refuses with
// E_HEAP_CLOSED and changes nothing — not only the allocation functions, also the slow
// paths (trim, stats, validate, …), which would otherwise act on a thread id that a newer
// instance owns now.


/** Every public method of Heap, called with plausible arguments (`p` a block of the detached instance). */
function calls(h: HeapT, p: number): Record<string, () => unknown> {
  return {
    malloc: () => h.malloc(8),
    free: () => h.free(p),
    calloc: () => h.calloc(1, 8),
    realloc: () => h.realloc(p, 8),
    memalign: () => h.memalign(16, 8),
    usableSize: () => h.usableSize(p),
    isAllocated: () => h.isAllocated(p),
    u8: () => h.u8(p, 8),
    i32: () => h.i32(p, 2),
    u32: () => h.u32(p, 2),
    f32: () => h.f32(p, 2),
    f64: () => h.f64(p, 1),
    share: () => h.share(),
    reclaim: () => h.reclaim(200),
    watch: () => h.watch({ threadId: 12345, once: () => undefined }),
    threads: () => h.threads(),
    refresh: () => h.refresh(),
    trim: () => h.trim(),
    liveBytes: () => h.liveBytes(),
    snapshot: () => h.snapshot(),
    stats: () => h.stats(),
    validate: () => h.validate(),
  };
}

describe('a detached heap instance', () => {
  it('lists every public method of Heap here (a new method must be added to the table)', () => {
    const h = createHeap({ maxBytes: 16 << 20 });
    const methods = Object.getOwnPropertyNames(Heap.prototype).filter((name) => {
      const d = Object.getOwnPropertyDescriptor(Heap.prototype, name)!;
      return name !== 'constructor' && typeof d.value === 'function';
    });
    // private methods are JS-visible too: the ones the table leaves out on purpose
    const notPublic = new Set(['flushThread', 'reclaimThread', 'collectAbandoned', 'checkOpen', 'viewLength', 'poolUsage', 'l25Usage', 'bigUsage', 'tinyUsage', 'forEachTinySlab']);
    const covered = new Set([...Object.keys(calls(h, 0)), 'detach']);
    expect(methods.filter((m) => !notPublic.has(m) && !covered.has(m))).toEqual([]);
  });

  for (const debug of [0, 1, 2, 3]) {
    it(`refuses every call with E_HEAP_CLOSED (debug ${debug}), and a second detach does nothing`, () => {
      const heap = createHeap({ shared: true, maxBytes: 32 << 20, debug });
      const w = attachHeap(heap.share());
      const p = w.malloc(64);
      w.detach();
      const wrong: string[] = [];
      for (const [name, call] of Object.entries(calls(w, p))) {
        const code = codeOf(call);
        if (code !== ErrorCode.HEAP_CLOSED) wrong.push(`${name}: ${code}`);
      }
      expect(wrong).toEqual([]);
      expect(() => w.detach()).not.toThrow();
      expect(w.isDetached).toBe(true);
      heap.free(p);
      heap.trim();
      heap.validate();
      // (level 2 counts a block's guard bytes in the thread that allocated it: not this one)
      if (debug < 2) expect(heap.liveBytes()).toBe(0);
    });
  }

  it('trim() of a detached instance cannot touch the thread id a newer instance owns now', () => {
    const heap = createHeap({ shared: true, maxBytes: 32 << 20 });
    const h1 = attachHeap(heap.share());
    const kept = h1.malloc(3000);
    h1.detach(); // its id stays ABANDONED: a block of its span is live
    const h2 = attachHeap(heap.share());
    expect(h2.tid).toBe(h1.tid); // the next attach adopts the id
    const q = h2.malloc(100);
    h2.free(q);
    expect(codeOf(() => h1.trim())).toBe(ErrorCode.HEAP_CLOSED);
    expect(codeOf(() => h1.stats())).toBe(ErrorCode.HEAP_CLOSED);
    h2.validate();
    h2.free(kept);
    h2.detach();
    heap.trim();
    heap.validate();
    expect(heap.threads().map((t) => t.tid)).toEqual([heap.tid]);
  });
});
