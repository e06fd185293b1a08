import type { Subject } from '../subject.js';
import { MiB, type Workload, type WorkloadResult } from './workload.js';

/** `malloc(16)`, touch, verify, `free`, repeated: the hot path alone. */
export function runTinyHot(subject: Subject, cycles: number): WorkloadResult {
  let failed = 0;
  let checksum = 0;
  let mismatches = 0;

  const t0 = performance.now();
  for (let i = 0; i < cycles; i++) {
    const ptr = subject.malloc(16);
    if (ptr === 0) {
      failed++;
      continue;
    }
    const v = i & 0xff;
    subject.poke(ptr, v);
    checksum += v;
    if (subject.peek(ptr) !== v) mismatches++;
    subject.free(ptr);
  }
  const elapsedMs = performance.now() - t0;

  return { mallocs: cycles, frees: cycles - failed, failed, bytes: 16 * cycles, finalSeed: 0, checksum, mismatches, elapsedMs };
}

export const tinyHot: Workload = {
  name: 'tiny-hot',
  description: 'malloc(16), touch, free, repeated',
  cycles: 10_000_000,
  arenaBytes: 1 * MiB,
  run: (subject, cycles) => runTinyHot(subject, cycles),
};
