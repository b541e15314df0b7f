import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './app.ts';
import { openMemoryStore } from './store/memory.ts';

/** Sends raw bytes to 127.0.0.1:port and resolves with everything the server answered. */
function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (c) => chunks.push(c));
    // The server closes after its answer; a reset while we still write is fine once we have it.
    socket.on('error', (e) => (chunks.length > 0 ? resolve(Buffer.concat(chunks).toString()) : reject(e)));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

function parse(response: string): { status: number; headers: string; body: any } {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: JSON.parse(body) };
}

describe('requests rejected by the HTTP parser get coded JSON bodies (real socket)', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await buildServer({ store: await openMemoryStore(), logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app.close();
  });

  it('an oversized name (URL over the header limit) is a 431 header_too_large with the limit', async () => {
    const name = `app{k=${'v'.repeat(64 * 1024)}}`;
    const res = parse(
      await exchange(port, `POST /ingest?name=${name} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`),
    );
    expect(res.status).toBe(431);
    expect(res.headers).toContain('content-type: application/json');
    expect(res.body).toMatchObject({ code: 'resource_exhausted', error: 'header_too_large', limit: 16384 });
  });

  it('bytes that are not HTTP are a 400 malformed_request', async () => {
    const res = parse(await exchange(port, 'NOT HTTP AT ALL\r\n\r\n'));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_argument', error: 'malformed_request' });
  });

  it('the server keeps answering afterwards', async () => {
    const res = await exchange(port, 'GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res).toMatch(/^HTTP\/1.1 200/);
  });
});

describe('a method and path no route answers get a coded 404', () => {
  it('OPTIONS on a write route, POST /ready, a stray path, a malformed UI path', async () => {
    const app = await buildServer({ store: await openMemoryStore(), logger: false });
    try {
      for (const [method, url] of [
        ['OPTIONS', '/ingest'],
        ['POST', '/ready'],
        ['POST', '//render'],
        ['DELETE', `/a${'/a'.repeat(500)}`],
      ] as const) {
        const res = await app.inject({ method, url });
        expect(res.statusCode, `${method} ${url}`).toBe(404);
        expect(res.json(), `${method} ${url}`).toMatchObject({
          code: 'not_found',
          error: 'not_found',
          method,
        });
        expect(res.json().message.length).toBeLessThan(300);
      }
      const bad = await app.inject({ method: 'GET', url: '/%E0%A4%A' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: 'malformed_path' });
    } finally {
      await app.close();
    }
  });
});
