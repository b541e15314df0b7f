// `hotpath ingest <file> --server URL --app NAME`: uploads a profile file to a server's /ingest,
// the way Pyroscope clients do: pprof as format=pprof (raw body), folded text as format=folded
// with a `.cpu` suffix on the app name unless it has a profile-type suffix, speedscope as
// format=speedscope; any other format core reads is re-encoded to pprof. The file is checked
// locally first, so a malformed file fails here with its offset or line.
import { readFile } from 'node:fs/promises';
import { encodePprofGzip } from '@hotpath/core';
import { CliError, requireString, runCommand, UsageError, type CommandSpec } from '../args.ts';
import type { Command } from '../command.ts';
import { importBytes } from './convert.ts';
import { serverUrl, httpRequest } from './query.ts';

// Suffixes /ingest understands on legacy (folded) uploads (Pyroscope compat reference §1.7).
const LEGACY_SUFFIXES = new Set([
  'cpu',
  'itimer',
  'wall',
  'seconds',
  'nanoseconds',
  'microseconds',
  'milliseconds',
  'inuse_objects',
  'alloc_objects',
  'inuse_space',
  'alloc_space',
  'goroutines',
  'mutex_count',
  'mutex_duration',
  'block_count',
  'block_duration',
  'lock_count',
  'lock_duration',
  'alloc_in_new_tlab_objects',
  'alloc_in_new_tlab_bytes',
  'alloc_outside_tlab_objects',
  'alloc_outside_tlab_bytes',
  'live',
  'exceptions',
  'bytes',
]);

const APP_NAME = /^[a-zA-Z0-9_.\-/]+$/;
const LABEL_NAME = /^[a-zA-Z0-9_.]+$/;

/** `k=v,k2=v2` -> pairs; values cannot hold `,` or `}` (the /ingest name grammar has no escaping). */
export function parseTags(text: string | undefined): [string, string][] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((kv) => {
    const eq = kv.indexOf('=');
    const k = kv.slice(0, eq).trim();
    const v = kv.slice(eq + 1).trim();
    if (eq < 0 || !LABEL_NAME.test(k))
      throw new UsageError(`--tags: '${kv}' is not key=value with key of [a-zA-Z0-9_.]`);
    if (/[,{}]/.test(v)) throw new UsageError(`--tags: the value of '${k}' cannot contain ',', '{' or '}'`);
    return [k, v];
  });
}

/** The /ingest `name` parameter: app{k=v,...}. */
export function ingestName(app: string, tags: readonly [string, string][]): string {
  return `${app}{${tags.map(([k, v]) => `${k}=${v}`).join(',')}}`;
}

const spec: CommandSpec = {
  name: 'ingest',
  summary: 'Upload a profile file (pprof, folded, speedscope, ...) to a Hotpath or Pyroscope server.',
  positionals: ['<file>'],
  options: {
    server: { type: 'string', value: 'URL', help: 'server address', default: 'http://127.0.0.1:4040' },
    app: { type: 'string', value: 'NAME', help: 'application (service) name, e.g. ride-sharing-app' },
    tags: { type: 'string', value: 'K=V,...', help: 'labels for the series, e.g. region=eu-north,env=dev' },
    tenant: { type: 'string', value: 'ID', help: 'tenant (sent as X-Scope-OrgID)' },
    from: {
      type: 'string',
      value: 'TIME',
      help: 'start of the profile (unix seconds/ms or now-5m); pprof files carry their own',
    },
    until: { type: 'string', value: 'TIME', help: 'end of the profile' },
    'sample-rate': {
      type: 'string',
      value: 'HZ',
      help: 'folded files: samples per second (values become cpu nanoseconds)',
    },
    'spy-name': { type: 'string', value: 'NAME', help: 'pyroscope_spy label (e.g. pyspy)' },
  },
  details: `Examples:
  hotpath ingest cpu.pb.gz --app ride-sharing-app --tags region=eu-north
  hotpath ingest stacks.folded --app my-app --sample-rate 100   # sent as my-app.cpu`,
};

export const ingest: Command = {
  name: 'ingest',
  summary: 'upload a profile file to a server',
  run: (argv) =>
    runCommand(spec, argv, async (args, ctx) => {
      const server = serverUrl(args);
      let app = requireString(args, 'app');
      if (!APP_NAME.test(app)) throw new UsageError(`--app '${app}' may only hold [a-zA-Z0-9_.-/]`);
      const tags = parseTags(args.values.tags as string | undefined);
      const file = args.positionals[0]!;
      ctx.errorFile = file;
      const raw = new Uint8Array(await readFile(file));
      const imported = importBytes(raw);
      ctx.errorFile = undefined;

      let body: Uint8Array = raw;
      let format: string;
      let contentType = 'application/octet-stream';
      switch (imported.format) {
        case 'pprof':
          format = 'pprof';
          break;
        case 'folded':
        case 'collapsed': {
          format = 'folded';
          contentType = 'text/plain';
          const suffix = app.includes('.') ? app.slice(app.lastIndexOf('.') + 1) : '';
          if (!LEGACY_SUFFIXES.has(suffix)) app = `${app}.cpu`;
          break;
        }
        case 'speedscope':
          format = 'speedscope';
          contentType = 'application/json';
          break;
        default:
          format = 'pprof';
          body = encodePprofGzip(imported.profiles);
      }
      const params = new URLSearchParams({ name: ingestName(app, tags), format });
      for (const key of ['from', 'until'] as const) {
        const v = args.values[key];
        if (typeof v === 'string') params.set(key, v);
      }
      const rate = args.values['sample-rate'];
      if (typeof rate === 'string') params.set('sampleRate', rate);
      const spy = args.values['spy-name'];
      if (typeof spy === 'string') params.set('spyName', spy);
      const res = await httpRequest(args, `${server}/ingest?${params}`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
      if (!res.ok) throw new CliError(`server answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
      process.stderr.write(
        `uploaded ${file} (${imported.format}, ${body.length} bytes) as ${params.get('name')}\n`,
      );
      return 0;
    }),
};
