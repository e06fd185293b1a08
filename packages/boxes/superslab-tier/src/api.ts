export type { SuperSlabTier, SuperSlabTierOptions, SuperSlabTierStats } from '@hakmem/contracts';

/** Default number of FREE SuperSlabs kept for reuse. */
export const DEFAULT_RETAIN = 4;
