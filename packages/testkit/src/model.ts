import type { Ptr } from '@hakmem/contracts';
import type { HeapOp, HeapUnderTest, ModelOptions, ModelReport } from './api.js';

/** Granule of the shadow map: every block starts on, and is at least, 8 bytes. */
const GRANULE_SHIFT = 3;

/**
 * A reference model of a heap: the live blocks with their sizes and content stamps,
 * and a shadow map (one int32 per 8 bytes of memory) saying which live block owns each
 * granule, so an overlap is caught exactly on the call that creates it.
 */
export class ReferenceModel {
  /** live block index → pointer / requested size / usable size / stamp */
  private readonly ptrs: number[] = [];
  private readonly sizes: number[] = [];
  private readonly usables: number[] = [];
  private readonly stamps: number[] = [];
  private readonly shadow: Int32Array;
  private nextStamp = 1;
  liveBytes = 0;
  usableBytes = 0;

  constructor(memoryBytes: number) {
    this.shadow = new Int32Array(Math.ceil(memoryBytes / (1 << GRANULE_SHIFT)));
  }

  get live(): number {
    return this.ptrs.length;
  }

  ptrAt(i: number): Ptr {
    return this.ptrs[i]!;
  }

  sizeAt(i: number): number {
    return this.sizes[i]!;
  }

  /** Blocks freed lately (the misuse checks' candidates); a block handed out over one drops it. */
  readonly freed: number[] = [];

  /** Records a new block after checking alignment, usable size and overlap; stamps its content. */
  add(heap: HeapUnderTest, ptr: Ptr, size: number, align: number, zeroed: boolean): void {
    const want = size >= 16 ? Math.max(16, align) : Math.max(8, align);
    check(ptr > 0 && ptr % want === 0, `block 0x${ptr.toString(16)} of ${size} B is not ${want}-byte aligned`);
    const usable = heap.usableSize(ptr);
    check(usable >= size, `usableSize(0x${ptr.toString(16)}) = ${usable} < requested ${size}`);
    const stamp = this.nextStamp++;
    const end = (ptr + Math.max(usable, 1) + 7) >>> GRANULE_SHIFT;
    for (let k = this.freed.length - 1; k >= 0; k--) {
      const f = this.freed[k]! >>> GRANULE_SHIFT;
      if (f >= ptr >>> GRANULE_SHIFT && f < end) this.freed.splice(k, 1);
    }
    for (let g = ptr >>> GRANULE_SHIFT; g < end; g++) {
      const owner = this.shadow[g]!;
      // (the message is built only on failure: big blocks have hundreds of thousands of granules)
      if (owner !== 0) check(false, `block 0x${ptr.toString(16)} (+${usable}) overlaps live block #${owner} at 0x${(g << GRANULE_SHIFT).toString(16)}`);
      this.shadow[g] = stamp;
    }
    if (zeroed) verifyZero(heap.views.u8, ptr, size);
    writeStamp(heap.views.u8, ptr, size, stamp);
    this.ptrs.push(ptr);
    this.sizes.push(size);
    this.usables.push(usable);
    this.stamps.push(stamp);
    this.liveBytes += size;
    this.usableBytes += usable;
  }

  /** Verifies block i's content, forgets it (swap-remove) and returns its pointer. */
  remove(heap: HeapUnderTest, i: number): Ptr {
    const ptr = this.ptrs[i]!;
    this.verify(heap, i, this.sizes[i]!);
    this.forget(i);
    return ptr;
  }

  /** Forgets block i without reading it (it was freed). */
  discard(i: number): void {
    this.forget(i);
  }

  /** Checks block i still holds its stamp over its first `n` bytes. */
  verify(heap: HeapUnderTest, i: number, n: number): void {
    verifyStamp(heap.views.u8, this.ptrs[i]!, this.sizes[i]!, n, this.stamps[i]!);
  }

