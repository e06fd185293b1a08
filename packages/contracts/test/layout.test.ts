import { describe, expect, test } from 'vitest';
import * as C from '@hakmem/contracts';

describe('layout constants are consistent', () => {
  test('pages', () => {
    expect(C.PAGE_SIZE).toBe(2 ** C.PAGE_SHIFT);
    expect(C.PAGE_MASK).toBe(C.PAGE_SIZE - 1);
    expect(C.MAX_HEAP_BYTES % C.PAGE_SIZE).toBe(0);
    expect(C.MAX_HEAP_BYTES).toBeLessThan(2 ** 31);
    expect(C.MAX_HEAP_PAGES * C.PAGE_SIZE).toBe(C.MAX_HEAP_BYTES);
  });

  test('registry fields tile the 32-bit entry without overlap', () => {
    const fields = [
      [0, C.REG_KIND_MASK],
      [C.REG_CLASS_SHIFT, C.REG_CLASS_MASK],
      [C.REG_THREAD_SHIFT, C.REG_THREAD_MASK],
      [C.REG_AUX_SHIFT, C.REG_AUX_MASK],
    ] as const;
    let seen = 0;
    for (const [shift, mask] of fields) {
      const bits = (mask << shift) >>> 0;
      expect(seen & bits).toBe(0);
      seen = (seen | bits) >>> 0;
    }
    expect(seen).toBe(0xffff_ffff);
    expect(C.MAX_THREADS).toBe(C.REG_THREAD_MASK);
    expect(new Set(Object.values(C.PageKind)).size).toBe(Object.keys(C.PageKind).length);
    for (const kind of Object.values(C.PageKind)) expect(kind).toBeLessThanOrEqual(C.REG_KIND_MASK);
  });

  test('page descriptors and SuperSlabs', () => {
    expect(C.PAGE_DESC_BYTES).toBe(2 ** C.PAGE_DESC_SHIFT);
    expect(C.PAGE_DESC_WORDS * 4).toBe(C.PAGE_DESC_BYTES);
    const words = [
      C.PD_FREE_HEAD, C.PD_CARVE, C.PD_USED, C.PD_CAPACITY, C.PD_BLOCK_SIZE, C.PD_REMOTE_HEAD,
      C.PD_SLAB_NEXT, C.PD_SLAB_PREV, C.PD_REGION_STATE, C.PD_REGION_OWNER, C.PD_REGION_MASK,
      C.PD_REGION_GUARD, C.PD_REGION_NEXT, C.PD_REGION_PREV, C.PD_REGION_PAGES, C.PD_REGION_AUX,
    ];
    expect([...words].sort((a, b) => a - b)).toEqual([...Array(C.PAGE_DESC_WORDS).keys()]);
    expect(C.SUPERSLAB_SIZE).toBe(2 ** C.SUPERSLAB_SHIFT);
    expect(C.SUPERSLAB_SLABS * C.PAGE_SIZE).toBe(C.SUPERSLAB_SIZE);
    // The SuperSlab's free-slab mask fits one int32 word.
    expect(C.SUPERSLAB_SLABS).toBeLessThanOrEqual(31);
  });

  test('global header fields fit before the box slots', () => {
    const words = [C.GH_MAGIC, C.GH_VERSION, C.GH_MAX_BYTES, C.GH_FLAGS, C.GH_REGISTRY_OFFSET,
      C.GH_REGISTRY_PAGES, C.GH_GROW_EPOCH, C.GH_THREAD_LOCK, C.GH_NEXT_THREAD_ID, C.GH_PAGE_TABLE_OFFSET,
      C.GH_OS_STATE_OFFSET, C.GH_OS_STATE_BYTES, C.GH_HEAP_START];
    expect(new Set(words).size).toBe(words.length);
    expect(Math.max(...words) * 4 + 4).toBeLessThanOrEqual(C.GH_BOX_SLOTS_OFFSET);
    expect(C.GH_BOX_SLOTS_OFFSET % C.GH_BOX_SLOT_BYTES).toBe(0);
  });

  test('batches are bounded (Contract C)', () => {
    expect(C.MAX_BATCH).toBe(256);
  });
});

describe('HakmemError', () => {
  test('carries code, box and pointer, and says them in its message', () => {
    const e = new C.HakmemError(C.ErrorCode.DOUBLE_FREE, 'block 0x10010 is already free', { box: 'gatekeeper', ptr: 0x10010 });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('HakmemError');
    expect(e.code).toBe('E_DOUBLE_FREE');
    expect(e.box).toBe('gatekeeper');
    expect(e.ptr).toBe(0x10010);
    expect(e.message).toBe('E_DOUBLE_FREE: block 0x10010 is already free');
    expect(C.isHakmemError(e)).toBe(true);
    expect(C.isHakmemError(e, C.ErrorCode.DOUBLE_FREE)).toBe(true);
    expect(C.isHakmemError(e, C.ErrorCode.INVALID_SIZE)).toBe(false);
    expect(C.isHakmemError(new Error('x'))).toBe(false);
  });

  test('every code is distinct and prefixed E_', () => {
    const codes = Object.values(C.ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^E_[A-Z_]+$/);
  });
});

describe('routes', () => {
  test('are ordered by size', () => {
    expect([C.Route.TINY, C.Route.POOL, C.Route.L25, C.Route.BIG]).toEqual([0, 1, 2, 3]);
  });
});

describe('big blocks', () => {
  test('states distinct, NONE is 0 (fresh memory), the saturating page index fits the aux field', () => {
    expect(C.BigBlockState.NONE).toBe(0);
    expect(new Set(Object.values(C.BigBlockState)).size).toBe(Object.keys(C.BigBlockState).length);
    expect(C.REG_AUX_MASK).toBe(4095);
    expect(C.PD_REGION_PAGES).toBeLessThan(C.PAGE_DESC_WORDS);
  });
});
