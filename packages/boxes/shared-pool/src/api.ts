export type { SharedPool, SharedPoolOptions, SharedPoolStats } from '@hakmem/contracts';
