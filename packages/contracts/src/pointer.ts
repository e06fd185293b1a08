/**
 * A pointer: a byte offset into the backend's linear memory.
 *
 * Invariants: a non-negative integer below 2^31, so it stays a V8 small integer (Smi)
 * on every hot path. {@link NULL} (0) means "no block": the first page of every heap
 * holds the global header, so no allocation ever returns 0.
 *
 * It is a plain `number` alias, not a branded type, so that pointer arithmetic
 * (`ptr + 8`, `ptr >>> PAGE_SHIFT`) stays free of casts in hot code.
 */
export type Ptr = number;

/** The null pointer. Returned by allocation functions on failure, like C's `NULL`. */
export const NULL: Ptr = 0;
