export type { TinyRoute, TinyRouteOptions, TinyRouteStats } from '@hakmem/contracts';
export { Route } from '@hakmem/contracts';

/**
 * The default tiny classes: 8, then 16-byte steps to 128, then four classes per
 * doubling to 2048 (worst-case internal waste 25 % above 128 B, 12.5 %–20 % typical),
 * and 1152 for 1 KiB plus a header (README, "Default classes").
 * Every size ≥ 16 is a multiple of 16, so 16-byte alignment follows from slab carving.
 */
export const DEFAULT_CLASS_SIZES: readonly number[] = [
  8, 16, 32, 48, 64, 80, 96, 112, 128,
  160, 192, 224, 256, 320, 384, 448, 512,
  640, 768, 896, 1024, 1152, 1280, 1536, 1792, 2048,
];

/** Default largest POOL size: everything below the first 64 KiB L2.5 class. */
export const DEFAULT_POOL_MAX = 65535;
/** Default largest L2.5 size: 1 MiB; above it, big blocks. */
export const DEFAULT_L25_MAX = 1 << 20;
