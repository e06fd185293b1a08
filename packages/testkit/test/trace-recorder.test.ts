import { gunzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHeap } from '@hakmem/allocator';
import { TraceRecorder } from '../src/index.js';

/** Reads the format back (apps/bench/traces/FORMAT.md). */
function parse(bytes: Uint8Array): { header: Record<string, unknown>; records: number[][] } {
  expect(String.fromCharCode(...bytes.subarray(0, 8))).toBe('ATRC0001');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLen = dv.getUint32(8, true);
  const bodyOff = dv.getUint32(12, true);
  expect(bodyOff % 16).toBe(0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + jsonLen))) as Record<string, unknown>;
  const records: number[][] = [];
  for (let off = bodyOff; off < bytes.length; off += 16) {
    records.push([dv.getUint8(off), dv.getUint8(off + 2), dv.getUint32(off + 4, true), dv.getUint32(off + 8, true), dv.getUint32(off + 12, true)]);
  }
  return { header, records };
}

describe('TraceRecorder', () => {
  it('records malloc / calloc / memalign / realloc / free with ids, sizes and the header facts', async () => {
    const heap = createHeap({ maxBytes: 64 << 20 });
    const rec = new TraceRecorder(heap);
    const a = rec.malloc(100);
    const b = rec.calloc(10, 30);
    const c = rec.memalign(4096, 5000);
    const a2 = rec.realloc(a, 3000);
    rec.free(b);
    rec.free(0);
    expect(rec.malloc(heap.layout.maxBytes)).toBe(0); // out of memory: a FAILED record
    const c0 = rec.realloc(c, 0); // frees c
    expect(c0).toBe(0);
    rec.free(a2);
    const { header, records } = parse(rec.encode({ name: 't', program: 'test' }));
    expect(records).toEqual([
      [1, 0, 1, 100, 0],
      [3, 0, 2, 300, 10],
      [5, 0, 3, 5000, 4096],
      [4, 0, 4, 3000, 1],
      [2, 0, 2, 300, 0],
      [1, 1, 0, 64 << 20, 0],
      [2, 0, 3, 5000, 0],
      [2, 0, 4, 3000, 0],
    ]);
    expect(header).toMatchObject({
      format: 'alloc-trace', version: 1, name: 't', events: 8, max_id: 4, peak_live_bytes: 8300, peak_live_objects: 3,
      final_live_bytes: 0, final_live_objects: 0, total_allocated_bytes: 8400, ops: { malloc: 2, calloc: 1, memalign: 1, realloc: 1, free: 3 },
      failed: { malloc: 1, calloc: 0, realloc: 0, memalign: 0 }, alignments: { 4096: 1 },
    });
    expect(rec.nullFrees).toBe(1);
    heap.validate();
    // save(): gzipped trace plus its header beside it.
    const dir = mkdtempSync(join(tmpdir(), 'hakmem-trace-'));
    await rec.save(join(dir, 't.trace.gz'), { name: 't', program: 'test' });
    expect(parse(gunzipSync(readFileSync(join(dir, 't.trace.gz')))).records).toHaveLength(8);
    expect(JSON.parse(readFileSync(join(dir, 't.json'), 'utf8')).events).toBe(8);
  });
});
