/**
 * Records the allocation calls a program makes on a heap as an allocation trace in the
 * bench's format (apps/bench/traces/FORMAT.md: `ATRC0001`, a JSON header, 16-byte records
 * `op | thread << 8 | flags << 16, id, size, aux`), so users can bring their own workload:
 *
 * ```ts
 * const rec = new TraceRecorder(heap);          // wraps any object with the heap's calls
 * const p = rec.malloc(100);                    // use `rec` where the program used `heap`
 * rec.free(p);
 * await rec.save('my-app.trace.gz', { name: 'my-app', program: 'my app 1.0', description: '…' });
 * // then: npx hakmem-bench run --workloads trace:./my-app.trace.gz
 * ```
 * The recorder keeps a JS Map from live pointer to object id and a growing Int32Array of
 * records: a tool for recording, not for production hot paths.
 */

/** The calls a recorded heap offers (a `Heap` of `@hakmem/allocator` has them all). */
export interface RecordableHeap {
  malloc(size: number): number;
  free(ptr: number): void;
  calloc(n: number, size: number): number;
  realloc(ptr: number, size: number): number;
  memalign(align: number, size: number): number;
}

/** What the JSON header says about the recording (the rest is computed). */
export interface TraceInfo {
  readonly name: string;
  readonly program: string;
  readonly description?: string;
  readonly command?: string;
}

const OP_MALLOC = 1;
const OP_FREE = 2;
const OP_CALLOC = 3;
const OP_REALLOC = 4;
const OP_MEMALIGN = 5;
const FLAG_FAILED = 1;
const MAGIC = 'ATRC0001';

export class TraceRecorder implements RecordableHeap {
  private rec = new Int32Array(4 * 1024);
  private n = 0;
  private nextId = 1;
  private readonly ids = new Map<number, number>();
  private readonly sizes = new Map<number, number>();
  /** Frees of pointers the recorder never saw allocated (not recorded), and of 0. */
  unknownFrees = 0;
  nullFrees = 0;

  constructor(private readonly heap: RecordableHeap) {}

  /** Records written so far. */
  get events(): number {
    return this.n;
  }

  private push(op: number, flags: number, id: number, size: number, aux: number): void {
    if (4 * this.n + 4 > this.rec.length) {
      const bigger = new Int32Array(this.rec.length * 2);
      bigger.set(this.rec);
      this.rec = bigger;
    }
    const at = 4 * this.n++;
    this.rec[at] = op | (flags << 16);
    this.rec[at + 1] = id;
    this.rec[at + 2] = size;
    this.rec[at + 3] = aux;
  }

  private born(op: number, p: number, size: number, aux: number): number {
    if (p === 0) {
      this.push(op, FLAG_FAILED, 0, size, aux);
      return p;
    }
    const id = this.nextId++;
    this.ids.set(p, id);
    this.sizes.set(id, size);
    this.push(op, 0, id, size, aux);
    return p;
  }

  malloc(size: number): number {
    return this.born(OP_MALLOC, this.heap.malloc(size), size, 0);
  }

  calloc(n: number, size: number): number {
    return this.born(OP_CALLOC, this.heap.calloc(n, size), n * size, n);
  }

  memalign(align: number, size: number): number {
    return this.born(OP_MEMALIGN, this.heap.memalign(align, size), size, align);
  }

  free(ptr: number): void {
    this.heap.free(ptr);
    if (ptr === 0) {
      this.nullFrees++;
      return;
    }
    const id = this.ids.get(ptr);
    if (id === undefined) {
      this.unknownFrees++;
      return;
    }
    this.ids.delete(ptr);
    this.push(OP_FREE, 0, id, this.sizes.get(id)!, 0);
    this.sizes.delete(id);
  }

  realloc(ptr: number, size: number): number {
    if (ptr === 0) return this.born(OP_MALLOC, this.heap.realloc(0, size), size, 0);
    const old = this.ids.get(ptr);
    const p = this.heap.realloc(ptr, size);
    if (old === undefined) {
      this.unknownFrees++;
      return p;
    }
    if (size === 0) {
      // C's realloc(p, 0) here frees p: a FREE record (src 3 in the format).
      this.ids.delete(ptr);
      this.push(OP_FREE | (3 << 24), 0, old, this.sizes.get(old)!, 0);
      this.sizes.delete(old);
      return p;
    }
    if (p === 0) {
      this.push(OP_REALLOC, FLAG_FAILED, 0, size, old);
      return p;
    }
    this.ids.delete(ptr);
    this.sizes.delete(old);
    return this.born(OP_REALLOC, p, size, old);
  }

