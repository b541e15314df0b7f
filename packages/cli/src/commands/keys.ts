// `hotpath keys create|list|revoke`: manages API keys, either through a running server's admin API
// (--server, admin key in HOTPATH_API_KEY) or directly in a store no server holds (--data-dir for
// DuckDB, which allows one process per file; --store clickhouse works next to running servers).
import {
  API_KEY_SCOPES,
  KeyRing,
  openStore,
  parseScope,
  publicKey,
  KEYS_PATH,
  STORE_KINDS,
  type StoreKind,
} from '@hotpath/server';
import {
  choice,
  CliError,
  requireString,
  runCommand,
  UsageError,
  type CommandSpec,
  type ParsedArgs,
} from '../args.ts';
import type { Command } from '../command.ts';
import { httpRequest } from './query.ts';

const ACTIONS = ['create', 'list', 'revoke'] as const;
type Action = (typeof ACTIONS)[number];

interface KeyView {
  id: string;
  tenant: string;
  scope: string;
  name: string;
  createdMs: number;
  revokedMs: number;
}

const spec: CommandSpec = {
  name: 'keys',
  summary: 'Create, list and revoke API keys (for servers started with --auth keys).',
  positionals: ['<create|list|revoke>', '[id]'],
  options: {
    server: {
      type: 'string',
      value: 'URL',
      help: 'manage the keys of this running server (admin API key in HOTPATH_API_KEY)',
    },
    url: { type: 'string', value: 'URL', help: 'same as --server' },
    'data-dir': {
      type: 'string',
      value: 'DIR',
      help: 'manage the keys in this DuckDB data dir directly (no server may be running on it)',
    },
    store: {
      type: 'string',
      value: 'KIND',
      help: `store for offline use: ${STORE_KINDS.join(', ')}`,
      default: 'duckdb',
    },
    'clickhouse-url': { type: 'string', value: 'URL', help: 'ClickHouse HTTP URL (--store clickhouse)' },
    'clickhouse-cluster': { type: 'string', value: 'NAME', help: 'ClickHouse cluster (--store clickhouse)' },
    'clickhouse-database': { type: 'string', value: 'DB', help: 'ClickHouse database (--store clickhouse)' },
    tenant: { type: 'string', value: 'ID', help: 'create: the tenant the key belongs to' },
    scope: {
      type: 'string',
      value: 'SCOPE',
      help: `create: ${API_KEY_SCOPES.join(', ')} (admin also reads and writes)`,
    },
    name: { type: 'string', value: 'TEXT', help: 'create: a note, e.g. what uses the key' },
    json: { type: 'boolean', help: 'list: print JSON' },
  },
  details: `create prints the key once on stdout (details on stderr); only its SHA-256 is stored.

Examples:
  hotpath keys create --data-dir ./data --tenant ops --scope admin     # before the first start
  HOTPATH_API_KEY=hp_... hotpath keys create --server http://127.0.0.1:4040 --tenant shop --scope write
  HOTPATH_API_KEY=hp_... hotpath keys list --server http://127.0.0.1:4040
  HOTPATH_API_KEY=hp_... hotpath keys revoke 3f2a9c0d1e4b5a67 --server http://127.0.0.1:4040`,
};

/** The three operations, over HTTP or on a store. */
interface KeyTarget {
  create(tenant: string, scope: string, name: string): Promise<KeyView & { key: string }>;
  list(): Promise<KeyView[]>;
  revoke(id: string): Promise<void>;
  close(): Promise<void>;
}

