import { Worker } from 'node:worker_threads';
import type { WorkerResult } from './api.js';
import type { TaskWorker, WorkerMessage, WorkerTask } from './task.js';

/** The worker's entry: a JS file (Node 20 will not start a worker on .ts) that registers tsx, then imports worker.ts. */
const BOOT = new URL('./worker-boot.mjs', import.meta.url);

/**
 * The worker's Node options: this process's resolution conditions only, the
 * `@hakmem/source` one included, so a worker resolves the workspace packages to the same
 * src/ files as this process. Left out: tsx's `--import` (on Node 20 tsx registers its
 * loader from there in the main thread only, so worker-boot.mjs registers it itself; on a
 * Node whose tsx also registers in workers it would load twice), and V8 flags such as
 * `--expose-gc`, which a Worker's execArgv refuses (ERR_WORKER_INVALID_EXEC_ARGV) and
 * which are process-wide anyway (`gc` exists in the workers too).
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const out = execArgv.filter((arg) => arg.startsWith('--conditions='));
  if (!out.includes('--conditions=@hakmem/source')) out.push('--conditions=@hakmem/source');
  return out;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // awaited by the caller; never an unhandled rejection here
  return { promise, resolve, reject };
}

/** Starts one worker on `task` and follows its messages. */
export function spawnTaskWorker(task: WorkerTask): TaskWorker {
  const ready = deferred<void>();
  const result = deferred<WorkerResult | null>();
  const worker = new Worker(BOOT, { workerData: task, execArgv: workerExecArgv() });
  const handle: TaskWorker = {
    ready: ready.promise,
    result: result.promise,
    onActive: undefined,
    terminate: async () => {
      await worker.terminate();
    },
  };
  let done = false;
  worker.on('message', (message: WorkerMessage) => {
    if (message.type === 'ready') ready.resolve();
    else if (message.type === 'active') handle.onActive?.();
    else {
      done = true;
      ready.resolve();
      result.resolve(message.result);
    }
  });
  const fail = (error: unknown): void => {
    ready.reject(error);
    result.reject(error);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (!done) fail(new Error(`worker ${task.role} ${task.index}/${task.generation} exited with code ${code} before its result`));
  });
  return handle;
}
