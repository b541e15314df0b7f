// B12 (what changed): hotpath.v1.ChangesService/WhatChanged over 1 h against the hour before, on two
// hours of rideshare-like load (3 regions × 3 vehicles, one 10 s window each, eu-north slow in even
// minutes) pushed through /ingest into an in-process server (buildServer) with the embedded DuckDB
// store and with the memory store. Target < 500 ms. Also the noise check of the engine: on two ten-
// minute ranges of unchanged load (200 seeds, both load shapes) how often anything is reported as
// changed (also with a baseline the service started in, or restarted in), and on steady load how
// often slow periods are reported. Run: `make bench B=b12-changes`
// (B12C_DRY=1: no record).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { whatChanged } from '@hotpath/core';
import {
  foldedOf,
  ingestPathOf,
  memoryChangeSource,
  NS_PER_SAMPLE,
  RIDESHARE_APP,
  rideshareWindows,
} from '../packages/core/src/testing/rideshare.ts';
import { buildServer } from '../packages/server/src/app.ts';
import { resolveLimits } from '../packages/server/src/limits.ts';
import { openDuckDBStore } from '../packages/server/src/store/duckdb.ts';
import { openMemoryStore } from '../packages/server/src/store/memory.ts';
import type { Store } from '../packages/server/src/store/types.ts';
import { loadAverage, machine, record } from './lib/results.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const RUNS = 7;
const SEEDS = Number(process.env.B12C_SEEDS ?? 200);

async function timeStore(
  kind: string,
  store: Store,
  dir: string,
): Promise<{ kind: string; ms: number[]; first: string }> {
  const app = await buildServer({
    store,
    limits: resolveLimits({ rejectOlderThanMs: 100 * 365 * 86_400_000 }),
    now: () => T0 + HOUR,
    groupCommit: { intervalMs: 2 },
    uiDir: join(dir, 'no-ui'),
  });
  await app.ready();
  const windows = rideshareWindows({ seed: 7, startMs: T0 - HOUR, durationMs: 2 * HOUR, periodS: 60 });
  for (let i = 0; i < windows.length; i += 64)
    await Promise.all(
      windows.slice(i, i + 64).map(async (w) => {
        const res = await app.inject({
          method: 'POST',
          url: ingestPathOf(w),
          payload: foldedOf(w),
          headers: { 'content-type': 'text/plain' },
        });
        if (res.statusCode !== 200) throw new Error(`ingest ${res.statusCode}: ${res.body}`);
      }),
    );
  const body = JSON.stringify({
    profileTypeId: 'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
    labelSelector: `{service_name="${RIDESHARE_APP}"}`,
    start: String(T0),
    end: String(T0 + HOUR - 1),
    baseline: 'previous',
  });
  const ms: number[] = [];
  let first = '';
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    const res = await app.inject({
      method: 'POST',
      url: '/hotpath.v1.ChangesService/WhatChanged',
      payload: body,
      headers: { 'content-type': 'application/json' },
    });
    ms.push(performance.now() - t);
    if (res.statusCode !== 200) throw new Error(`WhatChanged ${res.statusCode}: ${res.body}`);
    first = (res.json() as { findings?: { text: string }[] }).findings?.[0]?.text ?? '(none)';
  }
  await app.close();
  await store.close();
  return { kind, ms, first };
}

/** Imports in a process's first window, per series (4 s of CPU): what a start adds to a baseline. */
const STARTUP_SAMPLES = 400;
const SLICE = 100_000;

/**
 * Steady unchanged load whose process starts `startsAfterMs` into the ten-minute baseline, or runs
 * from its start, stops at 200 s and starts again at 300 s (one empty slice, then a restart).
 */
function partialBaseline(seed: number, kind: 'starts at 240 s' | 'starts at 440 s' | 'restarts at 300 s') {
  const from = T0 - 10 * MIN;
  const to = T0 + 10 * MIN;
  const run = (s: number, start: number, end: number, startup: boolean) =>
    rideshareWindows({
      seed: s,
      startMs: start,
      durationMs: end - start,
      periodS: 0,
      ...(startup ? { startupSamples: STARTUP_SAMPLES } : {}),
    });
  if (kind === 'restarts at 300 s')
    return [...run(seed, from, from + 2 * SLICE, false), ...run(seed + 1e6, from + 3 * SLICE, to, true)];
  return run(seed, from + (kind === 'starts at 240 s' ? 2.4 : 4.4) * SLICE, to, true);
}

