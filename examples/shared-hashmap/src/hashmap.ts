// A hash map from string keys to int32 values whose table and nodes live in a shared
// hakmem heap, so that every worker attached to the heap uses the same map.
//
//   table block (Int32 words):  | MAGIC | buckets | count | 0 | lock[0..buckets) | head[0..buckets) |
//   node block (bytes):         | next i32 | hash i32 | value i32 | keyLength i32 | key (UTF-8) ... |
//
// A node is one heap block of 16 + key length bytes (tiny for short keys, a mid-tier block
// for long ones). Each bucket has a lock word (the futex mutex of @hakmem/primitives):
// every walk of a chain holds its bucket's lock, so a node unlinked under the lock can be
// freed once the lock is released: no other thread can still be reading it. No heap call
// is made while a lock is held. A node is freed by whichever thread deletes it, which is
// often not the thread that allocated it: a remote free, which the heap queues to the
// owner's remote-free list.
import type { Heap } from '@hakmem/allocator';
import { canBlockHere, lockAcquire, lockRelease } from '@hakmem/primitives';

const MAGIC = 0x4841_534d; // 'HASM'
const T_MAGIC = 0;
const T_BUCKETS = 1;
const T_COUNT = 2;
const T_HEADER = 4;

const N_NEXT = 0;
const N_HASH = 1;
const N_VALUE = 2;
const N_KEY_LENGTH = 3;
/** Bytes before the key in a node. */
export const NODE_HEADER = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** FNV-1a over the key's bytes, as an int32. */
function hashBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h;
}

export class SharedHashMap {
  /** The table block: what another thread passes to `SharedHashMap.attach`. */
  readonly table: number;
  readonly buckets: number;
  private readonly heap: Heap;
  private readonly canBlock = canBlockHere();

  private constructor(heap: Heap, table: number, buckets: number) {
    this.heap = heap;
    this.table = table;
    this.buckets = buckets;
  }

  /** A new empty map in `heap` with `buckets` chains (a power of two). Throws when the heap is out of memory. */
  static create(heap: Heap, buckets = 1024): SharedHashMap {
    if (!Number.isInteger(buckets) || buckets < 1 || (buckets & (buckets - 1)) !== 0) throw new RangeError(`buckets must be a power of two, got ${buckets}`);
    const table = heap.calloc(T_HEADER + 2 * buckets, 4);
    if (table === 0) throw new RangeError('out of memory for the table');
    const i32 = heap.views.i32;
    i32[(table >>> 2) + T_BUCKETS] = buckets;
    Atomics.store(i32, (table >>> 2) + T_MAGIC, MAGIC);
    return new SharedHashMap(heap, table, buckets);
  }

  /** The map whose table block is `table`, in this thread's instance of the heap. */
  static attach(heap: Heap, table: number): SharedHashMap {
    const i32 = heap.views.i32;
    if (Atomics.load(i32, (table >>> 2) + T_MAGIC) !== MAGIC) throw new RangeError(`no map at ${table}`);
    return new SharedHashMap(heap, table, i32[(table >>> 2) + T_BUCKETS]!);
  }

  /** Entries in the map now. */
  get size(): number {
    return Atomics.load(this.heap.views.i32, (this.table >>> 2) + T_COUNT);
  }

  /**
   * Sets `key` to `value` (an int32). Returns true when the key was new. The node is
   * allocated before the bucket is locked; when the key was there already, its value is
   * replaced and the new node freed again.
   */
  set(key: string, value: number): boolean {
    const bytes = encoder.encode(key);
    const hash = hashBytes(bytes);
    const node = this.heap.malloc(NODE_HEADER + bytes.length);
    if (node === 0) throw new RangeError('out of memory for a node');
    const n = node >>> 2;
    const i32 = this.heap.views.i32; // read after malloc: a growth replaces the views' fields
    i32[n + N_HASH] = hash;
    i32[n + N_VALUE] = value | 0;
    i32[n + N_KEY_LENGTH] = bytes.length;
    this.heap.u8(node + NODE_HEADER, bytes.length).set(bytes);
    const lock = this.lockIndex(hash);
    lockAcquire(i32, lock, this.canBlock);
    const found = this.find(i32, hash, bytes);
    if (found === 0) {
      i32[n + N_NEXT] = i32[lock + this.buckets]!;
      i32[lock + this.buckets] = node;
      Atomics.add(i32, (this.table >>> 2) + T_COUNT, 1);
    } else {
      i32[(found >>> 2) + N_VALUE] = value | 0;
    }
    lockRelease(i32, lock);
    if (found !== 0) this.heap.free(node);
    return found === 0;
  }

