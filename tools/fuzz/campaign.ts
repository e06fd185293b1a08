// Long fuzzing campaigns (outside CI): runs the model-based property test of the composed
// heap (with misuse of freed blocks: second frees, reallocs, usableSize), the multi-worker
// stress test and the kill test (workers terminated at random points, tools/fuzz/kill.ts)
// with random seeds, debug levels, backends and grow faults, for a given
// time, and records every failure as a replayable case in
// packages/testkit/regressions/<kind>-<seed>.json (replayed by
// packages/allocator/test/regressions.test.ts, so a saved failure becomes a regression test).
// A kill case replays the same operations, sizes, kill delays and victims from its seed; where
// the kills land is the scheduler's, so a replay retries the case rather than repeating it.
//
//   node --import tsx --conditions=@hakmem/source tools/fuzz/campaign.ts --minutes 60 [--workers-every 10] [--kill-every 7]
//   (npm run fuzz -- --minutes 60)
import { writeFileSync, mkdirSync } from 'node:fs';
import { createNativeBackend } from '@hakmem/memory-backend';
import { createHeap } from '@hakmem/allocator';
import { FaultyBackend, randomGrowFaults, randomOps, runModel } from '@hakmem/testkit';
import { runStress, type StressCase } from './stress.js';
import { runKill, type KillCase } from './kill.js';

/** One replayable case of the model test. */
export interface ModelCase {
  readonly kind: 'model';
  readonly seed: number;
  readonly ops: number;
  readonly debug: number;
  /** Probability that a grow fails (0: no faults). */
  readonly faults: number;
  readonly maxBytes: number;
  /** Misuse of freed blocks every N frees (runModel's `misuseEvery`; absent in cases saved before it). */
  readonly misuseEvery?: number;
}

const DIST = { maxSize: 2048, maxAlign: 1 << 16, bigSizes: { min: 2049, max: 5 << 19, probability: 1 / 64, logUniform: true } };

/** Runs one model case; throws what the model or the heap threw. */
export function runModelCase(c: ModelCase): void {
  const inner = createNativeBackend({ maxBytes: c.maxBytes, growable: c.faults > 0 });
  const backend = c.faults > 0 ? new FaultyBackend(inner, randomGrowFaults(c.seed, c.faults)) : inner;
  const heap = createHeap({ backend, debug: c.debug });
  runModel(heap, randomOps(c.seed, c.ops, DIST), {
    memoryBytes: c.maxBytes, validateEvery: c.debug >= 1 ? 2_000 : 20_000, liveBytesEvery: 5_000, misuseEvery: c.misuseEvery ?? 0,
  });
  heap.trim();
  heap.validate();
  if (heap.liveBytes() !== 0) throw new Error(`after the run and trim, ${heap.liveBytes()} live bytes remain`);
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const OUT = new URL('../../packages/testkit/regressions/', import.meta.url);

function save(c: ModelCase | StressCase | KillCase, error: unknown): void {
  mkdirSync(OUT, { recursive: true });
  const file = new URL(`${c.kind}-${c.seed}.json`, OUT);
  writeFileSync(file, JSON.stringify({ ...c, error: String(error instanceof Error ? error.stack ?? error.message : error) }, null, 2) + '\n');
  console.log(`  FAILURE saved: ${file.pathname}`);
}

async function main(): Promise<void> {
  const minutes = arg('minutes', 1);
  const workersEvery = arg('workers-every', 10);
  const killEvery = arg('kill-every', 7);
  const end = Date.now() + minutes * 60_000;
  let n = 0;
  let failures = 0;
  let ops = 0;
  const started = Date.now();
  while (Date.now() < end) {
    n++;
    const seed = (Math.random() * 2 ** 31) >>> 0;
    const c: ModelCase | StressCase | KillCase = n % killEvery === 0
      ? {
        kind: 'kill', seed, rounds: 6, workers: 2 + (seed % 3), kills: 1 + (seed % 2), slots: 32 + (seed % 3) * 16, minDelay: 1,
        maxDelay: 80, debug: 0, maxBytes: 256 << 20, growable: seed % 3 === 1, wasm: seed % 3 === 2,
      }
      : n % workersEvery === 0
        ? { kind: 'stress', seed, pairs: 2, blocks: 20_000, debug: seed % 3 === 0 ? 1 : 0 }
        : { kind: 'model', seed, ops: 100_000, debug: [0, 0, 1, 2][seed % 4]!, faults: seed % 5 === 0 ? 0.3 : 0, maxBytes: 256 << 20, misuseEvery: 50 };
    try {
      if (c.kind === 'model') runModelCase(c);
      else if (c.kind === 'stress') await runStress(c);
      else ops += (await runKill(c)).ops;
      ops += c.kind === 'model' ? c.ops : c.kind === 'stress' ? c.blocks * c.pairs * 2 : 0;
    } catch (e) {
      failures++;
      save(c, e);
    }
    if (n % 10 === 0) console.log(`${((Date.now() - started) / 60_000).toFixed(1)} min: ${n} cases, ${ops} operations, ${failures} failures`);
  }
  console.log(`done: ${n} cases, ${ops} operations in ${((Date.now() - started) / 60_000).toFixed(1)} min, ${failures} failures`);
  process.exitCode = failures > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
