import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../src/measure.js';
import { formatTable, problems } from '../src/report.js';
import { spawnMeasure } from '../src/runner.js';
import type { Subject } from '../src/subject.js';
import { createHakmemSubject } from '../src/subjects/hakmem.js';
import { checkTrace } from '../src/trace-check.js';
import {
  FLAG_FAILED, loadTrace, MAGIC, OP_CALLOC, OP_FREE, OP_MALLOC, OP_MEMALIGN, OP_REALLOC, parseTrace, TRACE_NAMES, tracePath, TRACES_DIR,
} from '../src/trace.js';
import { liveBytesAt, peakLiveBytes, replayTrace, stampOf } from '../src/workloads/trace-replay.js';
import { findWorkload } from '../src/workloads/index.js';

type Rec = [op: number, id: number, size: number, aux: number, flags?: number];

/** A decompressed trace of `records` with a minimal header. */
function traceBytes(records: readonly Rec[], header: Record<string, unknown> = {}): Uint8Array {
  const json = Buffer.from(JSON.stringify({ format: 'alloc-trace', version: 1, name: 'synthetic', events: records.length, ...header }));
  const bodyOff = Math.ceil((16 + json.length) / 16) * 16;
  const out = Buffer.alloc(bodyOff + records.length * 16, 0x20);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(json.length, 8);
  out.writeUInt32LE(bodyOff, 12);
  json.copy(out, 16);
  records.forEach(([op, id, size, aux, flags = 0], i) => {
    const o = bodyOff + i * 16;
    out.writeUInt32LE((op | (flags << 16)) >>> 0, o);
    out.writeUInt32LE(id, o + 4);
    out.writeUInt32LE(size >>> 0, o + 8);
    out.writeUInt32LE(aux, o + 12);
  });
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'hakmem-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeTrace(name: string, bytes: Uint8Array): string {
  const path = join(dir, `${name}.trace.gz`);
  writeFileSync(path, gzipSync(bytes));
  return path;
}

/**
 * A bump allocator with malloc/free/peek/poke only (so the replay emulates calloc,
 * realloc and memalign): blocks 8-byte aligned, never reused. `overlap` makes every
 * malloc from the second on return the previous block's address (a corrupting subject).
 */
class BumpSubject implements Subject {
  readonly name = 'bump';
  readonly u8 = new Uint8Array(1 << 20);
  private top = 8;
  private last = 0;
  constructor(private readonly overlap = false) {}
  malloc(size: number): number {
    if (this.overlap && this.last !== 0) return this.last;
    const p = this.top;
    this.top = (this.top + Math.max(size, 1) + 7) & ~7;
    this.last = p;
    return p;
  }
  free(_ptr: number): void {}
  footprint(): number {
    return this.top;
  }
  poke(ptr: number, value: number): void {
    this.u8[ptr] = value;
  }
  peek(ptr: number): number {
    return this.u8[ptr]!;
  }
}

/** malloc 1..3, calloc 4, realloc 2 → 5, memalign 6 (align 64), a FAILED malloc, frees; 3 and 6 stay live. */
const SYNTHETIC: Rec[] = [
  [OP_MALLOC, 1, 24, 0],
  [OP_MALLOC, 2, 100, 0],
  [OP_MALLOC, 3, 7, 0],
  [OP_CALLOC, 4, 40, 5],
  [OP_MALLOC, 0, 0xffffffff, 0, FLAG_FAILED | 4],
  [OP_REALLOC, 5, 300, 2],
  [OP_FREE, 1, 24, 0],
  [OP_MEMALIGN, 6, 50, 64],
  [OP_FREE, 4, 40, 0],
  [OP_FREE, 5, 300, 0],
];
const STAMPED = [1, 2, 3, 4, 5, 6];

