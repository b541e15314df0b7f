// Worker thread of flame-pool.ts: builds flame graphs with core's transforms off the event loop.
// Started as ./flame-worker.mjs: in the sources a shim that loads this file through tsx, in the
// packed build (scripts/pack.mjs) this file compiled.
import { toFlamebearer, toFlamebearerDiff, type Profile } from '@hotpath/core';
import { parentPort } from 'node:worker_threads';

interface BuildRequest {
  readonly id: number;
  readonly left: Profile;
  readonly right?: Profile;
  readonly maxNodes: number;
}

const port = parentPort;
if (port === null) throw new Error('flame-worker runs only as a worker thread');

port.on('message', ({ id, left, right, maxNodes }: BuildRequest) => {
  try {
    const result =
      right === undefined ? toFlamebearer(left, { maxNodes }) : toFlamebearerDiff(left, right, { maxNodes });
    port.postMessage({ id, result });
  } catch (e) {
    port.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});
port.postMessage({ ready: true });
