import { createHeap } from '@hakmem/allocator';
import { describe, expect, it } from 'vitest';
import { compareRuns, formatComparison } from '../src/compare.js';
import type { RunRecord } from '../src/measure.js';
import { formatTable, problems } from '../src/report.js';
import { runBench, type WorkloadRuns } from '../src/runner.js';
import type { Subject } from '../src/subject.js';
import { hakmemSubjectOf } from '../src/subjects/hakmem.js';
import { NullSubject } from '../src/subjects/null.js';
import { SeglistSubject } from '../src/subjects/seglist.js';
import { ThingSubject } from '../src/subjects/thing.js';
import { findWorkload, workloads } from '../src/workloads/index.js';
import { RING, runScenario, runScenarioRing, scenarios } from '../src/workloads/scenario.js';
import { KiB, MiB, type WorkloadResult } from '../src/workloads/workload.js';

const SIZES = { json: 64 * KiB, mir: 256 * KiB, vm: 2 * MiB } as const;

/** The tag of iteration i, independently: the top byte of i · 0x9e3779b1 mod 2^32. */
const refTag = (i: number): number => Number(((BigInt(i) * 0x9e3779b1n) & 0xffffffffn) >> 24n);

/** What the scenarios must write: the sum over blocks of (tag + k) & 0xff, k < size / 4 KiB. */
function refChecksum(cycles: number, size: number): number {
  let sum = 0;
  for (let i = 0; i < cycles; i++) for (let k = 0; k < size / 4096; k++) sum += (refTag(i) + k) & 0xff;
  return sum;
}

type Call = readonly ['malloc', number] | readonly ['free' | 'poke' | 'peek', number] | readonly ['poke', number, number];

/**
 * A bump allocator over its own memory that logs every call. `fault` can make it hand
 * out overlapping blocks or read a byte back wrong; without one it is a correct (if
 * never reusing) allocator.
 */
class FakeSubject implements Subject {
  readonly name = 'fake';
  readonly calls: Call[] = [];
  readonly live = new Set<number>();
  maxLive = 0;
  private readonly u8: Uint8Array;
  private top = 4096;

  constructor(
    bytes: number,
    private readonly fault: { overlapBy?: number; flipAt?: number } = {},
  ) {
    this.u8 = new Uint8Array(bytes);
  }

  malloc(size: number): number {
    this.calls.push(['malloc', size]);
    const ptr = this.top;
    if (ptr + size > this.u8.length) return 0;
    // overlapBy: the next block starts that many bytes after this one, inside it.
    this.top += this.fault.overlapBy ?? size;
    this.live.add(ptr);
    this.maxLive = Math.max(this.maxLive, this.live.size);
    return ptr;
  }

  free(ptr: number): void {
    this.calls.push(['free', ptr]);
    if (!this.live.delete(ptr)) throw new Error(`free of ${ptr}: not live`);
  }

  footprint(): number {
    return this.top;
  }

  poke(ptr: number, value: number): void {
    this.calls.push(['poke', ptr, value]);
    this.u8[ptr] = value;
  }

  peek(ptr: number): number {
    this.calls.push(['peek', ptr]);
    // flipAt: the byte at this offset into any block reads back with its low bit flipped.
    const flip = this.fault.flipAt !== undefined && this.live.has(ptr - this.fault.flipAt) ? 1 : 0;
    return this.u8[ptr]! ^ flip;
  }
}

const counters = ({ mallocs, frees, failed, bytes, finalSeed, checksum, mismatches }: WorkloadResult) =>
  ({ mallocs, frees, failed, bytes, finalSeed, checksum, mismatches });

