import { Worker, type WorkerOptions } from 'node:worker_threads';

const boot = new URL('./boot.mjs', import.meta.url);

/**
 * Starts a worker_threads Worker on a TypeScript file. The worker registers tsx's
 * loader first and resolves workspace packages to their source (the "@hakmem/source"
 * export condition), so it runs the same code as the test that started it.
 * The entry's own data is `workerData.data`.
 */
export function tsWorker(file: URL, options: WorkerOptions & { data?: unknown } = {}): Worker {
  const { data, ...rest } = options;
  return new Worker(boot, {
    ...rest,
    workerData: { __entry: file.href, data },
    execArgv: ['--conditions=@hakmem/source', ...(rest.execArgv ?? [])],
  });
}
