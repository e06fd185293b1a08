export type { WarmPool, WarmPoolOptions, WarmPoolStats } from '@hakmem/contracts';

/** Default number of SuperSlabs a thread keeps. */
export const DEFAULT_WARM_CAPACITY = 16;
/** Entirely free SuperSlabs a thread keeps before giving one back (hysteresis). */
export const KEEP_EMPTY = 1;
