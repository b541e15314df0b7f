// Text, speedscope, legacy trie/tree, DOT and the registry: pictures in, pictures out, and the
// coded errors of each format.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../src/errors.ts';
import {
  exportDot,
  exportFolded,
  exportSpeedscope,
  exportTree,
  exportTrie,
  importFolded,
  importLines,
  importProfile,
  importSpeedscope,
  importTree,
  importTrie,
  makeProfileType,
  sniffFormat,
  totalValue,
} from '../src/index.ts';
import { dedent, printTree, profileFromFolded } from '../src/testing/pictures.ts';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function codeOf(f: () => unknown): { code: string; details: Record<string, unknown> } {
  try {
    f();
  } catch (e) {
    if (e instanceof FormatError) return { code: e.code, details: { ...e.details } };
    throw e;
  }
  throw new Error('no error thrown');
}

describe('folded', () => {
  it('splits at the last space, accepts CRLF, skips blank lines and sums repeated stacks', () => {
    const [p] = importFolded(fixture('sample.folded')).profiles;
    expect(printTree(p!)).toBe(
      dedent(`
        total 105
          main 105
            gc 20 self 20
            handle request 85
              parse 35 self 35
              render 50 self 50`),
    );
    expect(p!.type.id).toBe('process_cpu:samples:count::');
  });

  it('reports a garbage line with its line number', () => {
    const err = codeOf(() => importFolded(text('a;b 1\n\na;c twelve\n')));
    expect(err).toEqual({ code: 'folded_bad_line', details: { line: 3 } });
    expect(codeOf(() => importFolded(text('a;b 1\n 5\n'))).details).toEqual({ line: 2 });
  });

  it('sniffs a damaged folded file as folded, so the bad line is reported rather than read as lines', () => {
    expect(sniffFormat(text('a;b 1\na;c 2\na;d 1x\n'))).toBe('folded');
    expect(codeOf(() => importProfile(text('a;b 1\na;c 2\na;d 1x\n')))).toEqual({
      code: 'folded_bad_line',
      details: { line: 3 },
    });
    expect(sniffFormat(text('a;b\na;c\na;b\n'))).toBe('lines');
  });

  it('takes the profile type as an option', () => {
    const type = makeProfileType('memory', 'inuse_space', 'bytes');
    expect(importFolded(text('a 1'), { type }).profiles[0]!.type).toBe(type);
  });

  it('exports one sorted line per distinct stack, summed', () => {
    const p = profileFromFolded(`
      b;c 2
      a 1
      b;c 3
      a;x 0
    `);
    expect(exportFolded(p)).toBe('a 1\nb;c 5\n');
  });
});

describe('lines', () => {
  it('counts identical lines', () => {
    const [p] = importLines(fixture('sample.lines')).profiles;
    expect(printTree(p!)).toBe(
      dedent(`
        total 5
          main 5
            idle 1 self 1
            work 4
              hash 3 self 3
              sort 1 self 1`),
    );
  });
});

