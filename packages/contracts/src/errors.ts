/**
 * Error codes of every hakmem failure that is reported by throwing.
 *
 * Out-of-memory is reported by a return value of 0 (like C) unless the heap was
 * created with the option to throw, in which case `E_OUT_OF_MEMORY` is thrown.
 */
export const ErrorCode = {
  /** A size that is negative, NaN, infinite, fractional or above the maximum. */
  INVALID_SIZE: 'E_INVALID_SIZE',
  /** An alignment that is not a power of two, or is above the supported maximum. */
  INVALID_ALIGNMENT: 'E_INVALID_ALIGNMENT',
  /** A pointer the heap never returned (outside the memory, unowned page, bad class offset). */
  INVALID_POINTER: 'E_INVALID_POINTER',
  /** A pointer into the middle of a live block. */
  INTERIOR_POINTER: 'E_INTERIOR_POINTER',
  /** A pointer that was already freed. */
  DOUBLE_FREE: 'E_DOUBLE_FREE',
  /** A range passed to a box that it does not own in that state (e.g. unmap of a free range). */
  INVALID_RANGE: 'E_INVALID_RANGE',
  /** The backend is at its maximum and cannot grow (only thrown when the caller asked for throws). */
  OUT_OF_MEMORY: 'E_OUT_OF_MEMORY',
  /** A size the composed heap has no box for (e.g. a mid size when no pool box is composed). */
  NO_ROUTE: 'E_NO_ROUTE',
  /** Use of a heap (or a thread attachment) after `close()` / `detach()`. */
  HEAP_CLOSED: 'E_HEAP_CLOSED',
  /** A metadata invariant does not hold: the heap (or a box) found itself corrupted. */
  CORRUPTION: 'E_CORRUPTION',
  /** Options that cannot work together (bad maximum, unknown backend kind, ...). */
  INVALID_OPTION: 'E_INVALID_OPTION',
  /** The memory backend refused an operation it should support (a bug or an exotic host). */
  BACKEND: 'E_BACKEND',
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The one error type every hakmem package throws.
 *
 * Post-condition for every thrower: when a `HakmemError` is thrown, the heap's
 * metadata is exactly as it was before the call (validation happens before mutation).
 */
export class HakmemError extends Error {
  /** Machine-readable code; switch on this, not on the message. */
  readonly code: ErrorCode;
  /** The box that raised it (`'gatekeeper'`, `'os-boundary'`, ...), when known. */
  readonly box: string | undefined;
  /** The pointer or address involved, when there is one. */
  readonly ptr: number | undefined;

  constructor(code: ErrorCode, message: string, details?: { box?: string; ptr?: number }) {
    super(`${code}: ${message}`);
    this.name = 'HakmemError';
    this.code = code;
    this.box = details?.box;
    this.ptr = details?.ptr;
  }
}

/** True when `e` is a {@link HakmemError}, optionally with the given code. */
export function isHakmemError(e: unknown, code?: ErrorCode): e is HakmemError {
  return e instanceof HakmemError && (code === undefined || e.code === code);
}
