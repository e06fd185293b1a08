import { createHeap, type Heap } from '@hakmem/allocator';
import { loadTrace, OP_CALLOC, OP_FREE, OP_MALLOC, OP_MEMALIGN, OP_REALLOC, type Trace } from './trace.js';
import { errorMessage } from './util.js';
import { stampOf } from './workloads/trace-replay.js';

/** 8-byte granules: the finest alignment any block has. */
const GRANULE_SHIFT = 3;
/** The most error messages a summary keeps (all are counted). */
const MAX_MESSAGES = 20;

export interface CheckOptions {
  /** Records to replay (default: all). */
  readonly events?: number;
  /** heap.validate() every this many records (default 50 000), and at the end. */
  readonly validateEvery?: number;
  /** The heap's maxBytes (default 512 MiB). */
  readonly maxBytes?: number;
}

export interface CheckSummary {
  readonly trace: string;
  readonly events: number;
  readonly allocations: number;
  readonly frees: number;
  readonly validations: number;
  /** Blocks still live after the last record (freed after the final checks). */
  readonly liveAtEnd: number;
  /** Sum of usable sizes of those blocks, and what heap.liveBytes() said. */
  readonly usableLiveAtEnd: number;
  readonly heapLiveBytes: number;
  readonly peakFootprint: number;
  /** peakFootprint ÷ the header's peak_live_bytes (over the whole trace; a prefix reads higher). */
  readonly footprintRatio: number;
  readonly elapsedMs: number;
  readonly errorCount: number;
  readonly errors: readonly string[];
}

/**
 * Replays a trace through a fresh hakmem heap with every check on: each block aligned
 * (16 bytes from 16 up, 8 below, memalign's alignment), usableSize ≥ size, no overlap
 * with a live block (a shadow map of the heap's memory, one Int32 per 8-byte granule,
 * holding the id that owns it), contents kept (the first and last byte of each block
 * stamped and read back on free and realloc; realloc keeps min(old, new) bytes; calloc
 * zeroed), heap.validate() every `validateEvery` records and at the end, and
 * heap.liveBytes() equal to the usable bytes of the blocks live at the end. Then frees
 * the survivors and checks liveBytes() is 0. Not timed for speed: a correctness pass.
 */
export function checkTrace(name: string, options: CheckOptions = {}): CheckSummary {
  return checkLoaded(name, loadTrace(name), options);
}

export function checkLoaded(name: string, trace: Trace, options: CheckOptions = {}): CheckSummary {
  const maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  const heap = createHeap({ maxBytes });
  return new Checker(name, trace, heap, maxBytes).run(Math.min(options.events ?? trace.count, trace.count), options.validateEvery ?? 50_000);
}

class Checker {
  private readonly ptrs: Int32Array;
  private readonly sizes: Int32Array;
  private readonly usable: Float64Array;
  private readonly owner: Int32Array;
  private readonly u8: () => Uint8Array;
  private readonly errors: string[] = [];
  private errorCount = 0;
  private live = 0;

  constructor(
    private readonly name: string,
    private readonly trace: Trace,
    private readonly heap: Heap,
    maxBytes: number,
  ) {
    this.ptrs = new Int32Array(trace.maxId + 1);
    this.sizes = new Int32Array(trace.maxId + 1);
    this.usable = new Float64Array(trace.maxId + 1);
    this.owner = new Int32Array(Math.ceil(maxBytes / (1 << GRANULE_SHIFT)));
    this.u8 = () => heap.views.u8;
  }

  private fail(message: string): void {
    this.errorCount++;
    if (this.errors.length < MAX_MESSAGES) this.errors.push(message);
  }

