// Worker entry (JavaScript: Node 20 starts no worker on a .ts file). Registers tsx's
// loader in this thread (on Node 20, tsx's `--import` registers it in the main thread
// only; threads.ts leaves that flag out of the worker's options), then runs worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
