// B8: flame graph response payload. For synthetic trees of 8 k, 64 k and 1 M nodes, the /render
// flamebearer JSON (and the Connect JSON form, int64 as strings) in bytes per node raw and gzip, and the
// time to parse it in the browser's engine (V8: JSON.parse + decode into the UI's tree) per 100 k nodes.
// Target (BENCHMARKS.md B8): ≤ 12 bytes per node gzip; parse ≤ 20 ms per 100 k nodes.
// Appends to bench/RESULTS.md (B8_DRY=1 prints without recording).
import { cpus, loadavg } from 'node:os';
import { gzipSync } from 'node:zlib';
import { decodeFlamebearer, encodeFlamebearer, type Flamebearer } from '../packages/ui/src/flame/tree.ts';
import { syntheticTree } from '../packages/ui/src/flame/synthetic.ts';
import { machine, record } from './lib/results.ts';

const SIZES = [8_192, 65_536, 1_048_576];
const REPS = 9;

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function spread(xs: number[]): string {
  const s = xs.slice().sort((a, b) => a - b);
  return `${s[0]!.toFixed(1)}–${s.at(-1)!.toFixed(1)}`;
}

const rows: string[] = [];
for (const size of SIZES) {
  const tree = syntheticTree(size);
  const fb = encodeFlamebearer(tree);
  const render = JSON.stringify({
    version: 1,
    flamebearer: fb,
    metadata: { format: 'single', spyName: '', sampleRate: 1_000_000_000, units: 'samples', name: 'cpu' },
    timeline: null,
    groups: null,
    heatmap: null,
  });
  const connect = JSON.stringify({
    flamegraph: {
      names: fb.names,
      levels: fb.levels.map((l) => ({ values: l.map(String) })),
      total: String(fb.numTicks),
      maxSelf: String(fb.maxSelf),
    },
  });
  const nodes = tree.length;
  const gzRender = gzipSync(render, { level: 6 }).length;
  const gzConnect = gzipSync(connect, { level: 6 }).length;
  // Interleave the two parse measurements (render JSON vs Connect JSON) per repetition.
  const parseRender: number[] = [];
  const parseRenderCpu: number[] = [];
  const jsonOnly: number[] = [];
  const parseConnect: number[] = [];
  for (let r = 0; r < REPS; r++) {
    let t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const j = JSON.parse(render) as { flamebearer: Flamebearer };
    jsonOnly.push(((performance.now() - t0) * 100_000) / nodes);
    const t = decodeFlamebearer(j.flamebearer);
    parseRender.push(((performance.now() - t0) * 100_000) / nodes);
    const cpu = process.cpuUsage(cpu0);
    parseRenderCpu.push((((cpu.user + cpu.system) / 1000) * 100_000) / nodes);
    if (t.length !== nodes) throw new Error('decode lost nodes');
    t0 = performance.now();
    const c = JSON.parse(connect) as {
      flamegraph: { names: string[]; levels: { values: string[] }[]; total: string; maxSelf: string };
    };
    const levels = c.flamegraph.levels.map((l) => l.values.map(Number));
    decodeFlamebearer({
      names: c.flamegraph.names,
      levels,
      numTicks: Number(c.flamegraph.total),
      maxSelf: Number(c.flamegraph.maxSelf),
    });
    parseConnect.push(((performance.now() - t0) * 100_000) / nodes);
  }
  const perNodeGz = gzRender / nodes;
  const line =
    `| ${nodes.toLocaleString('en-US')} | render JSON | ${(render.length / nodes).toFixed(1)} | ${perNodeGz.toFixed(2)} | ${perNodeGz <= 12 ? 'met' : 'not met'} | ` +
    `${median(parseRender).toFixed(1)} (${spread(parseRender)}) | ${median(parseRenderCpu).toFixed(1)} (${spread(parseRenderCpu)}) | ${median(jsonOnly).toFixed(1)} | ${median(parseRender) <= 20 ? 'met' : 'not met'} (CPU: ${median(parseRenderCpu) <= 20 ? 'met' : 'not met'}) |\n` +
    `| ${nodes.toLocaleString('en-US')} | Connect JSON | ${(connect.length / nodes).toFixed(1)} | ${(gzConnect / nodes).toFixed(2)} | ${gzConnect / nodes <= 12 ? 'met' : 'not met'} | ` +
    `${median(parseConnect).toFixed(1)} (${spread(parseConnect)}) | – | – | ${median(parseConnect) <= 20 ? 'met' : 'not met'} |`;
  console.log(line);
  rows.push(line);
}

const commit = machine().commit;
const section = `
## B8 flame graph payload — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}

Synthetic trees (seed 42, depth 8-48, CPU values in ns), encoded as /pyroscope/render flamebearer JSON and
as Connect SelectMergeStacktraces JSON; gzip level 6; parse = JSON.parse + decode into the UI's FlameTree
in Node ${process.version} (V8, as in Chromium), median of ${REPS} (min–max); the JSON.parse share is listed
apart; CPU = this process's user+system CPU time for the same work (less sensitive to other processes
on a shared machine). Load average during the run: ${loadavg()
  .map((l) => l.toFixed(1))
  .join(' / ')} on ${cpus().length} cores (shared machine).
Target: ≤ 12 B/node gzip, parse ≤ 20 ms / 100 k nodes.

| nodes | encoding | bytes/node raw | bytes/node gzip | size target | parse ms / 100 k nodes (wall) | parse CPU ms / 100 k nodes | of which JSON.parse (wall) | parse target |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
record(section, 'B8_DRY');
