import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { calibration, DEFAULT_RUNS, formatCalibration, formatComparison, MIN_TIMED_MS, runCompare } from './compare.js';
import { measure, type RunRecord } from './measure.js';
import { formatTable, mops, problems } from './report.js';
import { runBench, type RunFailure, type RunOptions, type WorkloadChoice, type WorkloadRuns } from './runner.js';
import { Progress } from './progress.js';
import { findSubject, subjects } from './subjects/index.js';
import { formatSummary, summaryRows } from './summary.js';
import { errorMessage } from './util.js';
import { findWorkload, workloads } from './workloads/index.js';
import type { MtRunRecord, MtSpec } from './mt/api.js';
import { formatMtTable, formatScaling, mtProblems, paramText } from './mt/report.js';
import type { MtGroupRuns, MtRunFailure, MtWorkloadChoice } from './mt/runner.js';
import { mtSubjects } from './mt/subjects/index.js';
import { findMtWorkload, isMtWorkload, mtWorkloads, paramsFor } from './mt/workloads/index.js';

const USAGE = `hakmem-bench — replays the workloads of BENCH.md on hakmem and its peers

usage:
  hakmem-bench run [--suite default|all|mt|mimalloc] [--subjects a,b,…]
                   [--workloads w[:cycles],…] [--runs N] [--cycles N] [--seed N]
                   [--out DIR] [--json out.json] [--quick]
                   (--out: writes DIR/report.md — the summary of every workload
                   against every subject, then each workload's table —,
                   DIR/results.json and DIR/charts/*.svg;
                   --quick: a smoke run — one run each, 1/50 of every workload's
                   cycles; the checks all run, the timings mean nothing)
  hakmem-bench run --suite mt [--subjects a,b,…] [--workloads w[:N],…] [--threads 1,2]
                   [--param key=value,…] [--runs N] [--seed N] [--json out.json] [--quick]
                   (the multi-thread workloads, on worker_threads; a multi-thread
                   workload named in --workloads runs so without --suite too)
  hakmem-bench run --suite mimalloc [same options]
                   (mimalloc-bench's shapes: alloc-test single-thread, alloc-test-mt,
                   cache-scratch, mstress and xmalloc on worker_threads)
  hakmem-bench compare [--a SUBJECT] --b SUBJECT [--workloads w[:cycles],…] [--runs N]
                   [--cycles N] [--seed N] [--threshold PCT] [--instructions] [--json out.json]
                   (A/B, interleaved A B / B A: a verdict from the 99 % interval of B/A
                   against a threshold, and every counter side by side; cycles not
                   given are scaled until a timed run lasts 200 ms. --instructions:
                   instructions per operation under callgrind, one run each, exact)
  hakmem-bench calibrate [--subject SUBJECT] [--workloads w,…] [--runs N]
                   (A/A: the noise floor of each workload on this machine — the
                   smallest difference a default compare can tell from noise)
  hakmem-bench report out.json     (the tables and the summary again, from a --json file)
  hakmem-bench chart out.json [--out charts/] [--scale auto|linear|log]
                   (one SVG per workload from a --json file: ops/s median with
                   min–max whiskers per subject and thread count, and peak footprint)
  hakmem-bench list
  hakmem-bench trace check [NAME,…|all] [--events N] [--validate-every N]
                   (replays traces through a hakmem heap with every check on;
                   exit 1 on any error)
  hakmem-bench measure --subject S --workload W --cycles N --seed N [--run I]
                   (one measurement in this process; \`run\` starts one per child)
  hakmem-bench measure-mt --spec JSON   (the same for a multi-thread workload)

defaults: --suite default: --subjects hakmem,thing,cheap,seglist,null (single-thread),
          hakmem,thing-locked,cheap,null (multi-thread); --workloads default,tiny,
          mid,default-ws8192,pool,large,json,mir,vm,trace:python-json,cross-thread,
          larson (a w of trace:<path> replays your own .trace.gz)
          --suite all: every workload of \`list\` (traces, mt and mimalloc shapes too)
          --runs 5 --seed 42 (cycles: each workload's own); compare: --a hakmem,
          --workloads default, --runs 10 (--instructions: 1), --threshold 3
          (--instructions: 1); calibrate: --subject hakmem, --workloads
          default,tiny,mid,pool,large, --runs 10
          --suite mt: --subjects hakmem,thing-locked,cheap,null
          --workloads cross-thread,larson,mid-large-mt --threads 1,2
          (w:N sets a multi-thread workload's main parameter: cross-thread blocks
          per pair, larson ms, mid-large-mt cycles per thread)
          --suite mimalloc: --workloads alloc-test,alloc-test-mt,cache-scratch,
          mstress,xmalloc, the subjects as above (without --subjects, a workload's
          slow subjects are left out: thing of alloc-test, thing-locked of all but
          cache-scratch); --param sets any workload's parameter (alloc-test's too)
a SUBJECT is a name from \`list\`, hakmem:PRESET (default, wasm, growable, debug1), or
the path of a module exporting a heap (\`export const heap = compose({...})\`)`;

