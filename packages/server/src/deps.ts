// ServerDeps: what buildServer is given (store, limits, auth mode...). Its own module below app.ts,
// ingest/ and query/, so the paths read it without importing the app that registers them.

import type { GroupCommitOptions } from './ingest/committer.ts';
import type { Limits } from './limits.ts';
import type { Metrics } from './metrics.ts';
import type { AuthMode } from './auth/hook.ts';
import type { Store } from './store/types.ts';

export interface ServerDeps {
  readonly store: Store;
  /** Metrics registry; buildServer creates one when absent. */
  readonly metrics?: Metrics;
  /** ms since epoch; injectable for tests. */
  readonly now?: () => number;
  /** Fastify logger option; false in tests. */
  readonly logger?: boolean | object;
  /** Directory with the built web UI (packages/ui/dist), served at `/` when present. */
  readonly uiDir?: string;
  /** Limits (limits.ts); buildServer resolves the defaults when absent. */
  readonly limits?: Limits;
  /** Group commit timing of the write path. */
  readonly groupCommit?: GroupCommitOptions;
  /** 'keys': every API route needs an API key (auth/); 'none' (default): X-Scope-OrgID picks the tenant. */
  readonly auth?: AuthMode;
  /**
   * Answer only requests whose Host is a loopback name (403 host_forbidden otherwise); main.ts sets it
   * for a server without auth listening on loopback, against DNS rebinding.
   */
  readonly loopbackHostsOnly?: boolean;
  /** PEM certificate and key: the app speaks HTTPS (main.ts listens). */
  readonly https?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}
