// Replication on one machine: ZooKeeper (Debian's package) and two ClickHouse servers holding one
// shard as two replicas. A Hotpath replica on the first node creates the schema ON CLUSTER
// (ReplicatedMergeTree on both nodes); its writes reach the second node by ClickHouse replication.
// The first node is then killed: a Hotpath replica on the second node still answers every profile
// written so far and goes on accepting writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allocatePorts,
  findClickHouseServer,
  findZooKeeper,
  replicasXml,
  startClickHouse,
  startHotpathServer,
  startZooKeeper,
  type ClickHouseServer,
  type HotpathProcess,
  type ZooKeeperServer,
} from './support/clickhouse.ts';
import { PY_CPU, pprofOf } from './support/pprof.ts';
import { KeyRing } from '../src/auth/keys.ts';
import { ClickHouseStore } from '../src/store/clickhouse.ts';

const CLUSTER = 'hotpath_replicated';

async function push(base: string, i: number, nowS: number): Promise<Response> {
  const name = encodeURIComponent(`replicated{region="r${i % 3}"}`);
  return fetch(`${base}/ingest?name=${name}&format=pprof&from=${nowS}&until=${nowS + 10}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: pprofOf(`main;push_${i} 1`, { timeMs: nowS * 1000 }),
  });
}

/** Names of the frames under `main` in the merged flame graph. */
async function pushedFrames(base: string, nowS: number): Promise<string[]> {
  const q = encodeURIComponent(`${PY_CPU.id}{service_name="replicated"}`);
  const res = await fetch(
    `${base}/pyroscope/render?query=${q}&from=${nowS - 60}&until=${nowS + 60}&format=json&max-nodes=100000`,
  );
  expect(res.status, await res.clone().text()).toBe(200);
  const fb = ((await res.json()) as { flamebearer: { names: string[] } }).flamebearer;
  return fb.names.filter((n) => n.startsWith('push_')).sort();
}

async function sql(server: ClickHouseServer, query: string): Promise<string> {
  const r = await fetch(server.url, { method: 'POST', body: query });
  const text = await r.text();
  if (!r.ok) throw new Error(text);
  return text.trim();
}

const available = findClickHouseServer() !== null && findZooKeeper() !== null;
describe.skipIf(!available)(
  'replication: one shard on two ClickHouse replicas with ZooKeeper (skipped without clickhouse-server and zookeeper)',
  () => {
    let zk: ZooKeeperServer | undefined;
    let ch: ClickHouseServer[] = [];
    const hotpath: HotpathProcess[] = [];
    const nowS = Math.floor(Date.now() / 1000);
    const args = (c: ClickHouseServer) => [
      '--store',
      'clickhouse',
      '--clickhouse-url',
      c.url,
      '--clickhouse-cluster',
      CLUSTER,
      '--commit-interval',
      '100',
    ];

    beforeAll(async () => {
      zk = await startZooKeeper();
      const ports = [await allocatePorts(), await allocatePorts()];
      const remoteServers = replicasXml(CLUSTER, ports);
      ch = await Promise.all(
        ports.map((p, i) =>
          startClickHouse({
            ports: p,
            remoteServers,
            zookeeper: zk!.clickhouseXml,
            macros: `<shard>01</shard><replica>r${i + 1}</replica>`,
          }),
        ),
      );
      // A node has been seen answering at start and gone moments later on a crowded machine: say why
      // (its error log) and start it again, at most twice, before giving up.
      for (let attempt = 1; ; attempt++) {
        try {
          hotpath.push(await startHotpathServer(args(ch[0]!)));
          break;
        } catch (e) {
          const down = [];
          for (const c of ch) if (!(await c.alive())) down.push(c);
          const logs = down
            .map((c) => `${c.url} is down; its error log ends with:\n${c.errorLog()}`)
            .join('\n');
          if (attempt >= 3 || down.length === 0) throw new Error(`${(e as Error).message}\n${logs}`);
          process.stderr.write(
            `cluster-replicated: attempt ${attempt} failed, restarting ${down.length} ClickHouse node(s)\n${logs}\n`,
          );
          for (const c of down) {
            await c.kill(true);
            await c.restart();
          }
        }
      }
    }, 180_000);

    afterAll(async () => {
      for (const h of hotpath) await h.kill().catch(() => {});
      for (const c of ch) await c.stop().catch(() => {});
      await zk?.stop();
    }, 60_000);

    it('creates Replicated tables on every node ON CLUSTER and replicates the writes', async () => {
      // The second node was never contacted by Hotpath: its tables came by distributed DDL.
      expect(
        await sql(
          ch[1]!,
          "SELECT engine FROM system.tables WHERE database = 'hotpath' AND name = 'samples_local'",
        ),
      ).toBe('ReplicatedMergeTree');
      expect(
        await sql(
          ch[1]!,
          "SELECT engine FROM system.tables WHERE database = 'hotpath' AND name = 'samples_1h_local'",
        ),
      ).toBe('ReplicatedSummingMergeTree');
      for (let i = 0; i < 30; i++) expect((await push(hotpath[0]!.url, i, nowS)).status).toBe(200);
      // The Distributed insert wrote each block to one replica of the shard; replication copies it to
      // the other asynchronously: wait until both nodes hold all 30 profiles (bounded by the timeout).
      const counts = () =>
        Promise.all(ch.map(async (c) => Number(await sql(c, 'SELECT count() FROM hotpath.samples_local'))));
      while ((await counts()).some((n) => n < 30)) await new Promise((r) => setTimeout(r, 200));
      expect(await counts()).toEqual([30, 30]);
      for (const c of ch) expect(Number(await sql(c, 'SELECT count() FROM hotpath.profiles_local'))).toBe(30);
    }, 120_000);

    it('an API key made and revoked through one node is seen, then refused, through the other', async () => {
      const [a, b] = ch.map((c) => new ClickHouseStore({ url: c.url, cluster: CLUSTER }));
      await a!.init();
      await b!.init();
      try {
        const made = await new KeyRing(a!).create('acme', 'write', 'replicated', Date.now());
        // Replication is asynchronous: wait for the other replica (bounded by the test timeout).
        const onB = () => b!.apiKeyByHash(made.record.hash);
        while ((await onB()) === undefined) await new Promise((r) => setTimeout(r, 200));
        let tick = 0;
        const ringB = new KeyRing(b!, () => ++tick, 0); // no caching: each lookup reads the store
        expect((await ringB.lookup(made.key))?.tenant).toBe('acme');
        expect(await a!.revokeApiKey(made.record.id, Date.now())).toBe(true);
        while ((await onB())!.revokedMs === 0) await new Promise((r) => setTimeout(r, 200));
        expect(await ringB.lookup(made.key)).toBeUndefined();
      } finally {
        await a!.close();
        await b!.close();
      }
    }, 60_000);

    it('with the first node dead, a Hotpath replica on the second answers everything and accepts writes', async () => {
      await ch[0]!.kill(true);
      hotpath.push(await startHotpathServer(args(ch[1]!)));
      const b = hotpath[1]!.url;
      expect(await pushedFrames(b, nowS)).toEqual(Array.from({ length: 30 }, (_, i) => `push_${i}`).sort());
      for (let i = 30; i < 40; i++) {
        const res = await push(b, i, nowS);
        expect(res.status, await res.clone().text()).toBe(200);
      }
      expect(await pushedFrames(b, nowS)).toEqual(Array.from({ length: 40 }, (_, i) => `push_${i}`).sort());
    }, 120_000);
  },
);