/** `trace check`: the correctness pass of src/trace-check.ts over shipped traces. */
async function trace(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'snapshots') return (await import('./trace-snapshots.js')).snapshotsCommand(rest); // heap snapshots for apps/heap-viewer
  if (sub !== 'check') throw new Error(`trace needs a subcommand: check (got ${sub === undefined ? 'nothing' : `"${sub}"`})`);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { events: { type: 'string' }, 'validate-every': { type: 'string' } },
  });
  const { checkTrace, formatCheck } = await import('./trace-check.js');
  const { TRACE_NAMES } = await import('./trace.js');
  const chosen = positionals.length === 0 || positionals.includes('all') ? [...TRACE_NAMES] : positionals.flatMap(list);
  const events = values.events === undefined ? undefined : positiveInt(values.events, '--events');
  const validateEvery = positiveInt(values['validate-every'], '--validate-every', 50_000);
  let errors = 0;
  for (const name of chosen) {
    const summary = checkTrace(name, { ...(events === undefined ? {} : { events }), validateEvery });
    console.log(formatCheck(summary));
    errors += summary.errorCount;
  }
  return errors > 0 ? 1 : 0;
}

const DEFAULT_SUBJECTS = 'hakmem,thing,cheap,seglist,null';
/**
 * The README's main command: every band of random-mixed, the single-block scenarios, the
 * three real traces and two multi-thread workloads (the ring forms, tiny-hot and the rest by
 * name, or `--suite all`).
 */
const DEFAULT_WORKLOADS = 'default,tiny,mid,default-ws8192,pool,large,json,mir,vm,trace:python-json,trace:sqlite3-sql,trace:ripgrep-mt,cross-thread,larson';
/** `--suite mt`: the multi-thread workloads of BENCH.md and their subjects. */
const MT_SUBJECTS = 'hakmem,thing-locked,cheap,null';
const MT_WORKLOADS = 'cross-thread,larson,mid-large-mt';
const MT_THREADS = '1,2';
/** `--suite mimalloc`: mimalloc-bench's shapes (alloc-test single-thread, the rest on worker_threads). */
const MIMALLOC_WORKLOADS = 'alloc-test,alloc-test-mt,cache-scratch,mstress,xmalloc';
/** `--suite all`: every workload there is (one table of everything against everything, from one invocation). */
const ALL_WORKLOADS = [
  'default,tiny,mid,default-ws8192,pool,large,tiny-hot,json,mir,vm,json-ring8,mir-ring8,vm-ring8',
  'trace:python-json,trace:sqlite3-sql,trace:ripgrep-mt', MT_WORKLOADS, MIMALLOC_WORKLOADS,
].join(',');
const SUITES: Readonly<Record<string, string>> = { default: DEFAULT_WORKLOADS, all: ALL_WORKLOADS, mt: MT_WORKLOADS, mimalloc: MIMALLOC_WORKLOADS };

