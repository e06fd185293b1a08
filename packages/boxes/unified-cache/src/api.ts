export type { UnifiedCache, UnifiedCacheOptions, UnifiedCacheStats } from '@hakmem/contracts';
export { MAX_BATCH } from '@hakmem/contracts';

/** Default capacity of each class's array, in blocks. */
export const DEFAULT_CAPACITY = 128;