const PARTIAL = ['starts at 240 s', 'starts at 440 s', 'restarts at 300 s'] as const;

async function falsePositives(): Promise<{
  changed: Record<string, number>;
  periods: number;
  thresholds: string;
}> {
  const changed: Record<string, number> = { 'eu-north swinging': 0, steady: 0 };
  for (const k of PARTIAL) changed[k] = 0;
  let periods = 0;
  let thresholds = '';
  const head = { startMs: T0, endMs: T0 + 10 * MIN - 1 };
  const base = { startMs: T0 - 10 * MIN, endMs: T0 - 1 };
  for (let seed = 1; seed <= SEEDS; seed++) {
    for (const [shape, periodS] of [
      ['eu-north swinging', 60],
      ['steady', 0],
    ] as const) {
      const src = memoryChangeSource(
        rideshareWindows({ seed, startMs: T0 - 10 * MIN, durationMs: 20 * MIN, periodS }),
      );
      const r = await whatChanged(src, head, base, {
        valuePerSample: NS_PER_SAMPLE,
        labels: periodS === 0 ? undefined : [],
      });
      if (r.grew.length + r.shrank.length > 0 || r.totalChange !== null) changed[shape]!++;
      if (periodS === 0 && r.periods.length > 0) periods++;
      thresholds = `z ≥ ${r.thresholds.minZ}, share change ≥ ${r.thresholds.minShareDelta * 100} points, ≥ ${r.thresholds.minSamples} samples`;
    }
    for (const k of PARTIAL) {
      const r = await whatChanged(memoryChangeSource(partialBaseline(seed, k)), head, base, {
        valuePerSample: NS_PER_SAMPLE,
        labels: [],
      });
      if (r.grew.length + r.shrank.length > 0 || r.totalChange !== null) changed[k]!++;
    }
  }
  return { changed, periods, thresholds };
}

const m = machine();
const load = loadAverage();
const dir = mkdtempSync(join(tmpdir(), 'hotpath-b12c-'));
try {
  const results = [
    await timeStore('duckdb', await openDuckDBStore({ dataDir: join(dir, 'duckdb') }), dir),
    await timeStore('memory', await openMemoryStore(), dir),
  ];
  const fp = await falsePositives();
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const lines = [
    `## B12 what changed over 1 h vs the hour before: ${m.date}, commit ${m.commit}, ${m.cores} × ${m.cpu.split(' ').slice(0, 2).join(' ')}, Node ${process.version}, load average ${load}`,
    '',
    `Two hours of rideshare-like load (9 series, one 10 s window each: ${2 * 360 * 9} profiles) pushed through /ingest; WhatChanged (baseline previous, labels region and vehicle found by itself) ${RUNS} times in process. Target < 500 ms.`,
    '',
    '| store | median | min | max | first finding |',
    '|---|---|---|---|---|',
    ...results.map((r) => {
      const s = sorted(r.ms);
      return `| ${r.kind} | ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms | ${s[0]!.toFixed(0)} ms | ${s[s.length - 1]!.toFixed(0)} ms | ${r.first} |`;
    }),
    '',
    `Noise (engine over the same load in memory, ${SEEDS} seeds each, thresholds ${fp.thresholds}, 6 slices per side): ` +
      `ten minutes against the ten before with unchanged load reported a change in ${fp.changed['eu-north swinging']}/${SEEDS} runs (eu-north swinging) ` +
      `and ${fp.changed.steady}/${SEEDS} (steady); slow periods reported on steady load in ${fp.periods}/${SEEDS} runs. ` +
      `Steady load whose baseline the service started in (each start's first window adds ${STARTUP_SAMPLES} samples of imports per series; 100 s slices): ` +
      PARTIAL.map((k) => `${k}: ${fp.changed[k]}/${SEEDS}`).join(', ') +
      ' runs reported a change.',
    '',
  ];
  record(lines.join('\n') + '\n', 'B12C_DRY');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
