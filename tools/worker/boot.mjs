// Worker bootstrap: registers tsx's loader in this worker, then imports the real
// TypeScript entry named in workerData.__entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__entry);
