import { Buffer } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  createHeap, SNAPSHOT_SERIES_FORMAT, SNAPSHOT_VERSION, type Heap, type HeapSnapshotSeries, type SnapshotFrame,
} from '@hakmem/allocator';
import { loadTrace, OP_CALLOC, OP_FREE, OP_MALLOC, OP_MEMALIGN, OP_REALLOC, type Trace } from './trace.js';

/**
 * `hakmem-bench trace snapshots <trace> --every N --out series.json[.gz]`: replays a trace
 * through a fresh default hakmem heap and takes `heap.snapshot()` before the first record,
 * after every N records and after the last one — the series the heap viewer
 * (apps/heap-viewer, `npm run viewer -- series.json`) scrubs through. Not timed: the
 * snapshots cost far more than the calls between them.
 */

export const SNAPSHOTS_USAGE = `usage: hakmem-bench trace snapshots <NAME|PATH> [--every N] [--events N] [--max-bytes N] --out FILE
  replays a trace (a shipped name: python-json, sqlite3-sql, ripgrep-mt; or a .trace.gz path)
  through a default hakmem heap, heap.snapshot() every N records (default 50000) and at the
  end, and writes the series as JSON (gzipped when FILE ends in .gz); view it with
  npm run viewer -- FILE`;

export interface SeriesOptions {
  /** A snapshot every this many records (default 50 000). */
  readonly every?: number;
  /** Records to replay (default: all). */
  readonly events?: number;
  /** The heap's maxBytes (default 512 MiB). */
  readonly maxBytes?: number;
  /** What the series' `source` says (default `trace <name>`). */
  readonly source?: string;
  /** Called after each snapshot (progress). */
  readonly onFrame?: (frame: SnapshotFrame) => void;
}

/** Replays `trace` on a fresh heap, a snapshot every `every` records; the blocks still live at the end are freed after the last frame. */
export function snapshotSeries(trace: Trace, options: SeriesOptions = {}): HeapSnapshotSeries {
  const every = options.every ?? 50_000;
  if (!Number.isSafeInteger(every) || every <= 0) throw new Error(`every must be a positive integer, got ${every}`);
  const n = Math.min(options.events ?? trace.count, trace.count);
  const heap = createHeap({ maxBytes: options.maxBytes ?? 512 * 1024 * 1024 });
  const ptrs = new Int32Array(trace.maxId + 1);
  const frames: SnapshotFrame[] = [];
  const take = (event: number): void => {
    const frame: SnapshotFrame = { event, label: `after ${event} of ${n} records`, snapshot: heap.snapshot() };
    frames.push(frame);
    options.onFrame?.(frame);
  };
  take(0);
  const rec = trace.records;
  for (let r = 0; r < n; r++) {
    step(heap, ptrs, rec, r << 2);
    if ((r + 1) % every === 0 || r + 1 === n) take(r + 1);
  }
  for (let id = 1; id < ptrs.length; id++) if (ptrs[id] !== 0) heap.free(ptrs[id]!);
  return { format: SNAPSHOT_SERIES_FORMAT, version: SNAPSHOT_VERSION, source: options.source ?? 'trace', every, frames };
}

/** One record on the heap (as trace-replay does, without the stamps). */
function step(heap: Heap, ptrs: Int32Array, rec: Int32Array, o: number): void {
  const op = rec[o]! & 0xff;
  const id = rec[o + 1]!;
  const size = rec[o + 2]!;
  const aux = rec[o + 3]!;
  if (op === OP_FREE) {
    if (ptrs[id] !== 0) heap.free(ptrs[id]!);
    ptrs[id] = 0;
    return;
  }
  let p = 0;
  if (op === OP_MALLOC) p = heap.malloc(size);
  else if (op === OP_CALLOC) p = heap.calloc(aux === 0 ? 1 : aux, size / (aux === 0 ? 1 : aux));
  else if (op === OP_MEMALIGN) p = heap.memalign(aux, size);
  else if (op === OP_REALLOC) {
    const old = ptrs[aux]!;
    p = old === 0 ? heap.malloc(size) : heap.realloc(old, size);
    if (p !== 0) ptrs[aux] = 0;
  }
  if (p !== 0) ptrs[id] = p;
}

/** Writes a series (gzipped when the path ends in `.gz`); returns the bytes written. */
export function writeSeries(path: string, series: HeapSnapshotSeries): number {
  const json = Buffer.from(JSON.stringify(series));
  const out = path.endsWith('.gz') ? gzipSync(json) : json;
  writeFileSync(path, out);
  return out.length;
}

/** The CLI: `trace snapshots …` (see {@link SNAPSHOTS_USAGE}). */
export function snapshotsCommand(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      every: { type: 'string' }, events: { type: 'string' }, 'max-bytes': { type: 'string' }, out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help === true) {
    console.log(SNAPSHOTS_USAGE);
    return 0;
  }
  const [name] = positionals;
  if (name === undefined || values.out === undefined || positionals.length > 1) throw new Error(`trace snapshots needs one trace and --out\n${SNAPSHOTS_USAGE}`);
  const int = (v: string | undefined, what: string): number | undefined => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isSafeInteger(x) || x <= 0) throw new Error(`${what} must be a positive integer, got "${v}"`);
    return x;
  };
  const every = int(values.every, '--every');
  const events = int(values.events, '--events');
  const maxBytes = int(values['max-bytes'], '--max-bytes');
  const t0 = performance.now();
  const trace = loadTrace(name);
  const series = snapshotSeries(trace, {
    ...(every === undefined ? {} : { every }), ...(events === undefined ? {} : { events }), ...(maxBytes === undefined ? {} : { maxBytes }),
    source: `trace ${name}`,
    ...(process.stderr.isTTY ? { onFrame: (f: SnapshotFrame) => process.stderr.write(`\r  ${f.event} records, footprint ${(f.snapshot.footprint / 1048576).toFixed(1)} MiB   `) } : {}),
  });
  const bytes = writeSeries(values.out, series);
  const last = series.frames[series.frames.length - 1]!;
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(`${series.frames.length} snapshots of ${name} (every ${series.every} of ${last.event} records) written to ${values.out}: `
    + `${(bytes / 1024).toFixed(0)} KiB, ${((performance.now() - t0) / 1000).toFixed(1)} s; view it with npm run viewer -- ${values.out}`);
  return 0;
}
