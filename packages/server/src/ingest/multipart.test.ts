// The multipart/form-data parser: real browser/undici bodies, CRLF and LF, limits.
import { describe, expect, it } from 'vitest';
import { multipartBoundary, parseMultipart } from './multipart.ts';

describe('multipart', () => {
  it('parses a body as undici FormData encodes it (what @pyroscope/nodejs 0.6.1 sends)', async () => {
    const form = new FormData();
    form.append('profile', new Blob([Uint8Array.from([0x1f, 0x8b, 0, 13, 10, 45, 45])]), 'profile');
    form.append('note', 'plain field');
    const req = new Request('http://127.0.0.1/', { method: 'POST', body: form });
    const type = req.headers.get('content-type')!;
    const body = new Uint8Array(await req.arrayBuffer());
    const parts = parseMultipart(body, multipartBoundary(type)!);
    expect(parts.map((p) => [p.name, p.filename])).toEqual([
      ['profile', 'profile'],
      ['note', undefined],
    ]);
    expect([...parts[0]!.data]).toEqual([0x1f, 0x8b, 0, 13, 10, 45, 45]);
    expect(Buffer.from(parts[1]!.data).toString()).toBe('plain field');
  });
  it('accepts LF line breaks and quoted boundaries', () => {
    const body = Buffer.from('--q\nContent-Disposition: form-data; name="a"; filename="x"\n\nhello\n--q--\n');
    expect(multipartBoundary('multipart/form-data; boundary="q"')).toBe('q');
    expect(parseMultipart(body, 'q').map((p) => Buffer.from(p.data).toString())).toEqual(['hello']);
  });
  it('rejects bodies without the boundary, unterminated parts and nameless parts', () => {
    expect(() => parseMultipart(Buffer.from('nothing'), 'b')).toThrow(
      expect.objectContaining({ code: 'malformed_multipart' }),
    );
    expect(() =>
      parseMultipart(Buffer.from('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nxx'), 'b'),
    ).toThrow(/closing boundary/);
    expect(() => parseMultipart(Buffer.from('--b\r\nX: y\r\n\r\nxx\r\n--b--'), 'b')).toThrow(
      /no Content-Disposition name/,
    );
    const many =
      Array.from(
        { length: 20 },
        (_, i) => `--b\r\nContent-Disposition: form-data; name="p${i}"\r\n\r\nx\r\n`,
      ).join('') + '--b--';
    expect(() => parseMultipart(Buffer.from(many), 'b')).toThrow(/more than 16 parts/);
  });
});
