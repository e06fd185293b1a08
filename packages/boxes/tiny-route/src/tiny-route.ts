import { ErrorCode, HakmemError, Route, type TinyRoute, type TinyRouteOptions, type TinyRouteStats } from '@hakmem/contracts';
import { DEFAULT_CLASS_SIZES, DEFAULT_L25_MAX, DEFAULT_POOL_MAX } from './api.js';

/**
 * size → class through a lookup table indexed by `(size + 7) >>> 3`: one byte per
 * 8-byte step up to tinyMax (257 bytes for the default 2 KiB). Cost of `classOf`: one
 * add, one shift, one typed-array read.
 */
class TinyRouteBox implements TinyRoute {
  readonly name = 'tiny-route';
  readonly numClasses: number;
  readonly tinyMax: number;
  readonly poolMax: number;
  readonly l25Max: number;
  readonly classSizes: Int32Array;
  private readonly lut: Uint8Array;

  constructor(sizes: readonly number[], poolMax: number, l25Max: number) {
    this.classSizes = Int32Array.from(sizes);
    this.numClasses = sizes.length;
    this.tinyMax = sizes[sizes.length - 1]!;
    this.poolMax = poolMax;
    this.l25Max = l25Max;
    this.lut = new Uint8Array((this.tinyMax >>> 3) + 1);
    let cls = 0;
    for (let i = 0; i < this.lut.length; i++) {
      while (this.classSizes[cls]! < i << 3) cls++;
      this.lut[i] = cls;
    }
  }

  classOf(size: number): number {
    return this.lut[(size + 7) >>> 3]!;
  }

  classSize(cls: number): number {
    return this.classSizes[cls]!;
  }

  route(size: number): Route {
    if (size <= this.tinyMax) return Route.TINY;
    if (size <= this.poolMax) return Route.POOL;
    return size <= this.l25Max ? Route.L25 : Route.BIG;
  }

  stats(): TinyRouteStats {
    return { classes: this.numClasses, tinyMax: this.tinyMax, poolMax: this.poolMax, l25Max: this.l25Max };
  }

  checkInvariants(): void {
    for (let s = 0; s <= this.tinyMax; s++) {
      const c = this.classOf(s);
      if (this.classSizes[c]! < s || (c > 0 && this.classSizes[c - 1]! >= s && s > 0)) {
        throw new HakmemError(ErrorCode.CORRUPTION, `size ${s} maps to class ${c} (${this.classSizes[c]} B), not the smallest class that holds it`, { box: this.name });
      }
    }
  }
}

function invalid(message: string): HakmemError {
  return new HakmemError(ErrorCode.INVALID_OPTION, message, { box: 'tiny-route' });
}

/**
 * Builds the size → (route, class) table.
 * Throws `HakmemError(E_INVALID_OPTION)` when the class table is not ascending, has a
 * size that is not a multiple of 8 (of 16 from 16 up), exceeds 255 classes or 32 KiB,
 * or when the thresholds are not `tinyMax < poolMax < l25Max`.
 *
 * @example
 * ```ts
 * import { Route } from '@hakmem/contracts';
 * import { createTinyRoute } from '@hakmem/tiny-route';
 *
 * const route = createTinyRoute();            // the default classes and thresholds
 * const cls = route.classOf(100);             // the smallest class holding 100 bytes
 * if (route.classSize(cls) < 100 || route.route(100) !== Route.TINY) throw new Error('tiny');
 * if (route.route(10_000) !== Route.POOL) throw new Error('mid (pool-tls)');
 * if (route.route(200_000) !== Route.L25) throw new Error('L2.5 (l25-pool)');
 * if (route.route(4 << 20) !== Route.BIG) throw new Error('big (bigcache)');
 * ```
 */
export function createTinyRoute(options: TinyRouteOptions = {}): TinyRoute {
  const sizes = options.classSizes ?? DEFAULT_CLASS_SIZES;
  const poolMax = options.poolMax ?? DEFAULT_POOL_MAX;
  const l25Max = options.l25Max ?? DEFAULT_L25_MAX;
  if (sizes.length === 0 || sizes.length > 255) throw invalid(`need 1..255 classes, got ${sizes.length}`);
  let prev = 0;
  for (const s of sizes) {
    if (!Number.isInteger(s) || s <= prev || s % 8 !== 0 || (s >= 16 && s % 16 !== 0) || s > 32768) {
      throw invalid(`class size ${s} must be an integer above ${prev}, a multiple of 8 (16 from 16 up), at most 32768`);
    }
    prev = s;
  }
  if (!(Number.isInteger(poolMax) && Number.isInteger(l25Max) && prev < poolMax && poolMax < l25Max)) {
    throw invalid(`thresholds must satisfy tinyMax (${prev}) < poolMax (${poolMax}) < l25Max (${l25Max})`);
  }
  return new TinyRouteBox(sizes, poolMax, l25Max);
}
