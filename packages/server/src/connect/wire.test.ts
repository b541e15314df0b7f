import { describe, expect, it } from 'vitest';
import { ProtoReader, ProtoWriter } from './wire.ts';

describe('protobuf wire', () => {
  it('round trips varints, negative int64, doubles, strings and nested messages', () => {
    const w = new ProtoWriter()
      .int64(1, 1779729327372)
      .int64(2, -5)
      .double(3, 15.5)
      .string(4, 'héllo')
      .message(5, (m) => m.string(1, 'k').string(2, 'v'))
      .packedInt64(6, [0, 300, 2 ** 40]);
    const r = new ProtoReader(w.finish());
    const seen: unknown[] = [];
    while (!r.done) {
      const [f, t] = r.key();
      if (f === 1) seen.push(r.int64());
      else if (f === 2) seen.push(r.int64());
      else if (f === 3) seen.push(r.double());
      else if (f === 4) seen.push(r.string());
      else if (f === 5) {
        const m = r.message();
        const kv: string[] = [];
        while (!m.done) {
          m.key();
          kv.push(m.string());
        }
        seen.push(kv);
      } else if (f === 6) {
        const out: number[] = [];
        r.repeatedInt64(t, out);
        seen.push(out);
      } else r.skip(t);
    }
    expect(seen).toEqual([1779729327372, -5, 15.5, 'héllo', ['k', 'v'], [0, 300, 2 ** 40]]);
  });

  it('reports truncation with an offset', () => {
    const bytes = new ProtoWriter().string(1, 'abcdef').finish().subarray(0, 4);
    const r = new ProtoReader(bytes);
    r.key();
    expect(() => r.string()).toThrowError(/past end of message/);
  });
});
