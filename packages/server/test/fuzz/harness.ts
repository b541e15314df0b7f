// The fuzz suite's shared parts: a real-bytes corpus, seeded mutators (bytes, protobuf, JSON, query
// strings, encodings), the oracle (a 2xx or a coded 4xx; never a 5xx, a hang or a dropped
// connection) and a runner that groups failures into classes and prints how to reproduce each one.
// Every case is generated from its own seed alone, so `repro.ts <family> <seed>` rebuilds it.

import { appendFileSync, readFileSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { exportSpeedscope, exportTree, exportTrie, importFolded, seededRandom } from '@hotpath/core';
import { pprofOf, pushRequest } from '../support/pprof.ts';

export type Rng = () => number;

export interface FuzzCase {
  readonly method: string;
  /** Path and query string. */
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
}

/** A route family: every case is `generate(seededRandom(seed))`. */
export interface Family {
  readonly name: string;
  generate(r: Rng): FuzzCase;
}

/** 2026-01-01T00:00:00Z: the fixed clock of every fuzz server (generated profiles are stamped with it). */
export const FUZZ_NOW_MS = Date.UTC(2026, 0, 1);
/** Generous: it detects hangs, it does not measure speed. */
export const WATCHDOG_MS = 15_000;
/** FUZZ_SCALE=0.1 for a quick look, 10 for a long local hunt; counts below are at scale 1. */
export const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
/** FUZZ_SEED shifts every family's seeds, to explore new cases locally; the suite uses 0. */
const SEED_BASE = Number(process.env.FUZZ_SEED ?? 0);

export function scaled(n: number): number {
  return Math.max(1, Math.round(n * SCALE));
}

// ---------------------------------------------------------------------------------------------
// Random helpers

export const int = (r: Rng, n: number): number => Math.floor(r() * n);
export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)]!;
export const chance = (r: Rng, p: number): boolean => r() < p;