function positiveInt(value: string | undefined, what: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${what} must be a positive integer, got "${value}"`);
  return n;
}

function seedOf(value: string | undefined): number {
  const seed = positiveInt(value, '--seed', 42);
  if (seed > 0xffffffff) throw new Error('--seed must fit in uint32');
  return seed;
}

const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter(Boolean);

/** `name` or `name:cycles`; a bare name takes --cycles if given; the --param values the workload has. */
function workloadChoice(item: string, cycles: number | undefined, given: Readonly<Record<string, number>> = {}, leaveSlow = false): WorkloadChoice {
  // The cycles follow the last colon (workload names may hold one: `trace:python-json:200000`).
  const colon = item.lastIndexOf(':');
  const tail = colon < 0 ? '' : item.slice(colon + 1);
  const [name, own] = colon >= 0 && /^[^a-z]*$/i.test(tail) && !findable(item) ? [item.slice(0, colon), tail] : [item, undefined];
  const workload = findWorkload(name);
  const chosen = own !== undefined ? positiveInt(own, `cycles of ${name}`) : cycles;
  const mine = Object.fromEntries(Object.entries(given).filter(([key]) => key in (workload.params ?? {})));
  return {
    name,
    ...(chosen === undefined ? {} : { cycles: chosen }),
    ...(Object.keys(mine).length === 0 ? {} : { params: mine }),
    ...(leaveSlow && workload.slowSubjects !== undefined ? { leaveOut: workload.slowSubjects } : {}),
  };
}

/** `--quick`: a workload without its own cycle count runs 1/50 of its default (at least 1000). */
function quickChoice(choice: WorkloadChoice): WorkloadChoice {
  if (choice.cycles !== undefined) return choice;
  return { ...choice, cycles: Math.max(1000, Math.ceil(findWorkload(choice.name).cycles / 50)) };
}

function findable(name: string): boolean {
  return workloads.some((w) => w.name === name);
}

/**
 * Where the tables go: stdout (through the progress display, when one runs) and, for
 * `run --out`, the transcript that becomes report.md.
 */
let progress: Progress | undefined;
let transcript: string[] | undefined;

function say(text: string): void {
  if (progress === undefined) console.log(text);
  else progress.print(text);
  transcript?.push(text);
}

/** Prints a workload's table and its problems; returns how many problems. */
function printWorkload(w: WorkloadRuns): number {
  const workload = findWorkload(w.workload);
  const params = w.params === undefined || Object.keys(w.params).length === 0 ? '' : `; ${paramText(w.params)}`;
  say(`\n## ${w.workload} (${workload.description}; ${w.cycles} cycles${params})\n`);
  if (w.records.length > 0) say(formatTable(w, { blockBytes: workload.blockBytes, peakLiveBytes: workload.peakLiveBytes }));
  for (const r of w.records.filter((x) => (x.unaligned ?? 0) > 0 && x.run === 0)) {
    say(`(${r.subject}: ${r.unaligned} memalign blocks came back unaligned: an emulated memalign (malloc), or null's one address)`);
  }
  for (const { subject, reason } of w.notRun ?? []) say(`(${subject} not run here: ${reason})`);
  const found = problems(w);
  for (const problem of found) say(`!!! ${problem}`);
  if (found.length === 0 && w.records.length > 0) {
    const subjectCount = new Set(w.records.map((r) => r.subject)).size;
    say(`\ncounters identical over all ${w.records.length} runs of ${subjectCount} subjects; no verify failed`);
  }
  return found.length;
}

/** The multi-thread part of an invocation (see runMt). */
interface MtPlan {
  readonly subjects: string[];
  readonly workloads: MtWorkloadChoice[];
  readonly threads: number[];
}

