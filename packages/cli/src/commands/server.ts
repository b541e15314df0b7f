// `hotpath server`: runs the Hotpath server (ingest + query APIs + web UI) until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import {
  AUTH_MODES,
  STORE_KINDS,
  startServer,
  type AuthMode,
  type Limits,
  type StoreKind,
} from '@hotpath/server';
import type { Command } from '../command.ts';

const HELP = `Usage: hotpath server [options]

Runs the Hotpath server: the Pyroscope-compatible ingest API (/ingest, Push), the query APIs and
the web UI, on one port.

Options (environment variable in brackets):
  --port <n>                 port to listen on; 0 picks a free one (default 4040) [HOTPATH_PORT]
  --host <addr>              address to bind (default 127.0.0.1; use 0.0.0.0 to accept
                             connections from other machines) [HOTPATH_HOST]
  --data-dir <dir>           directory of the embedded database (default ./data) [HOTPATH_DATA_DIR]
  --store <kind>             duckdb (embedded, default), memory (not durable) or clickhouse
                             [HOTPATH_STORE]
  --clickhouse-url <url>     ClickHouse HTTP URL, e.g. http://127.0.0.1:8123 [HOTPATH_CLICKHOUSE_URL]
  --clickhouse-cluster <c>   ClickHouse cluster for replicated/distributed tables
                             [HOTPATH_CLICKHOUSE_CLUSTER]
  --clickhouse-database <d>  ClickHouse database for Hotpath's tables, created if missing
                             (default hotpath) [HOTPATH_CLICKHOUSE_DATABASE]
  --retention <dur>          drop whole days older than this, e.g. 30d, at start and hourly
                             (duckdb and clickhouse stores) [HOTPATH_RETENTION]
  --accept-window <dur>      accept profiles this far in the past (default 1h), e.g. 30d for
                             backfills; newer-than stays 10m [HOTPATH_ACCEPT_WINDOW]
  --max-series <n>           active series per tenant, 0 = unlimited (default 5000)
                             [HOTPATH_MAX_SERIES]
  --max-tenants <n>          tenants with active series, 0 = unlimited (default 100)
                             [HOTPATH_MAX_TENANTS]
  --max-series-total <n>     active series over all tenants, 0 = unlimited (default 100000)
                             [HOTPATH_MAX_SERIES_TOTAL]
  --ingest-rate-bytes <n>    request bytes per second per tenant, 0 = off (default 134217728)
                             [HOTPATH_INGEST_RATE_BYTES]
  --ingest-burst-bytes <n>   bytes a tenant may send at once (default 536870912)
                             [HOTPATH_INGEST_BURST_BYTES]
  --ingest-rate-profiles <n> profiles per second per tenant, 0 = off (default 10000)
                             [HOTPATH_INGEST_RATE_PROFILES]
  --ingest-burst-profiles <n> profiles a tenant may send at once (default 100000)
                             [HOTPATH_INGEST_BURST_PROFILES]
  --auth <mode>              keys: every API request needs an API key (hotpath keys); none:
                             X-Scope-OrgID picks the tenant. Default: none on a loopback
                             --host, keys otherwise [HOTPATH_AUTH]
  --tls-cert <file>          PEM certificate: serve HTTPS (with --tls-key) [HOTPATH_TLS_CERT]
  --tls-key <file>           PEM private key of --tls-cert [HOTPATH_TLS_KEY]
  --commit-interval <ms>     group commit interval (default 200) [HOTPATH_COMMIT_INTERVAL_MS]
  --query-timeout <dur>      time budget of one query, waiting included (default 30s)
                             [HOTPATH_QUERY_TIMEOUT]
  --max-queries <n>          queries running at once, all tenants (default 8) [HOTPATH_MAX_QUERIES]
  --max-queries-per-tenant <n>  queries running at once per tenant (default 4)
                             [HOTPATH_MAX_QUERIES_PER_TENANT]
  --max-queued-queries <n>   queries waiting per tenant before 429 (default 64)
                             [HOTPATH_MAX_QUEUED_QUERIES]
  --max-query-body <bytes>   read route bodies, before and after gzip (default 1048576)
                             [HOTPATH_MAX_QUERY_BODY]
  --max-json-depth <n>       nesting of JSON bodies (default 64) [HOTPATH_MAX_JSON_DEPTH]
  --max-inflating <bytes>    bytes decompressed at once by all requests, else 503 (default 268435456)
                             [HOTPATH_MAX_INFLATING]
  --request-timeout <dur>    whole request incl. body, else 408 (default 60s) [HOTPATH_REQUEST_TIMEOUT]
  --headers-timeout <dur>    request headers, else 408 (default 10s) [HOTPATH_HEADERS_TIMEOUT]
  --log-level <level>        fatal, error, warn, info (default), debug or silent [HOTPATH_LOG_LEVEL]
  -h, --help                 show this help

Prints "Hotpath listening on http://127.0.0.1:<port>" once it accepts requests (for 0.0.0.0, every
address it can be reached at). With --auth keys and no admin key in the store yet, it creates one and
prints it once.`;

