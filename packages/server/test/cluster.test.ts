// Scale-out on one machine: two ClickHouse servers (one shard each) behind a Distributed table, two
// stateless `hotpath server` replicas (one per ClickHouse node). A push client writes through both;
// one replica is SIGKILLed mid-load (its clients fail over to the other, as behind a load balancer);
// every acknowledged profile must be in the merged flame graph, and both replicas must answer the
// same flame graph. Then a ClickHouse node goes down: ingest and queries answer 503 with Retry-After,
// and recover by themselves when it is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allocatePorts,
  findClickHouseServer,
  shardsXml,
  startClickHouse,
  startHotpathServer,
  type ClickHouseServer,
  type HotpathProcess,
} from './support/clickhouse.ts';
import { PY_CPU, pprofOf } from './support/pprof.ts';

const CLUSTER = 'hotpath_test';
const REGIONS = ['eu-north', 'eu-south', 'us-east', 'us-west', 'ap-south', 'ap-east'];
const PUSHES = 240;

interface Flamebearer {
  names: string[];
  levels: number[][];
  numTicks: number;
}

/** Value per frame name at depth 2 (under `main`): each push wrote frame `push_<i>` with value 1. */
function pushTotals(fb: Flamebearer): Map<string, number> {
  const out = new Map<string, number>();
  const level = fb.levels[2] ?? [];
  for (let i = 0; i < level.length; i += 4)
    out.set(fb.names[level[i + 3]!]!, (out.get(fb.names[level[i + 3]!]!) ?? 0) + level[i + 1]!);
  return out;
}

