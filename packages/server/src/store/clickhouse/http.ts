// A small ClickHouse HTTP client (https://clickhouse.com/docs/en/interfaces/http) that works with
// Debian's 18.16 and with current ClickHouse: the query text travels in the body (SELECT) or the URL
// (INSERT ... FORMAT, with the data as the body), settings are URL parameters, results stream back.
// No parameterised queries (18.16 lacks them): literals go through sqlString(). Every failure becomes
// a HotpathError: unreachable or overloaded → 503 store_unavailable naming the URL, anything else →
// 500 store_error with ClickHouse's own message.

import http from 'node:http';
import https from 'node:https';
import { HotpathError } from '../../errors.ts';
import { storeErrors } from '../errors.ts';

/** Quotes a string as a ClickHouse string literal: backslash escapes for \, ', and control bytes. */
export function sqlString(s: string): string {
  let out = "'";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const code = s.charCodeAt(i);
    if (c === '\\') out += '\\\\';
    else if (c === "'") out += "\\'";
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out + "'";
}

/** An identifier (database, table, cluster name) Hotpath accepts: letters, digits, '_', not first a digit. */
export function sqlIdentifier(name: string, what: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw storeErrors.invalidClickhouseName(what, name);
  }
  return name;
}

/** A comma-separated list of unsigned 64-bit ids for `IN (...)`. */
export function sqlIdList(ids: Iterable<bigint>): string {
  let out = '';
  for (const id of ids) out += out === '' ? id.toString() : `,${id.toString()}`;
  return out;
}

/**
 * ClickHouse error codes that mean "try again later" (503), not "this query is wrong" (500):
 * timeouts, overload, a shard or ZooKeeper that cannot be reached, a read-only replica.
 */
const TRANSIENT_CODES = new Set([
  32, // ATTEMPT_TO_READ_AFTER_EOF (a remote shard went away mid-read)
  159, // TIMEOUT_EXCEEDED
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  225, // NO_ZOOKEEPER
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY
  252, // TOO_MANY_PARTS
  279, // ALL_CONNECTION_TRIES_FAILED
  319, // UNKNOWN_STATUS_OF_INSERT
  394, // QUERY_WAS_CANCELLED
  999, // KEEPER_EXCEPTION
]);

export function unavailable(url: string, reason: string): HotpathError {
  return storeErrors.storeUnavailable(`ClickHouse at ${url} is unreachable: ${reason}`, { url });
}

/** Maps ClickHouse's exception text ("Code: 60, e.displayText() = DB::Exception: ...") to a HotpathError. */
export function clickHouseError(url: string, status: number, text: string): HotpathError {
  const code = Number(/Code: (\d+)/.exec(text)?.[1] ?? 0);
  const message = text.trim().replace(/\s+/g, ' ').slice(0, 1000);
  if (TRANSIENT_CODES.has(code) || status === 502 || status === 503 || status === 504) {
    return storeErrors.storeUnavailable(`ClickHouse at ${url} cannot serve the request now: ${message}`, {
      url,
      clickhouseCode: code,
    });
  }
  return storeErrors.storeError(`ClickHouse at ${url} failed: ${message}`, { url, clickhouseCode: code });
}

export interface ClickHouseHttpOptions {
  /** e.g. http://127.0.0.1:8123 (user:password@ in the URL are sent as basic auth). */
  readonly url: string;
  /** ms a request may take before it fails with 503; default 60 s. */
  readonly timeoutMs?: number;
}

export type Settings = Readonly<Record<string, string | number>>;

/** A reused keep-alive socket was reset before any answer: the request never reached ClickHouse. */
class StaleSocket extends Error {}

/** What the store needs from a ClickHouse connection; ClickHouseHttp is the real one. */
export interface SqlClient {
  /** Where the data lives, for error messages. */
  readonly url: string;
  exec(sql: string, settings?: Settings): Promise<Buffer>;
  insert(table: string, format: string, data: Uint8Array, settings?: Settings): Promise<void>;
  stream(sql: string, onChunk: (chunk: Buffer) => void, settings?: Settings): Promise<void>;
  jsonRows<T>(sql: string, settings?: Settings): Promise<T[]>;
  ping(): Promise<void>;
  close(): void;
}

export class ClickHouseHttp implements SqlClient {
  readonly url: string;
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly auth: string | undefined;

  constructor(opts: ClickHouseHttpOptions) {
    let base: URL;
    try {
      base = new URL(opts.url);
    } catch {
      throw storeErrors.invalidClickhouseUrl(opts.url, 'is not a URL; expected e.g. http://127.0.0.1:8123');
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw storeErrors.invalidClickhouseUrl(opts.url, 'must start with http:// or https://');
    }
    this.auth =
      base.username !== ''
        ? `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`
        : undefined;
    base.username = '';
    base.password = '';
    this.base = base;
    this.url = base.origin;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    // Idle sockets are closed after 1.5 s, before ClickHouse's own keep_alive_timeout (3 s by default)
    // closes them under us: a request on a socket the server just closed would fail spuriously.
    const agentOpts = { keepAlive: true, maxSockets: 16, timeout: 1_500 };
    this.agent = base.protocol === 'https:' ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
  }

