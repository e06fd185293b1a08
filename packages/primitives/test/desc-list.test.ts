import { describe, expect, test } from 'vitest';
import { PAGE_DESC_WORDS, PAGE_SHIFT, PD_SLAB_NEXT, PD_SLAB_PREV } from '@hakmem/contracts';
import { descListPush, descListRemove } from '@hakmem/primitives';

describe('descList', () => {
  test('the descriptor arithmetic is the layout\'s (64 KiB pages, 16-word descriptors)', () => {
    expect([PAGE_SHIFT, PAGE_DESC_WORDS]).toEqual([16, 16]);
  });

  test('push at the front, remove anywhere: links and heads stay consistent', () => {
    const pd = 8;
    const i32 = new Int32Array(pd + 64 * 16);
    const heads = new Int32Array(2);
    const page = (k: number): number => k << 16;
    const walk = (list: number): number[] => {
      const out: number[] = [];
      let prev = 0;
      for (let a = heads[list]!; a !== 0; a = i32[pd + ((a >>> 16) << 4) + PD_SLAB_NEXT]!) {
        expect(i32[pd + ((a >>> 16) << 4) + PD_SLAB_PREV]).toBe(prev);
        prev = a;
        out.push(a >>> 16);
      }
      return out;
    };
    for (const k of [3, 5, 9]) descListPush(i32, pd, heads, 1, page(k), PD_SLAB_NEXT, PD_SLAB_PREV);
    descListPush(i32, pd, heads, 0, page(7), PD_SLAB_NEXT, PD_SLAB_PREV);
    expect([walk(0), walk(1)]).toEqual([[7], [9, 5, 3]]);
    descListRemove(i32, pd, heads, 1, page(5), PD_SLAB_NEXT, PD_SLAB_PREV); // middle
    expect(walk(1)).toEqual([9, 3]);
    descListRemove(i32, pd, heads, 1, page(9), PD_SLAB_NEXT, PD_SLAB_PREV); // head
    descListRemove(i32, pd, heads, 1, page(3), PD_SLAB_NEXT, PD_SLAB_PREV); // last
    expect(walk(1)).toEqual([]);
    expect(i32[pd + (5 << 4) + PD_SLAB_NEXT]).toBe(0);
    expect(walk(0)).toEqual([7]);
  });
});
