import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { interleaveRuns, nodeArgs, nodeEnv } from '../runner.js';
import { errorMessage } from '../util.js';
import type { MtRunRecord, MtSpec } from './api.js';
import { findMtSubject } from './subjects/index.js';
import { findMtWorkload } from './workloads/index.js';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));

/** A child's limit: a hung worker (a lost wake-up, a deadlocked lock) fails its run, not the bench. */
const CHILD_TIMEOUT_MS = 10 * 60 * 1000;

export interface MtWorkloadChoice {
  readonly name: string;
  /** The workload's parameters, complete (defaults merged). */
  readonly params: Readonly<Record<string, number>>;
  /** Subjects not to run on this workload, with the reason (a suite's slow subjects). */
  readonly leaveOut?: Readonly<Record<string, string>>;
}

export interface MtRunFailure extends MtSpec {
  readonly error: string;
}

/** All runs of one workload at one thread count. */
export interface MtGroupRuns {
  readonly workload: string;
  readonly threads: number;
  readonly params: Readonly<Record<string, number>>;
  readonly records: MtRunRecord[];
  readonly failures: MtRunFailure[];
  /** Set when the workload does not run at this thread count. */
  readonly notRun?: string;
  /** Subjects left out of this workload (MtWorkloadChoice.leaveOut), with the reason. */
  readonly leftOut?: { subject: string; reason: string }[];
}

export interface MtRunOptions {
  readonly subjects: readonly string[];
  readonly workloads: readonly MtWorkloadChoice[];
  readonly threads: readonly number[];
  readonly runs: number;
  readonly seed: number;
  readonly onRun?: (record: MtRunRecord) => void;
  readonly onFailure?: (failure: MtRunFailure) => void;
  /** Called when every thread count of a workload is done. */
  readonly onWorkload?: (groups: MtGroupRuns[]) => void;
}

export interface MtBenchResult {
  readonly skipped: { subject: string; reason: string }[];
  readonly groups: MtGroupRuns[];
}

/** Runs one multi-thread measurement in a fresh Node process (with tsx and the source condition, as the single-thread children). */
export function spawnMeasureMt(spec: MtSpec): MtRunRecord {
  const args = [...nodeArgs(), '--expose-gc', CLI, 'measure-mt', '--spec', JSON.stringify(spec)];
  const child = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    env: nodeEnv(),
    timeout: CHILD_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  if (child.error) throw child.error;
  if (child.status !== 0) {
    const why = child.signal ? `signal ${child.signal}` : `exit code ${String(child.status)}`;
    throw new Error(`${why}: ${child.stderr.trim() || child.stdout.trim()}`);
  }
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as MtRunRecord;
}

async function probe(names: readonly string[]): Promise<{ ready: string[]; skipped: MtBenchResult['skipped'] }> {
  const ready: string[] = [];
  const skipped: MtBenchResult['skipped'] = [];
  for (const name of names) {
    try {
      await findMtSubject(name).load();
      ready.push(name);
    } catch (error) {
      skipped.push({ subject: name, reason: errorMessage(error) });
    }
  }
  return { ready, skipped };
}

/**
 * Every workload at every thread count against every subject (W1 ×1 A B C, W1 ×2 A B C,
 * W2 … per run index: see `interleaveRuns`; thread counts are interleaved too, so a ratio
 * between them compares the same stretch of time), each measurement in its own process.
 */
export async function runMtBench(options: MtRunOptions): Promise<MtBenchResult> {
  const { ready, skipped } = await probe(options.subjects);
  const plans = options.workloads.map((choice) => {
    const workload = findMtWorkload(choice.name);
    const leftOut = ready.filter((s) => choice.leaveOut?.[s] !== undefined).map((s) => ({ subject: s, reason: choice.leaveOut![s]! }));
    const here = ready.filter((s) => choice.leaveOut?.[s] === undefined);
    const mine: MtGroupRuns[] = options.threads.map((threads) => {
      const reason = workload.notFor(threads);
      return {
        workload: choice.name, threads, params: choice.params, records: [], failures: [],
        ...(reason === undefined ? {} : { notRun: reason }), ...(leftOut.length === 0 ? {} : { leftOut }),
      };
    });
    return { choice, here, mine };
  });
  interleaveRuns(options.runs, plans, ({ choice, here, mine }, run) => {
    for (const group of mine) {
      if (group.notRun !== undefined) continue;
      for (const subject of here) {
        const spec: MtSpec = { subject, workload: choice.name, threads: group.threads, params: choice.params, seed: options.seed, run };
        try {
          const record = spawnMeasureMt(spec);
          group.records.push(record);
          options.onRun?.(record);
        } catch (error) {
          const failure = { ...spec, error: errorMessage(error) };
          group.failures.push(failure);
          options.onFailure?.(failure);
        }
      }
    }
  }, ({ mine }) => options.onWorkload?.(mine));
  return { skipped, groups: plans.flatMap((p) => p.mine) };
}