  /** The value of `key`, or undefined. */
  get(key: string): number | undefined {
    const bytes = encoder.encode(key);
    const hash = hashBytes(bytes);
    const i32 = this.heap.views.i32;
    const lock = this.lockIndex(hash);
    lockAcquire(i32, lock, this.canBlock);
    const found = this.find(i32, hash, bytes);
    const value = found === 0 ? undefined : i32[(found >>> 2) + N_VALUE]!;
    lockRelease(i32, lock);
    return value;
  }

  /** Removes `key`; its node is freed after the bucket is unlocked. Returns true when it was there. */
  delete(key: string): boolean {
    const bytes = encoder.encode(key);
    const hash = hashBytes(bytes);
    const i32 = this.heap.views.i32;
    const lock = this.lockIndex(hash);
    const headIndex = lock + this.buckets;
    lockAcquire(i32, lock, this.canBlock);
    let prev = 0;
    let node = i32[headIndex]!;
    while (node !== 0 && !this.matches(i32, node, hash, bytes)) {
      prev = node;
      node = i32[(node >>> 2) + N_NEXT]!;
    }
    if (node !== 0) {
      const next = i32[(node >>> 2) + N_NEXT]!;
      if (prev === 0) i32[headIndex] = next;
      else i32[(prev >>> 2) + N_NEXT] = next;
      Atomics.sub(i32, (this.table >>> 2) + T_COUNT, 1);
    }
    lockRelease(i32, lock);
    if (node !== 0) this.heap.free(node);
    return node !== 0;
  }

  /**
   * Every node's block, bucket by bucket. Walks without locks: only while no other
   * thread changes the map.
   */
  nodes(): number[] {
    const i32 = this.heap.views.i32;
    const heads = (this.table >>> 2) + T_HEADER + this.buckets;
    const out: number[] = [];
    for (let b = 0; b < this.buckets; b++) {
      for (let node = i32[heads + b]!; node !== 0; node = i32[(node >>> 2) + N_NEXT]!) out.push(node);
    }
    return out;
  }

  /** Every entry (only while no other thread changes the map). */
  entries(): Array<[string, number]> {
    const i32 = this.heap.views.i32;
    return this.nodes().map((node) => {
      const length = i32[(node >>> 2) + N_KEY_LENGTH]!;
      return [decoder.decode(this.heap.u8(node + NODE_HEADER, length)), i32[(node >>> 2) + N_VALUE]!];
    });
  }

  /** Frees every node and the table (only while no other thread uses the map). */
  destroy(): void {
    for (const node of this.nodes()) this.heap.free(node);
    this.heap.views.i32[(this.table >>> 2) + T_MAGIC] = 0;
    this.heap.free(this.table);
  }

  /** Index in the Int32 views of the lock word of `hash`'s bucket (its head is `buckets` words further). */
  private lockIndex(hash: number): number {
    return (this.table >>> 2) + T_HEADER + (hash & (this.buckets - 1));
  }

  /** The node of `key` in its bucket, or 0. Pre: the bucket's lock is held. */
  private find(i32: Int32Array, hash: number, bytes: Uint8Array): number {
    let node = i32[this.lockIndex(hash) + this.buckets]!;
    while (node !== 0 && !this.matches(i32, node, hash, bytes)) node = i32[(node >>> 2) + N_NEXT]!;
    return node;
  }

  private matches(i32: Int32Array, node: number, hash: number, bytes: Uint8Array): boolean {
    const n = node >>> 2;
    if (i32[n + N_HASH] !== hash || i32[n + N_KEY_LENGTH] !== bytes.length) return false;
    const u8 = this.heap.views.u8;
    const at = node + NODE_HEADER;
    for (let i = 0; i < bytes.length; i++) if (u8[at + i] !== bytes[i]) return false;
    return true;
  }
}
