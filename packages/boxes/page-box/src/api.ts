export type { PageBox, PageBoxOptions, PageBoxStats } from '@hakmem/contracts';

/** Default: empty slabs kept per class before one goes back to the warm pool. */
export const DEFAULT_PAGES_PER_CLASS = 1;
