// `hotpath changes` against a real server holding rideshare-like load: ten steady minutes, then
// twenty with eu-north slow in even minutes.
import { startServer, type RunningServer } from '@hotpath/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  foldedOf,
  ingestPathOf,
  RIDESHARE_APP,
  rideshareWindows,
  type RideshareWindow,
} from '../../core/src/testing/rideshare.ts';
import { runCli, runInProcess } from './run-cli.ts';

const MIN = 60_000;
/** An even minute (eu-north starts slow) about twenty minutes ago. */
const T0 = Math.floor((Date.now() - 20 * MIN) / (2 * MIN)) * 2 * MIN;
const HEAD = ['--from', String(T0), '--until', String(T0 + 10 * MIN - 1)];
const STEADY = `${T0 - 20 * MIN}..${T0 - 10 * MIN - 1}`;

let server: RunningServer;

async function push(w: RideshareWindow): Promise<void> {
  const res = await fetch(`${server.url}${ingestPathOf(w)}`, { method: 'POST', body: foldedOf(w) });
  if (res.status !== 200) throw new Error(`ingest: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  server = await startServer({ port: 0, host: '127.0.0.1', store: 'memory', logger: false });
  const windows = [
    ...rideshareWindows({ seed: 1, startMs: T0 - 20 * MIN, durationMs: 10 * MIN, periodS: 0 }),
    ...rideshareWindows({ seed: 7, startMs: T0 - 10 * MIN, durationMs: 20 * MIN, periodS: 60 }),
  ];
  for (let i = 0; i < windows.length; i += 40) await Promise.all(windows.slice(i, i + 40).map(push));
}, 120_000);

afterAll(async () => {
  await server?.close();
});

const changes = (...args: string[]) =>
  runCli(['changes', '--service', RIDESHARE_APP, '--server', server.url, ...HEAD, ...args], {
    timeoutMs: 60_000,
  });

describe('hotpath changes', () => {
  it('names eu-north and mutex_lock first, with a diff link on a fast and a slow eu-north step', async () => {
    // The ten minutes before carry the same load: nothing changed against them, so --fail-on passes.
    const r = await changes('--fail-on', 'changed');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const first = lines.find((l) => l.startsWith(' 1. '))!;
    expect(first).toContain('region=eu-north');
    expect(first).toContain('mutex_lock');
    const link = new URL(lines[lines.indexOf(first) + 1]!.replace('    diff: ', ''));
    expect(link.pathname).toBe('/comparison-diff');
    expect(link.searchParams.get('service')).toBe(RIDESHARE_APP);
    expect(link.searchParams.get('query')).toBe('{region="eu-north"}');
    expect(link.searchParams.get('rightQuery')).toBe('{region="eu-north"}');
    expect(link.searchParams.get('from')).not.toBe(link.searchParams.get('rightFrom'));
  }, 60_000);

  it('--labels vehicle --format json: car first, each finding with its links', async () => {
    const r = await changes('--labels', 'vehicle', '--format', 'json');
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.stdout);
    expect(answer.findings[0]).toMatchObject({ label: 'vehicle', value: 'car' });
    expect(answer.findings[0].links.comparison).toContain('/comparison?');
  }, 60_000);

  it('--fail-on grew: against ten steady minutes mutex_lock grew', async () => {
    const grew = await changes('--baseline', STEADY, '--fail-on', 'grew', '--format', 'markdown');
    expect(grew.code).toBe(1);
    expect(grew.stdout).toMatch(/\| mutex_lock \| grew \|/);
  }, 60_000);

  it('a baseline the data starts in the middle of: nothing compared, and the coverage line says why', async () => {
    // 25..15 minutes before T0 in 100 s slices; the data starts 20 minutes before: 2 full slices of 6.
    const r = await changes('--baseline', `${T0 - 25 * MIN}..${T0 - 15 * MIN - 1}`, '--fail-on', 'changed');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'Coverage: the baseline has representative data in 2 of its 6 slices (the others are empty, hold less ' +
        'than half a typical slice, or follow an empty one: a start): fewer than half, so nothing was compared.',
    );
  }, 60_000);

  it('usage errors exit 2; server rejections exit 1 with the code', async () => {
    const none = await runInProcess(['changes', '--from', 'now-1h', '--server', server.url]);
    expect(none.code).toBe(2);
    const bad = await changes('--baseline', 'yesterday');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid_baseline');
  }, 60_000);
});
