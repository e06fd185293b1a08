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
    throw new HakmemError(ErrorCode.HEAP_CLOSED, `${op}: this heap instance (thread ${this.tid}) was detached`, { box: 'allocator' });
  }

  malloc(): Ptr { return this.closed('malloc'); }
  free(): void { this.closed('free'); }
  calloc(): Ptr { return this.closed('calloc'); }
  realloc(): Ptr { return this.closed('realloc'); }
  memalign(): Ptr { return this.closed('memalign'); }
  usableSize(): number { return this.closed('usableSize'); }
  stats(): GatekeeperStats { return this.closed('stats'); }
  checkInvariants(): void { this.closed('validate'); }
  flush(): void {}
}

export function closedGatekeeper(tid: number): Gatekeeper {
  return new ClosedGatekeeper(tid);
}