  /** Re-records block i as moved/resized to `ptr` with `size`, checking the kept prefix. */
  moved(heap: HeapUnderTest, i: number, ptr: Ptr, size: number): void {
    const old = this.sizes[i]!;
    const stamp = this.stamps[i]!;
    this.forget(i);
    verifyStamp(heap.views.u8, ptr, old, Math.min(old, size), stamp);
    this.add(heap, ptr, size, 8, false);
  }

  private forget(i: number): void {
    const ptr = this.ptrs[i]!;
    const end = (ptr + Math.max(this.usables[i]!, 1) + 7) >>> GRANULE_SHIFT;
    this.shadow.fill(0, ptr >>> GRANULE_SHIFT, end);
    this.liveBytes -= this.sizes[i]!;
    this.usableBytes -= this.usables[i]!;
    const last = this.ptrs.length - 1;
    for (const a of [this.ptrs, this.sizes, this.usables, this.stamps]) {
      a[i] = a[last]!;
      a.pop();
    }
  }
}

/** Content stamp: bytes at the start, at the end, and one in every 4 KiB in between. */
function stampPositions(size: number, visit: (offset: number, k: number) => void): void {
  const head = Math.min(size, 32);
  for (let k = 0; k < head; k++) visit(k, k);
  for (let k = Math.max(head, size - 32); k < size; k++) visit(k, k);
  for (let k = 4096; k < size - 32; k += 4096) visit(k, k);
}

function stampByte(stamp: number, k: number): number {
  return (stamp * 131 + k * 7 + 1) & 0xff;
}

function writeStamp(u8: Uint8Array, ptr: number, size: number, stamp: number): void {
  stampPositions(size, (off, k) => {
    u8[ptr + off] = stampByte(stamp, k);
  });
}

/** Checks the stamp written over `stampedSize` bytes, at the positions below `limit`. */
function verifyStamp(u8: Uint8Array, ptr: number, stampedSize: number, limit: number, stamp: number): void {
  stampPositions(stampedSize, (off, k) => {
    if (off < limit && u8[ptr + off] !== stampByte(stamp, k)) check(false, `block 0x${ptr.toString(16)}: byte ${off} changed (content not preserved)`);
  });
}

function verifyZero(u8: Uint8Array, ptr: number, size: number): void {
  for (let k = 0; k < size; k++) if (u8[ptr + k] !== 0) check(false, `calloc block 0x${ptr.toString(16)}: byte ${k} is not zero`);
}

/** Freed blocks the model keeps as misuse candidates. */
const FREED_KEPT = 16;

/** The code of the HakmemError `fn` threw, or a description of what it did instead. */
function thrown(fn: () => unknown): string {
  try {
    return `returned ${String(fn())}`;
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === 'string') return code;
    throw e;
  }
}

/**
 * One misuse of the freed block `p` (the `k`-th): a second free, a realloc that would
 * grow or shrink it, or usableSize, by turns. The answer must be a typed error: free and
 * realloc E_DOUBLE_FREE — or, when the block's slab, span or pages went back with its
 * free or since, E_INVALID_POINTER (no block there) or E_INTERIOR_POINTER (inside a block
 * of another class, `recent` false: freed a few calls before); usableSize
 * E_INVALID_POINTER (or E_INTERIOR_POINTER). Returns true for an E_DOUBLE_FREE.
 */
function misuse(heap: HeapUnderTest, p: Ptr, k: number, recent: boolean): boolean {
  const what = k % 4;
  const call = what === 0 ? () => heap.free(p) : what === 1 ? () => heap.realloc(p, 1) : what === 2 ? () => heap.realloc(p, 100_000) : () => heap.usableSize(p);
  const name = ['free', 'realloc(p, 1)', 'realloc(p, 100000)', 'usableSize'][what]!;
  const got = thrown(call);
  const allowed = what === 3 ? ['E_INVALID_POINTER'] : ['E_DOUBLE_FREE', 'E_INVALID_POINTER'];
  if (!recent) allowed.push('E_INTERIOR_POINTER');
  check(allowed.includes(got), `${name} of the freed block 0x${p.toString(16)} (${recent ? 'just freed' : 'freed lately'}): ${got}, want ${allowed.join(' or ')}`);
  if (heap.isAllocated !== undefined) check(!heap.isAllocated(p), `isAllocated(0x${p.toString(16)}) of a freed block is true`);
  return got === 'E_DOUBLE_FREE';
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(`model check failed: ${message}`);
}