/** The repository this app runs from (apps/bench/src/../../..). */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** The commit checked out, `+dirty` when the tree has changes; `unknown` outside a git checkout. */
export function commitOf(dir: string = REPO): string {
  const git = (...args: string[]): string | undefined => {
    const r = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };
  const head = git('rev-parse', 'HEAD');
  if (head === undefined) return 'unknown';
  return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}+dirty`;
}

/** The machine and the code measured, for the header line, --json and report.md. */
function machineInfo(): Record<string, string | number> {
  return {
    node: process.version, v8: process.versions.v8, platform: `${process.platform} ${process.arch}`, os: release(),
    cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', memoryGiB: Math.round(totalmem() / 2 ** 30), commit: commitOf(),
  };
}

/** `--param a=1,b=2`. */
function parseParams(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items.flatMap(list)) {
    const [key, value] = item.split('=');
    const n = Number(value);
    if (key === undefined || value === undefined || !Number.isFinite(n) || n < 0) throw new Error(`--param takes key=number (got "${item}")`);
    out[key] = n;
  }
  return out;
}

/** A multi-thread workload `name` or `name:N` (N: its primary parameter), with the --param values it has. */
function mtChoice(item: string, given: Readonly<Record<string, number>>, quick: boolean, leaveSlow = false): MtWorkloadChoice {
  const colon = item.lastIndexOf(':');
  const name = colon < 0 ? item : item.slice(0, colon);
  const workload = findMtWorkload(name);
  const own = Object.fromEntries(Object.entries(given).filter(([key]) => key in workload.defaults));
  if (colon >= 0) own[workload.primary] = positiveInt(item.slice(colon + 1), `${workload.primary} of ${name}`);
  return { name, params: paramsFor(workload, own, quick), ...(leaveSlow && workload.slowSubjects !== undefined ? { leaveOut: workload.slowSubjects } : {}) };
}

const mtName = (item: string): string => (item.includes(':') ? item.slice(0, item.lastIndexOf(':')) : item);

/** Prints a multi-thread workload's tables (one per thread count), its problems and its scaling; returns how many problems. */
function printMtWorkload(groups: readonly MtGroupRuns[]): number {
  let found = 0;
  for (const g of groups) {
    const workload = findMtWorkload(g.workload);
    say(`\n## ${g.workload} × ${g.threads} thread${g.threads === 1 ? '' : 's'} (${workload.description}; ${paramText(g.params)})\n`);
    if (g.notRun !== undefined) {
      say(`(not run: ${g.notRun})`);
      continue;
    }
    if (g.records.length > 0) say(formatMtTable(g));
    for (const { subject, reason } of g.leftOut ?? []) say(`(${subject} not run here: ${reason})`);
    const problems = mtProblems(g);
    for (const problem of problems) say(`!!! ${problem}`);
    if (problems.length === 0 && g.records.length > 0) {
      const subjectCount = new Set(g.records.map((r) => r.subject)).size;
      const counters = workload.deterministic(g.params)
        ? `counters identical over all ${g.records.length} runs of ${subjectCount} subjects`
        : `${g.records.length} runs of ${subjectCount} subjects (fixed time: counters differ by speed; every block freed)`;
      say(`\n${counters}; no verify failed`);
    }
    found += problems.length;
  }
  const scaling = formatScaling(groups);
  if (scaling !== undefined) say(`\n### ${groups[0]!.workload}: gain with the thread count\n\n${scaling}`);
  return found;
}

/** The multi-thread workloads of an invocation: each subject × thread count × run in its own process. */
async function runMt(plan: MtPlan, runs: number, seed: number): Promise<{ trouble: number; records: MtRunRecord[]; failures: MtRunFailure[]; skipped: { subject: string; reason: string }[] }> {
  const { runMtBench } = await import('./mt/runner.js');
  say(`multi-thread: threads ${plan.threads.join(',')}; subjects ${plan.subjects.join(',')}`);
  const perWorkload = plan.threads.length * plan.subjects.length * runs;
  progress?.expect(plan.workloads.length * perWorkload);
  let trouble = 0;
  const result = await runMtBench({
    ...plan,
    runs,
    seed,
    onRun: (r) => progress?.tick(`  ${r.workload} ×${r.threads} run ${r.run + 1}/${runs} ${r.subject.padEnd(12)} ${mops(r.opsPerSec)} M ops/s (${r.elapsedMs.toFixed(0)} ms)`),
    onFailure: (f) => {
      progress?.tick(`  ${f.workload} ×${f.threads} run ${f.run + 1}/${runs} ${f.subject}: FAILED`);
      progress?.note(`  ${f.workload} ×${f.threads} run ${f.run + 1}/${runs} ${f.subject}: FAILED: ${f.error}`);
    },
    onWorkload: (groups) => {
      progress?.skip(perWorkload - groups.reduce((n, g) => n + g.records.length + g.failures.length, 0));
      trouble += printMtWorkload(groups);
    },
  });
  for (const { subject, reason } of result.skipped) say(`\nskipped ${subject} (multi-thread): ${reason}`);
  return {
    trouble,
    records: result.groups.flatMap((g) => g.records),
    failures: result.groups.flatMap((g) => g.failures),
    skipped: result.skipped,
  };
}

