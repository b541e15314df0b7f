// `hotpath server`: runs the Hotpath server (ingest + query APIs + web UI) until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { STORE_KINDS, startServer, type StoreKind } from '@hotpath/server';
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
  --commit-interval <ms>     group commit interval (default 200) [HOTPATH_COMMIT_INTERVAL_MS]
  --log-level <level>        fatal, error, warn, info (default), debug or silent [HOTPATH_LOG_LEVEL]
  -h, --help                 show this help

Prints "Hotpath listening on http://127.0.0.1:<port>" once it accepts requests.`;

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
          'commit-interval': { type: 'string' },
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
      const running = await startServer({
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
        },
        groupCommit: {
          intervalMs: intOption('commit-interval', opt('commit-interval', 'HOTPATH_COMMIT_INTERVAL_MS'), 200),
        },
        logger: level === 'silent' ? false : { level },
        handleSignals: true,
      });
      process.stdout.write(`Hotpath listening on ${running.url}\n`);
      // Keep running until a signal closes the server (startServer installed the handlers).
      await new Promise<never>(() => {});
      return 0;
    } catch (e) {
      process.stderr.write(`hotpath server: ${(e as Error).message}\n`);
      return 1;
    }
  },
};