  /** Runs a statement and returns the whole response body. */
  async exec(sql: string, settings: Settings = {}): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.request({ sql, settings }, (c) => chunks.push(c));
    return Buffer.concat(chunks);
  }

  /** Runs `INSERT INTO <table> FORMAT <format>` with `data` as the body. */
  async insert(table: string, format: string, data: Uint8Array, settings: Settings = {}): Promise<void> {
    await this.request({ sql: `INSERT INTO ${table} FORMAT ${format}`, body: data, settings }, () => {});
  }

  /** Runs a query and hands the response body to `onChunk` as it arrives. */
  async stream(sql: string, onChunk: (chunk: Buffer) => void, settings: Settings = {}): Promise<void> {
    await this.request({ sql, settings }, onChunk);
  }

  /** Lines of a JSONEachRow result, parsed. */
  async jsonRows<T>(sql: string, settings: Settings = {}): Promise<T[]> {
    const text = (await this.exec(`${sql} FORMAT JSONEachRow`, settings)).toString('utf8');
    const rows: T[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        rows.push(JSON.parse(line) as T);
      } catch {
        // ClickHouse appends an exception to a response it had already started streaming.
        throw clickHouseError(this.url, 500, line);
      }
    }
    return rows;
  }

  async ping(): Promise<void> {
    const text = (await this.exec('SELECT 1')).toString('utf8').trim();
    if (text !== '1')
      throw unavailable(this.url, `unexpected answer to SELECT 1: ${JSON.stringify(text.slice(0, 200))}`);
  }

  close(): void {
    this.agent.destroy();
  }

  private async request(
    req: { sql: string; body?: Uint8Array; settings: Settings },
    onChunk: (chunk: Buffer) => void,
  ): Promise<void> {
    try {
      await this.requestOnce(req, onChunk);
    } catch (e) {
      // A pooled keep-alive socket the server closed while idle fails at once with a reset, before
      // ClickHouse saw the request (Node's documented case for retrying on `reusedSocket`): once more
      // on a fresh socket. Anything else is reported as it is.
      if (!(e instanceof StaleSocket)) throw e;
      await this.requestOnce(req, onChunk, true);
    }
  }

  private requestOnce(
    req: { sql: string; body?: Uint8Array; settings: Settings },
    onChunk: (chunk: Buffer) => void,
    freshSocket = false,
  ): Promise<void> {
    const target = new URL(this.base.href);
    for (const [k, v] of Object.entries(req.settings)) target.searchParams.set(k, String(v));
    let body: Uint8Array;
    if (req.body === undefined) {
      body = Buffer.from(req.sql, 'utf8');
    } else {
      target.searchParams.set('query', req.sql);
      body = req.body;
    }
    const lib = target.protocol === 'https:' ? https : http;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let responded = false;
      const fail = (e: HotpathError | StaleSocket): void => {
        if (settled) return;
        settled = true;
        reject(e);
      };
      const r = lib.request(
        target,
        {
          method: 'POST',
          agent: freshSocket ? false : this.agent,
          headers: {
            'content-length': body.byteLength,
            ...(this.auth ? { authorization: `Basic ${Buffer.from(this.auth).toString('base64')}` } : {}),
          },
        },
        (res) => {
          responded = true;
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            const err: Buffer[] = [];
            res.on('data', (c: Buffer) => err.push(c));
            res.on('end', () =>
              fail(
                clickHouseError(this.url, status, Buffer.concat(err).toString('utf8') || `HTTP ${status}`),
              ),
            );
            res.on('error', (e) => fail(unavailable(this.url, e.message)));
            return;
          }
          res.on('data', (c: Buffer) => {
            if (settled) return;
            try {
              onChunk(c);
            } catch (e) {
              fail(e instanceof HotpathError ? e : clickHouseError(this.url, 500, (e as Error).message));
              r.destroy();
            }
          });
          res.on('end', () => {
            if (settled) return;
            settled = true;
            resolve();
          });
          res.on('error', (e) => fail(unavailable(this.url, e.message)));
          res.on('aborted', () => fail(unavailable(this.url, 'the connection closed mid-response')));
        },
      );
      r.setTimeout(this.timeoutMs, () => {
        fail(unavailable(this.url, `no answer within ${this.timeoutMs} ms`));
        r.destroy();
      });
      // Every transport failure (refused, reset, DNS, TLS) means the store cannot be reached now.
      r.on('error', (e: NodeJS.ErrnoException) => {
        if (r.reusedSocket && !responded && (e.code === 'ECONNRESET' || e.code === 'EPIPE'))
          return fail(new StaleSocket());
        fail(
          unavailable(this.url, e.code && !e.message.includes(e.code) ? `${e.code} ${e.message}` : e.message),
        );
      });
      r.end(body);
    });
  }
}
