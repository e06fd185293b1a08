export { isPow2, alignUp, alignDown, isAligned, log2Floor, ctz32 } from './bits.js';
export {
  LOCK_FREE, LOCK_HELD, LOCK_SLEEPERS, LOCK_HOLDER_SHIFT, MAX_LOCK_HOLDER, lockAcquire, lockRelease, lockHolder, lockBreak, canBlockHere,
} from './lock.js';
export { descListPush, descListRemove } from './desc-list.js';
export { classStackHolds, classStackWords, layoutClassStacks } from './class-stacks.js';
export { blockChainHolds } from './block-chain.js';
export { ensureFreeKey } from './free-key.js';
