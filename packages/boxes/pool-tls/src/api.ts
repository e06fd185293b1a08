export type { PoolTls, PoolTlsOptions, PoolTlsStats } from '@hakmem/contracts';

/**
 * The default mid classes: four per doubling from 2 KiB (the tiny range's end) to
 * 64 KiB — 2560, 3072, 3584, 4096, 5120, …, 57344, 65536 — and 4608, for a 4 KiB page
 * plus a header (README, "Size classes"). Mean internal waste 7.9 % for
 * sizes uniform in 2049..65535 and 8.5 % on the bench's `pool` band (two per doubling:
 * 14.6 % / 16.2 %; eight: 4.1 % / 4.0 % with twice the classes, so twice the partly used
 * spans). Every size is a multiple of 512, so blocks are 512-byte aligned and the
 * power-of-two classes (4096 … 65536) are aligned to their size.
 */
export const DEFAULT_POOL_CLASS_SIZES: readonly number[] = [
  2560, 3072, 3584, 4096, 4608, 5120, 6144, 7168, 8192, 10240, 12288, 14336, 16384,
  20480, 24576, 28672, 32768, 40960, 49152, 57344, 65536,
];

/**
 * Default capacity of the class of `size` bytes: 512 KiB of blocks, 8..64 blocks
 * (2560 B: 64, 8 KiB: 64, 16 KiB: 32, 32 KiB: 16, 64 KiB: 8), so a thread's mid cache
 * holds at most about 9.5 MiB of freed blocks over the 21 default classes. On the bench's
 * `pool` band 256 KiB per class spilled 147 857 times per 1 M cycles, 512 KiB 37 658,
 * 1 MiB 7 636 (README).
 */
export function defaultPoolCapacity(size: number): number {
  return Math.max(8, Math.min(64, Math.floor((512 << 10) / size)));
}

/**
 * Default cache budget: a class caches at most 128 KiB of blocks plus a quarter of what
 * the thread holds live in it (within 1..capacity blocks), so a thread whose mid-size
 * live set shrank does not keep its peak's blocks cached (README, "Budget").
 */
export const DEFAULT_POOL_BUDGET: { readonly minBytes: number; readonly share: number } = { minBytes: 131072, share: 0.25 };
