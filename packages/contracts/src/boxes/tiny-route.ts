import type { Box } from './common.js';

/** Which tier serves a size. */
export const Route = {
  /** Slab-based size classes (superslab tiers, unified cache). */
  TINY: 0,
  /** Mid sizes: per-thread pool (pool-tls / pool-refill). */
  POOL: 1,
  /** 64 KiB – 1 MiB page-granular classes (l25-pool). */
  L25: 2,
  /** Everything larger (bigcache over os-boundary). */
  BIG: 3,
} as const;
export type Route = (typeof Route)[keyof typeof Route];

/** Options of a tiny-route implementation. */
export interface TinyRouteOptions {
  /** Block sizes of the tiny classes, ascending, multiples of 8 (16 from 16 up). Default: the built-in table. */
  readonly classSizes?: readonly number[];
  /** Largest size served by POOL; above it L25. Default 65535 (everything below the first 64 KiB L2.5 class). */
  readonly poolMax?: number;
  /** Largest size served by L25; above it BIG. Default 1 MiB. */
  readonly l25Max?: number;
}

export interface TinyRouteStats {
  readonly classes: number;
  readonly tinyMax: number;
  readonly poolMax: number;
  readonly l25Max: number;
}

/**
 * size → (route, class). Pure and branch-light: lookups are table reads.
 *
 * Invariants: `classSize(classOf(s)) >= s` for every `1 <= s <= tinyMax`; classes are
 * ascending; every class size is a multiple of 8, and of 16 when `>= 16` (alignment);
 * `tinyMax < poolMax < l25Max`.
 */
export interface TinyRoute extends Box<TinyRouteStats> {
  readonly numClasses: number;
  /** The largest tiny size (the last class's size). */
  readonly tinyMax: number;
  readonly poolMax: number;
  readonly l25Max: number;
  /** Block size of each class (read-only view; index = class). */
  readonly classSizes: Int32Array;
  /**
   * Pre: `0 <= size <= tinyMax`, an integer (the gatekeeper validated it; 0 maps to the
   * smallest class). Post: the smallest class whose block holds `size`. Never throws.
   * Cost: one typed-array read.
   */
  classOf(size: number): number;
  /** Pre: `0 <= cls < numClasses`. Post: the class's block size. */
  classSize(cls: number): number;
  /** Pre: `size` a validated non-negative integer. Post: the tier that serves it. */
  route(size: number): Route;
}