async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      subjects: { type: 'string' },
      workloads: { type: 'string' },
      runs: { type: 'string' },
      cycles: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      suite: { type: 'string' },
      threads: { type: 'string' },
      param: { type: 'string', multiple: true },
    },
  });
  const suite = values.suite ?? 'default';
  const suiteWorkloads = SUITES[suite];
  if (suiteWorkloads === undefined) throw new Error(`--suite is ${Object.keys(SUITES).join(', ')}; got "${suite}"`);
  const cycles = values.cycles === undefined ? undefined : positiveInt(values.cycles, '--cycles');
  const quick = values.quick === true;
  const items = list(values.workloads ?? suiteWorkloads);
  const mtItems = items.filter((w) => isMtWorkload(mtName(w)));
  const stItems = items.filter((w) => !isMtWorkload(mtName(w)));
  const given = parseParams(values.param ?? []);
  // Without --subjects, the default lists leave out a workload's slow subjects (Workload.slowSubjects).
  const leaveSlow = values.subjects === undefined;
  const chosen = stItems.map((w) => workloadChoice(w, cycles, given, leaveSlow));
  const runs = positiveInt(values.runs, '--runs', quick ? 1 : 5);
  const seed = seedOf(values.seed);
  const mtChosen = mtItems.map((w) => mtChoice(w, given, quick, leaveSlow));
  for (const key of Object.keys(given)) {
    const mt = mtChosen.some((c) => key in findMtWorkload(c.name).defaults);
    const st = chosen.some((c) => key in (findWorkload(c.name).params ?? {}));
    if (!mt && !st) throw new Error(`--param ${key}: no chosen workload has it`);
  }
  // Given --subjects serve both parts; a name only one part knows is left out of the other.
  const mtNames = new Set(mtSubjects.map((m) => m.name));
  const stNames = new Set(subjects.map((m) => m.name));
  const both = mtItems.length > 0 && stItems.length > 0;
  const stSubjects = list(values.subjects ?? DEFAULT_SUBJECTS).filter((n) => !both || !mtNames.has(n) || stNames.has(n));
  const mtList = list(values.subjects ?? MT_SUBJECTS).filter((n) => !both || mtNames.has(n));
  const threads = list(values.threads ?? MT_THREADS).map((t) => positiveInt(t, '--threads'));
  const options: RunOptions = { subjects: stSubjects, workloads: quick ? chosen.map(quickChoice) : chosen, runs, seed };
  const machine = machineInfo();
  const started = new Date();
  progress = new Progress();
  transcript = values.out === undefined ? undefined : [];
  say(`hakmem-bench: node ${machine.node}, ${machine.platform}, ${machine.cpus}× ${machine.cpu}, commit ${machine.commit}; ${options.runs} runs, seed ${options.seed}\n`);

  let trouble = 0;
  let result: Awaited<ReturnType<typeof runBench>> | undefined;
  try {
    if (chosen.length > 0) {
      const perWorkload = runs * stSubjects.length;
      progress.expect(chosen.length * perWorkload);
      result = await runBench({
        ...options,
        onRun: (r) => progress?.tick(`  ${r.workload} run ${r.run + 1}/${options.runs} ${r.subject.padEnd(6)} ${mops(r.opsPerSec)} M ops/s (${r.elapsedMs.toFixed(0)} ms)`),
        onFailure: (f) => {
          progress?.tick(`  ${f.workload} run ${f.run + 1}/${options.runs} ${f.subject}: FAILED`);
          progress?.note(`  ${f.workload} run ${f.run + 1}/${options.runs} ${f.subject}: FAILED: ${f.error}`);
        },
        onWorkload: (w) => {
          progress?.skip(perWorkload - w.records.length - w.failures.length);
          trouble += printWorkload(w);
        },
      });
      for (const { subject, reason } of result.skipped) say(`\nskipped ${subject}: ${reason}`);
    }
    let mt: Awaited<ReturnType<typeof runMt>> | undefined;
    if (mtChosen.length > 0) {
      mt = await runMt({ subjects: mtList, workloads: mtChosen, threads }, runs, seed);
      trouble += mt.trouble;
    }
    progress.stop();

    const doc: BenchDoc = {
      date: started.toISOString(),
      elapsedSeconds: Math.round((Date.now() - started.getTime()) / 1000),
      command: ['hakmem-bench', 'run', ...args].join(' '),
      machine,
      options: {
        ...options,
        workloads: (result?.workloads ?? []).map((w) => ({ name: w.workload, cycles: w.cycles, ...(w.params === undefined ? {} : { params: w.params }) })),
      },
      skipped: result?.skipped ?? [],
      runs: (result?.workloads ?? []).flatMap((w) => w.records),
      failures: (result?.workloads ?? []).flatMap((w) => w.failures),
      ...(mt === undefined ? {} : { mt: { workloads: mtChosen, threads, skipped: mt.skipped, runs: mt.records, failures: mt.failures } }),
    };
    const summary = formatSummary(summaryRows(doc.runs, doc.mt?.runs));
    say(`\n## Summary: every workload, medians of ${runs} run${runs === 1 ? '' : 's'} (M ops/s; traces M events/s)\n\n${summary}`);
    if (values.json !== undefined) {
      writeFileSync(values.json, `${JSON.stringify(doc, null, 2)}\n`);
      say(`\nraw runs written to ${values.json}`);
    }
    if (values.out !== undefined) await writeReport(values.out, doc, summary, transcript ?? []);
  } finally {
    progress.stop();
    progress = undefined;
    transcript = undefined;
  }
  return trouble > 0 ? 1 : 0;
}