/** The seed of case `index` of a family: a stable hash of the name plus the index. */
export function caseSeed(family: string, index: number): number {
  let h = 2166136261 ^ SEED_BASE;
  for (let i = 0; i < family.length; i++) h = Math.imul(h ^ family.charCodeAt(i), 16777619);
  return ((h >>> 0) + index * 7919) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Corpus: real bytes

const CORE_FIXTURES = new URL('../../../core/test/fixtures/', import.meta.url);
export const fixture = (name: string): Buffer => readFileSync(new URL(name, CORE_FIXTURES));

function multipart(
  boundary: string,
  parts: { name: string; filename?: string; data: Uint8Array | string }[],
) {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const file = p.filename === undefined ? '' : `; filename="${p.filename}"`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${file}\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
    );
    chunks.push(Buffer.from(p.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const SAMPLE_TYPE_CONFIG = JSON.stringify({
  inuse_space: { units: 'bytes', 'display-name': 'inuse_space_bytes' },
  alloc_objects: { units: 'objects', aggregation: 'sum', cumulative: true },
});
export const MULTIPART_BOUNDARY = 'XhotpathFuzzBoundary';

let cachedCorpus: Record<string, Buffer[]> | undefined;

/** Valid inputs of each ingest format, from the fixtures and core's own exporters. */
export function corpus(): Record<string, Buffer[]> {
  if (cachedCorpus) return cachedCorpus;
  const python = pprofOf('main;app.run;app.handle 7 {thread_name=MainThread}\nmain;app.idle 3', {
    timeMs: FUZZ_NOW_MS,
    scale: 10_000_000,
  });
  const p = importFolded(Buffer.from('x;y 2\nx;z 5\nx;y;w 1')).profiles[0]!;
  cachedCorpus = {
    pprof: [
      fixture('go-cpu.pb.gz'),
      fixture('go-heap.pb.gz'),
      fixture('node-heap.pb.gz'),
      fixture('node-wall.pb.gz'),
      fixture('edge-deep.pb'),
      python,
      Buffer.from(gzipSync(python)),
    ],
    folded: [
      fixture('sample.folded'),
      fixture('edge-deep.folded'),
      Buffer.from('foo;bar 100\nfoo;baz 200\n'),
    ],
    lines: [fixture('sample.lines'), Buffer.from('a;b\na;b\n\na;c\n')],
    trie: [fixture('sample.trie'), Buffer.from(exportTrie(p))],
    tree: [fixture('sample.tree'), Buffer.from(exportTree(p))],
    speedscope: [
      fixture('sample-sampled.speedscope.json'),
      fixture('sample-evented.speedscope.json'),
      Buffer.from(exportSpeedscope(p)),
    ],
    multipart: [
      multipart(MULTIPART_BOUNDARY, [
        { name: 'profile', filename: 'profile.pprof', data: fixture('go-heap.pb.gz') },
        { name: 'sample_type_config', filename: 'sample_type_config.json', data: SAMPLE_TYPE_CONFIG },
      ]),
      multipart(MULTIPART_BOUNDARY, [{ name: 'profile', filename: 'profile.pprof', data: python }]),
    ],
    pushProto: [
      Buffer.from(
        pushRequest([
          {
            labels: { __name__: 'process_cpu', service_name: 'fuzz-push', __delta__: 'false' },
            profiles: [python],
          },
        ]),
      ),
    ],
    pushJson: [
      Buffer.from(
        JSON.stringify({
          series: [
            {
              labels: [
                { name: '__name__', value: 'process_cpu' },
                { name: 'service_name', value: 'fuzz-push-json' },
              ],
              samples: [{ rawProfile: Buffer.from(gzipSync(python)).toString('base64'), ID: 'x' }],
            },
          ],
        }),
      ),
    ],
  };
  return cachedCorpus;
}

// ---------------------------------------------------------------------------------------------
// Byte mutators

const INTERESTING_VARINTS = [
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
  [0x00],
  [0x7f],
  [0x80, 0x80, 0x80, 0x80, 0x08],
];

/** Replaces a varint at a random position (protobuf lengths, ids, counts) with an extreme one. */
function tamperVarint(r: Rng, b: Buffer): Buffer {
  if (b.length === 0) return b;
  let at = int(r, b.length);
  // Prefer the byte after a length-delimited tag (wire type 2): that varint is a length.
  for (let tries = 0; tries < 32; tries++) {
    const i = int(r, b.length - 1);
    if ((b[i]! & 7) === 2 && b[i]! < 0x80) {
      at = i + 1;
      break;
    }
  }
  let end = at;
  while (end < b.length && b[end]! & 0x80) end++;
  end = Math.min(end + 1, b.length);
  return Buffer.concat([b.subarray(0, at), Buffer.from(pick(r, INTERESTING_VARINTS)), b.subarray(end)]);
}

const NUMBER_TEXT = [
  '1e400',
  '-1e400',
  'NaN',
  'Infinity',
  '-1',
  '-9223372036854775809',
  '18446744073709551616',
  '0',
  '9007199254740993',
  '1.5',
];

/** Replaces a run of ASCII digits with a huge, negative or non-finite number. */
function tamperDigits(r: Rng, b: Buffer): Buffer {
  const s = b.toString('latin1');
  const runs = [...s.matchAll(/\d+/g)];
  if (runs.length === 0) return b;
  const m = pick(r, runs);
  return Buffer.from(s.slice(0, m.index) + pick(r, NUMBER_TEXT) + s.slice(m.index! + m[0].length), 'latin1');
}

export function mutateBytes(r: Rng, b: Buffer, others: readonly Buffer[]): Buffer {
  const n = b.length;
  switch (int(r, 9)) {
    case 0: {
      const out = Buffer.from(b);
      for (let k = 1 + int(r, 4); k > 0 && n > 0; k--) out[int(r, n)]! ^= 1 << int(r, 8);
      return out;
    }
    case 1: {
      const at = int(r, n + 1);
      const ins = Buffer.from(Array.from({ length: 1 + int(r, 8) }, () => int(r, 256)));
      return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
    }
    case 2: {
      const at = int(r, n + 1);
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(n, at + 1 + int(r, 16)))]);
    }
    case 3:
      return b.subarray(0, int(r, n + 1));
    case 4: {
      const o = pick(r, others);
      return Buffer.concat([b.subarray(0, int(r, n + 1)), o.subarray(int(r, o.length + 1))]);
    }
    case 5:
      return tamperVarint(r, b);
    case 6:
      return tamperDigits(r, b);
    case 7: {
      // Duplicate a chunk many times: repeated fields, long lines.
      const at = int(r, n + 1);
      const chunk = b.subarray(at, at + 1 + int(r, 64));
      return Buffer.concat([
        b.subarray(0, at),
        ...Array<Buffer>(2 + int(r, 200)).fill(chunk),
        b.subarray(at),
      ]);
    }
    default: {
      const out = Buffer.from(b);
      const special = [0x00, 0xff, 0x7f, 0x80, 0x0a, 0x3b, 0x20, 0x7b, 0x22];
      for (let k = 1 + int(r, 4); k > 0 && n > 0; k--) out[int(r, n)] = pick(r, special);
      return out;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// JSON mutators: parse, change one node, print with raw tokens JSON.stringify cannot produce

const RAW = '\u0000raw:';
const RAW_TOKENS = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e400',
  '-1e400',
  '1e308',
  '-1',
  '-0',
  '9223372036854775808',
  '1.5e-400',
  'null',
  'true',
  '"x"',
  '[]',
  '{}',
  '"-1"',
  '"1e400"',
  '"NaN"',
  '"9999999999999999999999"',
];

function deepNest(r: Rng): string {
  const depth = pick(r, [100, 5_000, 100_000]);
  return chance(r, 0.5)
    ? '['.repeat(depth) + ']'.repeat(depth)
    : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

type Json = unknown;

function replacement(r: Rng): Json {
  switch (int(r, 6)) {
    case 0:
    case 1:
      return RAW + pick(r, RAW_TOKENS);
    case 2:
      return RAW + deepNest(r);
    case 3:
      return 'x'.repeat(pick(r, [0, 1, 1000, 100_000]));
    case 4:
      return Array.from({ length: pick(r, [0, 1, 1000]) }, () => int(r, 10));
    default:
      return { unexpected: [1, 'two', null] };
  }
}

/** Candidate nodes to change; a document nested deeper than 64 (an earlier mutation) is not walked further. */
function nodes(
  j: Json,
  out: { parent: Record<string, Json> | Json[]; key: string | number }[],
  depth = 0,
): void {
  if (depth > 64 || out.length > 100_000) return;
  if (Array.isArray(j)) {
    j.forEach((v, i) => {
      out.push({ parent: j, key: i });
      nodes(v, out, depth + 1);
    });
  } else if (j !== null && typeof j === 'object') {
    for (const [k, v] of Object.entries(j)) {
      out.push({ parent: j as Record<string, Json>, key: k });
      nodes(v, out, depth + 1);
    }
  }
}

export function printJson(j: Json): string {
  return JSON.stringify(j).replace(/"\\u0000raw:((?:[^"\\]|\\.)*)"/g, (_m, raw: string) =>
    JSON.parse(`"${raw}"`),
  );
}