describe('loadTrace', () => {
  it('finds the shipped traces inside the app', () => {
    expect(TRACES_DIR).toMatch(/apps\/bench\/traces\/$/);
    expect(tracePath('python-json')).toBe(`${TRACES_DIR}python-json.trace.gz`);
  });

  it.each(TRACE_NAMES)('%s: the header matches its .json and the records their counts', (name) => {
    const trace = loadTrace(name);
    const json = JSON.parse(readFileSync(join(TRACES_DIR, `${name}.json`), 'utf8')) as Record<string, unknown>;
    expect(trace.header).toEqual(json);
    const { ops, failed } = trace.header;
    const total = ops.malloc + ops.calloc + ops.realloc + ops.memalign + ops.free;
    const failures = failed.malloc + failed.calloc + failed.realloc + failed.memalign;
    expect(total).toBe(trace.header.events);
    expect(trace.count).toBe(trace.header.events - failures);
    expect(trace.records.length).toBe(trace.count * 4);
    expect(trace.maxId).toBe(trace.header.max_id);
    expect(loadTrace(name)).toBe(trace); // cached
  });

  it('drops FAILED records and reads the words', () => {
    const trace = parseTrace(traceBytes(SYNTHETIC));
    expect(trace.count).toBe(SYNTHETIC.length - 1);
    expect(trace.failedDropped).toBe(1);
    expect(trace.maxId).toBe(6);
    expect([...trace.records.subarray(16, 20)]).toEqual([OP_REALLOC, 5, 300, 2]);
  });

  it('rejects a corrupted magic, a bad length and a missing file with clear errors', () => {
    const good = traceBytes(SYNTHETIC);
    const badMagic = Uint8Array.from(good);
    badMagic[7] = 0x32; // ATRC0002
    expect(() => loadTrace(writeTrace('bad-magic', badMagic))).toThrow(/bad magic "ATRC0002"/);
    expect(() => parseTrace(good.subarray(0, good.length - 3))).toThrow(/not a whole number of 16-byte records/);
    expect(() => parseTrace(traceBytes(SYNTHETIC, { events: 99 }))).toThrow(/header says 99 events, body holds 10/);
    expect(() => loadTrace(join(dir, 'none.trace.gz'))).toThrow(/no file/);
    writeFileSync(join(dir, 'plain.trace.gz'), good);
    expect(() => loadTrace(join(dir, 'plain.trace.gz'))).toThrow(/not a gzip stream/);
    // And the real file's magic is what the check expects.
    expect(gunzipSync(readFileSync(tracePath('ripgrep-mt'))).subarray(0, 8).toString('latin1')).toBe(MAGIC);
  });
});

describe('replayTrace', () => {
  const trace = loadTrace(writeTrace('synthetic', traceBytes(SYNTHETIC)));
  const expected = {
    mallocs: 6, frees: 3, failed: 0, bytes: 24 + 100 + 7 + 40 + 300 + 50, finalSeed: 0,
    checksum: STAMPED.reduce((sum, id) => sum + stampOf(id), 0), mismatches: 0,
  };

  it('counts every allocation call and free, on a subject that has calloc/realloc/memalign (hakmem)', () => {
    const result = replayTrace(createHakmemSubject({ arenaBytes: 0 }), trace, Infinity);
    expect(result).toMatchObject({ ...expected, unaligned: 0 });
  });

  it('emulates the missing ones on malloc/free/peek/poke, and counts an unaligned memalign', () => {
    const subject = new BumpSubject();
    const result = replayTrace(subject, trace, Infinity);
    expect(result).toMatchObject({ ...expected, unaligned: 1 }); // the bump pointer is 8-aligned, not 64
    // The emulated realloc copied the stamp of id 2 and the new block got id 5's.
    expect(result.mismatches).toBe(0);
  });

  it("samples the footprint between slices of the timed loop, against the trace's own live bytes", () => {
    const result = replayTrace(createHakmemSubject({ arenaBytes: 0 }), trace, Infinity);
    // 9 records (the FAILED one dropped): one slice per record, fewer records than SERIES_POINTS.
    expect(result.series.events).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(result.series.footprint.every((f, i) => f > 0 && f >= (result.series.footprint[i - 1] ?? 0))).toBe(true);
    // The live bytes of SYNTHETIC after each record, by hand: a realloc's new object replaces the old.
    expect(result.series.live).toEqual([24, 124, 131, 171, 371, 347, 397, 357, 57]);
    // A real trace: the header's final live bytes.
    const real = loadTrace('python-json');
    expect(liveBytesAt(real, [real.count])).toEqual([real.header.final_live_bytes]);
    expect(peakLiveBytes(real)).toBe(real.header.peak_live_bytes);
  });

  it('replays a prefix', () => {
    const result = replayTrace(new BumpSubject(), trace, 3);
    expect(result).toMatchObject({ mallocs: 3, frees: 0, bytes: 131 });
  });

  it('catches a subject that hands out overlapping blocks', () => {
    const result = replayTrace(new BumpSubject(true), trace, Infinity);
    expect(result.mismatches).toBeGreaterThan(0);
  });

  it('catches a subject whose realloc loses the contents', () => {
    const hakmem = createHakmemSubject({ arenaBytes: 0 });
    const broken: Subject = {
      name: 'broken-realloc',
      malloc: (n) => hakmem.malloc(n),
      free: (p) => hakmem.free(p),
      footprint: () => hakmem.footprint(),
      poke: (p, v) => hakmem.poke(p, v),
      peek: (p) => hakmem.peek(p),
      realloc: (p, n) => {
        hakmem.free(p);
        const q = hakmem.malloc(n + 4096); // elsewhere, nothing copied
        hakmem.poke(q, 0);
        return q;
      },
    };
    expect(replayTrace(broken, trace, Infinity).mismatches).toBe(1);
  });

  it('replays the start of a real trace with the counters the header implies', () => {
    const real = loadTrace('ripgrep-mt');
    const result = replayTrace(createHakmemSubject({ arenaBytes: 0 }), real, 50_000);
    expect(result.mallocs + result.frees).toBe(50_000);
    expect(result).toMatchObject({ failed: 0, mismatches: 0, unaligned: 0 });
  });
});

