import type { Subject } from '../../subject.js';
import { NullSubject } from '../../subjects/null.js';
import type { MtHost, MtSubject } from '../api.js';

/**
 * The single-thread null subject in every worker (each its own scratch bytes behind the
 * fixed address): no shared state at all, so its figure is the harness's ceiling per
 * thread count, and its gain from 1 to 2 threads the harness's own scaling.
 */
export const nullMt: MtSubject = {
  name: 'null',
  create: (): MtHost => ({ handle: null, sharesAddresses: true, footprint: () => 0 }),
  attach: (): Subject => new NullSubject(),
  detach: () => {},
};
