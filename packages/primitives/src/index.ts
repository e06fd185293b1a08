export { isPow2, alignUp, alignDown, isAligned, log2Floor, ctz32 } from './bits.js';
export { LOCK_FREE, LOCK_HELD, LOCK_SLEEPERS, lockAcquire, lockRelease, canBlockHere } from './lock.js';
export { descListPush, descListRemove } from './desc-list.js';
export { classStackWords, layoutClassStacks } from './class-stacks.js';