describe('speedscope', () => {
  it('merges sampled profiles of the same (name, type, unit) and converts ms to ns', () => {
    const r = importSpeedscope(fixture('sample-sampled.speedscope.json'));
    expect(r.profiles).toHaveLength(1);
    expect(printTree(r.profiles[0]!)).toBe(
      dedent(`
        total 40000000
          main 40000000
            sleep 20000000 self 20000000
            work 20000000 self 20000000`),
    );
    expect(r.profiles[0]!.type.id).toBe('process_cpu:cpu:nanoseconds:cpu:nanoseconds');
    const f = r.profiles[0]!.frames;
    expect([f.name[1], f.file[1], f.line[1]]).toEqual(['work', 'app.py', 10]);
  });

  it('charges the time between events to the open stack (evented)', () => {
    const [p] = importSpeedscope(fixture('sample-evented.speedscope.json')).profiles;
    expect(printTree(p!)).toBe(
      dedent(`
        total 100000
          main 100000 self 40000
            load 60000 self 30000
              parse 30000 self 30000`),
    );
  });

  it('keeps profiles of different units apart', () => {
    const doc = {
      shared: { frames: [{ name: 'a' }] },
      profiles: [
        {
          type: 'sampled',
          name: 'p',
          unit: 'bytes',
          startValue: 0,
          endValue: 1,
          samples: [[0]],
          weights: [64],
        },
        {
          type: 'sampled',
          name: 'p',
          unit: 'none',
          startValue: 0,
          endValue: 1,
          samples: [[0]],
          weights: [2],
        },
      ],
    };
    const r = importSpeedscope(text(JSON.stringify(doc)));
    expect(r.profiles.map((p) => [p.type.id, totalValue(p)])).toEqual([
      ['memory:samples:bytes::', 64],
      ['process_cpu:samples:count::', 2],
    ]);
  });

  it('rejects malformed documents with the JSON path', () => {
    expect(codeOf(() => importSpeedscope(text('{"shared":'))).code).toBe('speedscope_bad_json');
    const bad = {
      shared: { frames: [{ name: 'a' }] },
      profiles: [{ type: 'sampled', unit: 'none', samples: [[0, 5]], weights: [1] }],
    };
    expect(codeOf(() => importSpeedscope(text(JSON.stringify(bad))))).toEqual({
      code: 'speedscope_invalid',
      details: { path: '$.profiles[0].samples[0][1]' },
    });
    const unbalanced = {
      shared: { frames: [{ name: 'a' }, { name: 'b' }] },
      profiles: [
        {
          type: 'evented',
          unit: 'none',
          events: [
            { type: 'O', frame: 0, at: 0 },
            { type: 'C', frame: 1, at: 1 },
          ],
        },
      ],
    };
    expect(codeOf(() => importSpeedscope(text(JSON.stringify(unbalanced)))).details).toEqual({
      path: '$.profiles[0].events[1]',
    });
  });

  it('names a deeply nested or huge wrong value without printing it (a coded error, not a RangeError)', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const doc = `{"shared":{"frames":[{"name":"a"}]},"profiles":[{"type":"sampled","unit":"none","samples":[[${deep}]],"weights":[1]}]}`;
    const err = codeOf(() => importSpeedscope(text(doc)));
    expect(err).toEqual({ code: 'speedscope_invalid', details: { path: '$.profiles[0].samples[0][0]' } });
    const long = JSON.stringify({ shared: { frames: [] }, profiles: [{ type: 'x'.repeat(100_000) }] });
    expect(() => importSpeedscope(text(long))).toThrow(/must be "sampled" or "evented", got "x{64}…"$/);
  });

  it('exports a sampled profile speedscope can read back, with the unit of the type', () => {
    const p = profileFromFolded('main;work 3\nmain 1', makeProfileType('memory', 'alloc_space', 'bytes'));
    const doc = JSON.parse(exportSpeedscope(p));
    expect(doc.$schema).toBe('https://www.speedscope.app/file-format-schema.json');
    expect(doc.profiles[0]).toMatchObject({ type: 'sampled', unit: 'bytes', endValue: 4 });
    expect(doc.shared.frames.map((f: { name: string }) => f.name)).toEqual(['main', 'work']);
  });
});