/**
 * `run --out DIR`: DIR/results.json (the --json document), DIR/report.md (the
 * environment, the summary table, then every workload's table as printed) and
 * DIR/charts/ (one SVG per workload, a footprint-over-time SVG per trace).
 */
async function writeReport(dir: string, doc: BenchDoc, summary: string, printed: readonly string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(doc, null, 2)}\n`);
  // Imported here, not at the top: every measuring child loads this module, and only `run --out` draws.
  const { writeCharts } = await import('./chart.js');
  const charts = writeCharts(doc, join(dir, 'charts'));
  const m = doc.machine;
  const md = [
    '# hakmem-bench report',
    '',
    `\`${doc.command}\` — ${doc.date}, ${doc.elapsedSeconds} s`,
    '',
    `Node ${String(m.node)} (V8 ${String(m.v8)}), ${String(m.platform)} ${String(m.os)}, ${String(m.cpus)}× ${String(m.cpu)}, ${String(m.memoryGiB)} GiB; commit \`${String(m.commit)}\``,
    '',
    `## Summary (medians of ${doc.options.runs} run${doc.options.runs === 1 ? '' : 's'}, each in its own process, subjects interleaved)`,
    '',
    summary,
    '',
    `Charts (${charts.length}): [charts/](charts/). Raw runs: [results.json](results.json).`,
    '',
    '## Every workload',
    '',
    ...printed.filter((t) => !t.startsWith('\n## Summary')),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'report.md'), md);
  say(`\nreport written to ${join(dir, 'report.md')} (with results.json and ${charts.length} charts)`);
}
async function compare(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      a: { type: 'string', default: 'hakmem' },
      b: { type: 'string' },
      workloads: { type: 'string', default: 'default' },
      runs: { type: 'string' },
      cycles: { type: 'string' },
      seed: { type: 'string' },
      threshold: { type: 'string' },
      instructions: { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  if (values.b === undefined) throw new Error('compare needs --b (a subject name, hakmem:PRESET or a module path)');
  const cycles = values.cycles === undefined ? undefined : positiveInt(values.cycles, '--cycles');
  const a = values.a;
  const b = values.b;
  for (const spec of [a, b]) await findSubject(spec).load();
  const instructions = values.instructions;
  const runs = positiveInt(values.runs, '--runs', instructions ? 1 : DEFAULT_RUNS);
  const seed = seedOf(values.seed);
  const threshold = values.threshold === undefined ? undefined : percent(values.threshold, '--threshold');
  const workloadsChosen = list(values.workloads).map((w) => workloadChoice(w, cycles));
  const how = instructions ? 'instructions per operation under callgrind' : 'timed';
  console.log(`hakmem-bench compare: A = ${a}, B = ${b}; ${runs} runs each, interleaved A B / B A, ${how}, seed ${seed}`);
  const results = runCompare({
    a, b, workloads: workloadsChosen, runs, seed, instructions,
    onRun: (side, r) => console.error(`  ${r.workload} run ${r.run + 1}/${runs} ${side} ${mops(r.opsPerSec)} M ops/s${r.instructions === undefined ? '' : `, ${r.instructions} instructions`}`),
    onScaled: (w, n, ms) => console.error(`  ${w}: a pilot run of A timed ${ms.toFixed(1)} ms; ${n} cycles so that each run lasts ${MIN_TIMED_MS} ms or more`),
  });
  let trouble = 0;
  for (const c of results) {
    const workload = findWorkload(c.workload);
    console.log(`\n## ${c.workload} (${workload.description}; ${c.cycles} cycles)\n`);
    console.log(formatComparison(c, a, b, undefined, { blockBytes: workload.blockBytes, ...(threshold === undefined ? {} : { threshold }) }));
    trouble += c.failures.length + [...c.a, ...c.b].filter((r) => r.verify === 'FAILED').length;
  }
  if (values.json !== undefined) {
    writeFileSync(values.json, `${JSON.stringify({ date: new Date().toISOString(), a, b, runs, seed, results }, null, 2)}\n`);
    console.log(`\nraw runs written to ${values.json}`);
  }
  return trouble > 0 ? 1 : 0;
}

async function calibrate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      subject: { type: 'string', default: 'hakmem' },
      workloads: { type: 'string', default: 'default,tiny,mid,pool,large' },
      runs: { type: 'string' },
      seed: { type: 'string' },
    },
  });
  const subject = values.subject;
  await findSubject(subject).load();
  const runs = positiveInt(values.runs, '--runs', DEFAULT_RUNS);
  const seed = seedOf(values.seed);
  console.log(`hakmem-bench calibrate: ${subject} against itself (A/A), ${runs} pairs per workload, interleaved, seed ${seed}`);
  const results = runCompare({
    a: subject, b: subject, workloads: list(values.workloads).map((w) => workloadChoice(w, undefined)), runs, seed,
    onRun: (side, r) => console.error(`  ${r.workload} run ${r.run + 1}/${runs} ${side} ${mops(r.opsPerSec)} M ops/s`),
  });
  console.log(`\n${formatCalibration(results.map(calibration))}`);
  return results.some((c) => c.failures.length > 0) ? 1 : 0;
}

