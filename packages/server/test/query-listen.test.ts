// The read path over a real socket: app.listen on 127.0.0.1 (free port) + fetch, as Grafana and
// the UI call it (binary Connect with application/proto; JSON render).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { decodeFlameGraphResponse, encodeSelectRequest } from '../src/query/messages.ts';
import { CPU, HOUR, NOW, serverWith } from './query-helpers.ts';

describe('read path over HTTP', () => {
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    ({ app } = await serverWith([
      { labels: { service_name: 'ride' }, timeMs: NOW - 60_000, folded: ['a;b;e 1', 'a;c 2', 'a;c;d 1'] },
    ]));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(async () => {
    await app.close();
  });

  it('GET /pyroscope/render', async () => {
    const q = encodeURIComponent(`${CPU}{service_name="ride"}`);
    const res = await fetch(`${base}/pyroscope/render?query=${q}&from=${NOW - HOUR}&until=${NOW}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { flamebearer: { names: string[]; numTicks: number } };
    expect(body.flamebearer.names).toEqual(['total', 'a', 'c', 'd', 'b', 'e']);
    expect(body.flamebearer.numTicks).toBe(4);
  });

  it('POST SelectMergeStacktraces as binary proto', async () => {
    const res = await fetch(`${base}/querier.v1.QuerierService/SelectMergeStacktraces`, {
      method: 'POST',
      headers: { 'content-type': 'application/proto' },
      body: encodeSelectRequest({ profileTypeId: CPU, labelSelector: '{}', start: NOW - HOUR, end: NOW }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/proto');
    const fg = decodeFlameGraphResponse(new Uint8Array(await res.arrayBuffer()))!;
    expect(fg.levels).toEqual([
      [0, 4, 0, 0],
      [0, 4, 0, 1],
      [0, 1, 0, 4, 0, 3, 2, 2],
      [0, 1, 1, 5, 2, 1, 1, 3],
    ]);
    expect(fg.maxSelf).toBe(2);
  });

  it('gzip request bodies are accepted', async () => {
    const { gzipSync } = await import('node:zlib');
    const res = await fetch(`${base}/querier.v1.QuerierService/LabelValues`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ name: 'service_name', start: NOW - HOUR, end: NOW })),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ names: ['ride'] });
  });
});

describe('startServer options', () => {
  it('refuses --retention on a store that cannot drop days, and a retention under a day', async () => {
    const { startServer } = await import('../src/main.ts');
    await expect(
      startServer({ port: 0, store: 'memory', retentionMs: 7 * 86_400_000, logger: false }),
    ).rejects.toMatchObject({
      code: 'retention_unsupported',
      details: { store: 'memory' },
    });
    await expect(
      startServer({
        port: 0,
        store: 'clickhouse',
        clickhouseUrl: 'http://127.0.0.1:1',
        retentionMs: 3_600_000,
        logger: false,
      }),
    ).rejects.toMatchObject({
      code: 'retention_too_short',
      details: { limit: 86_400_000, actual: 3_600_000 },
    });
  });

  it('--retention on the embedded store deletes the days older than it, at start', async () => {
    const { startServer } = await import('../src/main.ts');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-retention-'));
    const day = 86_400_000;
    const nowS = Math.floor(Date.now() / 1000);
    const common = { port: 0, store: 'duckdb' as const, dataDir, logger: false };
    const served = async (running: { url: string }): Promise<string[]> => {
      const q = new URLSearchParams({
        query: `${CPU}{service_name="keep"}`,
        from: String((nowS - 6 * 86_400) * 1000),
        until: String((nowS + 60) * 1000),
      });
      const res = await fetch(`${running.url}/pyroscope/render?${q}`);
      const body = (await res.json()) as {
        flamebearer: { names: string[] };
      };
      expect(res.status, JSON.stringify(body)).toBe(200);
      return body.flamebearer.names.filter((n) => n.startsWith('age_')).sort();
    };
    try {
      const writer = await startServer({ ...common, limits: { rejectOlderThanMs: 30 * day } });
      try {
        for (const ageS of [5 * 86_400, 60]) {
          const res = await fetch(
            `${writer.url}/ingest?name=keep.cpu&format=folded&from=${nowS - ageS}&until=${nowS - ageS + 10}`,
            { method: 'POST', body: `main;age_${ageS} 3\n` },
          );
          expect(res.status).toBe(200);
        }
        expect(await served(writer)).toEqual(['age_432000', 'age_60']);
      } finally {
        await writer.close();
      }
      // The pass starts with the server; close() waits for it, so this start-and-stop is enough.
      const pruner = await startServer({ ...common, retentionMs: 2 * day });
      await pruner.close();
      const reader = await startServer(common);
      try {
        expect(await served(reader)).toEqual(['age_60']);
      } finally {
        await reader.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
