import { parentPort, workerData } from 'node:worker_threads';
import { PAGE_SIZE } from '@hakmem/contracts';
parentPort!.postMessage(PAGE_SIZE + (workerData.data as {x:number}).x);