/** Parses `90s`, `30m`, `1h`, `7d`, `2w` or plain milliseconds into ms. */
export function parseDurationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (m === null) throw new Error(`invalid duration '${text}': use e.g. 90s, 30m, 1h, 7d`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[
    (m[2] ?? 'ms') as 'ms'
  ];
  return Number(m[1]) * unit;
}

function intOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw new Error(`--${name} must be a non-negative integer, got '${text}'`);
  return Number(text);
}

/** The bounded-work-per-request limits (limits.ts) given as flags or env; absent → the server's default. */
function boundedWorkLimits(opt: (name: string, envName: string) => string | undefined): Partial<Limits> {
  const out: Record<string, number> = {};
  const int = (flag: string, env: string, field: keyof Limits) => {
    const text = opt(flag, env);
    if (text !== undefined && text !== '') out[field] = intOption(flag, text, 0);
  };
  const dur = (flag: string, env: string, field: keyof Limits) => {
    const text = opt(flag, env);
    if (text !== undefined && text !== '') out[field] = parseDurationMs(text);
  };
  dur('query-timeout', 'HOTPATH_QUERY_TIMEOUT', 'queryTimeoutMs');
  int('max-queries', 'HOTPATH_MAX_QUERIES', 'maxConcurrentQueries');
  int('max-queries-per-tenant', 'HOTPATH_MAX_QUERIES_PER_TENANT', 'maxConcurrentQueriesPerTenant');
  int('max-queued-queries', 'HOTPATH_MAX_QUEUED_QUERIES', 'maxQueuedQueriesPerTenant');
  int('max-query-body', 'HOTPATH_MAX_QUERY_BODY', 'maxQueryBodyBytes');
  int('max-json-depth', 'HOTPATH_MAX_JSON_DEPTH', 'maxJsonDepth');
  int('max-inflating', 'HOTPATH_MAX_INFLATING', 'maxInflatingBytes');
  dur('request-timeout', 'HOTPATH_REQUEST_TIMEOUT', 'requestTimeoutMs');
  dur('headers-timeout', 'HOTPATH_HEADERS_TIMEOUT', 'headersTimeoutMs');
  return out as Partial<Limits>;
}

/** The tenant caps and ingest rate limits (limits.ts) given as flags or env; absent → the server's default. */
function tenantLimits(opt: (name: string, envName: string) => string | undefined): Partial<Limits> {
  const out: Record<string, number> = {};
  const flags: [string, string, keyof Limits][] = [
    ['max-tenants', 'HOTPATH_MAX_TENANTS', 'maxTenants'],
    ['max-series-total', 'HOTPATH_MAX_SERIES_TOTAL', 'maxSeriesTotal'],
    ['ingest-rate-bytes', 'HOTPATH_INGEST_RATE_BYTES', 'ingestBytesPerSecond'],
    ['ingest-burst-bytes', 'HOTPATH_INGEST_BURST_BYTES', 'ingestBurstBytes'],
    ['ingest-rate-profiles', 'HOTPATH_INGEST_RATE_PROFILES', 'ingestProfilesPerSecond'],
    ['ingest-burst-profiles', 'HOTPATH_INGEST_BURST_PROFILES', 'ingestBurstProfiles'],
  ];
  for (const [flag, env, field] of flags) {
    const text = opt(flag, env);
    if (text !== undefined && text !== '') out[field] = intOption(flag, text, 0);
  }
  return out as Partial<Limits>;
}