function httpTarget(args: ParsedArgs, server: string): KeyTarget {
  if (!/^https?:\/\/[^/]+/.test(server))
    throw new UsageError(`--server must be an http(s) URL, not '${server}'`);
  const base = server.replace(/\/+$/, '');
  // --tenant names the new key's tenant here, not the request's: no X-Scope-OrgID.
  const requestArgs: ParsedArgs = { ...args, values: { ...args.values, tenant: undefined } };
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await httpRequest(requestArgs, `${base}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) {
      const hint =
        res.status === 401
          ? ' (set HOTPATH_API_KEY to an admin key)'
          : res.status === 403
            ? ' (the key needs the admin scope)'
            : '';
      throw new CliError(`server answered ${res.status}${hint}: ${text.slice(0, 500)}`);
    }
    return JSON.parse(text);
  };
  return {
    create: async (tenant, scope, name) =>
      (await call('POST', KEYS_PATH, { tenant, scope, name })) as KeyView & { key: string },
    list: async () => ((await call('GET', KEYS_PATH)) as { keys: KeyView[] }).keys,
    revoke: async (id) => {
      await call('DELETE', `${KEYS_PATH}/${encodeURIComponent(id)}`);
    },
    close: async () => {},
  };
}

async function storeTarget(args: ParsedArgs): Promise<KeyTarget> {
  const kind = choice(args, 'store', STORE_KINDS) as StoreKind;
  if (kind === 'memory') throw new UsageError('--store memory holds nothing between processes; use --server');
  const str = (name: string) => {
    const v = args.values[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  let store;
  try {
    store = await openStore({
      kind,
      dataDir: str('data-dir') ?? './data',
      ...(str('clickhouse-url') ? { clickhouseUrl: str('clickhouse-url') } : {}),
      ...(str('clickhouse-cluster') ? { clickhouseCluster: str('clickhouse-cluster') } : {}),
      ...(str('clickhouse-database') ? { clickhouseDatabase: str('clickhouse-database') } : {}),
    });
  } catch (e) {
    const message = (e as Error).message;
    if (/lock/i.test(message))
      throw new CliError(
        `the data dir is in use (a running server holds it): use --server URL with an admin key in HOTPATH_API_KEY (${message.split('\n')[0]})`,
      );
    throw e;
  }
  const ring = new KeyRing(store);
  return {
    create: async (tenant, scope, name) => {
      const made = await ring.create(tenant, parseScope(scope), name, Date.now());
      return { key: made.key, ...publicKey(made.record) };
    },
    list: async () => (await ring.list()).map(publicKey),
    revoke: async (id) => {
      if (!(await ring.revoke(id, Date.now()))) throw new CliError(`no API key has id '${id}'`);
    },
    close: () => store.close(),
  };
}

function table(keys: readonly KeyView[]): string {
  const rows = [
    ['ID', 'TENANT', 'SCOPE', 'STATUS', 'CREATED', 'NAME'],
    ...keys.map((k) => [
      k.id,
      k.tenant,
      k.scope,
      k.revokedMs === 0 ? 'active' : `revoked ${new Date(k.revokedMs).toISOString()}`,
      new Date(k.createdMs).toISOString(),
      k.name,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') +
    '\n'
  );
}

export const keys: Command = {
  name: 'keys',
  summary: 'create, list and revoke API keys',
  run: (argv) =>
    runCommand(spec, argv, async (args) => {
      const action = args.positionals[0] as Action;
      if (!ACTIONS.includes(action))
        throw new UsageError(`unknown action '${action}': use ${ACTIONS.join(', ')}`);
      const server = (args.values.server ?? args.values.url) as string | undefined;
      if (server !== undefined && args.values['data-dir'] !== undefined)
        throw new UsageError(
          '--server and --data-dir exclude each other: manage keys through the server or offline',
        );
      const target = server !== undefined ? httpTarget(args, server) : await storeTarget(args);
      try {
        switch (action) {
          case 'create': {
            const made = await target.create(
              requireString(args, 'tenant'),
              requireString(args, 'scope'),
              (args.values.name as string | undefined) ?? '',
            );
            process.stdout.write(`${made.key}\n`);
            process.stderr.write(
              `created key ${made.id} for tenant ${made.tenant}, scope ${made.scope}; it is shown only this once\n`,
            );
            return 0;
          }
          case 'list': {
            const list = await target.list();
            process.stdout.write(args.values.json ? `${JSON.stringify(list, null, 2)}\n` : table(list));
            return 0;
          }
          case 'revoke': {
            const id = args.positionals[1];
            if (id === undefined) throw new UsageError('revoke needs the key id (see hotpath keys list)');
            await target.revoke(id);
            process.stderr.write(`revoked key ${id}\n`);
            return 0;
          }
        }
      } finally {
        await target.close();
      }
    }),
};
