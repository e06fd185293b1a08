import { HakmemError, MAX_BATCH, type BlockSink, type BlockSource, type ErrorCode, type Ptr } from '@hakmem/contracts';

/** One check of a conformance suite: throws (any Error) when the box under test breaks its contract. */
export interface ConformanceCase { readonly name: string; run(): void | Promise<void>; }
/** Fails a conformance check with a message that names the contract clause. */
export function fail(message: string): never { throw new Error(message); }
/** Fails with `message` unless `cond` holds (a conformance assertion; narrows `cond`). */
export function check(cond: boolean, message: string): asserts cond { if (!cond) fail(message); }

/**
 * Runs `fn` and returns the code of the `HakmemError` it throws, or undefined when it
 * returns normally; anything else it throws is rethrown. For `expect(errorCodeOf(…))`.
 */
export function errorCodeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof HakmemError) return e.code;
    throw e;
  }
  return undefined;
}

/**
 * Runs `fn` and returns the `HakmemError` it throws; fails (naming `clause`) when it
 * returns normally, throws something else, or throws a `HakmemError` with another code.
 */
export function expectHakmemError(fn: () => unknown, code: ErrorCode, clause: string): HakmemError {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    if (!(e instanceof HakmemError)) fail(`${clause}: expected HakmemError(${code}), got ${String(e)}`);
    if (e.code !== code) fail(`${clause}: expected HakmemError(${code}), got ${e.code} (${e.message})`);
    return e;
  }
  return fail(`${clause}: expected HakmemError(${code}), but the call returned ${String(result)}`);
}

/** One `allocBatch` call as a {@link RecordingBlockSource} saw it. */
export interface AllocBatchCall {
  readonly cls: number;
  readonly offset: number;
  readonly max: number;
  /** Length of the `out` array passed. */
  readonly outLength: number;
  /** The blocks written (what the call returned). */
  readonly blocks: readonly Ptr[];
}

/** One `freeBatch` call as a {@link RecordingBlockSource} saw it. */
export interface FreeBatchCall {
  readonly cls: number;
  readonly blocks: readonly Ptr[];
}

/**
 * A fake `BlockSource & BlockSink` for cache suites: hands out distinct fake block
 * addresses (`stride` apart, 16 by default; never 0; class recorded per block), records every call,
 * and records — instead of throwing, since the chain interfaces never throw — every
 * breach of the chain contract by its caller: a batch `max` outside `1..MAX_BATCH`, an
 * `out` without room, a freed block it never handed out, of another class, or freed twice.
 *
 * Blocks are "out" (owned by the caller) from `allocBatch`/{@link mint} until `freeBatch`.
 */
export class RecordingBlockSource implements BlockSource, BlockSink {
  /** Blocks still available; `allocBatch` returns 0 once it reaches 0. */
  remaining: number;
  /** At most this many blocks per `allocBatch` call (a partial batch when below `max`). */
  perCall: number;
  readonly allocCalls: AllocBatchCall[] = [];
  readonly freeCalls: FreeBatchCall[] = [];
  /** Breaches of the chain contract by the caller, in order (empty when it behaved). */
  readonly violations: string[] = [];
  private next = 0x10_0000;
  /** Class of every block ever handed out. */
  private readonly classOf = new Map<Ptr, number>();
  /** Blocks currently owned by the caller. */
  private readonly out = new Set<Ptr>();

  /** Bytes between the fake blocks it hands out (their alignment): 16, or e.g. 512 for mid-size caches. */
  private readonly stride: number;

  constructor(options: { remaining?: number; perCall?: number; stride?: number } = {}) {
    this.remaining = options.remaining ?? Number.POSITIVE_INFINITY;
    this.perCall = options.perCall ?? Number.POSITIVE_INFINITY;
    this.stride = options.stride ?? 16;
  }

  /** Hands `n` fresh blocks of class `cls` to the test itself (not recorded as a call). */
  mint(cls: number, n: number): Ptr[] {
    const blocks: Ptr[] = [];
    for (let i = 0; i < n; i++) blocks.push(this.fresh(cls));
    return blocks;
  }

  /** The class a block was handed out for, or undefined for an address it never handed out. */
  classOfBlock(ptr: Ptr): number | undefined {
    return this.classOf.get(ptr);
  }

  /** True while `ptr` is owned by the caller (handed out, not freed since). */
  isOut(ptr: Ptr): boolean {
    return this.out.has(ptr);
  }

  /** Every block returned through `freeBatch` so far, in order. */
  freedBlocks(): Ptr[] {
    return this.freeCalls.flatMap((c) => [...c.blocks]);
  }

  allocBatch(cls: number, out: Int32Array, offset: number, max: number): number {
    if (!Number.isInteger(max) || max <= 0 || max > MAX_BATCH) {
      this.violations.push(`allocBatch(cls ${cls}): max ${max} outside 1..MAX_BATCH (${MAX_BATCH})`);
    }
    if (!Number.isInteger(offset) || offset < 0 || offset + Math.max(max, 0) > out.length) {
      this.violations.push(`allocBatch(cls ${cls}): out[${offset} .. ${offset + max}) does not fit an array of ${out.length}`);
    }
    const n = Math.max(0, Math.min(max, this.remaining, this.perCall, out.length - offset));
    const blocks: Ptr[] = [];
    for (let i = 0; i < n; i++) {
      const p = this.fresh(cls);
      out[offset + i] = p;
      blocks.push(p);
    }
    this.remaining -= n;
    this.allocCalls.push({ cls, offset, max, outLength: out.length, blocks });
    return n;
  }

  freeBatch(cls: number, blocks: Int32Array, offset: number, n: number): void {
    if (!Number.isInteger(n) || n < 0 || !Number.isInteger(offset) || offset < 0 || offset + n > blocks.length) {
      this.violations.push(`freeBatch(cls ${cls}): blocks[${offset} .. ${offset + n}) does not fit an array of ${blocks.length}`);
      this.freeCalls.push({ cls, blocks: [] });
      return;
    }
    const got: Ptr[] = [];
    for (let i = 0; i < n; i++) {
      const p = blocks[offset + i]!;
      got.push(p);
      const c = this.classOf.get(p);
      if (c === undefined) this.violations.push(`freeBatch(cls ${cls}): ${p} was never handed out`);
      else if (c !== cls) this.violations.push(`freeBatch(cls ${cls}): ${p} is a block of class ${c}`);
      else if (!this.out.has(p)) this.violations.push(`freeBatch(cls ${cls}): ${p} was already freed`);
      this.out.delete(p);
    }
    this.freeCalls.push({ cls, blocks: got });
  }

  private fresh(cls: number): Ptr {
    const p = this.next;
    this.next += this.stride;
    this.classOf.set(p, cls);
    this.out.add(p);
    return p;
  }
}

/**
 * A cache's `storage` option that hands out one Int32Array (made on the first call) and
 * counts its calls: the storage clauses give it to two caches in turn, as the heap gives
 * a thread's cache region to the cache of the thread that adopts its id.
 */
export function recordingStorage(clause: string): { readonly given: (words: number) => Int32Array; asked: number; array: Int32Array | undefined } {
  const r = {
    asked: 0,
    array: undefined as Int32Array | undefined,
    given: (words: number): Int32Array => {
      r.asked++;
      r.array ??= new Int32Array(words);
      check(r.array.length === words, `${clause} storage: asked for ${words} words, then for ${r.array.length}`);
      return r.array;
    },
  };
  return r;
}