/** One to three structural changes to a JSON document (or byte mutations when it does not parse). */
export function mutateJson(r: Rng, text: Buffer, others: readonly Buffer[]): Buffer {
  if (chance(r, 0.1)) return Buffer.from(deepNest(r));
  try {
    return changeJson(r, JSON.parse(text.toString('utf8')));
  } catch {
    // Not JSON (or nested too deep to walk, after an earlier mutation): damage the bytes instead.
    return mutateBytes(r, text, others);
  }
}

function changeJson(r: Rng, j: Json): Buffer {
  const root = { v: j };
  for (let k = 1 + int(r, 3); k > 0; k--) {
    const all: { parent: Record<string, Json> | Json[]; key: string | number }[] = [];
    nodes(root.v, all);
    if (all.length === 0) break;
    const at = pick(r, all);
    const parent = at.parent as Record<string | number, Json>;
    const op = int(r, 4);
    if (op === 0 && !Array.isArray(at.parent)) delete parent[at.key];
    else if (op === 1 && Array.isArray(at.parent)) {
      // Repeat an element (many series, samples, frames), keeping the document under ~2 MB: bigger
      // bodies are the soak benchmark's job (B11), here they would only slow the suite down.
      const size = JSON.stringify(parent[at.key])?.length ?? 4;
      const times = Math.min(pick(r, [2, 100, 5_000]), Math.floor(2_000_000 / size));
      for (let t = 0; t < times; t++) (at.parent as Json[]).push(structuredClone(parent[at.key]));
    } else parent[at.key] = replacement(r);
  }
  return Buffer.from(printJson(root.v));
}

// ---------------------------------------------------------------------------------------------
// Encodings and query strings

