// Slow clients over a real socket on 127.0.0.1: a request whose headers or body never finish is
// answered 408 and its connection closed (short limits passed as options; nothing asserts a duration).
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/app.ts';
import { resolveLimits } from '../src/limits.ts';
import { openMemoryStore } from '../src/store/memory.ts';

let app: FastifyInstance;
let port: number;
beforeAll(async () => {
  app = await buildServer({
    store: await openMemoryStore(),
    limits: resolveLimits({ headersTimeoutMs: 200, requestTimeoutMs: 400 }),
    logger: false,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
});
afterAll(async () => app.close());

/** Writes `data` and never more; resolves with what the server sent once it closes the connection. */
function sendAndWait(data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(data));
    let received = '';
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

describe('slow clients', () => {
  it('headers that never finish: 408 and the connection is closed', async () => {
    const answer = await sendAndWait('GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a body that never finishes: 408 and the connection is closed', async () => {
    const answer = await sendAndWait(
      'POST /ingest?name=slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\na;b 1\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a client that keeps up is answered', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(res.status).toBe(200);
  });
});
