// Worker entry: runs the TypeScript file named in workerData.script through tsx (Node 20
// workers do not inherit the parent's --import loaders). The Worker is started with
// execArgv ['--conditions=@hakmem/source'], so workspace packages resolve to their src/.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.script, import.meta.url);