  run(events: number, validateEvery: number): CheckSummary {
    const rec = this.trace.records;
    const t0 = performance.now();
    let allocations = 0;
    let frees = 0;
    let validations = 0;
    let r = 0;
    try {
      for (; r < events; r++) {
        const o = r << 2;
        const op = rec[o]! & 0xff;
        const id = rec[o + 1]!;
        const size = rec[o + 2]!;
        const aux = rec[o + 3]!;
        if (op === OP_FREE) {
          frees++;
          this.release(r, id, true);
        } else {
          allocations++;
          this.allocate(r, op, id, size, aux);
        }
        if (validateEvery > 0 && (r + 1) % validateEvery === 0) {
          validations++;
          this.validate(r);
        }
      }
    } catch (error) {
      this.fail(`record ${r}: the heap threw: ${errorMessage(error)} (replay stopped)`);
    }
    validations++;
    this.validate(events - 1);
    let usableLive = 0;
    const liveAtEnd = this.live;
    for (let id = 1; id < this.ptrs.length; id++) if (this.ptrs[id] !== 0) usableLive += this.usable[id]!;
    const heapLive = this.heap.liveBytes();
    if (heapLive !== usableLive) this.fail(`at the end: heap.liveBytes() ${heapLive} ≠ ${usableLive}, the usable bytes of the ${liveAtEnd} live blocks`);
    try {
      for (let id = 1; id < this.ptrs.length; id++) if (this.ptrs[id] !== 0) this.release(events, id, true);
      const after = this.heap.liveBytes();
      if (after !== 0) this.fail(`after freeing the survivors: heap.liveBytes() is ${after}, not 0`);
      validations++;
      this.validate(events);
    } catch (error) {
      this.fail(`freeing the survivors: the heap threw: ${errorMessage(error)}`);
    }
    const peakFootprint = this.heap.stats().footprint;
    return {
      trace: this.name, events, allocations, frees, validations, liveAtEnd, usableLiveAtEnd: usableLive, heapLiveBytes: heapLive,
      peakFootprint, footprintRatio: peakFootprint / this.trace.header.peak_live_bytes,
      elapsedMs: performance.now() - t0, errorCount: this.errorCount, errors: this.errors,
    };
  }

  private validate(r: number): void {
    try {
      this.heap.validate();
    } catch (error) {
      this.fail(`record ${r}: heap.validate(): ${errorMessage(error)}`);
    }
  }

  private allocate(r: number, op: number, id: number, size: number, aux: number): void {
    const heap = this.heap;
    let ptr = 0;
    let align = 0;
    if (op === OP_MALLOC) {
      ptr = heap.malloc(size);
    } else if (op === OP_CALLOC) {
      const nmemb = aux === 0 ? 1 : aux;
      ptr = heap.calloc(nmemb, size / nmemb);
      if (ptr !== 0) {
        const u8 = this.u8();
        for (let k = 0; k < size; k++) {
          if (u8[ptr + k] !== 0) {
            this.fail(`record ${r}: calloc id ${id} (${size} B) at 0x${ptr.toString(16)}: byte ${k} is ${u8[ptr + k]}, not 0`);
            break;
          }
        }
      }
    } else if (op === OP_MEMALIGN) {
      align = aux;
      ptr = heap.memalign(aux, size);
    } else if (op === OP_REALLOC) {
      const old = this.ptrs[aux]!;
      if (old === 0) {
        this.fail(`record ${r}: realloc of id ${aux}, which is not live`);
        return;
      }
      this.checkStamps(r, aux, 'realloc');
      const oldSize = this.sizes[aux]!;
      this.unmark(aux);
      ptr = heap.realloc(old, size);
      if (ptr === 0) {
        this.fail(`record ${r}: realloc id ${aux} → ${id} (${size} B) returned 0`);
        this.mark(r, aux); // C: the old block is still live
        return;
      }
      // realloc keeps min(old, new) bytes: the first byte always, the old last byte when it still fits.
      const u8 = this.u8();
      const keep = Math.min(oldSize, size);
      if (keep > 0 && u8[ptr] !== stampOf(aux)) this.fail(`record ${r}: realloc id ${aux} → ${id}: first byte not kept (${u8[ptr]} ≠ ${stampOf(aux)})`);
      if (oldSize > 1 && size >= oldSize && u8[ptr + oldSize - 1] !== (stampOf(aux) ^ 0x5a)) {
        this.fail(`record ${r}: realloc id ${aux} → ${id}: byte ${oldSize - 1} (the old last) not kept`);
      }
      this.ptrs[aux] = 0;
      this.live--;
    }
    if (ptr === 0) {
      this.fail(`record ${r}: allocation of id ${id} (${size} B, op ${op}) returned 0`);
      return;
    }
    const want = Math.max(size >= 16 ? 16 : 8, align);
    if (ptr % want !== 0) this.fail(`record ${r}: id ${id} at 0x${ptr.toString(16)} (${size} B) is not ${want}-byte aligned`);
    const usable = heap.usableSize(ptr);
    if (usable < size) this.fail(`record ${r}: id ${id}: usableSize ${usable} < size ${size}`);
    this.ptrs[id] = ptr;
    this.sizes[id] = size;
    this.usable[id] = usable;
    this.live++;
    this.mark(r, id);
    const u8 = this.u8();
    if (size > 0) {
      u8[ptr] = stampOf(id);
      if (size > 1) u8[ptr + size - 1] = stampOf(id) ^ 0x5a;
    }
  }