describe('scenario workloads', () => {
  it('are registered with their block sizes and an arena for 8 live vm blocks twice over', () => {
    for (const s of scenarios) {
      const w = findWorkload(s.name);
      expect(w.blockBytes).toBe(SIZES[s.name.replace('-ring8', '') as keyof typeof SIZES]);
      expect(w.arenaBytes).toBeGreaterThanOrEqual(2 * RING * 2 * MiB);
    }
    expect(scenarios.map((s) => s.name)).toEqual(['json', 'mir', 'vm', 'json-ring8', 'mir-ring8', 'vm-ring8']);
    expect(workloads.filter((w) => w.blockBytes !== undefined)).toHaveLength(6);
  });

  it('single form: malloc, one poke per 4 KiB, the same bytes read back, free — in that order', () => {
    const subject = new FakeSubject(4 * MiB);
    const result = runScenario(subject, 3, SIZES.json);
    expect(counters(result)).toEqual({
      mallocs: 3, frees: 3, failed: 0, bytes: 3 * 65536, finalSeed: 0, checksum: refChecksum(3, SIZES.json), mismatches: 0,
    });
    const expected: Call[] = [];
    for (let i = 0; i < 3; i++) {
      const ptr = 4096 + i * 65536;
      expected.push(['malloc', 65536]);
      for (let k = 0; k < 16; k++) expected.push(['poke', ptr + k * 4096, (refTag(i) + k) & 0xff]);
      for (let k = 0; k < 16; k++) expected.push(['peek', ptr + k * 4096]);
      expected.push(['free', ptr]);
    }
    expect(subject.calls).toEqual(expected);
    expect(subject.maxLive).toBe(1);
  });

  it('ring form: 8 live blocks, the oldest verified and freed first, the drain frees everything in malloc order', () => {
    const subject = new FakeSubject(8 * MiB);
    const cycles = 21;
    const result = runScenarioRing(subject, cycles, SIZES.mir);
    expect(counters(result)).toEqual({
      mallocs: cycles, frees: cycles, failed: 0, bytes: cycles * SIZES.mir, finalSeed: 0,
      checksum: refChecksum(cycles, SIZES.mir), mismatches: 0,
    });
    expect(subject.live.size).toBe(0);
    expect(subject.maxLive).toBe(RING);
    const mallocs = subject.calls.flatMap((c, at) => (c[0] === 'malloc' ? [at] : []));
    const freed = subject.calls.flatMap((c) => (c[0] === 'free' ? [c[1]] : []));
    const blocks = Array.from({ length: cycles }, (_, i) => 4096 + i * SIZES.mir);
    expect(freed).toEqual(blocks);
    // From iteration 8 on, each malloc comes right after the free of the block of i − 8,
    // which is preceded by the 64 read-backs of that block.
    for (let i = RING; i < cycles; i++) {
      const at = mallocs[i]!;
      expect(subject.calls[at - 1]).toEqual(['free', blocks[i - RING]]);
      expect(subject.calls.slice(at - 65, at - 1)).toEqual(Array.from({ length: 64 }, (_, k) => ['peek', blocks[i - RING]! + k * 4096]));
    }
  });

  it('counts exactly for every scenario, and the same on null, thing, seglist and the fake', () => {
    for (const s of scenarios) {
      const run = s.ring ? runScenarioRing : runScenario;
      const cycles = 50;
      const reference = {
        mallocs: cycles, frees: cycles, failed: 0, bytes: cycles * s.blockBytes, finalSeed: 0, checksum: refChecksum(cycles, s.blockBytes),
      };
      const subjects: Subject[] = [new ThingSubject(s.arenaBytes), new SeglistSubject(s.arenaBytes), new FakeSubject(cycles * s.blockBytes + MiB)];
      for (const subject of subjects) {
        expect({ subject: subject.name, ...counters(run(subject, cycles, s.blockBytes)) }).toEqual({ subject: subject.name, ...reference, mismatches: 0 });
      }
      const { mismatches: _, ...onNull } = counters(run(new NullSubject(), cycles, s.blockBytes));
      expect(onNull).toEqual(reference);
    }
  });

  it("null's memory covers every workload's block: its single form reads back every byte", () => {
    for (const w of workloads.filter((x) => x.blockBytes !== undefined && !x.name.endsWith('-ring8'))) {
      expect(runScenario(new NullSubject(), 10, w.blockBytes!).mismatches).toBe(0);
    }
  });

  it('counts a failed malloc and goes on (no free, no touch for it)', () => {
    const tight = new ThingSubject(3 * MiB);
    const result = runScenarioRing(tight, 20, SIZES.vm);
    expect(result.failed).toBe(17); // one 2 MiB block fits: iterations 0, 8 and 16 (after the free of their slot)
    expect(result.mismatches).toBe(0);
    expect(result.mallocs - result.failed).toBe(result.frees);
  });
});