  /** The trace, uncompressed (gzip it for a `.trace.gz`: `save` does). */
  encode(info: TraceInfo): Uint8Array {
    const header = this.header(info);
    const json = new TextEncoder().encode(JSON.stringify(header));
    const bodyOff = Math.ceil((16 + json.length) / 16) * 16;
    const out = new Uint8Array(bodyOff + 16 * this.n);
    for (let i = 0; i < 8; i++) out[i] = MAGIC.charCodeAt(i);
    const dv = new DataView(out.buffer);
    dv.setUint32(8, json.length, true);
    dv.setUint32(12, bodyOff, true);
    out.set(json, 16);
    out.fill(0x20, 16 + json.length, bodyOff);
    for (let i = 0; i < 4 * this.n; i++) dv.setUint32(bodyOff + 4 * i, this.rec[i]! >>> 0, true);
    return out;
  }

  /** Writes the trace gzipped to `path` (Node), and its header pretty-printed beside it as `<name>.json`. */
  async save(path: string, info: TraceInfo): Promise<void> {
    const { gzipSync } = await import('node:zlib');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, gzipSync(this.encode(info)));
    writeFileSync(path.replace(/\.trace\.gz$|\.gz$/, '') + '.json', JSON.stringify(this.header(info), null, 2) + '\n');
  }

  /** The JSON header: the recording's facts, computed by replaying the records. */
  header(info: TraceInfo): Record<string, unknown> {
    const ops = { malloc: 0, calloc: 0, realloc: 0, memalign: 0, free: 0 };
    const failed = { malloc: 0, calloc: 0, realloc: 0, memalign: 0 };
    const names = ['', 'malloc', 'free', 'calloc', 'realloc', 'memalign'] as const;
    const live = new Map<number, number>();
    let liveBytes = 0;
    let peakBytes = 0;
    let peakAt = 0;
    let peakObjects = 0;
    let total = 0;
    let maxRequest = 0;
    let zero = 0;
    const alignments: Record<string, number> = {};
    const histogram: Record<string, number> = {};
    for (let i = 0; i < this.n; i++) {
      const op = this.rec[4 * i]! & 0xff;
      const flags = (this.rec[4 * i]! >>> 16) & 0xff;
      const id = this.rec[4 * i + 1]!;
      const size = this.rec[4 * i + 2]! >>> 0;
      const aux = this.rec[4 * i + 3]!;
      const name = names[op]!;
      if (name !== '') ops[name]++;
      if ((flags & FLAG_FAILED) !== 0) {
        if (name !== 'free' && name !== '') failed[name]++;
        continue;
      }
      if (op === OP_FREE) {
        liveBytes -= live.get(id) ?? 0;
        live.delete(id);
        continue;
      }
      if (op === OP_REALLOC) {
        liveBytes -= live.get(aux) ?? 0;
        live.delete(aux);
      }
      if (op === OP_MEMALIGN) alignments[String(aux)] = (alignments[String(aux)] ?? 0) + 1;
      live.set(id, size);
      liveBytes += size;
      total += size;
      maxRequest = Math.max(maxRequest, size);
      if (size === 0) zero++;
      const bucket = `<=${2 ** Math.max(0, Math.ceil(Math.log2(Math.max(1, size))))}`;
      histogram[bucket] = (histogram[bucket] ?? 0) + 1;
      if (liveBytes > peakBytes) {
        peakBytes = liveBytes;
        peakAt = i;
      }
      peakObjects = Math.max(peakObjects, live.size);
    }
    return {
      format: 'alloc-trace', version: 1, name: info.name, program: info.program,
      command: info.command ?? '', description: info.description ?? '', exe: '', argv: [],
      events: this.n, peak_live_bytes: peakBytes, peak_live_objects: peakObjects, peak_live_bytes_at_event: peakAt,
      total_allocated_bytes: total, threads: 1, max_id: this.nextId - 1,
      final_live_bytes: liveBytes, final_live_objects: live.size,
      max_request_bytes: maxRequest, zero_size_requests: zero, clamped_sizes: 0,
      ops, failed, implicit_frees: 0, alignments, size_histogram: histogram, truncated: false,
      tracer: { recorder: '@hakmem/testkit TraceRecorder', unknown_frees_dropped: this.unknownFrees, null_frees_dropped: this.nullFrees },
      recorded_on: typeof process === 'object' ? `node ${process.version} ${process.platform}-${process.arch}` : 'unknown',
    };
  }
}