/** A percentage option (e.g. `3` or `0.5`) as a fraction. */
function percent(value: string, name: string): number {
  const x = Number(value);
  if (!Number.isFinite(x) || x < 0 || x >= 100) throw new Error(`${name} must be a percentage in [0, 100), got "${value}"`);
  return x / 100;
}

/** What `run --json` (and `--out`'s results.json) holds. */
interface BenchDoc {
  readonly date: string;
  readonly elapsedSeconds?: number;
  readonly command?: string;
  readonly machine: Record<string, unknown>;
  readonly options: Omit<RunOptions, 'workloads'> & { readonly workloads: readonly { name: string; cycles: number; params?: Readonly<Record<string, number>> }[] };
  readonly skipped?: readonly { subject: string; reason: string }[];
  readonly runs: RunRecord[];
  readonly failures: RunFailure[];
  readonly mt?: {
    readonly workloads: readonly MtWorkloadChoice[];
    readonly threads: readonly number[];
    readonly skipped?: readonly { subject: string; reason: string }[];
    readonly runs: MtRunRecord[];
    readonly failures: MtRunFailure[];
  };
}

function report(args: string[]): number {
  const [file] = args;
  if (file === undefined) throw new Error('report needs the path of a --json file');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as BenchDoc;
  console.log(`from ${file}: ${JSON.stringify(doc.machine)}`);
  let trouble = 0;
  for (const { name, cycles, params } of doc.options.workloads) {
    const mine = <T extends { workload: string }>(items: T[]): T[] => items.filter((r) => r.workload === name);
    trouble += printWorkload({ workload: name, cycles, ...(params === undefined ? {} : { params }), records: mine(doc.runs), failures: mine(doc.failures) });
  }
  for (const { name, params, leaveOut } of doc.mt?.workloads ?? []) {
    const leftOut = Object.entries(leaveOut ?? {}).map(([subject, reason]) => ({ subject, reason }));
    const groups = (doc.mt?.threads ?? []).map((threads): MtGroupRuns => {
      const mine = <T extends { workload: string; threads: number }>(items: readonly T[]): T[] =>
        items.filter((r) => r.workload === name && r.threads === threads);
      const reason = findMtWorkload(name).notFor(threads);
      return {
        workload: name, threads, params, records: mine(doc.mt!.runs), failures: mine(doc.mt!.failures),
        ...(reason === undefined ? {} : { notRun: reason }), ...(leftOut.length === 0 ? {} : { leftOut }),
      };
    });
    trouble += printMtWorkload(groups);
  }
  say(`\n## Summary: every workload, medians of the runs (M ops/s; traces M events/s)\n\n${formatSummary(summaryRows(doc.runs, doc.mt?.runs))}`);
  return trouble > 0 ? 1 : 0;
}