describe('scenario verify step', () => {
  it('catches a byte that reads back wrong, even the last touched one of a block', () => {
    for (const size of [SIZES.json, SIZES.vm]) {
      const sound = runScenario(new FakeSubject(64 * MiB), 10, size);
      expect(sound.mismatches).toBe(0);
      const flipped = runScenario(new FakeSubject(64 * MiB, { flipAt: size - 4096 }), 10, size);
      expect(flipped.mismatches).toBe(10);
      const ringFlipped = runScenarioRing(new FakeSubject(64 * MiB, { flipAt: size - 4096 }), 10, size);
      expect(ringFlipped.mismatches).toBe(10);
    }
  });

  it('catches overlapping live blocks in the ring, also when they are one 4 KiB stride apart', () => {
    for (const overlapBy of [4096, 8192, 32768]) {
      const result = runScenarioRing(new FakeSubject(8 * MiB, { overlapBy }), 200, SIZES.json);
      expect(result.failed).toBe(0);
      expect(result.mismatches).toBeGreaterThan(150);
    }
    // null: every block at one address.
    expect(runScenarioRing(new NullSubject(), 200, SIZES.json).mismatches).toBeGreaterThan(150);
  });
});

describe('hakmem on vm (2 MiB: bigcache)', () => {
  it('serves both forms with every byte read back and nothing left live', () => {
    const heap = createHeap({ maxBytes: 256 * MiB });
    const subject = hakmemSubjectOf(heap);
    expect(counters(runScenario(subject, 200, SIZES.vm))).toMatchObject({ mallocs: 200, frees: 200, failed: 0, mismatches: 0 });
    expect(counters(runScenarioRing(subject, 200, SIZES.vm))).toMatchObject({ mallocs: 200, frees: 200, failed: 0, mismatches: 0 });
    heap.validate();
    expect(heap.liveBytes()).toBe(0);
  });
});