describe('trace check mode', () => {
  it.each(TRACE_NAMES)('%s: the first 100 000 records pass every check', (name) => {
    const summary = checkTrace(name, { events: 100_000, validateEvery: 10_000 });
    expect(summary.errors).toEqual([]);
    expect(summary).toMatchObject({ events: 100_000, errorCount: 0 });
    expect(summary.allocations + summary.frees).toBe(100_000);
    expect(summary.heapLiveBytes).toBe(summary.usableLiveAtEnd);
    expect(summary.validations).toBe(12);
  });
});

describe('trace workloads in the bench', () => {
  it('are registered (and left out of the default suite)', () => {
    const w = findWorkload('trace:python-json');
    expect(w).toMatchObject({ cycles: 3_076_269, peakLiveBytes: 18_877_685 });
    expect(findWorkload('trace:sqlite3-sql').cycles).toBe(1_687_424);
    expect(findWorkload('trace:ripgrep-mt').cycles).toBe(1_229_645);
  });

  it('adds the footprint ÷ peak-live column only when asked', () => {
    const record = (subject: string): RunRecord => ({
      subject, workload: 'trace:x', cycles: 10, seed: 42, run: 0, mallocs: 6, frees: 4, failed: 0, bytes: 100, finalSeed: 0,
      checksum: 9, mismatches: 0, elapsedMs: 1, ops: 10, opsPerSec: 1e4, footprint: 2 << 20, verify: 'ok',
    });
    const runs = { workload: 'trace:x', cycles: 10, records: [record('hakmem')], failures: [] };
    expect(formatTable(runs, { peakLiveBytes: 1 << 20 })).toMatch(/M events\/s .*× live[\s\S]*\| +2\.00 \| +2\.00× \|/);
    expect(formatTable(runs)).not.toMatch(/× live/);
    expect(formatTable(runs)).not.toMatch(/1st replay/);
    const withFirst = { ...runs, records: [{ ...record('hakmem'), first: { elapsedMs: 4, opsPerSec: 2.5e6 } }] };
    expect(formatTable(withFirst, { peakLiveBytes: 1 << 20 })).toMatch(/× thing \| 1st replay \| peak MiB[\s\S]*\| +– \| +2\.50 \| +2\.00 \|/);
  });

  it('trace:<path> replays a trace file of the user (e.g. a TraceRecorder recording), in child processes too', () => {
    const path = writeTrace('mine', traceBytes(SYNTHETIC, { program: 'my-program' }));
    const w = findWorkload(`trace:${path}`);
    expect(w).toMatchObject({ name: `trace:${path}`, cycles: SYNTHETIC.length - 1, peakLiveBytes: 397 }); // no peak in its header: computed
    expect(w.description).toContain('my-program');
    expect(findWorkload(`trace:${path}`)).toBe(w); // read once per process
    const record = spawnMeasure({ subject: 'hakmem', workload: `trace:${path}`, cycles: w.cycles, seed: 42, run: 0 });
    expect(record).toMatchObject({ failed: 0, mismatches: 0, verify: 'ok', ops: SYNTHETIC.length - 1 });
    expect(record.series?.events.at(-1)).toBe(SYNTHETIC.length - 1);
    expect(() => findWorkload('trace:/nowhere/x.trace.gz')).toThrow(/no file/);
    expect(() => findWorkload('trace:nothing')).toThrow(/unknown workload "trace:nothing".*trace:<path/);
  });

  it('replays a prefix of trace:python-json end to end in child processes (hakmem, null)', () => {
    const spec = { workload: 'trace:python-json', cycles: 100_000, seed: 42, run: 0 };
    const hakmem = spawnMeasure({ ...spec, subject: 'hakmem' });
    const none = spawnMeasure({ ...spec, subject: 'null' });
    expect(hakmem).toMatchObject({ failed: 0, mismatches: 0, verify: 'ok', ops: 100_000, unaligned: 0 });
    expect(none).toMatchObject({ failed: 0, verify: 'n/a', ops: 100_000 });
    expect(hakmem.footprint).toBeGreaterThan(0);
    // The warm-up's long call is the first replay of the whole prefix, timed apart; the footprint and the series are its.
    expect(findWorkload('trace:python-json')).toMatchObject({ warmupShare: 1, firstRun: true });
    expect(hakmem.first?.opsPerSec).toBeGreaterThan(0);
    expect(none.first?.elapsedMs).toBeGreaterThan(0);
    expect(hakmem.series?.events.at(-1)).toBe(100_000);
    expect(hakmem.series?.footprint.at(-1)).toBeLessThanOrEqual(hakmem.footprint);
    expect(problems({ workload: spec.workload, cycles: spec.cycles, records: [hakmem, none], failures: [] })).toEqual([]);
  });
});
