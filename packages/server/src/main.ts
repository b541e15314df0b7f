// startServer: opens the store, builds the app and listens. The only place that listens.
// Graceful shutdown (SIGINT/SIGTERM or close()): stop accepting, let in-flight writes finish and
// commit, then close the store.

import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { AUTH_MODES, type AuthMode } from './auth/hook.ts';
import { bootstrapAdminKey, isLoopbackHost, listenUrls, resolveAuthMode } from './auth/startup.ts';
import { buildServer } from './app.ts';
import type { GroupCommitOptions } from './ingest/committer.ts';
import { resolveLimits, type Limits } from './limits.ts';
import { Metrics } from './metrics.ts';
import { configErrors } from './errors.ts';
import { DuckDBStore } from './store/duckdb.ts';
import { openStore, type StoreKind } from './store/index.ts';
import type { Store } from './store/types.ts';

export interface StartOptions {
  /** Default 4040; 0 picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1; 0.0.0.0 listens on every interface. */
  readonly host?: string;
  readonly store?: StoreKind;
  /** duckdb: default ./data */
  readonly dataDir?: string;
  readonly clickhouseUrl?: string;
  readonly clickhouseCluster?: string;
  /** ClickHouse database for Hotpath's tables (default: the store's own default). */
  readonly clickhouseDatabase?: string;
  /**
   * Drop whole UTC days of data older than this, at start and then every hour (ClickHouse store
   * only: it drops day partitions). Undefined keeps everything.
   */
  readonly retentionMs?: number;
  /** Limit overrides, e.g. a wider accept window for backfill. */
  readonly limits?: Partial<Limits>;
  readonly groupCommit?: GroupCommitOptions;
  /** Fastify logger option; default: JSON logs at 'info'. */
  readonly logger?: boolean | object;
  readonly uiDir?: string;
  /** Install SIGINT/SIGTERM handlers that shut down and exit (default false). */
  readonly handleSignals?: boolean;
  readonly now?: () => number;
  /**
   * 'keys' or 'none'. Default: 'none' when `host` is loopback, else 'keys' (a server reachable from
   * other machines never starts open unless told `auth: 'none'`, and then it warns).
   */
  readonly auth?: AuthMode;
  /** PEM files: with both, the server speaks HTTPS. */
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly port: number;
  /** The address listened on, e.g. http://127.0.0.1:4040 or https://0.0.0.0:4040. */
  readonly url: string;
  /** URLs that reach it: `url`, or for 0.0.0.0 / :: one per local interface address. */
  readonly urls: readonly string[];
  readonly auth: AuthMode;
  /** With auth 'keys' and no active admin key in the store: the admin key made at start (shown once). */
  readonly bootstrapKey?: { readonly key: string; readonly id: string; readonly tenant: string };
  /** Things the operator must read, e.g. auth off on a non-loopback address. */
  readonly warnings: readonly string[];
  /** Graceful: in-flight writes finish and commit, then the store closes. Idempotent. */
  close(): Promise<void>;
}

/** A store that can drop whole days (ClickHouse partitions). */
interface DropsDays {
  dropDaysBefore(cutoffMs: number): Promise<number[]>;
}
const dropsDays = (s: Store): s is Store & DropsDays =>
  typeof (s as Partial<DropsDays>).dropDaysBefore === 'function';
const RETENTION_EVERY_MS = 3_600_000;
const DAY_MS = 86_400_000;

export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const kind = opts.store ?? 'duckdb';
  if (opts.retentionMs !== undefined && kind === 'memory') {
    throw configErrors.retentionUnsupported(kind);
  }
  if (opts.retentionMs !== undefined && !(opts.retentionMs >= DAY_MS)) {
    throw configErrors.retentionTooShort(DAY_MS, opts.retentionMs);
  }
  const host = opts.host ?? '127.0.0.1';
  if (opts.auth !== undefined && !AUTH_MODES.includes(opts.auth)) throw configErrors.authConfig(opts.auth);
  const { auth, warnings } = resolveAuthMode(host, opts.auth);
  if ((opts.tlsCertFile === undefined) !== (opts.tlsKeyFile === undefined)) throw configErrors.tlsConfig();
  const https =
    opts.tlsCertFile !== undefined && opts.tlsKeyFile !== undefined
      ? { cert: readFileSync(opts.tlsCertFile), key: readFileSync(opts.tlsKeyFile) }
      : undefined;
  const store = await openStore({
    kind,
    dataDir: opts.dataDir ?? './data',
    ...(opts.clickhouseUrl ? { clickhouseUrl: opts.clickhouseUrl } : {}),
    ...(opts.clickhouseCluster ? { clickhouseCluster: opts.clickhouseCluster } : {}),
    ...(opts.clickhouseDatabase ? { clickhouseDatabase: opts.clickhouseDatabase } : {}),
  });
  const metrics = new Metrics();
  let app: FastifyInstance;
  let bootstrapKey: RunningServer['bootstrapKey'];
  try {
    app = await buildServer({
      store,
      metrics,
      limits: resolveLimits(opts.limits),
      logger: opts.logger ?? { level: 'info' },
      ...(opts.uiDir ? { uiDir: opts.uiDir } : {}),
      ...(opts.groupCommit ? { groupCommit: opts.groupCommit } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      auth,
      loopbackHostsOnly: auth === 'none' && isLoopbackHost(host),
      ...(https ? { https } : {}),
    });
    if (auth === 'keys')
      bootstrapKey = await bootstrapAdminKey(app.hotpathAuth.keys, (opts.now ?? Date.now)());
    await app.listen({ port: opts.port ?? 4040, host });
  } catch (e) {
    await store.close();
    throw e;
  }
  if (store instanceof DuckDBStore) {
    const report = (err: unknown): void =>
      app.log.warn({ err }, 'hourly rollup failed; reads use the raw samples, retrying in 5 minutes');
    store.onRollupError = report;
    if (store.rollupError !== undefined) report(store.rollupError);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (opts.port ?? 4040);
  const { url, urls } = listenUrls(https ? 'https' : 'http', host, port);
  for (const w of warnings) app.log.warn(w);

  let retentionTimer: NodeJS.Timeout | undefined;
  // A pass drops several tables' partitions in turn; close() waits for it so none is left half done.
  let retentionPass: Promise<void> | undefined;
  if (opts.retentionMs !== undefined && dropsDays(store)) {
    const retentionMs = opts.retentionMs;
    const now = opts.now ?? Date.now;
    const enforce = (): void => {
      if (retentionPass !== undefined) return;
      retentionPass = store
        .dropDaysBefore(now() - retentionMs)
        .then(
          (days) => {
            if (days.length > 0) app.log.info({ days, retentionMs }, 'retention: dropped days');
          },
          (err) => app.log.warn({ err }, 'retention: dropping old days failed; will retry in an hour'),
        )
        .finally(() => {
          retentionPass = undefined;
        });
    };
    enforce();
    retentionTimer = setInterval(enforce, RETENTION_EVERY_MS);
    retentionTimer.unref();
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (retentionTimer !== undefined) clearInterval(retentionTimer);
      await retentionPass;
      try {
        await app.close();
      } finally {
        await store.close();
      }
    })();
    return closing;
  };

  if (opts.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      app.log.info({ signal }, 'shutting down');
      close().then(
        () => process.exit(0),
        (e) => {
          app.log.error({ err: e }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  return {
    app,
    store,
    port,
    url,
    urls,
    auth,
    ...(bootstrapKey ? { bootstrapKey } : {}),
    warnings,
    close,
  };
}
