/**
 * What every box offers besides its own methods.
 */
export interface Box<Stats> {
  /** The box's name as in DESIGN.md, e.g. `'unified-cache'`. */
  readonly name: string;
  /** A snapshot of the box's counters (a fresh object: not for hot paths). */
  stats(): Stats;
  /**
   * Walks the box's metadata and checks its invariants.
   * Throws `HakmemError(E_CORRUPTION)` naming the box and the first broken invariant;
   * never changes state.
   */
  checkInvariants(): void;
}

/** A box that keeps per-thread caches: it can give everything it holds back. */
export interface FlushableBox {
  /**
   * Returns every cached block / slab to the next box down (thread exit, `trim()`).
   * Post: the box holds nothing; never throws.
   */
  flush(): void;
}

/**
 * A thread-local box whose JS-side state can be rebuilt from the linear memory by a fresh
 * instance built for the same thread id: how `attachHeap` adopts the slabs and spans an
 * abandoned thread id still owns, and how `heap.reclaim(tid)` collects a thread that died.
 */
export interface AdoptableBox {
  /**
   * Rebuilds this instance's queues and counters from the registry and descriptors of
   * what thread `ctx.tid` owns, and drains its remote-free lists.
   * Pre: the instance is fresh, and no other instance of this thread id runs.
   * Post: `checkInvariants()` passes; nothing the thread owned is lost. Never throws.
   */
  adopt(): void;
}

/** What {@link RecoverableBox.recover} repaired. */
export interface Recovery {
  /** Locks of this box the dead thread held: each repaired, then released. */
  readonly locks: number;
  /** Operations the dead thread was in the middle of that were finished or undone. */
  readonly repaired: number;
}

/**
 * A box another thread can repair when a thread died in the middle of one of its calls (a
 * terminated worker). `heap.reclaim(tid)` builds the dead thread's instance of every box
 * (`ctx.tid` = the dead thread) and calls `recover()` on the shared boxes first —
 * innermost lock first: os-boundary, then superslab-tier, l25-pool, bigcache, then
 * shared-pool — before anything else touches them, then `adopt()`s the thread-local
 * boxes and calls their `recover()`, then flushes all of it as `detach()` would.
 *
 * A box makes this possible by keeping every critical section such that a thread stopped
 * at any point leaves a state the repair can make consistent: the commits are runs of
 * typed-array stores and Atomics with no JS call and no loop between them (V8 delivers
 * `terminate()` only at a function's entry or a loop's back-edge), and what must span a
 * call is recorded first (an in-flight word of the thread record, or a journal word of the
 * box's state) so that the repair can finish or undo it.
 */
export interface RecoverableBox {
  /**
   * Pre: this instance was built for the dead thread's id, which no live thread uses; the
   * boxes below it were recovered first. Repairs what the dead thread left half-done —
   * the state behind this box's lock if the lock word names the dead thread (then releases
   * it), and the thread's in-flight records this box owns. Post: `checkInvariants()`
   * passes as far as this box is concerned. Never throws.
   */
  recover(): Recovery;
}