/** `chart out.json [--out dir]`: an SVG per workload of a --json file (src/chart.ts). */
async function chart(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: 'string', default: 'charts' }, scale: { type: 'string', default: 'auto' } },
  });
  const [file] = positionals;
  if (file === undefined) throw new Error('chart needs the path of a --json file');
  const scale = values.scale;
  if (scale !== 'auto' && scale !== 'linear' && scale !== 'log') throw new Error(`--scale is auto, linear or log; got "${scale}"`);
  const { writeCharts } = await import('./chart.js');
  const written = writeCharts(JSON.parse(readFileSync(file, 'utf8')) as unknown, values.out, { scale });
  for (const path of written) console.log(path);
  if (written.length === 0) console.log(`no runs in ${file}: nothing written`);
  return 0;
}

async function listAll(): Promise<number> {
  console.log('workloads:');
  for (const w of workloads) console.log(`  ${w.name.padEnd(15)} ${w.description}; ${w.cycles} cycles${w.params === undefined ? '' : `, ${paramText(w.params)}`}`);
  console.log('\nsubjects:');
  for (const s of subjects) {
    const status = await s.load().then(() => '', (error: unknown) => ` [unavailable: ${errorMessage(error)}]`);
    console.log(`  ${s.name.padEnd(15)} ${s.description}${status}`);
  }
  console.log('\nmulti-thread workloads (--suite mt: cross-thread, larson, mid-large-mt; --suite mimalloc: alloc-test-mt, cache-scratch, mstress, xmalloc):');
  for (const w of mtWorkloads) console.log(`  ${w.name.padEnd(15)} ${w.description}; ${paramText(w.defaults)}`);
  console.log('\nmulti-thread subjects:');
  for (const s of mtSubjects) {
    const status = await s.load().then(() => '', (error: unknown) => ` [unavailable: ${errorMessage(error)}]`);
    console.log(`  ${s.name.padEnd(15)} ${s.description}${status}`);
  }
  return 0;
}

async function measureOne(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      subject: { type: 'string' },
      workload: { type: 'string' },
      cycles: { type: 'string' },
      seed: { type: 'string' },
      run: { type: 'string', default: '0' },
      params: { type: 'string' },
    },
  });
  if (values.subject === undefined || values.workload === undefined) throw new Error('measure needs --subject and --workload');
  const record = await measure({
    subject: values.subject,
    workload: values.workload,
    cycles: positiveInt(values.cycles, '--cycles', findWorkload(values.workload).cycles),
    seed: seedOf(values.seed),
    run: Number(values.run),
    ...(values.params === undefined ? {} : { params: JSON.parse(values.params) as Record<string, number> }),
  });
  process.stdout.write(`${JSON.stringify(record)}\n`);
  return 0;
}

/** `measure-mt --spec JSON`: one multi-thread measurement (what each child of `run --suite mt` runs). */
async function measureMtOne(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { spec: { type: 'string' } } });
  if (values.spec === undefined) throw new Error('measure-mt needs --spec (a JSON MtSpec)');
  const { measureMt } = await import('./mt/measure.js');
  try {
    const record = await measureMt(JSON.parse(values.spec) as MtSpec);
    process.stdout.write(`${JSON.stringify(record)}\n`);
  } catch (error) {
    // Workers still sleeping on a word nobody will change would keep the process alive.
    console.error(`hakmem-bench measure-mt: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(2);
  }
  process.exit(0);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return run(rest);
    case 'compare':
      return compare(rest);
    case 'calibrate':
      return calibrate(rest);
    case 'report':
      return report(rest);
    case 'chart':
      return chart(rest);
    case 'list':
      return listAll();
    case 'measure':
      return measureOne(rest);
    case 'measure-mt':
      return measureMtOne(rest);
    case 'trace':
      return trace(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`hakmem-bench: ${errorMessage(error)}`);
    process.exitCode = 2;
  },
);