async function push(base: string, i: number, nowS: number): Promise<Response> {
  const region = REGIONS[i % REGIONS.length]!;
  const name = encodeURIComponent(`rideshare{region="${region}"}`);
  return fetch(`${base}/ingest?name=${name}&format=pprof&from=${nowS}&until=${nowS + 10}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: pprofOf(`main;push_${i} 1`, { timeMs: nowS * 1000 }),
  });
}

async function render(base: string, fromS: number, untilS: number): Promise<Response> {
  const q = encodeURIComponent(`${PY_CPU.id}{service_name="rideshare"}`);
  return fetch(
    `${base}/pyroscope/render?query=${q}&from=${fromS}&until=${untilS}&format=json&max-nodes=100000`,
  );
}

async function sql(server: ClickHouseServer, query: string): Promise<string> {
  const r = await fetch(server.url, { method: 'POST', body: query });
  const text = await r.text();
  if (!r.ok) throw new Error(text);
  return text.trim();
}

const binary = findClickHouseServer();
describe.skipIf(binary === null)(
  'scale-out: two ClickHouse shards, two Hotpath replicas (skipped without clickhouse-server)',
  () => {
    let ch: ClickHouseServer[] = [];
    let replicas: HotpathProcess[] = [];
    let replicaArgs: string[][] = [];
    const nowS = Math.floor(Date.now() / 1000);

    beforeAll(async () => {
      const ports = [await allocatePorts(), await allocatePorts()];
      const remoteServers = shardsXml(CLUSTER, ports);
      ch = await Promise.all(ports.map((p) => startClickHouse({ ports: p, remoteServers })));
      replicaArgs = ch.map((c) => [
        '--store',
        'clickhouse',
        '--clickhouse-url',
        c.url,
        '--clickhouse-cluster',
        CLUSTER,
        '--commit-interval',
        '100',
      ]);
      replicas = await Promise.all(replicaArgs.map((a) => startHotpathServer(a)));
    }, 180_000);

    afterAll(async () => {
      for (const r of replicas) await r.kill().catch(() => {});
      for (const c of ch) await c.stop().catch(() => {});
    }, 60_000);

    it('loses no acknowledged profile when a replica is killed mid-load; both replicas answer the same flame graph', async () => {
      const acked = new Set<number>();
      const ackedBy = [0, 0];
      let failovers = 0;
      let lastError = '';
      let next = 0;
      let killed = false;
      const worker = async (): Promise<void> => {
        for (;;) {
          const i = next++;
          if (i >= PUSHES) return;
          // Mid-load: a third of the pushes started and the victim has acknowledged some of them (on a
          // starved machine it may be slow to answer its first requests).
          if (!killed && i >= PUSHES / 3 && ackedBy[1]! >= 10) {
            killed = true;
            await replicas[1]!.kill(true);
          }
          // Alternate replicas; a refused or reset connection fails over to the other (a load balancer's job).
          const order = i % 2 === 0 ? [0, 1] : [1, 0];
          for (const r of order) {
            let res: Response;
            try {
              res = await push(replicas[r]!.url, i, nowS);
            } catch (e) {
              if (!killed) lastError = String((e as Error).cause ?? e);
              failovers++;
              continue;
            }
            expect(res.status, await res.clone().text()).toBe(200);
            ackedBy[r]!++;
            acked.add(i);
            break;
          }
        }
      };
      await Promise.all(Array.from({ length: 6 }, worker));
      expect(
        killed,
        `acked by replica: ${ackedBy.join(', ')}; failovers ${failovers}; ${lastError}; replica 2 stderr: ${replicas[1]!.stderr().slice(-2000)}`,
      ).toBe(true);
      expect(acked.size).toBe(PUSHES);
      // Both replicas took writes, and clients of the killed one failed over.
      expect(
        ackedBy[1],
        `${lastError}; replica 2 stderr: ${replicas[1]!.stderr().slice(-2000)}`,
      ).toBeGreaterThan(0);
      expect(ackedBy[0]).toBeGreaterThan(ackedBy[1]!);
      expect(failovers).toBeGreaterThan(0);

      // The killed replica comes back (stateless: same arguments, nothing to recover).
      replicas[1] = await startHotpathServer(replicaArgs[1]!);

      const answers: Flamebearer[] = [];
      for (const r of replicas) {
        const res = await render(r.url, nowS - 60, nowS + 60);
        expect(res.status).toBe(200);
        answers.push(((await res.json()) as { flamebearer: Flamebearer }).flamebearer);
      }
      expect(answers[1]).toEqual(answers[0]);
      const totals = pushTotals(answers[0]!);
      const missing = [...acked].filter((i) => (totals.get(`push_${i}`) ?? 0) < 1);
      expect(missing).toEqual([]);
      expect(answers[0]!.numTicks).toBeGreaterThanOrEqual(PUSHES);

      // The samples really are spread over both shards.
      for (const c of ch)
        expect(Number(await sql(c, 'SELECT count() FROM hotpath.samples_local'))).toBeGreaterThan(0);
      const perShard = await Promise.all(ch.map((c) => sql(c, 'SELECT count() FROM hotpath.samples_local')));
      expect(perShard.map(Number).reduce((a, b) => a + b, 0)).toBe(
        Number(await sql(ch[0]!, 'SELECT count() FROM hotpath.samples')),
      );
    }, 180_000);

    it('answers 503 with Retry-After while a ClickHouse node is down and recovers when it is back', async () => {
      await ch[1]!.kill(true);
      // Six regions hash to both shards: some push lands on the dead one.
      let unavailable: Response | undefined;
      for (let i = 0; i < REGIONS.length && unavailable === undefined; i++) {
        const res = await push(replicas[0]!.url, 10_000 + i, nowS);
        if (res.status === 503) unavailable = res;
        else expect(res.status).toBe(200);
      }
      expect(unavailable?.status).toBe(503);
      expect(unavailable!.headers.get('retry-after')).not.toBeNull();
      const q = await render(replicas[0]!.url, nowS - 60, nowS + 60);
      expect(q.status).toBe(503);
      expect(await q.text()).toContain('ClickHouse');

      await ch[1]!.restart();
      // Distributed connections to the restarted node are re-established on their own: retry until a
      // push and a query succeed (bounded by the test timeout, not asserted on time).
      for (;;) {
        const pushes = await Promise.all(REGIONS.map((_, i) => push(replicas[0]!.url, 20_000 + i, nowS)));
        const res = await render(replicas[1]!.url, nowS - 60, nowS + 60);
        if (pushes.every((p) => p.status === 200) && res.status === 200) break;
        await new Promise((r) => setTimeout(r, 500));
      }
    }, 180_000);
  },
);
