import { ErrorCode, HakmemError, type Gatekeeper, type GatekeeperStats, type Ptr } from '@hakmem/contracts';

/**
 * What a detached heap's allocation methods forward to: every call throws
 * `E_HEAP_CLOSED` and changes nothing. A separate class, so that a live heap's
 * gatekeeper call sites never see it unless a heap of the process was detached.
 */
class ClosedGatekeeper implements Gatekeeper {
  readonly name = 'gatekeeper';
  constructor(private readonly tid: number) {}

  private closed(op: string): never {
    throw heapClosed(op, this.tid);
  }

  malloc(): Ptr { return this.closed('malloc'); }
  free(): void { this.closed('free'); }
  calloc(): Ptr { return this.closed('calloc'); }
  realloc(): Ptr { return this.closed('realloc'); }
  memalign(): Ptr { return this.closed('memalign'); }
  usableSize(): number { return this.closed('usableSize'); }
  isAllocated(): boolean { return this.closed('isAllocated'); }
  stats(): GatekeeperStats { return this.closed('stats'); }
  checkInvariants(): void { this.closed('validate'); }
  flush(): void {}
}

/** `E_HEAP_CLOSED` for a call `op` on the detached instance of thread `tid`. */
export function heapClosed(op: string, tid: number): HakmemError {
  return new HakmemError(ErrorCode.HEAP_CLOSED, `${op}: this heap instance (thread ${tid}) was detached`, { box: 'allocator' });
}

export function closedGatekeeper(tid: number): Gatekeeper {
  return new ClosedGatekeeper(tid);
}