describe('legacy trie and tree', () => {
  it('reads the trie: keys are the concatenated fragments on the path', () => {
    expect(exportFolded(importTrie(fixture('sample.trie')).profiles[0]!)).toBe(
      'main;a 10\nmain;b 20\nother 5\n',
    );
  });

  it('reads the tree: every node is a frame, values are self values', () => {
    expect(printTree(importTree(fixture('sample.tree')).profiles[0]!)).toBe(
      dedent(`
        total 38
          main 33 self 3
            a 10 self 10
            b 20 self 20
          other 5 self 5`),
    );
  });

  it('writes byte for byte what the OG serializers write for the same data', () => {
    expect(exportTrie(importTrie(fixture('sample.trie')).profiles[0]!)).toEqual(fixture('sample.trie'));
    expect(exportTree(importTree(fixture('sample.tree')).profiles[0]!)).toEqual(fixture('sample.tree'));
  });

  it('builds a radix trie: shared prefixes are split at the byte where keys differ', () => {
    const p = profileFromFolded('app;handler;read 1\napp;handler;write 2\napp;handle 4');
    const back = importTrie(exportTrie(p)).profiles[0]!;
    expect(exportFolded(back)).toBe(exportFolded(p));
    // Fragments: "app;handle" (4), then "r;" → "read" / "write".
    expect(new TextDecoder().decode(exportTrie(p))).toContain('app;handle');
  });

  it('rejects truncated and trailing bytes', () => {
    const trie = fixture('sample.trie');
    expect(codeOf(() => importTrie(trie.subarray(0, trie.length - 2))).code).toBe('trie_truncated');
    const tree = fixture('sample.tree');
    expect(codeOf(() => importTree(new Uint8Array([...tree, 0, 0, 0]))).details).toMatchObject({
      offset: tree.length,
    });
  });
});

describe('DOT export', () => {
  const p = profileFromFolded(`
    main;a;c 5
    main;b;c 3
    main;a 2
    main;d 1
  `);

  it('draws one node per function with self and total, and weighted edges', () => {
    const dot = exportDot(p);
    expect(dot.startsWith('digraph "process_cpu:samples:count:cpu:nanoseconds" {')).toBe(true);
    expect(dot).toMatch(/N\d+ \[label="c\\n8 \(72\.73%\)\\nof 8 \(72\.73%\)"/);
    expect(dot).toMatch(/label="main\\n0 \(0\.00%\)\\nof 11 \(100\.00%\)"/);
    expect(dot.match(/->/g)).toHaveLength(5);
    expect(dot).toMatch(/-> N\d+ \[label=" 7"/);
  });

  it('keeps only the maxNodes functions with the largest totals and says so', () => {
    const dot = exportDot(p, { maxNodes: 2 });
    expect(dot.match(/^N\d+ \[/gm)).toHaveLength(2);
    expect(dot).toContain('Dropped 3 functions');
    // Kept: main (11) and c (8); c is only reached through a and b, so no edge is drawn.
    expect(dot).toMatch(/label="c\\n/);
    expect(dot).not.toContain('->');
  });
});

describe('registry', () => {
  it('rejects empty input and unrecognised bytes with coded errors', () => {
    expect(codeOf(() => importProfile(new Uint8Array(0))).code).toBe('empty_input');
    expect(codeOf(() => importProfile(fixture('edge-gzip-garbage.gz'), { filename: 'x.gz' })).code).toBe(
      'unknown_format',
    );
    expect(codeOf(() => importProfile(new Uint8Array([0xff, 0x00, 0x13, 0x37]))).code).toBe('unknown_format');
  });

  it('sniffs through gzip and honours an explicit format', () => {
    expect(sniffFormat(new Uint8Array(gzipSync(fixture('sample.folded'))))).toBe('folded');
    expect(sniffFormat(fixture('edge-gzip-garbage.gz'))).toBeNull();
    // A folded file read as lines: every line is one sample of the whole line.
    const asLines = importProfile(text('a;b 3\n'), { format: 'lines' });
    expect(exportFolded(asLines.profiles[0]!)).toBe('a;b 3 1\n');
    expect(codeOf(() => importProfile(text('a 1'), { format: 'jfr' })).code).toBe('unknown_format');
  });

  it('caps gunzipped size for every format', () => {
    const big = new Uint8Array(gzipSync(text('a;b 1\n'.repeat(200_000))));
    expect(codeOf(() => importProfile(big, { maxDecompressedBytes: 100_000 })).code).toBe(
      'decompressed_too_large',
    );
  });
});
