// Exports of a flame tree: folded text, speedscope JSON, flamebearer JSON and gzip pprof. Pure
// (bytes/strings out); the download itself happens in the component.
import { ProfileBuilder, encodePprofGzip, parseProfileTypeId, makeProfileType } from '@hotpath/core';
import { encodeFlamebearer, treeToFolded, type FlameTree } from './tree.ts';

export { treeToFolded as exportFolded };

/** Speedscope file (https://www.speedscope.app/file-format-schema.json): one sampled profile of the tree's stacks. */
export function exportSpeedscope(tree: FlameTree, name: string, unit: string): string {
  const frames = tree.names.map((n) => ({ name: n }));
  const samples: number[][] = [];
  const weights: number[] = [];
  for (let i = 1; i < tree.length; i++) {
    if (tree.self[i]! <= 0) continue;
    const stack: number[] = [];
    for (let n = i; n > 0; n = tree.parent[n]!) stack.push(tree.name[n]!);
    samples.push(stack.reverse());
    weights.push(tree.self[i]!);
  }
  const speedscopeUnit = unit === 'nanoseconds' || unit === 'bytes' ? unit : 'none';
  return JSON.stringify({
    $schema: 'https://www.speedscope.app/file-format-schema.json',
    shared: { frames },
    profiles: [
      {
        type: 'sampled',
        name,
        unit: speedscopeUnit,
        startValue: 0,
        endValue: tree.numTicks,
        samples,
        weights,
      },
    ],
    name,
    exporter: 'hotpath',
  });
}

/** Flamebearer JSON in the /pyroscope/render envelope. */
export function exportFlamebearer(tree: FlameTree, name: string, units: string): string {
  return JSON.stringify({
    version: 1,
    flamebearer: encodeFlamebearer(tree),
    metadata: { format: 'single', spyName: '', sampleRate: 100, units, name },
    timeline: null,
    groups: null,
    heatmap: null,
  });
}

/** gzip pprof of the tree's stacks (one sample per stack with self > 0) for the given profile type. */
export function exportPprof(tree: FlameTree, profileTypeId: string): Uint8Array {
  const type = parseProfileTypeId(profileTypeId) ?? makeProfileType('unknown', 'samples', 'count');
  const b = new ProfileBuilder([type], { period: 0 });
  const frameOf = tree.names.map((n) => b.frame(n));
  const stackOf = new Int32Array(tree.length).fill(-1);
  for (let i = 1; i < tree.length; i++) {
    stackOf[i] = b.stack(stackOf[tree.parent[i]!]!, frameOf[tree.name[i]!]!);
    if (tree.self[i]! > 0) b.sample(stackOf[i]!, [tree.self[i]!]);
  }
  return encodePprofGzip(b.build());
}

/** A file name like flamegraph_2026-11-25T23-05-00 with an extension. */
export function exportFileName(kind: string, ext: string, date = new Date()): string {
  return `${kind}_${date.toISOString().slice(0, 19).replace(/:/g, '-')}.${ext}`;
}
