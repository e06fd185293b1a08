import {
  ErrorCode, HakmemError, MAX_HEAP_BYTES, PAGE_SHIFT, PAGE_SIZE,
  type BackendCapabilities, type BackendKind, type BackendOptions,
} from '@hakmem/contracts';
import { DEFAULT_MAX_BYTES } from './api.js';

/** `BackendOptions` after validation: whole pages, defaults applied, `initialBytes <= maxBytes`. */
export interface ResolvedOptions {
  readonly initialBytes: number;
  readonly maxBytes: number;
  readonly shared: boolean;
  readonly growable: boolean;
}

/** A `HakmemError(E_INVALID_OPTION)` raised by this package. */
export function invalidOption(message: string): HakmemError {
  return new HakmemError(ErrorCode.INVALID_OPTION, message, { box: 'memory-backend' });
}

function checkBytes(name: string, value: unknown): void {
  if (!Number.isInteger(value) || (value as number) < 0) {
    throw invalidOption(`${name} must be a non-negative integer number of bytes, got ${String(value)}`);
  }
}

/**
 * Validates `options` and applies the defaults: `initialBytes` rounded up to whole pages
 * (at least one), `maxBytes` rounded down to whole pages and clamped to `MAX_HEAP_BYTES`.
 * Throws `HakmemError(E_INVALID_OPTION)` for a bad value or when initial exceeds max.
 */
export function resolveOptions(options: BackendOptions = {}): ResolvedOptions {
  const { initialBytes = PAGE_SIZE, maxBytes = DEFAULT_MAX_BYTES, shared = false, growable = false } = options;
  checkBytes('initialBytes', initialBytes);
  checkBytes('maxBytes', maxBytes);
  if (typeof shared !== 'boolean') throw invalidOption(`shared must be a boolean, got ${String(shared)}`);
  if (typeof growable !== 'boolean') throw invalidOption(`growable must be a boolean, got ${String(growable)}`);
  if (shared && !hasSharedMemory()) throw invalidOption(NO_SHARED_MEMORY);
  const initial = Math.max(1, Math.ceil(initialBytes / PAGE_SIZE)) * PAGE_SIZE;
  const max = Math.min(Math.floor(maxBytes / PAGE_SIZE) * PAGE_SIZE, MAX_HEAP_BYTES);
  if (initial > max) {
    throw invalidOption(
      `initialBytes ${initialBytes} (${initial} in whole pages) exceeds maxBytes ${maxBytes} ` +
      `(${max} in whole pages, at most ${MAX_HEAP_BYTES})`,
    );
  }
  return { initialBytes: initial, maxBytes: max, shared, growable };
}

/**
 * True when this host has `SharedArrayBuffer`. A browser defines it only in a cross-origin
 * isolated page (and its workers); elsewhere a reference to it throws a ReferenceError.
 */
export function hasSharedMemory(): boolean {
  return typeof SharedArrayBuffer !== 'undefined';
}

/** True when `buffer` is a SharedArrayBuffer; false, not a ReferenceError, on a host without them. */
export function isSharedBuffer(buffer: unknown): buffer is SharedArrayBuffer {
  return hasSharedMemory() && buffer instanceof SharedArrayBuffer;
}

/** Why `shared: true` is refused on a host without SharedArrayBuffer. */
export const NO_SHARED_MEMORY = 'shared: true needs SharedArrayBuffer, which this host does not provide; a browser provides it only to a '
  + 'cross-origin isolated page (crossOriginIsolated true): serve the page with the headers '
  + '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp"';

/**
 * The capability record of a built-in backend. `canShrink` only for the growable native
 * backend when not shared (a resizable `ArrayBuffer`).
 */
export function capabilitiesOf(viewsTrackGrowth: boolean, shared: boolean, canShrink = false): BackendCapabilities {
  return { pageSize: PAGE_SIZE, canShrink, canDecommit: false, viewsTrackGrowth, shareable: shared };
}

/**
 * True when `toPages` is a length `shrink` may take: an integer in `[1, currentBytes >>> 16]`.
 */
export function shrinkable(currentBytes: number, toPages: number): boolean {
  return Number.isInteger(toPages) && toPages >= 1 && toPages <= currentBytes >>> PAGE_SHIFT;
}

/**
 * The byte length after growing `currentBytes` by `deltaPages`, or -1 when `deltaPages`
 * is not a non-negative integer or the result would exceed `maxBytes`.
 */
export function growTarget(currentBytes: number, deltaPages: number, maxBytes: number): number {
  if (deltaPages >>> 0 !== deltaPages) return -1;
  const target = currentBytes + deltaPages * PAGE_SIZE;
  return target <= maxBytes ? target : -1;
}

/** Throws unless `shared`: only shared memory can be handed to another worker. */
export function checkShareable(kind: BackendKind, shared: boolean): void {
  if (!shared) {
    throw invalidOption(`share() needs a shared backend; this ${kind} backend was created with shared: false`);
  }
}
