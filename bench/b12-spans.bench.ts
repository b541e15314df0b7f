// B12 (span part): what span profiles cost. The B4 data shape (one service, 10 s profiles of ~1,000
// samples drawn from a pool of stacks) for B12_HOURS (default 1) written twice through the real write
// path (buildServer + POST /ingest?format=pprof, gzip bodies, group commit) into DuckDB: once plain,
// once with every sample in a span (pprof sample labels span_id + span_name, 100 k distinct spans per
// hour, random 64-bit ids). Records bytes on disk per sample of both, then the latency of
// SelectMergeSpanProfile (one span over the whole range), GET /api/spans and, for comparison,
// SelectMergeStacktraces on each store.
// Run: `make bench B=b12-spans` (B12_DRY=1 prints without recording).

import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodePprof, makeProfileType, ProfileBuilder } from '@hotpath/core';
import { buildServer } from '../packages/server/src/app.ts';
import { resolveLimits } from '../packages/server/src/limits.ts';
import { openDuckDBStore } from '../packages/server/src/store/duckdb.ts';
import { loadAverage, machine, record } from './lib/results.ts';
import { rng } from './lib/rng.ts';

const HOURS = Number(process.env.B12_HOURS ?? 1);
const SPANS_PER_HOUR = 100_000;
const STEP_S = 10;
const SAMPLES = 1000;
const POOL = 3000;
const REPS = 30;
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const SELECTOR = '{service_name="ride-sharing-app"}';

interface Data {
  /** gzip pprof bodies, one per profile, in time order. */
  readonly bodies: Buffer[];
  readonly samples: number;
  /** Span ids written (16 hex), empty for the plain data. */
  readonly spanIds: string[];
}

/** The B4 shape; with spans, profile i holds spans [i·k, (i+1)·k) and each sample takes one of them. */
function dataOf(profiles: number, withSpans: boolean): Data {
  const r = rng(12);
  const type = makeProfileType('process_cpu', 'cpu', 'nanoseconds', 'cpu', 'nanoseconds');
  const paths = Array.from({ length: POOL }, () => {
    const depth = 15 + Math.floor(r() * 21);
    return [0, ...Array.from({ length: depth - 1 }, () => 1 + Math.floor(r() * 399))];
  });
  const spansPerProfile = Math.ceil((SPANS_PER_HOUR * STEP_S) / 3600);
  const hex16 = () =>
    Array.from({ length: 2 }, () =>
      Math.floor(r() * 2 ** 32)
        .toString(16)
        .padStart(8, '0'),
    ).join('');
  const spanIds: string[] = [];
  const names = ['GET /car', 'GET /bike', 'GET /scooter', 'POST /order'];
  const bodies: Buffer[] = [];
  let samples = 0;
  for (let p = 0; p < profiles; p++) {
    const b = new ProfileBuilder([type], { durationNs: STEP_S * 1e9, period: 10_000_000 });
    const fns = Array.from({ length: 400 }, (_, i) =>
      b.frame(`rideshare.module_${i % 30}.function_${i}`, `/srv/rideshare/module_${i % 30}.py`),
    );
    const sets = withSpans
      ? Array.from({ length: spansPerProfile }, (_, k) => {
          const id = hex16();
          spanIds.push(id);
          return b.labelSet([
            { name: 'span_id', value: id },
            { name: 'span_name', value: names[k % names.length]! },
          ]);
        })
      : [];
    const chosen = new Set<number>();
    while (chosen.size < SAMPLES) chosen.add(Math.floor(POOL * r() ** 2));
    for (const i of chosen) {
      const value = (1 + Math.floor(-Math.log(1 - r()) * 3)) * 10_000_000;
      const set = withSpans ? sets[Math.floor(r() * sets.length)]! : 0;
      b.sample(b.stackOf(paths[i]!.map((f) => fns[f]!)), [value], set);
    }
    bodies.push(gzipSync(encodePprof(b.build())));
    samples += chosen.size;
  }
  return { bodies, samples, spanIds };
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

interface Run {
  readonly bytes: number;
  readonly samples: number;
  readonly ingestS: number;
  /** ms per request, REPS each: span profile, span listing, whole-service flame graph. */
  readonly spanProfileMs: number[];
  readonly listMs: number[];
  readonly mergeMs: number[];
}

async function run(data: Data, startMs: number, endMs: number): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-b12-'));
  const open = () => openDuckDBStore({ dataDir, rollupEveryMs: 0 });
  let store = await open();
  const limits = resolveLimits({ rejectOlderThanMs: (HOURS + 1) * 3_600_000, maxSeriesPerTenant: 0 });
  let app = await buildServer({ store, limits, groupCommit: { intervalMs: 200 } });
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < data.bodies.length) {
        const i = next++;
        const fromS = (startMs + i * STEP_S * 1000) / 1000;
        const res = await app.inject({
          method: 'POST',
          url: `/ingest?name=ride-sharing-app{region=eu-north}&format=pprof&spyName=pyspy&from=${fromS}&until=${fromS + STEP_S}`,
          payload: data.bodies[i]!,
        });
        if (res.statusCode !== 200) throw new Error(`ingest ${i} failed: ${res.statusCode} ${res.body}`);
      }
    }),
  );
  const ingestS = (performance.now() - t0) / 1000;
  await app.close();
  await store.close();
  const bytes = dirBytes(dataDir);

  // Reopened, as a server reads after a restart: timings of the read path.
  store = await open();
  app = await buildServer({ store, limits });
  const range = { profileTypeID: CPU, labelSelector: SELECTOR, start: startMs, end: endMs };
  const timed = async (payload: () => { url: string; body?: unknown }): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const { url, body } = payload();
      const t = performance.now();
      const res = await app.inject({
        method: body === undefined ? 'GET' : 'POST',
        url,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, payload: body }),
      });
      out.push(performance.now() - t);
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    }
    return out;
  };
  const r = rng(99);
  const spanProfileMs =
    data.spanIds.length === 0
      ? []
      : await timed(() => ({
          url: '/querier.v1.QuerierService/SelectMergeSpanProfile',
          body: { ...range, spanSelector: [data.spanIds[Math.floor(r() * data.spanIds.length)]!] },
        }));
  const listMs =
    data.spanIds.length === 0
      ? []
      : await timed(() => ({
          url: `/api/spans?query=${encodeURIComponent(SELECTOR)}&profileType=${CPU}&from=${startMs}&until=${endMs}&limit=50`,
        }));
  const mergeMs = await timed(() => ({
    url: '/querier.v1.QuerierService/SelectMergeStacktraces',
    body: range,
  }));
  await app.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
  return { bytes, samples: data.samples, ingestS, spanProfileMs, listMs, mergeMs };
}

