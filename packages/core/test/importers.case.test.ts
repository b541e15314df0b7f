// The importer case suite: every importer runs the same checks over every valid fixture.
//   - the registry recognises the fixture, and the same bytes named "unknown" import the same;
//   - import → export (same format) → import gives the same folded text and totals;
//   - totals match what the fixture holds; no negative values; the model's invariants hold;
//   - the fixture's own sniffer claims it and no other sniffer does.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  SNIFFERS,
  encodePprof,
  exportFolded,
  exportSpeedscope,
  exportTree,
  exportTrie,
  gunzipCapped,
  importFolded,
  importProfile,
  importSpeedscope,
  importTree,
  importTrie,
  isGzip,
  sniffHead,
  totalValue,
  type Profile,
} from '../src/index.ts';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

interface Case {
  file: string;
  format: string;
  /** Totals per imported profile, in order (from the fixture's own numbers, e.g. `go tool pprof -top`). */
  totals: number[];
  /** Exports with the format's own exporter and imports the result again. */
  roundTrip: (profiles: readonly Profile[]) => readonly Profile[];
}

const pprofRoundTrip = (ps: readonly Profile[]) => importProfile(encodePprof(ps)).profiles;
// The lines format has no exporter of its own: its round trip goes through folded text.
const foldedRoundTrip = (ps: readonly Profile[]) =>
  ps.flatMap((p) => importFolded(new TextEncoder().encode(exportFolded(p))).profiles);
const speedscopeRoundTrip = (ps: readonly Profile[]) =>
  ps.flatMap((p) => importSpeedscope(new TextEncoder().encode(exportSpeedscope(p))).profiles);
const trieRoundTrip = (ps: readonly Profile[]) => ps.flatMap((p) => importTrie(exportTrie(p)).profiles);
const treeRoundTrip = (ps: readonly Profile[]) => ps.flatMap((p) => importTree(exportTree(p)).profiles);

const CASES: Case[] = [
  // Totals cross-checked with go-cpu.top.txt / go-heap.*.top.txt (see pprof.test.ts).
  { file: 'go-cpu.pb.gz', format: 'pprof', totals: [150, 1_500_000_000], roundTrip: pprofRoundTrip },
  {
    file: 'go-heap.pb.gz',
    format: 'pprof',
    totals: [41_995, 60_507_979, 18_559, 9_515_254],
    roundTrip: pprofRoundTrip,
  },
  { file: 'node-wall.pb.gz', format: 'pprof', totals: [782, 1_542_886_000], roundTrip: pprofRoundTrip },
  { file: 'node-heap.pb.gz', format: 'pprof', totals: [355_814, 18_446_438], roundTrip: pprofRoundTrip },
  { file: 'edge-deep.pb', format: 'pprof', totals: [10], roundTrip: pprofRoundTrip },
  { file: 'sample.folded', format: 'folded', totals: [105], roundTrip: foldedRoundTrip },
  { file: 'edge-deep.folded', format: 'folded', totals: [10], roundTrip: foldedRoundTrip },
  { file: 'sample.lines', format: 'lines', totals: [5], roundTrip: foldedRoundTrip },
  // 10+20+5+5 ms and 100 µs, in nanoseconds.
  {
    file: 'sample-sampled.speedscope.json',
    format: 'speedscope',
    totals: [40_000_000],
    roundTrip: speedscopeRoundTrip,
  },
  {
    file: 'sample-evented.speedscope.json',
    format: 'speedscope',
    totals: [100_000],
    roundTrip: speedscopeRoundTrip,
  },
  { file: 'sample.trie', format: 'trie', totals: [35], roundTrip: trieRoundTrip },
  { file: 'sample.tree', format: 'tree', totals: [38], roundTrip: treeRoundTrip },
];

function checkInvariants(p: Profile): void {
  const { stacks, frames, samples } = p;
  for (let s = 0; s < stacks.length; s++) {
    expect(stacks.parent[s]!).toBeLessThan(s);
    expect(stacks.frame[s]!).toBeGreaterThanOrEqual(0);
    expect(stacks.frame[s]!).toBeLessThan(frames.length);
  }
  expect(p.sampleLabelSets[0]).toEqual([]);
  for (let i = 0; i < samples.length; i++) {
    expect(samples.stack[i]!).toBeGreaterThanOrEqual(0);
    expect(samples.stack[i]!).toBeLessThan(stacks.length);
    expect(samples.labelSet[i]!).toBeLessThan(p.sampleLabelSets.length);
  }
}

describe.each(CASES)('importer case: $file ($format)', (c) => {
  const bytes = fixture(c.file);
  const imported = importProfile(bytes);

  it('is recognised as its format and imports the same when named "unknown"', () => {
    expect(imported.format).toBe(c.format);
    const again = importProfile(bytes, { filename: 'unknown' });
    expect(again.profiles.map(exportFolded)).toEqual(imported.profiles.map(exportFolded));
  });

  it('holds the totals of the fixture, with no negative value', () => {
    expect(imported.profiles.map(totalValue)).toEqual(c.totals);
    for (const p of imported.profiles) {
      expect(p.samples.value.every((v) => v >= 0)).toBe(true);
      checkInvariants(p);
    }
  });

  it('round trips through its exporter: same folded text, same totals', () => {
    const back = c.roundTrip(imported.profiles);
    expect(back.map(exportFolded)).toEqual(imported.profiles.map(exportFolded));
    expect(back.map(totalValue)).toEqual(c.totals);
    expect(exportFolded(imported.profiles[0]!)).not.toBe('');
  });

  it('is claimed by its own sniffer only', () => {
    const inner = isGzip(bytes) ? gunzipCapped(bytes) : bytes;
    const claims = SNIFFERS.filter(([, sniff]) => sniff(sniffHead(inner))).map(([name]) => name);
    expect(claims).toEqual([c.format]);
  });
});
