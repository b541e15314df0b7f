// Writes the hand-made fixtures of packages/core/test/fixtures: small files of every text and
// legacy format, and malformed inputs. Bytes are spelled out here, independently of Hotpath's own
// encoders, so the importers are checked against the formats and not against themselves.
//
//   node packages/core/scripts/gen-edge-fixtures.mjs packages/core/test/fixtures
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

const dir = process.argv[2];
if (!dir) throw new Error('usage: gen-edge-fixtures.mjs <fixtures dir>');
const out = (name, data) => writeFileSync(join(dir, name), data);

// --- a minimal protobuf writer (varints and length-delimited fields only) -------------------
const varint = (v) => {
  const b = [];
  let n = BigInt(v);
  if (n < 0n) n = BigInt.asUintN(64, n);
  while (n >= 0x80n) {
    b.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  b.push(Number(n));
  return b;
};
const field = (num, v) => [...varint(num * 8), ...varint(v)];
const bytesField = (num, bytes) => [...varint(num * 8 + 2), ...varint(bytes.length), ...bytes];
const str = (num, s) => bytesField(num, [...Buffer.from(s, 'utf8')]);
const packed = (num, values) => bytesField(num, values.flatMap(varint));

/** A pprof with one sample type (samples/count), functions f(i) = name i, one location each. */
function pprof({ strings, stacks, extra = [] }) {
  const b = [];
  b.push(...bytesField(1, [...field(1, 1), ...field(2, 2)])); // samples / count
  for (const [locs, value] of stacks) b.push(...bytesField(2, [...packed(1, locs), ...packed(2, [value])]));
  const nFunctions = strings.length - 3;
  for (let i = 1; i <= nFunctions; i++) {
    b.push(...bytesField(4, [...field(1, i), ...bytesField(4, [...field(1, i), ...field(2, i)])]));
    b.push(...bytesField(5, [...field(1, i), ...field(2, i + 2), ...field(4, 0)]));
  }
  for (const s of strings) b.push(...(typeof s === 'string' ? str(6, s) : bytesField(6, s)));
  b.push(...extra);
  return Uint8Array.from(b);
}

// --- text formats ------------------------------------------------------------------------------
// CRLF line ends, a blank line, a frame name with spaces, a repeated stack (summed on import).
out(
  'sample.folded',
  'main;handle request;parse 30\r\nmain;handle request;render 50\r\n\r\nmain;gc 20\r\nmain;handle request;parse 5\r\n',
);
out('sample.lines', 'main;work;hash\nmain;work;hash\nmain;work;sort\n\nmain;idle\nmain;work;hash\n');

// speedscope: a sampled profile (two merged by (name, type, unit)) and an evented one.
out(
  'sample-sampled.speedscope.json',
  JSON.stringify(
    {
      $schema: 'https://www.speedscope.app/file-format-schema.json',
      shared: {
        frames: [
          { name: 'main', file: 'app.py', line: 1 },
          { name: 'work', file: 'app.py', line: 10 },
          { name: 'sleep' },
        ],
      },
      profiles: [
        {
          type: 'sampled',
          name: 'thread 1',
          unit: 'milliseconds',
          startValue: 0,
          endValue: 40,
          samples: [
            [0, 1],
            [0, 2],
            [0, 1],
          ],
          weights: [10, 20, 5],
        },
        {
          type: 'sampled',
          name: 'thread 1',
          unit: 'milliseconds',
          startValue: 0,
          endValue: 10,
          samples: [[0, 1]],
          weights: [5],
        },
      ],
      name: 'sample',
      activeProfileIndex: 0,
      exporter: 'hand-written',
    },
    null,
    1,
  ),
);
out(
  'sample-evented.speedscope.json',
  JSON.stringify(
    {
      $schema: 'https://www.speedscope.app/file-format-schema.json',
      shared: { frames: [{ name: 'main' }, { name: 'load' }, { name: 'parse' }] },
      profiles: [
        {
          type: 'evented',
          name: 'main thread',
          unit: 'microseconds',
          startValue: 0,
          endValue: 100,
          events: [
            { type: 'O', frame: 0, at: 0 },
            { type: 'O', frame: 1, at: 10 },
            { type: 'O', frame: 2, at: 30 },
            { type: 'C', frame: 2, at: 60 },
            { type: 'C', frame: 1, at: 70 },
            { type: 'C', frame: 0, at: 100 },
          ],
        },
      ],
    },
    null,
    1,
  ),
);

// --- legacy binary trie and tree ----------------------------------------------------------------
// node = uvarint(len(name)) name uvarint(value) uvarint(children), pre-order, empty root first.
const node = (name, value, children) => [
  ...varint(Buffer.byteLength(name)),
  ...Buffer.from(name),
  ...varint(value),
  ...varint(children),
];
// Keys "main;a" 10, "main;b" 20, "other" 5: the radix trie shares the fragment "main;".
out(
  'sample.trie',
  Uint8Array.from([
    ...node('', 0, 2),
    ...node('main;', 0, 2),
    ...node('a', 10, 0),
    ...node('b', 20, 0),
    ...node('other', 5, 0),
  ]),
);
// The same stacks as a tree of frames, plus self time on "main" itself.
out(
  'sample.tree',
  Uint8Array.from([
    ...node('', 0, 2),
    ...node('main', 3, 2),
    ...node('a', 10, 0),
    ...node('b', 20, 0),
    ...node('other', 5, 0),
  ]),
);

// --- deep stacks -------------------------------------------------------------------------------
const deep = Array.from({ length: 1000 }, (_, i) => `f${i}`);
out('edge-deep.folded', `${deep.join(';')} 7\n${deep.slice(0, 500).join(';')} 3\n`);
out(
  'edge-deep.pb',
  pprof({
    strings: ['', 'samples', 'count', ...deep],
    // location ids are leaf-first in pprof: 1000..1 for the stack f0 (root) → f999 (leaf).
    stacks: [
      [deep.map((_, i) => 1000 - i), 7],
      [deep.slice(0, 500).map((_, i) => 500 - i), 3],
    ],
  }),
);

// --- malformed inputs ---------------------------------------------------------------------------
out('edge-empty.bin', new Uint8Array(0));
const goCpu = gunzipSync(readFileSync(join(dir, 'go-cpu.pb.gz')));
out('edge-truncated.pb', goCpu.subarray(0, Math.floor(goCpu.length * 0.6)));
// gzip of deterministic pseudo-random bytes: valid gzip, garbage inside.
let x = 12345;
const garbage = Uint8Array.from({ length: 2048 }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
out('edge-gzip-garbage.gz', gzipSync(garbage));
// A string that is not UTF-8 (0xff 0xfe), used as a function name.
out(
  'edge-invalid-utf8.pb',
  pprof({ strings: ['', 'samples', 'count', [0x6d, 0x61, 0xff, 0xfe]], stacks: [[[1], 1]] }),
);
// A varint of 11 bytes (time_nanos): longer than any 64-bit varint.
out(
  'edge-huge-varint.pb',
  pprof({
    strings: ['', 'samples', 'count', 'main'],
    stacks: [[[1], 1]],
    extra: [...varint(9 * 8), ...Array(10).fill(0xff), 0x01],
  }),
);
console.log('ok');
