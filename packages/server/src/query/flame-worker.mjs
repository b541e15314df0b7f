// Worker thread of flame-pool.ts: builds flame graphs with core's transforms off the event loop. Plain
// JavaScript that loads the TypeScript sources through tsx's loader, as packages/cli/bin/hotpath.js does.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { toFlamebearer, toFlamebearerDiff } = await import('@hotpath/core');

parentPort.on('message', ({ id, left, right, maxNodes }) => {
  try {
    const result =
      right === undefined ? toFlamebearer(left, { maxNodes }) : toFlamebearerDiff(left, right, { maxNodes });
    parentPort.postMessage({ id, result });
  } catch (e) {
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
parentPort.postMessage({ ready: true });
