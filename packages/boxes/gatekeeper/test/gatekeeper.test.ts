import { describe, expect, test } from 'vitest';
import { ErrorCode, isHakmemError } from '@hakmem/contracts';
import { createHeap } from '@hakmem/allocator';
import { errorCodeOf } from '@hakmem/testkit';

describe('gatekeeper free: block-boundary check without division', () => {
  test('for every default class, every offset in a slab is accepted iff it is a carved block start', () => {
    const heap = createHeap({ maxBytes: 64 << 20 });
    const route = heap.boxes.tinyRoute;
    for (let c = 0; c < route.numClasses; c++) {
      const size = route.classSize(c);
      const p = heap.malloc(size);
      const slab = p & ~0xffff;
      // Probe offsets near p: only p itself is a live block start; others are interior or
      // other (free) blocks' starts, which free() must not accept as interior pointers.
      for (let off = 1; off < Math.min(size, 64); off++) {
        let code: string | undefined;
        try {
          heap.free(p + off);
        } catch (e) {
          code = isHakmemError(e) ? e.code : 'other';
        }
        expect(code, `class ${size}: offset ${off}`).toBe(ErrorCode.INTERIOR_POINTER);
      }
      expect(slab).toBeLessThanOrEqual(p);
      heap.free(p);
    }
    heap.validate();
  });
});

describe('divisibilityTable', () => {
  test('agrees with % for every offset of a 64 KiB slab and every multiple-of-8 size up to 32 KiB', async () => {
    const { divisibilityTable } = await import('../src/gatekeeper.js');
    const sizes = Int32Array.from({ length: 4096 }, (_, i) => (i + 1) * 8);
    const t = divisibilityTable(sizes);
    for (let c = 0; c < sizes.length; c += 7) {
      const q = c * 4;
      for (let off = 0; off < 65536; off++) {
        const m = Math.imul(off, t[q + 1]!);
        const fast = (((m >>> t[q]!) | (m << (32 - t[q]!))) ^ -0x8000_0000) <= t[q + 2]!;
        if (fast !== (off % sizes[c]! === 0)) throw new Error(`size ${sizes[c]} offset ${off}: ${fast}`);
      }
    }
  });
});

describe('slabMultipleTable', () => {
  test('agrees with % for every offset of a 64 KiB slab and every multiple-of-8 size up to 32 KiB (the route\'s limit)', async () => {
    const { slabMultipleTable } = await import('../src/gatekeeper.js');
    const sizes = Int32Array.from({ length: 4096 }, (_, i) => (i + 1) * 8);
    const t = slabMultipleTable(sizes);
    for (let c = 0; c < sizes.length; c++) {
      const k = t[c]!;
      const size = sizes[c]!;
      for (let off = 0; off < 65536; off++) {
        const fast = (Math.imul(off, k) >>> 0) < (k >>> 0);
        if (fast !== (off % size === 0)) throw new Error(`size ${size} offset ${off}: ${fast}`);
      }
    }
  });

  test('is not exact past its range: a 2^16 offset breaks it for some size (the pool keeps divisibilityTable)', async () => {
    const { slabMultipleTable } = await import('../src/gatekeeper.js');
    // 3 × 2^14 = 49152: k = ceil(2^32 / 49152) = 87382; off = 147455 = 2 × 49152 + 49151
    // is no multiple, yet passes (the first such offset).
    const k = slabMultipleTable(Int32Array.of(49152))[0]!;
    expect(k).toBe(87382);
    expect((Math.imul(147455, k) >>> 0) < (k >>> 0)).toBe(true);
    let wrong = 0;
    for (let off = 65536; off < 1 << 21; off++) if (((Math.imul(off, k) >>> 0) < (k >>> 0)) !== (off % 49152 === 0)) wrong++;
    expect(wrong).toBeGreaterThan(0);
  });
});

describe('hot-path literals', () => {
  test('the literals in free() are the layout constants of @hakmem/contracts', async () => {
    const c = await import('@hakmem/contracts');
    expect([c.PAGE_SHIFT, c.PAGE_MASK, c.REG_KIND_MASK, c.PageKind.TINY, c.REG_CLASS_SHIFT, c.REG_CLASS_MASK, c.PD_CARVE])
      .toEqual([16, 0xffff, 0xf, 2, 4, 0xff, 1]);
    expect(1 << 4).toBe(c.PAGE_DESC_WORDS);
    // freePool / freeLarge
    expect([c.PageKind.POOL, c.PageKind.L25, c.PageKind.BIG, c.REG_AUX_SHIFT, c.REG_AUX_MASK, c.PD_REGION_STATE, c.L25BlockState.LIVE, c.BigBlockState.LIVE])
      .toEqual([3, 4, 5, 20, 0xfff, 8, 1, 1]);
    expect(32 - c.REG_AUX_SHIFT).toBe(12); // aux is the top 12 bits: e >>> 20 is aux
    // malloc's and free's free-key word: (p >>> 2) + 1
    expect(c.FREE_KEY_WORD).toBe(1);
  });
});

describe('debug level 1: double frees', () => {
  test('a second free, a realloc after free and a free of a block never handed out throw E_DOUBLE_FREE; nothing changes', () => {
    const heap = createHeap({ maxBytes: 16 << 20, debug: 1 });
    const a = heap.malloc(48);
    const b = heap.malloc(48);
    heap.free(a);
    const live = heap.liveBytes();
    expect(errorCodeOf(() => heap.free(a))).toBe(ErrorCode.DOUBLE_FREE);
    expect(errorCodeOf(() => heap.realloc(a, 100))).toBe(ErrorCode.DOUBLE_FREE);
    expect(errorCodeOf(() => heap.usableSize(a))).toBe(ErrorCode.INVALID_POINTER);
    // The refill carved a batch: the block after b sits in the cache, never handed out.
    const cached = b + heap.usableSize(b);
    expect(errorCodeOf(() => heap.free(cached))).toBe(ErrorCode.DOUBLE_FREE);
    // Other bad pointers keep their own codes.
    expect(errorCodeOf(() => heap.free(b + 8))).toBe(ErrorCode.INTERIOR_POINTER);
    expect(errorCodeOf(() => heap.free(-5))).toBe(ErrorCode.INVALID_POINTER);
    expect(heap.liveBytes()).toBe(live);
    heap.validate();
    // The heap still hands out distinct blocks, a among them again.
    const c = heap.malloc(48);
    const d = heap.malloc(48);
    expect(new Set([b, c, d]).size).toBe(3);
    for (const p of [b, c, d]) heap.free(p);
    expect(heap.liveBytes()).toBe(0);
  });

  test('realloc and calloc keep the bitmap right: the moved-from block is freed, the new one live', () => {
    const heap = createHeap({ maxBytes: 16 << 20, debug: 1 });
    const p = heap.calloc(4, 8);
    const q = heap.realloc(p, 600);
    expect(q).not.toBe(p);
    expect(errorCodeOf(() => heap.free(p))).toBe(ErrorCode.DOUBLE_FREE);
    heap.free(q);
    expect(errorCodeOf(() => heap.free(q))).toBe(ErrorCode.DOUBLE_FREE);
  });
});