/** Sometimes wraps a body in gzip (once or twice) or replaces it with gzip of garbage. */
export function maybeEncode(r: Rng, body: Buffer): Buffer {
  const x = r();
  if (x < 0.08) return gzipSync(body);
  if (x < 0.11) return gzipSync(gzipSync(body));
  if (x < 0.13) return gzipSync(Buffer.from(Array.from({ length: int(r, 300) }, () => int(r, 256))));
  if (x < 0.15) return gzipSync(body).subarray(0, int(r, 40));
  return body;
}

const PARAM_VALUES = [
  '',
  '0',
  '-1',
  '1e400',
  'NaN',
  'Infinity',
  '-Infinity',
  '9223372036854775808',
  '18446744073709551615',
  '99999999999999999999999',
  '1.5',
  'now',
  'now-1h',
  'now-99999999999d',
  'now+1y',
  '1767225600',
  '1767225600000',
  '1767225600000000000',
  '%00',
  '%ff%fe',
  'a'.repeat(5000),
  '{}',
  '{a=~"(a+)+$"}',
];

/** Rewrites a query string: drop, duplicate or replace a parameter, or add an unknown one. */
export function mutateQuery(r: Rng, query: string, names: readonly string[]): string {
  const pairs = query === '' ? [] : query.split('&');
  for (let k = 1 + int(r, 3); k > 0; k--) {
    const op = int(r, 5);
    if (op === 0 && pairs.length > 0) pairs.splice(int(r, pairs.length), 1);
    else if (op === 1 && pairs.length > 0) pairs.push(pick(r, pairs));
    else if (op === 2 || pairs.length === 0)
      pairs.push(`${pick(r, names)}=${encodeURIComponent(pick(r, PARAM_VALUES))}`);
    else if (op === 3) {
      const i = int(r, pairs.length);
      pairs[i] = `${pairs[i]!.split('=')[0]}=${encodeURIComponent(pick(r, PARAM_VALUES))}`;
    } else pairs.push(pick(r, ['%zz=1', '=', '&&', 'x', 'a[b]=1', '__proto__=1', 'constructor=1']));
  }
  return pairs.join('&');
}

export const ODD_CONTENT_TYPES = [
  '',
  'text/plain',
  'application/json',
  'application/proto',
  'application/octet-stream',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  `multipart/form-data; boundary=${MULTIPART_BOUNDARY}`,
  'binary/octet-stream+trie',
  'binary/octet-stream+tree',
  'binary/octet-stream+lines',
  'application/json; charset=utf-16',
  'application/x-www-form-urlencoded',
  ';;;',
  'a'.repeat(2000),
];

export const ODD_ENCODINGS = ['gzip', 'identity', 'br', 'deflate', 'gzip, gzip', 'GZIP', 'x'];

// ---------------------------------------------------------------------------------------------
// Oracle and runner

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** null when the answer is acceptable; otherwise the failure's class (without the route). */
export function judge(a: Answer, method = 'POST'): string | null {
  if (a.status >= 200 && a.status < 300) return null;
  if (a.status >= 400 && a.status < 500) {
    // A HEAD answer has no body by definition: its status is all there is to judge.
    if (method === 'HEAD') return null;
    let j: unknown;
    try {
      j = JSON.parse(a.body);
    } catch {
      return `${a.status} uncoded: ${a.body === '' ? 'empty body' : `text ${JSON.stringify(a.body.slice(0, 40))}`}`;
    }
    const o = j as Record<string, unknown>;
    if (o && typeof o.code === 'string' && typeof o.error === 'string') return null;
    return `${a.status} uncoded: JSON with ${Object.keys(o ?? {}).join(',')} (${String(o?.error ?? '')})`;
  }
  let detail = a.body.slice(0, 120);
  try {
    const o = JSON.parse(a.body) as Record<string, unknown>;
    detail = `${String(o.error ?? o.code)}: ${String(o.message).replace(/\d+/g, 'N').slice(0, 100)}`;
  } catch {
    // a non-JSON 5xx: keep the text
  }
  return `${a.status} ${detail}`;
}

export interface Failure {
  readonly family: string;
  readonly seed: number;
  readonly route: string;
  readonly kind: string;
  readonly c: FuzzCase;
}

/** The path of a case's URL, cut to 120 characters so a report of generated paths stays readable. */
export function routeOf(url: string): string {
  const path = url.split('?')[0]!;
  return path.length > 120 ? `${path.slice(0, 120)}…(${path.length} chars)` : path;
}