/**
 * Applies `ops` to `heap`, checking after every call: alignment, no overlap with any live
 * block, usableSize ≥ size, contents preserved (also across realloc), calloc zeroed,
 * free really frees (the heap's live bytes equal the model's), and `validate()` as asked.
 * At the end frees everything and checks the heap reports no live bytes.
 */
export function runModel(heap: HeapUnderTest, ops: Iterable<HeapOp>, options: ModelOptions): ModelReport {
  const model = new ReferenceModel(options.memoryBytes);
  const validateEvery = options.validateEvery ?? 0;
  const liveEvery = options.liveBytesEvery ?? 1000;
  const misuseEvery = options.misuseEvery ?? 0;
  const r: ModelReport = { ops: 0, mallocs: 0, frees: 0, reallocs: 0, failed: 0, peakLive: 0, peakLiveBytes: 0, misuses: 0, doubleFrees: 0 };
  const checkLive = (): void => {
    const heapLive = heap.liveBytes();
    check(heapLive === model.usableBytes, `heap reports ${heapLive} live usable bytes, model has ${model.usableBytes} (a leak or a lost block)`);
  };
  let freedCount = 0;
  /** A block was just freed: remember it, and every `misuseEvery`-th time misuse one. */
  const freedNow = (ptr: Ptr): void => {
    model.freed.push(ptr);
    if (model.freed.length > FREED_KEPT) model.freed.shift();
    if (misuseEvery <= 0 || ++freedCount % misuseEvery !== 0) return;
    const k = (freedCount / misuseEvery) | 0;
    const recent = (k & 1) === 0;
    const p = recent ? ptr : model.freed[(k >>> 1) % model.freed.length]!;
    if (misuse(heap, p, k, recent)) r.doubleFrees++;
    r.misuses++;
    checkLive();
  };
  for (const op of ops) {
    r.ops++;
    switch (op.op) {
      case 'malloc':
      case 'calloc':
      case 'memalign': {
        const size = op.op === 'calloc' ? op.n * op.size : op.size;
        const p = op.op === 'malloc' ? heap.malloc(size) : op.op === 'calloc' ? heap.calloc(op.n, op.size) : heap.memalign(op.align, op.size);
        if (p === 0) r.failed++;
        else {
          model.add(heap, p, size, op.op === 'memalign' ? op.align : 8, op.op === 'calloc');
          r.mallocs++;
        }
        break;
      }
      case 'free': {
        if (model.live === 0) break;
        const p = model.remove(heap, op.pick % model.live);
        heap.free(p);
        r.frees++;
        freedNow(p);
        break;
      }
      case 'realloc': {
        if (model.live === 0) break;
        const i = op.pick % model.live;
        model.verify(heap, i, model.sizeAt(i));
        const p = heap.realloc(model.ptrAt(i), op.size);
        r.reallocs++;
        if (op.size === 0) {
          check(p === 0, 'realloc(p, 0) must free p and return 0');
          model.discard(i); // verified before the call: the block is freed now (debug level 2 fills it)
        } else if (p === 0) {
          r.failed++;
          model.verify(heap, i, model.sizeAt(i));
        } else {
          const old = model.ptrAt(i);
          model.moved(heap, i, p, op.size);
          if (p !== old) freedNow(old);
        }
        break;
      }
    }
    r.peakLive = Math.max(r.peakLive, model.live);
    r.peakLiveBytes = Math.max(r.peakLiveBytes, model.liveBytes);
    if (validateEvery > 0 && r.ops % validateEvery === 0) heap.validate();
    if (liveEvery > 0 && r.ops % liveEvery === 0) checkLive();
  }
  checkLive();
  heap.validate();
  while (model.live > 0) heap.free(model.remove(heap, model.live - 1));
  checkLive();
  heap.validate();
  return r;
}
