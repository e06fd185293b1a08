import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { spawnMeasure } from '../src/runner.js';
import type { Subject } from '../src/subject.js';
import { createHakmemSubject } from '../src/subjects/hakmem.js';
import { NullSubject } from '../src/subjects/null.js';
import { SeglistSubject } from '../src/subjects/seglist.js';
import { ThingSubject } from '../src/subjects/thing.js';
import { allocTest, allocTestSize, runAllocTest } from '../src/workloads/alloc-test.js';
import { findWorkload } from '../src/workloads/index.js';
import { MiB, type WorkloadResult } from '../src/workloads/workload.js';

const CLI = fileURLToPath(new URL('../bin/hakmem-bench.mjs', import.meta.url));
const COUNTERS = ['mallocs', 'frees', 'failed', 'bytes', 'finalSeed', 'checksum'] as const;

/**
 * A bump allocator that never reuses memory (so its blocks never overlap) and records
 * the live set after every call: the reference the workload's shape is checked on.
 */
class TracingSubject implements Subject {
  readonly name = 'tracing';
  private readonly u8 = new Uint8Array(8 * MiB);
  private top = 16;
  live = 0;
  readonly trace: number[] = [];

  malloc(size: number): number {
    const p = this.top;
    this.top += (size + 7) & ~7;
    this.live++;
    this.trace.push(this.live);
    return p;
  }

  free(): void {
    this.live--;
    this.trace.push(this.live);
  }

  footprint(): number {
    return this.top;
  }

  poke(ptr: number, value: number): void {
    this.u8[ptr] = value;
  }

  peek(ptr: number): number {
    return this.u8[ptr]!;
  }
}

/** Hands out one address to every malloc while claiming its blocks are distinct: what verify must catch. */
class OverlappingSubject extends TracingSubject {
  override malloc(size: number): number {
    super.malloc(size);
    return 64;
  }
}

describe('alloc-test (single-thread)', () => {
  test("sizes: alloc-test's power-of-two classes, half of them 5..8 bytes, a tail up to 2^maxLog2", () => {
    let x = 42;
    const n = 200_000;
    let small = 0;
    let top = 0;
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const size = allocTestSize(x, 10);
      min = Math.min(min, size);
      max = Math.max(max, size);
      if (size <= 8) small++;
      if (size > 512) top++;
    }
    expect(min).toBe(5);
    expect(max).toBe(1024);
    expect(small / n).toBeGreaterThan(0.48);
    expect(small / n).toBeLessThan(0.52);
    expect(top / n).toBeGreaterThan(0.5 / 128);
    expect(top / n).toBeLessThan(1.5 / 128);
    expect(allocTestSize(0, 16)).toBeLessThanOrEqual(1 << 16);
  });

  test('the live set swings between 1/8 and 7/8 of the slots, and every block is freed', () => {
    const s = new TracingSubject();
    const r = runAllocTest(s, { cycles: 40_000, items: 1024, maxLog2: 10, seed: 42 });
    expect(r).toMatchObject({ failed: 0, mismatches: 0 });
    expect(r.mallocs).toBe(r.frees);
    expect(s.live).toBe(0);
    // Count the swings: up past 7/8 full, then down to 1/8, and so on.
    let swings = 0;
    let up = true;
    for (const live of s.trace) {
      if (up && live >= 896) {
        swings++;
        up = false;
      } else if (!up && live <= 128) {
        swings++;
        up = true;
      }
    }
    expect(swings).toBeGreaterThanOrEqual(4);
    expect(Math.max(...s.trace)).toBeLessThanOrEqual(1024);
  });

  test('counters depend on the call sequence only: null, seglist, thing and hakmem agree, and verify', () => {
    const params = { cycles: 20_000, items: 512, maxLog2: 10, seed: 42 };
    const subjects: Subject[] = [
      new NullSubject(), new SeglistSubject(64 * MiB), new ThingSubject(64 * MiB), createHakmemSubject({ arenaBytes: 64 * MiB }),
    ];
    const results: WorkloadResult[] = subjects.map((s) => runAllocTest(s, params));
    for (const [i, r] of results.entries()) {
      for (const key of COUNTERS) expect(r[key], `${subjects[i]!.name} ${key}`).toBe(results[0]![key]);
      if (i > 0) expect(r.mismatches, subjects[i]!.name).toBe(0);
    }
    expect(results[0]!.mallocs).toBe(results[0]!.frees);
    expect(results[0]!.mallocs + results[0]!.frees).toBeGreaterThanOrEqual(params.cycles);
  });

  test('an allocator that hands out overlapping blocks fails the verify step', () => {
    const r = runAllocTest(new OverlappingSubject(), { cycles: 5000, items: 256, maxLog2: 10, seed: 42 });
    expect(r.mismatches).toBeGreaterThan(100);
  });

  test('is registered with its parameters, and leaves thing out of a default subject list', () => {
    expect(findWorkload('alloc-test')).toBe(allocTest);
    expect(allocTest.params).toEqual({ items: 65_536, maxLog2: 10 });
    expect(allocTest.slowSubjects?.thing).toMatch(/free walks/);
    expect(allocTest.arenaFor!({ items: 1 << 20, maxLog2: 16 })).toBeGreaterThan(allocTest.arenaBytes);
    expect(() => runAllocTest(new NullSubject(), { cycles: 10, items: 4, maxLog2: 10, seed: 1 })).toThrow(/items/);
  });

  test('runs in a child process with --params (hakmem), call for call as in this one', () => {
    const record = spawnMeasure({ subject: 'hakmem', workload: 'alloc-test', cycles: 20_000, seed: 42, run: 0, params: { items: 2048 } });
    const here = runAllocTest(new NullSubject(), { cycles: 20_000, items: 2048, maxLog2: 10, seed: 42 });
    expect(record).toMatchObject({ verify: 'ok', failed: 0, mismatches: 0, params: { items: 2048 } });
    for (const key of COUNTERS) expect(record[key], key).toBe(here[key]);
    expect(record.footprint).toBeGreaterThan(0);
  });

  test('hakmem-bench run takes --param for it, and rejects a parameter no chosen workload has', () => {
    const ok = spawnSync(process.execPath, [CLI, 'run', '--workloads', 'alloc-test:5000', '--subjects', 'null', '--runs', '1', '--param', 'items=256,maxLog2=12'], {
      encoding: 'utf8', timeout: 60_000,
    });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('5000 cycles; items 256, maxLog2 12)');
    expect(ok.stdout).toContain('no verify failed');
    const bad = spawnSync(process.execPath, [CLI, 'run', '--workloads', 'alloc-test:5000', '--subjects', 'null', '--param', 'bogus=1'], { encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--param bogus: no chosen workload has it');
  });
});
