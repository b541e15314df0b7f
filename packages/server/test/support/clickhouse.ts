// Starts and stops real clickhouse-server processes for tests and benchmarks: loopback only, free
// ports, a temporary config/data directory, small memory settings. Every server started here is
// killed when the test process exits, also when a test fails before its afterAll ran.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clickHouseError, sqlString, type SqlClient } from '../../src/store/clickhouse/http.ts';

/** The clickhouse-server binary (Debian puts it in /usr/sbin, often not on a user's PATH), or null. */
export function findClickHouseServer(): string | null {
  const candidates = [
    process.env.CLICKHOUSE_SERVER ?? '',
    '/usr/sbin/clickhouse-server',
    '/usr/bin/clickhouse-server',
    '/usr/local/bin/clickhouse-server',
  ];
  for (const c of candidates) if (c !== '' && existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v clickhouse-server'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found !== '' ? found : null;
}

function bindZero(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

// Test files run in parallel processes, each handing ports to servers that bind them later: a
// port is reserved by creating <tmp>/hotpath-test-ports/<port> (atomic), so no two of our servers
// are ever given the same one. Reservations older than an hour are from dead runs.
const RESERVATIONS = join(tmpdir(), 'hotpath-test-ports');

function reserve(port: number): boolean {
  const mark = join(RESERVATIONS, String(port));
  try {
    mkdirSync(mark);
    return true;
  } catch {
    try {
      if (Date.now() - statSync(mark).mtimeMs < 3_600_000) return false;
      rmSync(mark, { recursive: true, force: true });
      mkdirSync(mark);
      return true;
    } catch {
      return false;
    }
  }
}

/** A free TCP port on 127.0.0.1 (bound and released; ClickHouse binds it right after), never one
 * already given to another test server. */
export async function freePort(): Promise<number> {
  mkdirSync(RESERVATIONS, { recursive: true });
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await bindZero();
    if (reserve(port)) return port;
  }
  throw new Error('no free port could be reserved');
}

export interface ClickHousePorts {
  readonly http: number;
  readonly tcp: number;
  readonly interserver: number;
}

export async function allocatePorts(): Promise<ClickHousePorts> {
  const seen = new Set<number>();
  const next = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!seen.has(p)) {
        seen.add(p);
        return p;
      }
    }
  };
  return { http: await next(), tcp: await next(), interserver: await next() };
}

export interface ClickHouseServer {
  readonly url: string;
  readonly ports: ClickHousePorts;
  readonly dir: string;
  /** Kills the server (SIGKILL with `hard`, else SIGTERM then SIGKILL after 10 s) and keeps its data. */
  kill(hard?: boolean): Promise<void>;
  /** Starts it again on the same ports and data (after kill). */
  restart(): Promise<void>;
  /** Kills it and removes its directory. */
  stop(): Promise<void>;
  /** Whether this server (not another on its port) answers now. */
  alive(): Promise<boolean>;
  /** The last lines of its error log. */
  errorLog(): string;
}