describe('scenario report', () => {
  const record = (subject: string, run: number, elapsedMs: number, over: Partial<RunRecord> = {}): RunRecord => ({
    subject, workload: 'vm', cycles: 1000, seed: 42, run,
    mallocs: 1000, frees: 1000, failed: 0, bytes: 1000 * 2 * MiB, finalSeed: 0, checksum: 99, mismatches: 0,
    elapsedMs, ops: 2000, opsPerSec: 2000 / (elapsedMs / 1000), footprint: 2 * MiB, verify: subject === 'null' ? 'n/a' : 'ok',
    ...over,
  });
  const runs: WorkloadRuns = {
    workload: 'vm', cycles: 1000, failures: [],
    records: [record('thing', 0, 8), record('null', 0, 4), record('thing', 1, 10), record('null', 1, 5), record('thing', 2, 12)],
  };

  it('adds ns/pair (median, min–max) and ns/KiB for a block size', () => {
    const table = formatTable(runs, { blockBytes: 2 * MiB });
    const [header, , thing, nul] = table.split('\n');
    expect(header).toMatch(/^\| subject \| M ops\/s \| +min–max \| ns\/pair \| +ns min–max \| ns\/KiB \| × null \|/);
    // thing: 8, 10, 12 ms for 1000 pairs = 8000, 10000, 12000 ns; ÷ 2048 KiB.
    expect(thing).toMatch(/^\| thing +\| +0\.200 \| +0\.167–0\.250 \| +10000 \| +8000–12000 \| +4\.88 \| +0\.444× \|/);
    expect(nul).toMatch(/^\| null +\| +0\.450 \| +0\.400–0\.500 \| +4500 \| +4000–5000 \| +2\.20 \|/);
    expect(problems(runs)).toEqual([]);
  });

  it('adds the same columns to compare, and leaves its other tables as they were', () => {
    const c = compareRuns('vm', 1000, [record('A', 0, 8), record('A', 1, 10)], [record('B', 0, 4), record('B', 1, 6)]);
    const plain = formatComparison(c, 'hakmem', 'x.ts').split('\n');
    expect(plain[0]).toBe('| | subject | M ops/s | min–max | peak MiB | runs | verify |');
    expect(plain[2]).toBe('| A | hakmem | 0.2 | 0.2–0.3 | 2.00 | 2 | ok |');
    const scenario = formatComparison(c, 'hakmem', 'x.ts', 8, { blockBytes: 2 * MiB }).split('\n');
    expect(scenario[0]).toBe('| | subject | M ops/s | min–max | ns/pair | ns min–max | ns/KiB | peak MiB | runs | verify |');
    expect(scenario[1]).toBe('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |');
    expect(scenario[2]).toBe('| A | hakmem | 0.2 | 0.2–0.3 | 9000 | 8000–10000 | 4.39 | 2.00 | 2 | ok |');
    expect(scenario[3]).toBe('| B | x.ts | 0.4 | 0.3–0.5 | 5000 | 4000–6000 | 2.44 | 2.00 | 2 | ok |');
  });

  it('leaves the table of other workloads as it was', () => {
    const header = '| subject | M ops/s |   min–max |  × null | × thing | peak MiB | mallocs | frees | failed |      bytes | final s | checksum | verify |';
    expect(formatTable(runs)).not.toMatch(/ns\//);
    expect(formatTable(runs).split('\n')[0]).toBe(formatTable(runs, {}).split('\n')[0]);
    expect(formatTable(runs).split('\n')[0]!.replace(/ +/g, ' ')).toBe(header.replace(/ +/g, ' '));
  });
});

describe('scenarios through the runner (child processes)', () => {
  const check = (entry: WorkloadRuns, subjects: string[]): void => {
    expect(entry.failures).toEqual([]);
    expect(entry.records.map((r) => r.subject)).toEqual(subjects);
    expect(problems(entry)).toEqual([]);
    for (const r of entry.records) {
      expect(r).toMatchObject({ mallocs: entry.cycles, frees: entry.cycles, failed: 0, mismatches: r.subject === 'null' && entry.workload.endsWith('-ring8') ? r.mismatches : 0 });
      expect(r.verify).toBe(r.subject === 'null' ? 'n/a' : 'ok');
    }
    expect(formatTable(entry, { blockBytes: findWorkload(entry.workload).blockBytes })).toMatch(/ns\/pair/);
  };

  it('runs vm and vm-ring8 on hakmem, thing and null', async () => {
    const result = await runBench({
      subjects: ['hakmem', 'thing', 'null'], workloads: [{ name: 'vm', cycles: 200 }, { name: 'vm-ring8', cycles: 200 }], runs: 1, seed: 42,
    });
    expect(result.skipped).toEqual([]);
    for (const entry of result.workloads) check(entry, ['hakmem', 'thing', 'null']);
    const ring = result.workloads[1]!.records;
    expect(ring.find((r) => r.subject === 'thing')!.footprint).toBeGreaterThanOrEqual(RING * 2 * MiB);
  }, 60_000);

  it('runs json and mir-ring8 on thing and null', async () => {
    const result = await runBench({
      subjects: ['thing', 'null'], workloads: [{ name: 'json', cycles: 2_000 }, { name: 'mir-ring8', cycles: 1_000 }], runs: 1, seed: 42,
    });
    for (const entry of result.workloads) check(entry, ['thing', 'null']);
  }, 60_000);
});
