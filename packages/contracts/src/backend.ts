/**
 * The memory backend: one linear memory that grows in 64 KiB pages and, on a backend
 * whose `capabilities.canShrink` is true, can be shrunk again ({@link MemoryBackend.shrink}).
 *
 * Two implementations live in `@hakmem/memory-backend`: `wasm` over a
 * `WebAssembly.Memory` (shared or not) and `native` over one plain `ArrayBuffer` /
 * `SharedArrayBuffer` of the maximum size whose pages the OS commits on first touch
 * (default), or with `growable: true` over a resizable `ArrayBuffer` / growable
 * `SharedArrayBuffer`.
 *
 * Only `@hakmem/os-boundary` calls {@link MemoryBackend.grow} and
 * {@link MemoryBackend.shrink} once a heap is composed
 * (the composition root grows a fresh backend once, to hold the metadata prefix, before
 * os-boundary exists); every other box only reads and writes through
 * {@link MemoryBackend.views}.
 */

/** Which kind of memory a backend manages. */
export type BackendKind = 'wasm' | 'native';

/** What a backend can do, so that boxes choose a strategy without sniffing the kind. */
export interface BackendCapabilities {
  /** Growth granularity in bytes: always 65536. */
  readonly pageSize: number;
  /**
   * Whether {@link MemoryBackend.shrink} gives memory back to the host. True only for the
   * growable native backend when not shared (a resizable `ArrayBuffer`, whose `resize`
   * to a smaller length releases the pages); false for every other built-in backend (a
   * wasm memory and a growable `SharedArrayBuffer` cannot shrink, and the default native
   * backend's plain buffer has no smaller length to take).
   */
  readonly canShrink: boolean;
  /** Whether `decommit` releases physical memory. Both built-in backends: false. */
  readonly canDecommit: boolean;
  /**
   * True when views cover the memory after growth in any thread by themselves, so
   * {@link MemoryBackend.refresh} is never needed: the default native backend, whose
   * views span the whole reserved maximum from the start. False for wasm (its buffer is
   * replaced on every grow) and for the growable native backend (fixed-length views
   * re-covered on growth: length-tracking views are several times slower in V8 11).
   */
  readonly viewsTrackGrowth: boolean;
  /** True when the memory can be handed to other workers (it is shared). */
  readonly shareable: boolean;
}

/**
 * Typed-array views over the whole memory.
 *
 * The object's identity never changes for the life of a backend; its fields are
 * replaced by `grow` and by {@link MemoryBackend.refresh} when the memory grew.
 * Hot paths keep a reference to this object and read the field they need on each call
 * (`views.i32[idx]`), or cache the field and re-read it after anything that may grow.
 */
export interface HeapViews {
  u8: Uint8Array;
  i8: Int8Array;
  u16: Uint16Array;
  i16: Int16Array;
  u32: Uint32Array;
  i32: Int32Array;
  f32: Float32Array;
  f64: Float64Array;
  /** Incremented each time the fields are replaced. */
  version: number;
}

/**
 * What the heap uses of a `WebAssembly.Memory`, declared structurally: a project that
 * type-checks without the DOM library (a Node-only `"lib": ["ES2024"]`) has no
 * `WebAssembly` namespace, and the published types must not need one. A real
 * `WebAssembly.Memory` is one.
 */
export interface WasmMemoryLike {
  /** The memory's current buffer (replaced by `grow` on a non-shared memory). */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Grows by `delta` 64 KiB pages; returns the previous size in pages (throws on failure). */
  grow(delta: number): number;
}

/**
 * Something `postMessage` can carry that lets another worker attach to the same memory
 * (`attachBackend(handle)` in `@hakmem/memory-backend`). Plain data plus the shared
 * memory object itself.
 */
export interface SharedBackendHandle {
  readonly kind: BackendKind;
  /** The `WebAssembly.Memory` (wasm) or the `SharedArrayBuffer` (native). */
  readonly memory: WasmMemoryLike | SharedArrayBuffer;
  readonly maxBytes: number;
  /**
   * Native reserved backend only: a 4-byte `SharedArrayBuffer` holding the current
   * length in pages, shared by every worker attached to the memory.
   */
  readonly length?: SharedArrayBuffer;
}

