export type { OsBoundary, OsBoundaryOptions, OsBoundaryStats, RegionSource } from '@hakmem/contracts';
