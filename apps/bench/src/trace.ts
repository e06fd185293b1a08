import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/**
 * Allocation traces (`.trace.gz`, format in `traces/FORMAT.md`): a magic, a JSON header
 * and 16-byte records `op | thread << 8 | flags << 16 | src << 24, id, size, aux`.
 */

/** Operations of a record (word 0, low byte). */
export const OP_MALLOC = 1;
export const OP_FREE = 2;
export const OP_CALLOC = 3;
export const OP_REALLOC = 4;
export const OP_MEMALIGN = 5;

/** Flag bits (word 0, third byte). */
export const FLAG_FAILED = 1;
export const FLAG_IMPLICIT = 2;
export const FLAG_CLAMPED = 4;

export const MAGIC = 'ATRC0001';
const RECORD_BYTES = 16;

/** The traces shipped in `apps/bench/traces/`. */
export const TRACE_NAMES = ['python-json', 'sqlite3-sql', 'ripgrep-mt'] as const;

/** The folder of the shipped traces (inside this app: nothing reads outside it). */
export const TRACES_DIR = fileURLToPath(new URL('../traces/', import.meta.url));

/** The JSON header's fields this app reads (the format has more: see FORMAT.md). */
export interface TraceHeader {
  readonly format: string;
  readonly version: number;
  readonly name: string;
  readonly program: string;
  readonly events: number;
  readonly peak_live_bytes: number;
  readonly peak_live_objects: number;
  readonly total_allocated_bytes: number;
  readonly threads: number;
  readonly max_id: number;
  readonly final_live_bytes: number;
  readonly final_live_objects: number;
  readonly max_request_bytes: number;
  readonly ops: Readonly<Record<'malloc' | 'calloc' | 'realloc' | 'memalign' | 'free', number>>;
  readonly failed: Readonly<Record<'malloc' | 'calloc' | 'realloc' | 'memalign', number>>;
  readonly truncated: boolean;
  readonly [key: string]: unknown;
}

export interface Trace {
  readonly header: TraceHeader;
  /** 4 words per record, in trace order; FAILED records dropped. */
  readonly records: Int32Array;
  /** Records in `records` (records.length / 4). */
  readonly count: number;
  /** Records dropped because they carry FAILED. */
  readonly failedDropped: number;
  /** Largest object id (sizes an id-indexed table of maxId + 1). */
  readonly maxId: number;
}

/** The path of a trace given by name (`python-json`) or by path (anything with a `/` or ending in `.gz`). */
export function tracePath(nameOrPath: string): string {
  if (nameOrPath.includes('/') || nameOrPath.endsWith('.gz')) return nameOrPath;
  return `${TRACES_DIR}${nameOrPath}.trace.gz`;
}

const cache = new Map<string, Trace>();

/** Reads, gunzips and parses a trace (cached per path: a run process loads it once). */
export function loadTrace(nameOrPath: string): Trace {
  const path = tracePath(nameOrPath);
  const cached = cache.get(path);
  if (cached) return cached;
  if (!existsSync(path)) {
    throw new Error(`trace "${nameOrPath}": no file ${path} (shipped traces: ${TRACE_NAMES.join(', ')})`);
  }
  let raw: Buffer;
  try {
    raw = gunzipSync(readFileSync(path));
  } catch (error) {
    throw new Error(`trace ${path}: not a gzip stream (${(error as Error).message})`);
  }
  const trace = parseTrace(raw, path);
  cache.set(path, trace);
  return trace;
}

/** Parses a decompressed trace; `what` names it in errors. */
export function parseTrace(bytes: Uint8Array, what = 'trace'): Trace {
  if (bytes.length < 16) throw new Error(`${what}: ${bytes.length} bytes, shorter than the 16-byte preamble`);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== MAGIC) throw new Error(`${what}: bad magic ${JSON.stringify(magic)} (expected "${MAGIC}")`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLen = dv.getUint32(8, true);
  const bodyOff = dv.getUint32(12, true);
  if (16 + jsonLen > bodyOff) throw new Error(`${what}: JSON header (16 + ${jsonLen} bytes) runs past body_off ${bodyOff}`);
  if (bodyOff % RECORD_BYTES !== 0) throw new Error(`${what}: body_off ${bodyOff} is not a multiple of ${RECORD_BYTES}`);
  if (bodyOff > bytes.length) throw new Error(`${what}: body_off ${bodyOff} is past the end (${bytes.length} bytes)`);
  let header: TraceHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + jsonLen))) as TraceHeader;
  } catch (error) {
    throw new Error(`${what}: JSON header does not parse (${(error as Error).message})`);
  }
  const bodyBytes = bytes.length - bodyOff;
  if (bodyBytes % RECORD_BYTES !== 0) throw new Error(`${what}: body of ${bodyBytes} bytes is not a whole number of ${RECORD_BYTES}-byte records`);
  const events = bodyBytes / RECORD_BYTES;
  if (typeof header.events === 'number' && header.events !== events) {
    throw new Error(`${what}: header says ${header.events} events, body holds ${events}`);
  }
  const all = new Int32Array(events * 4);
  for (let i = 0, off = bodyOff; i < all.length; i++, off += 4) all[i] = dv.getInt32(off, true);

  let kept = 0;
  let maxId = 0;
  for (let r = 0; r < events; r++) {
    const w0 = all[r * 4]!;
    if (((w0 >>> 16) & FLAG_FAILED) !== 0) continue;
    const op = w0 & 0xff;
    if (op < OP_MALLOC || op > OP_MEMALIGN) throw new Error(`${what}: record ${r} has unknown op ${op}`);
    const id = all[r * 4 + 1]!;
    if (id <= 0) throw new Error(`${what}: record ${r} has id ${id >>> 0} (ids start at 1)`);
    if (id > maxId) maxId = id;
    if (kept !== r) all.copyWithin(kept * 4, r * 4, r * 4 + 4);
    kept++;
  }
  if (typeof header.max_id === 'number' && maxId > header.max_id) {
    throw new Error(`${what}: record id ${maxId} exceeds the header's max_id ${header.max_id}`);
  }
  return { header, records: all.slice(0, kept * 4), count: kept, failedDropped: events - kept, maxId };
}