export interface StartOptions {
  readonly ports?: ClickHousePorts;
  /** Inner XML of <remote_servers> (cluster definitions). */
  readonly remoteServers?: string;
  /** Inner XML of <macros>. */
  readonly macros?: string;
  /** Inner XML of <zookeeper>. */
  readonly zookeeper?: string;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const p of running) {
      try {
        p.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

function configXml(dir: string, ports: ClickHousePorts, opts: StartOptions): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/server.err.log</errorlog><size>10M</size><count>1</count><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${ports.http}</http_port>
  <tcp_port>${ports.tcp}</tcp_port>
  <interserver_http_port>${ports.interserver}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>33554432</uncompressed_cache_size>
  <max_concurrent_queries>64</max_concurrent_queries>
  <keep_alive_timeout>3</keep_alive_timeout>
  <mlock_executable>false</mlock_executable>
  <remote_servers>${opts.remoteServers ?? ''}</remote_servers>
  ${opts.macros ? `<macros>${opts.macros}</macros>` : ''}
  ${opts.zookeeper ? `<zookeeper>${opts.zookeeper}</zookeeper>` : ''}
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
</yandex>
`;
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles><default>
    <max_memory_usage>800000000</max_memory_usage>
    <max_threads>2</max_threads>
    <background_pool_size>2</background_pool_size>
  </default></profiles>
  <users><default>
    <password></password>
    <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota>
  </default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;

async function ping(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    return r.ok;
  } catch {
    return false;
  }
}

/** The data directory of the ClickHouse answering at url (its identity file), or null. */
async function identity(url: string): Promise<string | null> {
  try {
    const r = await fetch(url, {
      method: 'POST',
      body: "SELECT d FROM file('identity.tsv', 'TSV', 'd String')",
      signal: AbortSignal.timeout(2000),
    });
    return r.ok ? (await r.text()).trim() : null;
  } catch {
    return null;
  }
}

/** Starts a clickhouse-server and resolves when /ping answers (throws with its error log otherwise). */
export async function startClickHouse(opts: StartOptions = {}): Promise<ClickHouseServer> {
  const binary = findClickHouseServer();
  if (binary === null)
    throw new Error(
      'clickhouse-server not found (install the clickhouse-server package or set CLICKHOUSE_SERVER)',
    );
  installExitHook();
  const ports = opts.ports ?? (await allocatePorts());
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-ch-'));
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, 'config.xml'), configXml(dir, ports, opts));
  writeFileSync(join(dir, 'users.xml'), USERS_XML);
  writeFileSync(join(dir, 'user_files', 'identity.tsv'), `${dir}\n`);
  const url = `http://127.0.0.1:${ports.http}`;
  const isOurs = async (): Promise<boolean> => (await identity(url)) === dir;
  const errorLog = (): string =>
    existsSync(join(dir, 'server.err.log'))
      ? readFileSync(join(dir, 'server.err.log'), 'utf8').slice(-3000)
      : '(no error log)';
  let child: ChildProcess | null = null;

  const launch = async (): Promise<void> => {
    const p = spawn(binary, [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: 'ignore' });
    child = p;
    running.add(p);
    let exited = false;
    p.once('exit', () => {
      exited = true;
      running.delete(p);
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (exited) break;
      // Answering is not enough: the answer must come from this server (its own user_files).
      if ((await ping(url)) && (await isOurs())) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    p.kill('SIGKILL');
    throw new Error(
      `clickhouse-server on ${url} did not start${exited ? ' (it exited)' : ' within 60 s'}: ${errorLog()}`,
    );
  };

  const kill = async (hard = false): Promise<void> => {
    const p = child;
    child = null;
    if (p === null || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(hard ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  };

  await launch().catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  return {
    url,
    ports,
    dir,
    kill,
    restart: launch,
    alive: isOurs,
    errorLog,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// chdb: current ClickHouse embedded in the process (npm `chdb`), to check the store's SQL against a
// recent engine as well as Debian's 18.16. RowBinary inserts go through `format(RowBinary, ...)` with
// the bytes as \xHH escapes, since chdb's insert API takes text formats only.

interface ChdbSession {
  queryAsync(query: string, opts?: { format?: string }): Promise<{ bytes(): Uint8Array }>;
  close(): void;
}

/** A SqlClient over a chdb session, or null when chdb cannot load on this machine. */
export async function openChdbClient(path: string): Promise<SqlClient | null> {
  let mod: { Session: new (path?: string) => ChdbSession };
  try {
    mod = (await import('chdb')) as unknown as { Session: new (path?: string) => ChdbSession };
  } catch {
    return null;
  }
  const session = new mod.Session(path);
  const url = `chdb:${path}`;
  const run = async (sql: string): Promise<Buffer> => {
    try {
      const r = await session.queryAsync(sql, { format: 'TabSeparated' });
      return Buffer.from(r.bytes());
    } catch (e) {
      throw clickHouseError(url, 500, (e as Error).message);
    }
  };
  const structures = new Map<string, string>();
  const client: SqlClient = {
    url,
    exec: (sql) => run(sql),
    stream: async (sql, onChunk) => onChunk(await run(sql)),
    jsonRows: async <T>(sql: string): Promise<T[]> => {
      const text = (await run(`${sql} FORMAT JSONEachRow`)).toString('utf8');
      return text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as T);
    },
    insert: async (table, format, data) => {
      let structure = structures.get(table);
      if (structure === undefined) {
        const [db, name] = table.split('.') as [string, string];
        const cols = await client.jsonRows<{ name: string; type: string }>(
          `SELECT name, type FROM system.columns WHERE database = ${sqlString(db)} AND table = ${sqlString(name)} ORDER BY position`,
        );
        structure = cols.map((c) => `${c.name} ${c.type}`).join(', ');
        structures.set(table, structure);
      }
      let escaped = '';
      for (const b of data) escaped += `\\x${b.toString(16).padStart(2, '0')}`;
      await run(
        `INSERT INTO ${table} SELECT * FROM format(${format}, ${sqlString(structure)}, '${escaped}')`,
      );
    },
    ping: async () => {
      await run('SELECT 1');
    },
    close: () => session.close(),
  };
  return client;
}

// ---------------------------------------------------------------------------------------------
// Hotpath server replicas as child processes (`hotpath server`), so a test can SIGKILL one mid-load.

export interface HotpathProcess {
  readonly url: string;
  readonly port: number;
  /** What the process wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** SIGKILL (hard) or SIGTERM, and wait for the exit. */
  kill(hard?: boolean): Promise<void>;
}

const repoRoot = new URL('../../../../', import.meta.url).pathname;

/** Starts `hotpath server --store clickhouse ...` on a free port; resolves once it listens. */
export async function startHotpathServer(args: readonly string[]): Promise<HotpathProcess> {
  installExitHook();
  const port = await freePort();
  const p = spawn(
    process.execPath,
    [
      join(repoRoot, 'packages/cli/bin/hotpath.js'),
      'server',
      '--port',
      String(port),
      '--log-level',
      'warn',
      ...args,
    ],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(p);
  let out = '';
  let err = '';
  p.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  p.stderr!.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-20_000)));
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  void exited.then(() => running.delete(p));
  const deadline = Date.now() + 60_000;
  while (!out.includes('Hotpath listening on')) {
    if (p.exitCode !== null || p.signalCode !== null || Date.now() > deadline) {
      p.kill('SIGKILL');
      throw new Error(
        `hotpath server did not start (exit ${p.exitCode ?? p.signalCode}): ${err.slice(-3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stderr: () => err,
    kill: async (hard = false) => {
      if (p.exitCode !== null || p.signalCode !== null) return;
      p.kill(hard ? 'SIGKILL' : 'SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `<remote_servers>` inner XML: cluster `name` with one shard per node (one replica each). */
export function shardsXml(name: string, nodes: readonly ClickHousePorts[]): string {
  const shards = nodes
    .map((n) => `<shard><replica><host>127.0.0.1</host><port>${n.tcp}</port></replica></shard>`)
    .join('');
  return `<${name}>${shards}</${name}>`;
}

// ---------------------------------------------------------------------------------------------
// ZooKeeper (Debian's `zookeeper` package) for replicated tables and ON CLUSTER DDL.

export interface ZooKeeperServer {
  readonly port: number;
  /** `<zookeeper>` inner XML for a ClickHouse config. */
  readonly clickhouseXml: string;
  stop(): Promise<void>;
}

/** The ZooKeeper jar of the Debian package, or null. */
export function findZooKeeper(): string | null {
  const jar = '/usr/share/java/zookeeper.jar';
  return existsSync(jar) && existsSync('/usr/bin/java') ? jar : null;
}

async function ruok(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.setTimeout(1000, () => s.destroy());
    s.on('connect', () => s.write('ruok'));
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('close', () => resolve(out === 'imok'));
    s.on('error', () => resolve(false));
  });
}

/** Starts a standalone ZooKeeper on a free loopback port with a temporary data dir and a small heap. */
export async function startZooKeeper(): Promise<ZooKeeperServer> {
  const jar = findZooKeeper();
  if (jar === null) throw new Error('zookeeper not found (install the zookeeper package)');
  installExitHook();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-zk-'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(
    join(dir, 'zoo.cfg'),
    [
      `dataDir=${dir}/data`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'tickTime=500',
      'maxClientCnxns=0',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok',
      '',
    ].join('\n'),
  );
  const p = spawn(
    '/usr/bin/java',
    [
      '-Xmx128m',
      '-XX:+UseSerialGC',
      `-Dzookeeper.log.dir=${dir}`,
      '-Dzookeeper.root.logger=WARN,CONSOLE',
      '-cp',
      `/etc/zookeeper/conf:${jar}`,
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      join(dir, 'zoo.cfg'),
    ],
    { cwd: dir, stdio: 'ignore' },
  );
  running.add(p);
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  void exited.then(() => running.delete(p));
  const deadline = Date.now() + 60_000;
  while (!(await ruok(port))) {
    if (p.exitCode !== null || Date.now() > deadline) {
      p.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`zookeeper on 127.0.0.1:${port} did not start`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    port,
    clickhouseXml: `<node><host>127.0.0.1</host><port>${port}</port></node><session_timeout_ms>10000</session_timeout_ms>`,
    stop: async () => {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `<remote_servers>` inner XML: cluster `name` with one shard replicated on every node. */
export function replicasXml(name: string, nodes: readonly ClickHousePorts[]): string {
  const replicas = nodes
    .map((n) => `<replica><host>127.0.0.1</host><port>${n.tcp}</port></replica>`)
    .join('');
  return `<${name}><shard><internal_replication>true</internal_replication>${replicas}</shard></${name}>`;
}
