import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MeasureSpec, RunRecord } from './measure.js';
import { findSubject } from './subjects/index.js';
import { errorMessage } from './util.js';
import { findWorkload } from './workloads/index.js';
import { workloadParams } from './workloads/workload.js';

export interface WorkloadChoice {
  readonly name: string;
  /** Overrides the workload's own cycle count. */
  readonly cycles?: number;
  /** Overrides of the workload's parameters (Workload.params). */
  readonly params?: Readonly<Record<string, number>>;
  /** Subjects not to run on this workload, with the reason (a suite's slow subjects). */
  readonly leaveOut?: Readonly<Record<string, string>>;
}

export interface RunOptions {
  readonly subjects: readonly string[];
  readonly workloads: readonly WorkloadChoice[];
  readonly runs: number;
  readonly seed: number;
  /** Called after each child run (progress). */
  readonly onRun?: (record: RunRecord) => void;
  /** Called when a child fails; the bench goes on with the others. */
  readonly onFailure?: (failure: RunFailure) => void;
  /** Called when all runs of a workload are done. */
  readonly onWorkload?: (runs: WorkloadRuns) => void;
}

export interface RunFailure extends MeasureSpec {
  readonly error: string;
}

export interface WorkloadRuns {
  readonly workload: string;
  readonly cycles: number;
  /** The workload's parameters (defaults merged), when it has any. */
  readonly params?: Readonly<Record<string, number>>;
  readonly records: RunRecord[];
  readonly failures: RunFailure[];
  /** Subjects left out of this workload by their own `notFor`, with the reason. */
  readonly notRun?: { subject: string; reason: string }[];
}

export interface BenchResult {
  /** Subjects that could not be loaded, with the reason. */
  readonly skipped: { subject: string; reason: string }[];
  readonly workloads: WorkloadRuns[];
}

/** The TypeScript entry; children are started on it with the `measure` command. */
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/**
 * Node's arguments for running this app's TypeScript with no build: tsx as a loader,
 * and workspace packages resolved to their src/.
 */
export function nodeArgs(): string[] {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return ['--import', tsx, '--conditions=@hakmem/source'];
}

/** The tsconfig tsx compiles the workspace with (see the comment in that file). */
export const RUN_TSCONFIG = fileURLToPath(new URL('../tsconfig.run.json', import.meta.url));

/**
 * The environment of a measuring child: this one's, with tsx pointed at RUN_TSCONFIG
 * (unless the caller set TSX_TSCONFIG_PATH already, e.g. to compare another tsconfig).
 */
export function nodeEnv(): NodeJS.ProcessEnv {
  return { ...process.env, TSX_TSCONFIG_PATH: process.env.TSX_TSCONFIG_PATH ?? RUN_TSCONFIG };
}

/** Runs one measurement in a fresh Node process and returns its record. */
export function spawnMeasure(spec: MeasureSpec): RunRecord {
  const args = [
    ...nodeArgs(), '--expose-gc', CLI, 'measure',
    '--subject', spec.subject, '--workload', spec.workload,
    '--cycles', String(spec.cycles), '--seed', String(spec.seed), '--run', String(spec.run),
    ...(spec.params === undefined ? [] : ['--params', JSON.stringify(spec.params)]),
  ];
  const child = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    env: nodeEnv(),
  });
  if (child.error) throw child.error;
  if (child.status !== 0) {
    const why = child.signal ? `signal ${child.signal}` : `exit code ${String(child.status)}`;
    throw new Error(`${why}: ${child.stderr.trim() || child.stdout.trim()}`);
  }
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as RunRecord;
}

/** Which of the subjects can be loaded here; the others are reported as skipped. */
async function probe(names: readonly string[]): Promise<{ ready: string[]; skipped: BenchResult['skipped'] }> {
  const ready: string[] = [];
  const skipped: BenchResult['skipped'] = [];
  for (const name of names) {
    try {
      await findSubject(name).load();
      ready.push(name);
    } catch (error) {
      skipped.push({ subject: name, reason: errorMessage(error) });
    }
  }
  return { ready, skipped };
}

/**
 * For each workload, for each run index, every subject in turn (A B C A B C …), each
 * measurement in its own process.
 */
export async function runBench(options: RunOptions): Promise<BenchResult> {
  const { ready, skipped } = await probe(options.subjects);
  const workloads: WorkloadRuns[] = [];
  for (const choice of options.workloads) {
    const workload = findWorkload(choice.name);
    const cycles = choice.cycles ?? workload.cycles;
    const params = workload.params === undefined ? undefined : workloadParams(workload, choice.params);
    const notRun: { subject: string; reason: string }[] = [];
    const here = ready.filter((subject) => {
      const reason = findSubject(subject).notFor?.(choice.name) ?? choice.leaveOut?.[subject];
      if (reason !== undefined) notRun.push({ subject, reason });
      return reason === undefined;
    });
    const entry: WorkloadRuns = { workload: choice.name, cycles, ...(params === undefined ? {} : { params }), records: [], failures: [], notRun };
    workloads.push(entry);
    for (let run = 0; run < options.runs; run++) {
      for (const subject of here) {
        const spec: MeasureSpec = { subject, workload: choice.name, cycles, seed: options.seed, run, ...(params === undefined ? {} : { params }) };
        try {
          const record = spawnMeasure(spec);
          entry.records.push(record);
          options.onRun?.(record);
        } catch (error) {
          const failure = { ...spec, error: errorMessage(error) };
          entry.failures.push(failure);
          options.onFailure?.(failure);
        }
      }
    }
    options.onWorkload?.(entry);
  }
  return { skipped, workloads };
}
