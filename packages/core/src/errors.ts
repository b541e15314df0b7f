// Core's error catalogue base: malformed input throws a FormatError with a stable code and the
// facts (offset, line, index...) that locate the problem. Codes are listed in docs/errors.md.

export class FormatError extends Error {
  constructor(
    /** Stable code, e.g. 'pprof_truncated', 'folded_bad_count'. */
    readonly code: string,
    message: string,
    /** Facts locating the problem: { offset: 12 }, { line: 3 }, { index: 7, length: 5 }. */
    readonly details: Readonly<Record<string, string | number>> = {},
  ) {
    super(message);
    this.name = 'FormatError';
  }
}

/** For exhaustive switches. */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${String(x)}`);
}
