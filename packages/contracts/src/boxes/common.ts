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
