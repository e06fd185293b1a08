import { describe, expect, test } from 'vitest';
import { ErrorCode } from '@hakmem/contracts';
import { errorCodeOf } from '@hakmem/testkit';
import { createHeap } from '@hakmem/allocator';

const MiB = 1 << 20;

describe('out of memory', () => {
  test('memory freed in one tier and cached there serves another tier once the memory is full (the heap trims itself before failing)', () => {
    const heap = createHeap({ maxBytes: 16 * MiB });
    const big: number[] = [];
    for (let p = heap.malloc(300_000); p !== 0; p = heap.malloc(300_000)) big.push(p);
    expect(big.length).toBeGreaterThan(20);
    for (const p of big) heap.free(p);
    const cached = heap.stats().l25.bytesCached;
    expect(cached).toBeGreaterThan(2 * MiB); // l25-pool keeps 8 blocks of the class (the rest went back to os-boundary)
    // Tiny blocks need SuperSlabs (1 MiB aligned, from os-boundary): fill the heap with them
    // until malloc says 0. The l25-pool cache is given back on the way (the heap trims
    // itself before failing), so more tiny bytes fit than os-boundary had free.
    const os = heap.stats().boxes.osBoundary;
    const freeBefore = os.bytesFree + (heap.layout.maxBytes - os.highWater);
    const tiny: number[] = [];
    for (let p = heap.malloc(200); p !== 0; p = heap.malloc(200)) tiny.push(p);
    expect(heap.stats().l25.bytesCached).toBe(0);
    expect(tiny.length * heap.usableSize(tiny[0]!)).toBeGreaterThan(freeBefore);
    expect(heap.stats().boxes.gatekeeper.failed).toBe(2); // the last call of each loop
    heap.validate();
    for (const p of tiny) heap.free(p);
    heap.validate();
  });

  test('onOutOfMemory: the application frees its own cache and the allocation is retried; false lets it fail; at most 3 calls; no nested call', () => {
    const mine: number[] = [];
    const calls: number[] = [];
    let nested = -1;
    let armed = false;
    const heap = createHeap({
      maxBytes: 8 * MiB,
      onOutOfMemory: (size) => {
        if (!armed) return false;
        calls.push(size);
        if (size === 12345 * 64) {
          nested = heap.malloc(7 * MiB); // exhausted too: fails at once, no nested hook
          return true; // claims to have freed something, but has not
        }
        const p = mine.pop();
        if (p === undefined) return false;
        heap.free(p);
        return true;
      },
    });
    for (let p = heap.malloc(1 * MiB); p !== 0; p = heap.malloc(1 * MiB)) mine.push(p);
    const held = mine.length;
    expect(held).toBeGreaterThan(2);
    armed = true;
    // Full: the next 1 MiB block comes from the application's own cache, through the hook.
    const p = heap.malloc(1 * MiB);
    expect(p).not.toBe(0);
    expect(mine.length).toBe(held - 1);
    expect(calls).toEqual([1 * MiB]);
    // Nothing left to give: the hook says false, the malloc fails.
    mine.length = 0;
    calls.length = 0;
    expect(heap.malloc(1 * MiB)).toBe(0);
    expect(calls).toEqual([1 * MiB]);
    // A hook that keeps claiming success is called at most 3 times; its own malloc fails at once.
    calls.length = 0;
    expect(heap.malloc(12345 * 64)).toBe(0);
    expect(calls).toEqual([12345 * 64, 12345 * 64, 12345 * 64]);
    expect(nested).toBe(0);
    heap.validate();
    heap.free(p);
    expect(heap.malloc(1 * MiB)).not.toBe(0); // usable again once memory is freed
  });

  test('throwOnOutOfMemory throws after the hook had its chance; realloc keeps the old block', () => {
    let asked = 0;
    const heap = createHeap({ maxBytes: 8 * MiB, throwOnOutOfMemory: true, onOutOfMemory: () => { asked++; return false; } });
    const a = heap.malloc(2 * MiB);
    heap.views.u8.fill(9, a, a + 100);
    let got = -1;
    const code = errorCodeOf(() => { got = heap.malloc(7 * MiB); });
    expect(code, `malloc returned ${got}`).toBe(ErrorCode.OUT_OF_MEMORY);
    expect(asked).toBe(1);
    expect(errorCodeOf(() => heap.realloc(a, 8 * MiB - 64 * 1024))).toBe(ErrorCode.OUT_OF_MEMORY); // more than the heap holds, in place or moved
    expect(heap.u8(a, 100).every((x) => x === 9)).toBe(true);
    heap.validate();
  });
});

describe('out of memory means out of memory', () => {
  // One size per tier and two per tier where classes differ: tiny (64, 2000), mid (8 KiB,
  // 40 KiB), L2.5 (200 KiB), big (2 MiB).
  const SIZES = [64, 2000, 8 << 10, 40 << 10, 200 << 10, 2 * MiB];
  const MAX = 8 * MiB;
  const fill = (heap: ReturnType<typeof createHeap>, size: number): number[] => {
    const out: number[] = [];
    for (let p = heap.malloc(size); p !== 0; p = heap.malloc(size)) out.push(p);
    return out;
  };

  test('fill with one tier\'s size, free all, fill with another: as many blocks as a fresh heap holds, for every ordered pair', () => {
    const fresh = new Map(SIZES.map((b) => [b, fill(createHeap({ maxBytes: MAX }), b).length]));
    const short: string[] = [];
    for (const a of SIZES) {
      for (const b of SIZES) {
        const asked: number[] = [];
        const heap = createHeap({ maxBytes: MAX, onOutOfMemory: (size) => { asked.push(size); return false; } });
        for (const p of fill(heap, a)) heap.free(p);
        asked.length = 0;
        const got = fill(heap, b).length;
        // 0 means out of memory: nothing more fits without a free.
        const again = heap.malloc(b);
        // The application's hook is asked at each failure: the heap's own trim does not use up its turns.
        if (got < fresh.get(b)! || again !== 0 || asked.length !== 2) {
          short.push(`${a} then ${b}: ${got} blocks (fresh ${fresh.get(b)}), then malloc gave ${again}; hook asked ${asked.length} times`);
        }
        heap.validate();
      }
    }
    expect(short).toEqual([]);
  });
});
