import { expect, test } from 'vitest';
import { tsWorker } from './ts-worker.js';
test('a TS worker resolves workspace packages to source', async () => {
  const w = tsWorker(new URL('./_probe.ts', import.meta.url), { data: { x: 1 } });
  const v = await new Promise((res, rej) => { w.once('message', res); w.once('error', rej); });
  await w.terminate();
  expect(v).toBe(65537);
});