export const serverCommand: Command = {
  name: 'server',
  summary: 'run the Hotpath server (ingest, query APIs, web UI)',
  async run(argv) {
    let values: Record<string, string | boolean | undefined>;
    try {
      values = parseArgs({
        args: argv,
        options: {
          port: { type: 'string' },
          host: { type: 'string' },
          'data-dir': { type: 'string' },
          store: { type: 'string' },
          'clickhouse-url': { type: 'string' },
          'clickhouse-cluster': { type: 'string' },
          'clickhouse-database': { type: 'string' },
          'accept-window': { type: 'string' },
          retention: { type: 'string' },
          'max-series': { type: 'string' },
          'max-tenants': { type: 'string' },
          'max-series-total': { type: 'string' },
          'ingest-rate-bytes': { type: 'string' },
          'ingest-burst-bytes': { type: 'string' },
          'ingest-rate-profiles': { type: 'string' },
          'ingest-burst-profiles': { type: 'string' },
          auth: { type: 'string' },
          'tls-cert': { type: 'string' },
          'tls-key': { type: 'string' },
          'commit-interval': { type: 'string' },
          'query-timeout': { type: 'string' },
          'max-queries': { type: 'string' },
          'max-queries-per-tenant': { type: 'string' },
          'max-queued-queries': { type: 'string' },
          'max-query-body': { type: 'string' },
          'max-json-depth': { type: 'string' },
          'max-inflating': { type: 'string' },
          'request-timeout': { type: 'string' },
          'headers-timeout': { type: 'string' },
          'log-level': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
      }).values;
    } catch (e) {
      process.stderr.write(`hotpath server: ${(e as Error).message}\n\n${HELP}\n`);
      return 2;
    }
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const env = process.env;
    const opt = (name: string, envName: string): string | undefined =>
      (values[name] as string | undefined) ?? env[envName];
    try {
      const store = (opt('store', 'HOTPATH_STORE') ?? 'duckdb') as StoreKind;
      if (!STORE_KINDS.includes(store))
        throw new Error(`--store must be one of ${STORE_KINDS.join(', ')}, got '${store}'`);
      const window = opt('accept-window', 'HOTPATH_ACCEPT_WINDOW');
      const retention = opt('retention', 'HOTPATH_RETENTION');
      const level = opt('log-level', 'HOTPATH_LOG_LEVEL') ?? 'info';
      const clickhouseUrl = opt('clickhouse-url', 'HOTPATH_CLICKHOUSE_URL');
      const clickhouseCluster = opt('clickhouse-cluster', 'HOTPATH_CLICKHOUSE_CLUSTER');
      const clickhouseDatabase = opt('clickhouse-database', 'HOTPATH_CLICKHOUSE_DATABASE');
      const auth = opt('auth', 'HOTPATH_AUTH');
      if (auth !== undefined && !AUTH_MODES.includes(auth as AuthMode))
        throw new Error(`--auth must be one of ${AUTH_MODES.join(', ')}, got '${auth}'`);
      const tlsCert = opt('tls-cert', 'HOTPATH_TLS_CERT');
      const tlsKey = opt('tls-key', 'HOTPATH_TLS_KEY');
      const running = await startServer({
        ...(auth ? { auth: auth as AuthMode } : {}),
        ...(tlsCert ? { tlsCertFile: tlsCert } : {}),
        ...(tlsKey ? { tlsKeyFile: tlsKey } : {}),
        port: intOption('port', opt('port', 'HOTPATH_PORT'), 4040),
        host: opt('host', 'HOTPATH_HOST') ?? '127.0.0.1',
        store,
        dataDir: opt('data-dir', 'HOTPATH_DATA_DIR') ?? './data',
        ...(clickhouseUrl ? { clickhouseUrl } : {}),
        ...(clickhouseCluster ? { clickhouseCluster } : {}),
        ...(clickhouseDatabase ? { clickhouseDatabase } : {}),
        ...(retention ? { retentionMs: parseDurationMs(retention) } : {}),
        limits: {
          ...(window ? { rejectOlderThanMs: parseDurationMs(window) } : {}),
          maxSeriesPerTenant: intOption('max-series', opt('max-series', 'HOTPATH_MAX_SERIES'), 5000),
          ...tenantLimits(opt),
          ...boundedWorkLimits(opt),
        },
        groupCommit: {
          intervalMs: intOption('commit-interval', opt('commit-interval', 'HOTPATH_COMMIT_INTERVAL_MS'), 200),
        },
        logger: level === 'silent' ? false : { level },
        handleSignals: true,
      });
      // The first line ends with the URL alone: scripts and tests read it from there.
      process.stdout.write(`Hotpath listening on ${running.url}\n`);
      if (running.urls.length > 1 || running.urls[0] !== running.url)
        process.stdout.write(`Reachable at ${running.urls.join(', ')}\n`);
      process.stdout.write(
        running.auth === 'keys'
          ? 'Authentication: API keys (hotpath keys)\n'
          : 'Authentication: none (X-Scope-OrgID picks the tenant)\n',
      );
      for (const w of running.warnings) process.stderr.write(`\nWARNING: ${w}\n\n`);
      if (running.bootstrapKey !== undefined)
        process.stdout.write(
          `No admin API key existed, so Hotpath made one for tenant ${running.bootstrapKey.tenant} ` +
            `(id ${running.bootstrapKey.id}). It is shown only this once:\n${running.bootstrapKey.key}\n` +
            `Use it as HOTPATH_API_KEY for 'hotpath keys create --server ...'.\n`,
        );
      // Keep running until a signal closes the server (startServer installed the handlers).
      await new Promise<never>(() => {});
      return 0;
    } catch (e) {
      process.stderr.write(`hotpath server: ${(e as Error).message}\n`);
      return 1;
    }
  },
};
