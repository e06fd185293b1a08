import { createHeap, type Heap, type HeapOptions } from '@hakmem/allocator';
import type { HeapViews } from '@hakmem/contracts';
import type { Subject, SubjectOptions } from '../subject.js';

/** The heap's own default limit, and the most it accepts (see HeapOptions.maxBytes). */
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
const LIMIT_MAX_BYTES = 2 * 1024 * 1024 * 1024 - 64 * 1024;

/**
 * A hakmem heap whose views may be replaced on growth (wasm, the growable native
 * backend): the harness touches blocks through the backend's views object, whose
 * identity is stable and whose fields are refreshed.
 */
export class HakmemSubject implements Subject {
  readonly name = 'hakmem';
  private readonly heap: Heap;
  private readonly views: HeapViews;

  constructor(heap: Heap) {
    this.heap = heap;
    this.views = heap.views;
  }

  malloc(size: number): number {
    return this.heap.malloc(size);
  }

  free(ptr: number): void {
    this.heap.free(ptr);
  }

  calloc(n: number, size: number): number {
    return this.heap.calloc(n, size);
  }

  realloc(ptr: number, size: number): number {
    return this.heap.realloc(ptr, size);
  }

  memalign(align: number, size: number): number {
    return this.heap.memalign(align, size);
  }

  /** os-boundary's high-water mark (`stats().footprint`, without building the whole stats record: sampled between slices of a trace replay). */
  footprint(): number {
    return this.heap.boxes.osBoundary.stats().highWater;
  }

  poke(ptr: number, value: number): void {
    this.views.u8[ptr] = value;
  }

  peek(ptr: number): number {
    return this.views.u8[ptr]!;
  }

  /** Every box's numeric counters and the tiny tier's usage, as `box.counter`. */
  stats(): Record<string, number> {
    const s = this.heap.stats();
    const out: Record<string, number> = { footprint: s.footprint };
    for (const [key, value] of Object.entries(s.tiny)) out[`tiny.${key}`] = value;
    for (const [box, counters] of Object.entries(s.boxes)) {
      for (const [key, value] of Object.entries(counters as unknown as Record<string, unknown>)) {
        if (typeof value === 'number') out[`${box}.${key}`] = value;
      }
    }
    return out;
  }
}

/**
 * A hakmem heap whose views never change (`capabilities.viewsTrackGrowth`: the default
 * reserved native backend): the harness keeps the byte view itself, as a user of such a
 * heap would. Through the views object every touch cost about four more instructions
 * (callgrind, vm: 87 M of 724 M in the loop), a quarter of vm's figure.
 */
export class HakmemStableSubject extends HakmemSubject {
  private readonly u8: Uint8Array;

  constructor(heap: Heap) {
    super(heap);
    this.u8 = heap.views.u8;
  }

  override poke(ptr: number, value: number): void {
    this.u8[ptr] = value;
  }

  override peek(ptr: number): number {
    return this.u8[ptr]!;
  }
}

/** The subject for a heap: the stable-view one when its backend's views never change. */
function subjectOf(heap: Heap): Subject {
  return heap.backend.capabilities.viewsTrackGrowth ? new HakmemStableSubject(heap) : new HakmemSubject(heap);
}

/** Named variants of the default heap, for `--subjects hakmem:NAME` (and `compare`). */
export const PRESETS: Readonly<Record<string, Omit<HeapOptions, 'maxBytes'>>> = {
  default: {},
  wasm: { backend: 'wasm' },
  growable: { growable: true },
  debug1: { debug: 1 },
};

/** `createHeap` with a preset's options, sized for the workload. */
export function createPresetSubject(preset: string): (options: SubjectOptions) => Subject {
  const chosen = PRESETS[preset];
  if (chosen === undefined) throw new Error(`unknown hakmem preset "${preset}" (known: ${Object.keys(PRESETS).join(', ')})`);
  return (options) => subjectOf(createHeap({ ...chosen, maxBytes: maxBytesFor(options) }));
}

/**
 * A heap from a module of yours: its `default` or `heap` export is a `Heap` (e.g. a
 * `compose(...)` result) or a function `(options: { maxBytes }) => Heap`. This is how a
 * swapped box is measured: compose it in a small file and pass the file's path.
 */
export async function createModuleSubject(specifier: string, options: SubjectOptions): Promise<Subject> {
  const mod = (await import(specifier)) as { default?: unknown; heap?: unknown };
  const made = mod.heap ?? mod.default;
  const heap = typeof made === 'function' ? (made as (o: { maxBytes: number }) => unknown)({ maxBytes: maxBytesFor(options) }) : made;
  if (!isHeapLike(heap)) throw new Error(`${specifier}: export a Heap (or a function returning one) as \`heap\` or \`default\``);
  return subjectOf(heap);
}

function isHeapLike(value: unknown): value is Heap {
  const h = value as Partial<Heap> | null;
  return typeof h === 'object' && h !== null && typeof h.malloc === 'function' && typeof h.free === 'function'
    && typeof h.stats === 'function' && typeof h.views === 'object';
}

function maxBytesFor(options: SubjectOptions): number {
  return Math.min(Math.max(options.arenaBytes, DEFAULT_MAX_BYTES), LIMIT_MAX_BYTES);
}

/** The subject over a heap sized for the workload (at least the heap's default maximum). */
export function createHakmemSubject(options: SubjectOptions): Subject {
  return subjectOf(createHeap({ maxBytes: maxBytesFor(options) }));
}

/** Wraps a heap you composed yourself (e.g. `compose()` with a box swapped). */
export function hakmemSubjectOf(heap: Heap): Subject {
  return subjectOf(heap);
}
