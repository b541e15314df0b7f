// `hotpath query --query 'TYPE{selector}'`: asks a server's GET /pyroscope/render for a merged
// flame graph and prints its top functions, the flamebearer JSON, or folded stacks.
import { decodeFlamebearer, parseProfileTypeId, type ProfileType } from '@hotpath/core';
import { parseAttimeMs } from '@hotpath/server';
import {
  choice,
  CliError,
  integer,
  requireString,
  runCommand,
  UsageError,
  writeOutput,
  type CommandSpec,
  type ParsedArgs,
} from '../args.ts';
import type { Command } from '../command.ts';
import { foldedText } from './convert.ts';
import { formatTop } from './top.ts';

/** --server without a trailing slash. */
export function serverUrl(args: ParsedArgs): string {
  const s = requireString(args, 'server').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(s)) throw new UsageError(`--server must be an http(s) URL, not '${s}'`);
  return s;
}

/**
 * fetch with the tenant header, the API key of HOTPATH_API_KEY (for servers with --auth keys) and
 * errors that say which server failed.
 */
export async function httpRequest(args: ParsedArgs, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const tenant = args.values.tenant;
  if (typeof tenant === 'string' && tenant !== '') headers.set('X-Scope-OrgID', tenant);
  const key = process.env.HOTPATH_API_KEY;
  if (key !== undefined && key !== '' && !headers.has('authorization'))
    headers.set('authorization', `Bearer ${key}`);
  try {
    return await fetch(url, { ...init, headers });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(
      `cannot reach ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
    );
  }
}

/** Splits `type{selector}` into the profile type and the selector (`{}` when absent). */
export function splitQuery(query: string): { type: ProfileType; selector: string } {
  const brace = query.indexOf('{');
  const id = (brace < 0 ? query : query.slice(0, brace)).trim();
  const selector = brace < 0 ? '{}' : query.slice(brace).trim();
  const type = parseProfileTypeId(id);
  if (type === null) {
    throw new UsageError(
      `--query must start with a profile type id name:sample_type:sample_unit:period_type:period_unit, not '${id}'`,
    );
  }
  if (!selector.endsWith('}')) throw new UsageError(`--query selector '${selector}' is not closed with '}'`);
  return { type, selector };
}

/** Pyroscope's attime (the server's own parser): `now`, `now-1h`, or digits. Returns ms since epoch. */
export function parseTime(text: string, nowMs = Date.now()): number {
  const t = parseAttimeMs(text, nowMs);
  if ('ms' in t) return Math.floor(t.ms);
  throw new UsageError(`'${text}' is not a time (now, now-1h, unix seconds or milliseconds): ${t.reason}`);
}

/** The profile type commands read when none is named: CPU, as Pyroscope's clients send it. */
export const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

export const SERVER_OPTIONS = {
  server: { type: 'string', value: 'URL', help: 'server address', default: 'http://127.0.0.1:4040' },
  query: {
    type: 'string',
    value: 'QUERY',
    help: 'profile type and selector, e.g. \'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="x"}\'',
  },
  from: { type: 'string', value: 'TIME', help: 'start (now-1h, unix seconds or ms)', default: 'now-1h' },
  until: { type: 'string', value: 'TIME', help: 'end', default: 'now' },
  tenant: { type: 'string', value: 'ID', help: 'tenant (sent as X-Scope-OrgID)' },
} as const;

const spec: CommandSpec = {
  name: 'query',
  summary:
    'Query a server for a merged profile and print its top functions, flamebearer JSON or folded stacks.',
  positionals: [],
  options: {
    ...SERVER_OPTIONS,
    top: {
      type: 'string',
      value: 'N',
      help: 'print the top N functions (the default output)',
      default: '20',
    },
    format: {
      type: 'string',
      value: 'FORMAT',
      help: 'print the data instead: flamebearer (the /render JSON) or folded',
    },
    'max-nodes': {
      type: 'string',
      value: 'N',
      help: 'flame graph node limit the server applies (server default 8192)',
    },
    output: { type: 'string', short: 'o', value: 'FILE', help: 'write here instead of stdout' },
  },
  details: `Uses GET /pyroscope/render. The server truncates the flame graph to max-nodes, so top and
folded outputs show an 'other' function for the merged remainder; use 'hotpath export' for the
untruncated profile.

Example:
  hotpath query --query 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="ride-sharing-app"}' --from now-15m`,
};

interface RenderResponse {
  flamebearer?: { names: string[]; levels: number[][]; numTicks: number; maxSelf: number };
}

export const query: Command = {
  name: 'query',
  summary: 'query a server and print top functions or the flame graph data',
  run: (argv) =>
    runCommand(spec, argv, async (args) => {
      const server = serverUrl(args);
      const q = requireString(args, 'query');
      const { type } = splitQuery(q);
      const from = requireString(args, 'from');
      const until = requireString(args, 'until');
      parseTime(from);
      parseTime(until);
      const top = integer(args, 'top');
      const maxNodes = integer(args, 'max-nodes');
      const format =
        args.values.format === undefined ? 'top' : choice(args, 'format', ['flamebearer', 'folded'] as const);
      const params = new URLSearchParams({ query: q, from, until, format: 'json' });
      if (maxNodes !== undefined) params.set('max-nodes', String(maxNodes));
      const res = await httpRequest(args, `${server}/pyroscope/render?${params}`);
      const text = await res.text();
      if (!res.ok) throw new CliError(`server answered ${res.status}: ${text.slice(0, 500)}`);
      if (format === 'flamebearer') {
        await writeOutput(text.endsWith('\n') ? text : text + '\n', args.values.output as string | undefined);
        return 0;
      }
      let body: RenderResponse;
      try {
        body = JSON.parse(text) as RenderResponse;
      } catch {
        throw new CliError(`server answered 200 with a body that is not JSON: ${text.slice(0, 200)}`);
      }
      if (body.flamebearer === undefined) throw new CliError('server response has no flamebearer');
      const profile = decodeFlamebearer(body.flamebearer, type);
      const out =
        format === 'folded'
          ? foldedText(profile)
          : formatTop(profile, { ...(top !== undefined && { n: top }) });
      await writeOutput(out, args.values.output as string | undefined);
      return 0;
    }),
};