async function main(): Promise<void> {
  const loadBefore = loadAverage(' / ');
  const profiles = (HOURS * 3600) / STEP_S;
  const endMs = Math.floor(Date.now() / 10_000) * 10_000;
  const startMs = endMs - HOURS * 3_600_000;
  console.error(`B12: generating ${profiles} profiles twice`);
  const plainData = dataOf(profiles, false);
  const spanData = dataOf(profiles, true);
  console.error('B12: plain store');
  const plain = await run(plainData, startMs, endMs);
  console.error('B12: store with spans');
  const spans = await run(spanData, startMs, endMs);
  const loadAfter = loadAverage(' / ');
  const perSample = (x: Run) => x.bytes / x.samples;
  const more = perSample(spans) - perSample(plain);
  const ms = (xs: number[]) => `${quantile(xs, 0.5).toFixed(1)} / ${quantile(xs, 0.95).toFixed(1)}`;
  const m = machine();
  const spanP50 = quantile(spans.spanProfileMs, 0.5);
  record(
    [
      '',
      `## B12 span profiles (storage and query): ${m.date}, commit ${m.commit}, ${m.cores} × ${m.cpu}, Node ${process.version}`,
      '',
      `The B4 shape for ${HOURS} h (${profiles.toLocaleString('en')} profiles of 10 s, ${plain.samples.toLocaleString('en')} samples, ~${SAMPLES} distinct stacks each from a pool of ${POOL.toLocaleString('en')}), written twice through the real write path into DuckDB: plain, and with every sample in a span (sample labels span_id + span_name; ${spanData.spanIds.length.toLocaleString('en')} distinct random 64-bit span ids, ~${Math.round(SAMPLES / Math.ceil((SPANS_PER_HOUR * STEP_S) / 3600))} samples per span). Sizes after a clean close; queries over the whole range on the reopened store, ${REPS} each (span profile: one random span per request). Load average (1 / 5 / 15 min) ${loadBefore} before, ${loadAfter} after, on a machine shared with other work.`,
      '',
      '| data | total bytes | bytes / sample | ingest s | SelectMergeSpanProfile ms p50 / p95 | GET /api/spans (50) ms p50 / p95 | SelectMergeStacktraces ms p50 / p95 |',
      '|---|---|---|---|---|---|---|',
      `| plain | ${plain.bytes.toLocaleString('en')} | ${perSample(plain).toFixed(2)} | ${plain.ingestS.toFixed(0)} | – | – | ${ms(plain.mergeMs)} |`,
      `| spans | ${spans.bytes.toLocaleString('en')} | ${perSample(spans).toFixed(2)} | ${spans.ingestS.toFixed(0)} | ${ms(spans.spanProfileMs)} | ${ms(spans.listMs)} | ${ms(spans.mergeMs)} |`,
      '',
      `Span ids cost **${more.toFixed(2)} B/sample** more (target ≤ 1: **${more <= 1 ? 'met' : 'not met'}**); a span profile takes **${spanP50.toFixed(1)} ms** at the median (target < 100 ms: **${spanP50 < 100 ? 'met' : 'not met'}**). "Bytes / sample" includes the dictionaries, the profiles and spans tables and DuckDB's block overhead, which ${HOURS} h amortises less than B4's 24 h.`,
      '',
    ].join('\n'),
    'B12_DRY',
  );
}

await main();