/** Options common to both built-in backends. */
export interface BackendOptions {
  /** Initial size in bytes; rounded up to whole pages. Default: one page. */
  readonly initialBytes?: number;
  /**
   * Maximum size in bytes; rounded down to whole pages and clamped to
   * `MAX_HEAP_BYTES`. Default: 256 MiB.
   */
  readonly maxBytes?: number;
  /** Build on shared memory (required to use the heap from several workers). Default false. */
  readonly shared?: boolean;
  /**
   * Native backend only. False (default): one plain buffer of `maxBytes` is reserved up
   * front; the OS commits its pages on first touch (so the physical footprint follows
   * what the heap touches, as with growth), growth is bookkeeping, and the views never
   * change. True: a resizable `ArrayBuffer` / growable `SharedArrayBuffer` that really
   * grows, for hosts that commit a large buffer eagerly; views are re-covered on growth
   * and every access pays V8's bounds handling for resizable buffers (the bench's
   * default band: 11 % more instructions, ~15 % slower). The wasm backend ignores it (a
   * wasm memory always grows).
   */
  readonly growable?: boolean;
}

/**
 * One linear memory. Contract for implementers (checked by the testkit's backend suite):
 *
 * - `byteLength()` is a multiple of `pageSize`, never exceeds `maxBytes`, and never
 *   decreases except by a successful {@link MemoryBackend.shrink}.
 * - Memory obtained by growth reads as zero (also where a shrink had cut it off).
 * - After `grow` returns in one thread, every thread that calls `refresh()` (or, when
 *   `viewsTrackGrowth`, every thread at once) sees views at least as long as the new size.
 * - No method allocates per call except `grow` and `refresh` (which may replace views).
 */
export interface MemoryBackend {
  readonly kind: BackendKind;
  /** True when built on shared memory (SharedArrayBuffer or shared WebAssembly.Memory). */
  readonly shared: boolean;
  /** The largest `byteLength()` this memory can reach, a multiple of the page size. */
  readonly maxBytes: number;
  readonly capabilities: BackendCapabilities;
  /** Views over the whole memory; identity stable, fields refreshed (see {@link HeapViews}). */
  readonly views: HeapViews;

  /**
   * Current size in bytes, as seen by this thread.
   * Post: a multiple of the page size, `<= maxBytes`. Never throws.
   */
  byteLength(): number;

  /**
   * Grows the memory by `deltaPages` pages of 64 KiB and refreshes this thread's views.
   *
   * Pre: `deltaPages` is a non-negative integer. Not reentrant across threads: callers
   * serialise (os-boundary holds its lock), because a native shared grow sets an
   * absolute length.
   * Post: on success the previous size in pages is returned and the new bytes read as
   * zero. On failure (the maximum would be exceeded, or the host refused) returns -1
   * and the memory is unchanged. Never throws.
   */
  grow(deltaPages: number): number;

  /**
   * Gives back the pages from `toPages` on to the host: the memory's length becomes
   * `toPages` pages and this thread's views are re-covered over it (the `views` object
   * stays the same; its fields are replaced and `version` bumped). Memory grown again
   * later reads as zero. Slow path: called by `@hakmem/os-boundary` when the top of the
   * heap is free (`heap.trim()`), never per block.
   *
   * Pre: the caller holds nothing at or above `toPages << 16` (its bytes are lost) and no
   * other thread uses the memory (a shrinkable backend is never shared). The backend does
   * not know what is in use: the caller never asks for less than that.
   * Post: true when the length is now `toPages` pages (also when it already was; then the
   * views are left as they are). False with nothing changed when `capabilities.canShrink`
   * is false (every backend but the non-shared growable native one: such a backend
   * implements this as `return false`), when `toPages` is not an integer in
   * `[1, byteLength() >>> 16]`, or when the host refuses. Never throws.
   */
  shrink(toPages: number): boolean;

  /**
   * Makes this thread's views cover the memory as it is now (after growth by another
   * thread). Cheap when nothing changed: one length comparison.
   * Post: returns true when the views were replaced. Never throws.
   */
  refresh(): boolean;

  /**
   * The memory's current raw buffer (replaced on wasm growth). In a thread that has not
   * called `refresh()` since another thread grew a wasm memory, it may be longer than the views.
   */
  buffer(): ArrayBuffer | SharedArrayBuffer;

  /**
   * A value `postMessage` can carry to attach another worker to this memory.
   * Pre: `shared` is true. Throws `HakmemError(E_INVALID_OPTION)` otherwise.
   */
  share(): SharedBackendHandle;
}