function excerpt(c: FuzzCase): string {
  const b = c.body ?? Buffer.alloc(0);
  const head = b.subarray(0, 96);
  const printable = head.every((x) => x === 9 || x === 10 || x === 13 || (x >= 32 && x < 127));
  const shown = printable ? JSON.stringify(head.toString('latin1')) : head.toString('hex');
  return `${c.method} ${c.url.slice(0, 200)} ${JSON.stringify(c.headers).slice(0, 200)} body ${b.length} B: ${shown}`;
}

/** One line per failure class with its count and a reproducible example. */
export function report(failures: readonly Failure[]): string {
  const classes = new Map<string, { n: number; first: Failure }>();
  for (const f of failures) {
    const key = `${f.route} → ${f.kind}`;
    const c = classes.get(key);
    if (c) c.n++;
    else classes.set(key, { n: 1, first: f });
  }
  return [...classes.entries()]
    .map(
      ([key, { n, first }]) =>
        `${key} (${n}×)\n    repro: npx tsx packages/server/test/fuzz/repro.ts ${first.family} ${first.seed}\n    ${excerpt(first.c)}`,
    )
    .join('\n');
}

export type Sender = (c: FuzzCase) => Promise<Answer>;

export function injectSender(app: FastifyInstance): Sender {
  return async (c) => {
    const res = await app.inject({
      method: c.method as 'POST',
      url: c.url,
      headers: c.headers,
      payload: c.body,
    });
    return { status: res.statusCode, body: res.body };
  };
}

/** Real HTTP over 127.0.0.1 (keep-alive): a reset or early close is a dropped connection. */
export function socketSender(port: number): Sender & { close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const send = (c: FuzzCase) =>
    new Promise<Answer>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, method: c.method, path: c.url, headers: c.headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', (e) => reject(new Error(`response dropped: ${e.message}`)));
        },
      );
      req.on('error', (e) =>
        reject(new Error(`connection dropped: ${(e as NodeJS.ErrnoException).code ?? e.message}`)),
      );
      req.end(c.body);
    });
  return Object.assign(send, { close: () => agent.destroy() });
}

/** Sends one case with the watchdog; the failure class, or null. */
export async function probe(send: Sender, c: FuzzCase): Promise<string | null> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), WATCHDOG_MS);
  });
  try {
    const a = await Promise.race([send(c), watchdog]);
    if (a === 'hang') return `hang: no answer within ${WATCHDOG_MS / 1000} s`;
    // A handler that blocks the event loop starves the watchdog's timer too: judge it afterwards.
    if (Date.now() - started > WATCHDOG_MS) return `hang: event loop blocked ≥ ${WATCHDOG_MS / 1000} s`;
    return judge(a, c.method);
  } catch (e) {
    return `threw: ${(e as Error).message.replace(/\d+/g, 'N').slice(0, 100)}`;
  } finally {
    clearTimeout(timer);
  }
}

/** With FUZZ_REPORT=<file>, every failure is also appended there as a JSON line (to tally classes). */
function log(f: Failure): void {
  const file = process.env.FUZZ_REPORT;
  if (file)
    appendFileSync(
      file,
      JSON.stringify({ family: f.family, seed: f.seed, route: f.route, kind: f.kind, input: excerpt(f.c) }) +
        '\n',
    );
}

/** Runs `count` cases of a family, `parallel` at a time; returns every failure. */
export async function runFamily(
  send: Sender,
  family: Family,
  count: number,
  opts: { parallel?: number; firstIndex?: number } = {},
): Promise<Failure[]> {
  const failures: Failure[] = [];
  const first = opts.firstIndex ?? 0;
  let next = first;
  const worker = async () => {
    while (next < first + count) {
      const seed = caseSeed(family.name, next++);
      const c = family.generate(seededRandom(seed));
      const kind = await probe(send, c);
      if (kind === null) continue;
      const f = { family: family.name, seed, route: routeOf(c.url), kind, c };
      failures.push(f);
      log(f);
    }
  };
  await Promise.all(Array.from({ length: opts.parallel ?? 4 }, worker));
  return failures;
}

/** Replays a family's case from its seed (repro.ts). */
export function caseOf(family: Family, seed: number): FuzzCase {
  return family.generate(seededRandom(seed));
}
