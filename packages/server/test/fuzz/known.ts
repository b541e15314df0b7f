// The fuzz servers and their known-good data: written before a run, read back after it, so a run
// that "only" returned 4xx but lost or corrupted stored data still fails.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/app.ts';
import { openDuckDBStore } from '../../src/store/duckdb.ts';
import { openMemoryStore } from '../../src/store/memory.ts';
import { FUZZ_NOW_MS } from './harness.ts';
import { KNOWN_SERVICE, KNOWN_SPAN_ID } from './families.ts';
import { pprofOf } from '../support/pprof.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
/** A tenant no fuzz case names, so its data must come back exactly as written. */
const CHECK_TENANT = 'fuzz-check';

export interface FuzzServer {
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

export async function openFuzzServer(backend: 'memory' | 'duckdb' = 'memory'): Promise<FuzzServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-fuzz-'));
  const store = backend === 'memory' ? await openMemoryStore() : await openDuckDBStore({ dataDir });
  const app = await buildServer({
    store,
    now: () => FUZZ_NOW_MS,
    groupCommit: { intervalMs: 2 },
    uiDir: join(dataDir, 'no-ui'),
  });
  await app.ready();
  return {
    app,
    async close() {
      await app.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Folded input; /ingest multiplies counts by 1e9 / sampleRate (100) into nanoseconds. */
const KNOWN_FOLDED = 'main;serve;parse 3\nmain;serve;write 5\nmain;gc 2';
const KNOWN_EXPECTED: Record<string, number> = {
  'main;serve;parse': 30_000_000,
  'main;serve;write': 50_000_000,
  'main;gc': 20_000_000,
};

async function ingestKnown(app: FastifyInstance, service: string, tenant: string): Promise<void> {
  const from = FUZZ_NOW_MS / 1000;
  const res = await app.inject({
    method: 'POST',
    url: `/ingest?name=${service}&from=${from}&until=${from + 10}`,
    headers: { 'content-type': 'text/plain', 'x-scope-orgid': tenant },
    payload: KNOWN_FOLDED,
  });
  if (res.statusCode !== 200) throw new Error(`known-good ingest answered ${res.statusCode}: ${res.body}`);
}

/** Writes the known profile for the shared tenant (selectors match it) and for the check tenant. */
export async function writeKnown(app: FastifyInstance): Promise<void> {
  await ingestKnown(app, KNOWN_SERVICE, 'anonymous');
  await ingestKnown(app, KNOWN_SERVICE, CHECK_TENANT);
  // Samples of a span, so span selectors, exemplars and /api/spans have something to find.
  const spans = await app.inject({
    method: 'POST',
    url: `/ingest?name=${KNOWN_SERVICE}&format=pprof`,
    payload: pprofOf(
      `main;serve;parse 4 {span_id=${KNOWN_SPAN_ID},span_name=GET /,trace_id=${'ab'.repeat(16)}}`,
      {
        timeMs: FUZZ_NOW_MS,
      },
    ),
  });
  if (spans.statusCode !== 200)
    throw new Error(`known span ingest answered ${spans.statusCode}: ${spans.body}`);
}

/** Flamebearer levels (x-delta, total, self, name index) → folded stacks with their self values. */
export function foldedOfFlamebearer(fb: { names: string[]; levels: number[][] }): Record<string, number> {
  const out: Record<string, number> = {};
  let parents: { x: number; total: number; path: string }[] = [];
  for (const [depth, level] of fb.levels.entries()) {
    const nodes: { x: number; total: number; path: string }[] = [];
    let x = 0;
    for (let i = 0; i < level.length; i += 4) {
      x += level[i]!;
      const total = level[i + 1]!;
      const self = level[i + 2]!;
      const name = fb.names[level[i + 3]!]!;
      const parent = parents.find((p) => x >= p.x && x < p.x + p.total);
      const path = depth === 0 ? '' : parent && parent.path !== '' ? `${parent.path};${name}` : name;
      nodes.push({ x, total, path });
      if (self > 0 && depth > 0) out[path] = (out[path] ?? 0) + self;
      x += total;
    }
    parents = nodes;
  }
  return out;
}

async function renderFolded(
  app: FastifyInstance,
  service: string,
  tenant: string,
): Promise<Record<string, number>> {
  const query = encodeURIComponent(`${CPU}{service_name="${service}"}`);
  const res = await app.inject({
    method: 'GET',
    url: `/pyroscope/render?query=${query}&from=${FUZZ_NOW_MS - 3_600_000}&until=${FUZZ_NOW_MS + 3_600_000}`,
    headers: { 'x-scope-orgid': tenant },
  });
  if (res.statusCode !== 200) throw new Error(`known-good render answered ${res.statusCode}: ${res.body}`);
  return foldedOfFlamebearer(res.json().flamebearer);
}

const canonical = (f: Record<string, number>): string => JSON.stringify(Object.entries(f).sort());

/**
 * After a run: /ready answers, the check tenant's profile is exactly what was written, and a new
 * ingest + query round trip returns exactly its data. Returns the problems found ([] when none).
 */
export async function checkKnown(app: FastifyInstance): Promise<string[]> {
  const problems: string[] = [];
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  if (ready.statusCode !== 200) problems.push(`/ready answered ${ready.statusCode} after the run`);
  const before = await renderFolded(app, KNOWN_SERVICE, CHECK_TENANT);
  if (canonical(before) !== canonical(KNOWN_EXPECTED))
    problems.push(`data written before the run came back as ${JSON.stringify(before)}`);
  await ingestKnown(app, 'fuzz-after', CHECK_TENANT);
  const after = await renderFolded(app, 'fuzz-after', CHECK_TENANT);
  if (canonical(after) !== canonical(KNOWN_EXPECTED))
    problems.push(`a round trip after the run came back as ${JSON.stringify(after)}`);
  return problems;
}
