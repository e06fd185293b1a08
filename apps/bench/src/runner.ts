import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TIMED_BUILTIN, type MeasureSpec, type RunRecord } from './measure.js';
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

/** A run's record, and with `instructions` the instructions its timed call executed (callgrind). */
export type CountedRecord = RunRecord & { readonly instructions?: number };

/**
 * Runs one measurement in a fresh Node process and returns its record. With
 * `instructions`, the process runs under callgrind (`valgrind` on the PATH), V8 on one
 * thread, collecting only inside the timed call (TIMED_BUILTIN): the record's
 * `instructions` is then deterministic to a few hundred per run.
 */
export function spawnMeasure(spec: MeasureSpec, options: { readonly instructions?: boolean } = {}): CountedRecord {
  const counted = options.instructions === true;
  const args = [
    ...(counted ? ['--tool=callgrind', `--toggle-collect=${TIMED_BUILTIN}`, '--callgrind-out-file=/dev/null', process.execPath, '--single-threaded'] : []),
    ...nodeArgs(), '--expose-gc', CLI, 'measure',
    '--subject', spec.subject, '--workload', spec.workload,
    '--cycles', String(spec.cycles), '--seed', String(spec.seed), '--run', String(spec.run),
    ...(spec.params === undefined ? [] : ['--params', JSON.stringify(spec.params)]),
  ];
  const child = spawnSync(counted ? 'valgrind' : process.execPath, args, {
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
  const record = JSON.parse(line) as RunRecord;
  if (!counted) return record;
  return { ...record, instructions: collectedInstructions(child.stderr) };
}

/** The instruction count callgrind's summary reports (`==pid== Collected : N`); throws when there is none. */
export function collectedInstructions(stderr: string): number {
  const m = /==\d+== Collected : (\d+)/.exec(stderr);
  if (m === null) throw new Error(`no callgrind summary in the child's output (is valgrind installed?): ${stderr.trim().slice(-300)}`);
  return Number(m[1]);
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
 * The order every runner measures in: for each run index, every workload in turn (run 1:
 * W1, W2, …; run 2: the same); `done(w)` right after w's last run. Workloads are
 * interleaved, not only the subjects within one, because this host's speed moves between
 * states lasting seconds to minutes: one process ran `default` on hakmem at 26–31 M ops/s
 * while another ran it at 41–52, the same code with the same instructions (2-core VM; a
 * pure ALU loop stays within 5 %). When each workload had its runs in a block of its own,
 * a ratio between two workloads (`default-ws8192` against `default`) compared two
 * stretches of time: it read 0.73 in one invocation and 0.90 in the next, while both
 * workloads run back to back in each process read 0.81–1.02.
 */
export function interleaveRuns<W>(runs: number, workloads: readonly W[], measure: (workload: W, run: number) => void, done?: (workload: W) => void): void {
  for (let run = 0; run < runs; run++) {
    for (const w of workloads) {
      measure(w, run);
      if (run === runs - 1) done?.(w);
    }
  }
}

/**
 * Every workload against every subject (W1 A B C, W2 A B C, … per run index: see
 * `interleaveRuns`), each measurement in its own process.
 */
export async function runBench(options: RunOptions): Promise<BenchResult> {
  const { ready, skipped } = await probe(options.subjects);
  const plans = options.workloads.map((choice) => plan(choice, ready));
  interleaveRuns(options.runs, plans, ({ entry, here }, run) => {
    for (const subject of here) {
      const spec: MeasureSpec = { subject, workload: entry.workload, cycles: entry.cycles, seed: options.seed, run, ...(entry.params === undefined ? {} : { params: entry.params }) };
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
  }, ({ entry }) => options.onWorkload?.(entry));
  return { skipped, workloads: plans.map((p) => p.entry) };
}

/** A workload's empty record and the subjects that run on it (the others in `notRun`, with the reason). */
function plan(choice: WorkloadChoice, ready: readonly string[]): { entry: WorkloadRuns; here: string[] } {
  const workload = findWorkload(choice.name);
  const cycles = choice.cycles ?? workload.cycles;
  const params = workload.params === undefined ? undefined : workloadParams(workload, choice.params);
  const notRun: { subject: string; reason: string }[] = [];
  const here = ready.filter((subject) => {
    const reason = findSubject(subject).notFor?.(choice.name) ?? choice.leaveOut?.[subject];
    if (reason !== undefined) notRun.push({ subject, reason });
    return reason === undefined;
  });
  return { entry: { workload: choice.name, cycles, ...(params === undefined ? {} : { params }), records: [], failures: [], notRun }, here };
}