  /** Marks the granules of live block id as owned; reports any already owned. */
  private mark(r: number, id: number): void {
    const ptr = this.ptrs[id]!;
    const end = ptr + Math.max(this.usable[id]!, 1);
    const first = ptr >>> GRANULE_SHIFT;
    const last = (end + (1 << GRANULE_SHIFT) - 1) >>> GRANULE_SHIFT;
    if (last > this.owner.length) {
      this.fail(`record ${r}: id ${id} at 0x${ptr.toString(16)} ends past the heap's maxBytes`);
      return;
    }
    const owner = this.owner;
    let reported = false;
    for (let g = first; g < last; g++) {
      const other = owner[g]!;
      if (other !== 0 && !reported) {
        this.fail(`record ${r}: id ${id} [0x${ptr.toString(16)}, +${this.usable[id]}) overlaps live id ${other} at 0x${this.ptrs[other]!.toString(16)}`);
        reported = true;
      }
      owner[g] = id;
    }
  }

  private unmark(id: number): void {
    const ptr = this.ptrs[id]!;
    const end = ptr + Math.max(this.usable[id]!, 1);
    const last = Math.min((end + (1 << GRANULE_SHIFT) - 1) >>> GRANULE_SHIFT, this.owner.length);
    const owner = this.owner;
    for (let g = ptr >>> GRANULE_SHIFT; g < last; g++) if (owner[g] === id) owner[g] = 0;
  }

  private checkStamps(r: number, id: number, what: string): void {
    const ptr = this.ptrs[id]!;
    const size = this.sizes[id]!;
    const u8 = this.u8();
    if (size > 0 && u8[ptr] !== stampOf(id)) this.fail(`record ${r}: ${what} id ${id} at 0x${ptr.toString(16)}: first byte ${u8[ptr]} ≠ stamp ${stampOf(id)}`);
    if (size > 1 && u8[ptr + size - 1] !== (stampOf(id) ^ 0x5a)) this.fail(`record ${r}: ${what} id ${id}: last byte ${u8[ptr + size - 1]} ≠ its stamp`);
  }

  private release(r: number, id: number, check: boolean): void {
    const ptr = this.ptrs[id]!;
    if (ptr === 0) {
      this.fail(`record ${r}: free of id ${id}, which is not live`);
      return;
    }
    if (check) this.checkStamps(r, id, 'free');
    this.unmark(id);
    this.heap.free(ptr);
    this.ptrs[id] = 0;
    this.live--;
  }
}

/** One line (and the first errors) per checked trace. */
export function formatCheck(s: CheckSummary): string {
  const head = `${s.trace}: ${s.events} records (${s.allocations} allocations, ${s.frees} frees), ${s.validations} validate() calls, `
    + `${s.liveAtEnd} live at the end (${s.usableLiveAtEnd} usable B; heap.liveBytes() ${s.heapLiveBytes}), `
    + `peak footprint ${(s.peakFootprint / 1048576).toFixed(2)} MiB = ${s.footprintRatio.toFixed(2)}× peak live, `
    + `${(s.elapsedMs / 1000).toFixed(1)} s: ${s.errorCount === 0 ? 'OK, 0 errors' : `${s.errorCount} ERRORS`}`;
  return [head, ...s.errors.map((e) => `  !!! ${e}`), ...(s.errorCount > s.errors.length ? [`  … and ${s.errorCount - s.errors.length} more`] : [])].join('\n');
}
