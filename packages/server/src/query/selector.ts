// The selector language: Prometheus label matchers `{service_name="x", region=~"eu.*", env!~"dev.*"}`
// optionally prefixed by a profile type id used as the metric name (compat §4.5). Regexes are checked
// here with the one matcher every Store backend runs (../store/match.ts: RE2, fully anchored).

import { parseProfileTypeId } from '@hotpath/core';
import type { Matcher } from '../store/types.ts';
import { queryErrors } from './errors.ts';
import { regexSyntaxError } from '../store/match.ts';

export type { Matcher };

export interface ParsedQuery {
  /** The 5-part profile type id (a 6th part such as `delta` is dropped). */
  readonly profileTypeId: string;
  readonly matchers: Matcher[];
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_.]/;

/** A cursor over the selector text; `pos` is 0-based, messages use 1-based columns. */
class Scanner {
  pos = 0;
  constructor(
    readonly text: string,
    private readonly offset = 0,
  ) {}

  fail(what: string, at = this.pos): never {
    throw queryErrors.invalidSelector(this.text, this.offset + at + 1, what);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  expect(ch: string): void {
    this.skipSpace();
    if (this.peek() !== ch) this.fail(`expected '${ch}', found ${this.describe()}`);
    this.pos++;
  }

  describe(): string {
    return this.pos >= this.text.length ? 'end of input' : `'${this.text[this.pos]}'`;
  }

  labelName(): string {
    this.skipSpace();
    const c = this.peek();
    if (c === '"' || c === "'" || c === '`') {
      const start = this.pos;
      const name = this.string();
      if (name === '') this.fail('empty label name', start);
      return name;
    }
    if (!NAME_START.test(c)) this.fail(`expected a label name, found ${this.describe()}`);
    const start = this.pos;
    while (this.pos < this.text.length && NAME_CHAR.test(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  op(): Matcher['op'] {
    this.skipSpace();
    const two = this.text.slice(this.pos, this.pos + 2);
    if (two === '=~' || two === '!=' || two === '!~') {
      this.pos += 2;
      return two;
    }
    if (this.peek() === '=') {
      this.pos++;
      return '=';
    }
    return this.fail(`expected one of =, !=, =~, !~, found ${this.describe()}`);
  }

  /** A quoted string with Go/Prometheus escapes: "..." and '...' interpret escapes, `...` is raw. */
  string(): string {
    this.skipSpace();
    const quote = this.peek();
    if (quote !== '"' && quote !== "'" && quote !== '`')
      this.fail(`expected a quoted string, found ${this.describe()}`);
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= this.text.length) this.fail('unterminated string', start);
      const c = this.text[this.pos]!;
      if (c === quote) {
        this.pos++;
        return out;
      }
      if (quote !== '`' && c === '\n') this.fail('newline in string', this.pos);
      if (c === '\\' && quote !== '`') {
        out += this.escape(quote);
        continue;
      }
      out += c;
      this.pos++;
    }
  }

  private escape(quote: string): string {
    const at = this.pos;
    const e = this.text[this.pos + 1];
    this.pos += 2;
    switch (e) {
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'v':
        return '\v';
      case '\\':
        return '\\';
      case '"':
      case "'":
        if (e !== quote) this.fail(`unknown escape sequence \\${e}`, at);
        return e;
      case 'x':
        return this.hex(2, at);
      case 'u':
        return this.hex(4, at);
      case 'U':
        return this.hex(8, at);
      default:
        if (e !== undefined && e >= '0' && e <= '7') {
          const digits = this.text.slice(this.pos - 1, this.pos + 2);
          if (!/^[0-7]{3}$/.test(digits)) this.fail('octal escape needs three digits', at);
          this.pos += 2;
          const v = parseInt(digits, 8);
          if (v > 255) this.fail('octal escape above \\377', at);
          return String.fromCharCode(v);
        }
        return this.fail(`unknown escape sequence \\${e ?? ''}`, at);
    }
  }

  private hex(n: number, at: number): string {
    const digits = this.text.slice(this.pos, this.pos + n);
    if (digits.length !== n || !/^[0-9A-Fa-f]+$/.test(digits)) this.fail(`escape needs ${n} hex digits`, at);
    this.pos += n;
    const v = parseInt(digits, 16);
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) this.fail('escape is not a valid code point', at);
    return String.fromCodePoint(v);
  }
}

function parseBraces(s: Scanner): Matcher[] {
  s.expect('{');
  const out: Matcher[] = [];
  s.skipSpace();
  if (s.peek() === '}') {
    s.pos++;
    return out;
  }
  for (;;) {
    const name = s.labelName();
    const op = s.op();
    s.skipSpace();
    const valueAt = s.pos;
    const value = s.string();
    if (op === '=~' || op === '!~') {
      const why = regexSyntaxError(value);
      if (why !== null) s.fail(`invalid regular expression ${JSON.stringify(value)}: ${why}`, valueAt);
    }
    out.push({ name, op, value });
    s.skipSpace();
    const c = s.peek();
    if (c === ',') {
      s.pos++;
      s.skipSpace();
      if (s.peek() === '}') {
        s.pos++;
        return out;
      }
      continue;
    }
    if (c === '}') {
      s.pos++;
      return out;
    }
    s.fail(`expected ',' or '}', found ${s.describe()}`);
  }
}

function expectEnd(s: Scanner): void {
  s.skipSpace();
  if (s.pos < s.text.length) s.fail(`unexpected ${s.describe()} after the selector`);
}

/** Parses `{...}` (the empty string and `{}` select everything). */
export function parseSelector(text: string): Matcher[] {
  if (text.trim() === '') return [];
  const s = new Scanner(text);
  const out = parseBraces(s);
  expectEnd(s);
  return out;
}

/** Splits `<name>{...}` into the metric name (trimmed, may be '') and the matchers. */
export function parseMetricSelector(text: string): { name: string; nameColumn: number; matchers: Matcher[] } {
  const brace = text.indexOf('{');
  const head = brace === -1 ? text : text.slice(0, brace);
  const name = head.trim();
  const nameColumn = head.length - head.trimStart().length + 1;
  if (name !== '' && !/^[A-Za-z0-9_.:\-]+$/.test(name)) {
    const bad = name.search(/[^A-Za-z0-9_.:\-]/);
    throw queryErrors.invalidSelector(text, nameColumn + bad, `unexpected '${name[bad]}' in the metric name`);
  }
  if (brace === -1) return { name, nameColumn, matchers: [] };
  const s = new Scanner(text);
  s.pos = brace;
  const matchers = parseBraces(s);
  expectEnd(s);
  return { name, nameColumn, matchers };
}

/** Parses `process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="x"}`; the profile type is required. */
export function parseQuery(text: string): ParsedQuery {
  const { name, nameColumn, matchers } = parseMetricSelector(text);
  if (name === '')
    throw queryErrors.invalidSelector(
      text,
      nameColumn,
      'the query needs a profile type id before the braces',
    );
  const type = parseProfileTypeId(name);
  if (type === null) {
    throw queryErrors.invalidSelector(
      text,
      nameColumn,
      `${JSON.stringify(name)} is not a profile type id <name>:<sample type>:<sample unit>:<period type>:<period unit>`,
    );
  }
  return { profileTypeId: type.id, matchers };
}

/** Prints matchers back as selector text (values JSON-quoted, which Prometheus escapes accept). */
export function formatSelector(matchers: readonly Matcher[]): string {
  return `{${matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(',')}}`;
}
