// pprof: real Go profiles cross-checked with `go tool pprof -top`, our encoder read back by Go's
// pprof, the model mapping (inlined frames, labels, metadata, metric names) and every coded error.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError } from '../src/errors.ts';
import { ByteWriter } from '../src/formats/proto.ts';
import {
  decodePprof,
  encodePprof,
  encodePprofGzip,
  importProfile,
  pprofMetricName,
  stackFrames,
  stackNames,
  totalValue,
  type Profile,
} from '../src/index.ts';
import { dedent, printTree, profileFromFolded } from '../src/testing/pictures.ts';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const fixtureText = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

// ---------------------------------------------------------------------------------------------
// `go tool pprof -top` text: total and per-function self (flat) and total (cum).

interface Top {
  total: number;
  flat: Map<string, number>;
  cum: Map<string, number>;
}

function parseTop(text: string): Top {
  const total = Number(/of (\d+)\w* total/.exec(text)?.[1]);
  const flat = new Map<string, number>();
  const cum = new Map<string, number>();
  const num = (s: string) => Number(s.replace(/[a-zA-Z]+$/, ''));
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+\w*)\s+\S+%\s+\S+%\s+(\d+\w*)\s+\S+%\s+(.+?)( \(inline\))?$/.exec(line);
    if (!m) continue;
    // An inlined and a non-inlined occurrence of one function are two rows in pprof: add them up.
    flat.set(m[3]!, (flat.get(m[3]!) ?? 0) + num(m[1]!));
    cum.set(m[3]!, Math.max(cum.get(m[3]!) ?? 0, num(m[2]!)));
  }
  return { total, flat, cum };
}

/** Self value per function name (the leaf frame of each sample). */
function selfByFunction(p: Profile): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const name = p.frames.name[p.stacks.frame[p.samples.stack[i]!]!]!;
    out.set(name, (out.get(name) ?? 0) + p.samples.value[i]!);
  }
  return out;
}

function byType(ps: readonly Profile[], sampleType: string): Profile {
  const p = ps.find((x) => x.type.sampleType === sampleType);
  if (!p) throw new Error(`no ${sampleType}`);
  return p;
}

describe('Go runtime/pprof fixtures against go tool pprof -top', () => {
  const cases = [
    { file: 'go-cpu.pb.gz', top: 'go-cpu.top.txt', sampleType: 'cpu' },
    { file: 'go-heap.pb.gz', top: 'go-heap.inuse_space.top.txt', sampleType: 'inuse_space' },
    { file: 'go-heap.pb.gz', top: 'go-heap.alloc_objects.top.txt', sampleType: 'alloc_objects' },
  ];
  it.each(cases)(
    '$file $sampleType: total and every function self value match',
    ({ file, top, sampleType }) => {
      const expected = parseTop(fixtureText(top));
      const p = byType(decodePprof(fixture(file)), sampleType);
      expect(totalValue(p)).toBe(expected.total);
      const ours = selfByFunction(p);
      for (const [name, flat] of expected.flat) expect([name, ours.get(name) ?? 0]).toEqual([name, flat]);
      expect(expected.flat.size).toBeGreaterThan(3);
    },
  );

  it('maps Go CPU metadata to the model and Pyroscope profile types', () => {
    const ps = decodePprof(fixture('go-cpu.pb.gz'));
    expect(ps.map((p) => p.type.id)).toEqual([
      'process_cpu:samples:count:cpu:nanoseconds',
      'process_cpu:cpu:nanoseconds:cpu:nanoseconds',
    ]);
    expect(ps[0]!.period).toBe(10_000_000);
    expect(ps[0]!.timeNs).toBeGreaterThan(1.7e18);
    expect(ps[0]!.durationNs).toBeGreaterThan(1e9);
    // Sample types of one pprof share their tables.
    expect(ps[1]!.stacks).toBe(ps[0]!.stacks);
    expect(ps[1]!.frames).toBe(ps[0]!.frames);
  });

  it('expands inlined frames root-first: main.mix is inlined into its callers', () => {
    const p = decodePprof(fixture('go-cpu.pb.gz'))[1]!;
    const parents = new Set<string>();
    for (let s = 0; s < p.stacks.length; s++) {
      if (p.frames.name[p.stacks.frame[s]!] === 'main.mix' && p.stacks.parent[s] !== -1) {
        parents.add(p.frames.name[p.stacks.frame[p.stacks.parent[s]!]!]!);
      }
    }
    expect([...parents].filter((n) => n.startsWith('main.')).length).toBeGreaterThan(0);
    expect(stackNames(p, p.samples.stack[0]!)[0]).toBe('runtime.main');
  });
});

const hasGo = spawnSync('go', ['version']).status === 0;

describe('encodePprof output read by go tool pprof', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-pprof-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!hasGo)(
    '(skipped when the go toolchain is absent) reproduces the -top of the Go CPU fixture',
    () => {
      const path = join(dir, 'cpu.pb.gz');
      writeFileSync(path, encodePprofGzip(decodePprof(fixture('go-cpu.pb.gz'))));
      const text = execFileSync(
        'go',
        [
          'tool',
          'pprof',
          '-top',
          '-nodefraction=0',
          '-nodecount=1000',
          '-sample_index=cpu',
          '-unit=ns',
          path,
        ],
        {
          encoding: 'utf8',
          env: { ...process.env, GOCACHE: join(dir, 'gocache'), HOME: dir },
        },
      );
      const ours = parseTop(text);
      const theirs = parseTop(fixtureText('go-cpu.top.txt'));
      expect(ours.total).toBe(theirs.total);
      expect(ours.flat).toEqual(theirs.flat);
      expect(ours.cum).toEqual(theirs.cum);
    },
  );

  it.skipIf(!hasGo)('(skipped when the go toolchain is absent) reads a multi-type heap with labels', () => {
    const path = join(dir, 'heap.pb');
    const heap = decodePprof(fixture('go-heap.pb.gz'));
    writeFileSync(path, encodePprof(heap));
    const text = execFileSync(
      'go',
      ['tool', 'pprof', '-top', '-nodefraction=0', '-sample_index=inuse_space', '-unit=B', path],
      {
        encoding: 'utf8',
        env: { ...process.env, GOCACHE: join(dir, 'gocache'), HOME: dir },
      },
    );
    expect(parseTop(text).total).toBe(totalValue(byType(heap, 'inuse_space')));
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-built pprofs: a tiny writer over the protobuf primitives.

interface Spec {
  sampleTypes?: Array<[number, number]>;
  samples?: Array<{ locs: number[]; values: number[]; labels?: Array<[number, number, number?]> }>;
  locations?: Array<{ id: number; lines: Array<[number, number]> }>;
  functions?: Array<{ id: number; name: number; file?: number }>;
  strings?: string[];
  raw?: (w: ByteWriter) => void;
}

function pprofBytes(spec: Spec): Uint8Array {
  const w = new ByteWriter();
  const m = new ByteWriter();
  const inner = new ByteWriter();
  const scratch = new ByteWriter();
  for (const [t, u] of spec.sampleTypes ?? [[1, 2]]) {
    m.pos = 0;
    m.varintField(1, t);
    m.varintField(2, u);
    w.messageField(1, m);
  }
  for (const s of spec.samples ?? []) {
    m.pos = 0;
    m.packedField(1, s.locs, scratch);
    m.packedField(2, s.values, scratch);
    for (const [k, v, num] of s.labels ?? []) {
      inner.pos = 0;
      inner.varintField(1, k);
      inner.varintField(2, v);
      inner.varintField(3, num ?? 0);
      m.messageField(3, inner);
    }
    w.messageField(2, m);
  }
  for (const l of spec.locations ?? []) {
    m.pos = 0;
    m.varintField(1, l.id);
    for (const [fn, line] of l.lines) {
      inner.pos = 0;
      inner.varintField(1, fn);
      inner.varintField(2, line);
      m.messageField(4, inner);
    }
    w.messageField(4, m);
  }
  for (const f of spec.functions ?? []) {
    m.pos = 0;
    m.varintField(1, f.id);
    m.varintField(2, f.name);
    m.varintField(4, f.file ?? 0);
    w.messageField(5, m);
  }
  for (const s of spec.strings ?? [
    '',
    'samples',
    'count',
    'main',
    'work',
    'inner',
    'main.go',
    'region',
    'eu',
    'bytes',
  ])
    w.stringField(6, s);
  spec.raw?.(w);
  return w.finish();
}

/** strings: 0 '', 1 samples, 2 count, 3 main, 4 work, 5 inner, 6 main.go, 7 region, 8 eu, 9 bytes */
const BASE: Spec = {
  samples: [{ locs: [2, 1], values: [5] }],
  locations: [
    { id: 1, lines: [[1, 10]] },
    { id: 2, lines: [[2, 20]] },
  ],
  functions: [
    { id: 1, name: 3, file: 6 },
    { id: 2, name: 4, file: 6 },
  ],
};

function codeOf(f: () => unknown): { code: string; details: Record<string, unknown>; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof FormatError) return { code: e.code, details: { ...e.details }, message: e.message };
    throw e;
  }
  throw new Error('no error thrown');
}

describe('decodePprof model mapping', () => {
  it('reads a minimal profile: frames root-first with file and line', () => {
    const [p] = decodePprof(pprofBytes(BASE));
    expect(printTree(p!)).toBe(
      dedent(`
        total 5
          main 5
            work 5 self 5`),
    );
    const frames = stackFrames(p!.stacks, p!.samples.stack[0]!);
    expect(frames.map((f) => [p!.frames.name[f], p!.frames.file[f], p!.frames.line[f]])).toEqual([
      ['main', 'main.go', 10],
      ['work', 'main.go', 20],
    ]);
  });

  it('expands a location with several lines into inlined frames, callee last', () => {
    const [p] = decodePprof(
      pprofBytes({
        ...BASE,
        // line[0] is the innermost (inlined) function: inner inlined into work.
        locations: [
          { id: 1, lines: [[1, 10]] },
          {
            id: 2,
            lines: [
              [3, 30],
              [2, 20],
            ],
          },
        ],
        functions: [...BASE.functions!, { id: 3, name: 5, file: 6 }],
      }),
    );
    expect(stackNames(p!, p!.samples.stack[0]!)).toEqual(['main', 'work', 'inner']);
  });

  it('keeps string sample labels as label sets and ignores numeric ones', () => {
    const [p] = decodePprof(
      pprofBytes({
        ...BASE,
        samples: [
          {
            locs: [2, 1],
            values: [5],
            labels: [
              [7, 8],
              [9, 0, 4096],
            ],
          },
          { locs: [1], values: [1] },
        ],
      }),
    );
    expect(p!.sampleLabelSets).toEqual([[], [{ name: 'region', value: 'eu' }]]);
    expect([...p!.samples.labelSet]).toEqual([1, 0]);
  });

  it('reads negative int64 values and big varints exactly', () => {
    const [p] = decodePprof(
      pprofBytes({
        ...BASE,
        samples: [
          { locs: [1], values: [-3] },
          { locs: [1], values: [2 ** 40 + 1] },
        ],
      }),
    );
    expect([...p!.samples.value]).toEqual([-3, 2 ** 40 + 1]);
    const [q] = decodePprof(encodePprof([p!]));
    expect([...q!.samples.value]).toEqual([-3, 2 ** 40 + 1]);
  });

  it('decodes non-ASCII names in a long string table', () => {
    const strings = [
      '',
      'samples',
      'count',
      'café',
      '函数',
      ...Array.from({ length: 20 }, (_, i) => `pad${i}`),
    ];
    const [p] = decodePprof(
      pprofBytes({
        ...BASE,
        strings,
        functions: [
          { id: 1, name: 3, file: 5 },
          { id: 2, name: 4, file: 6 },
        ],
      }),
    );
    expect(stackNames(p!, p!.samples.stack[0]!)).toEqual(['café', '函数']);
    expect(p!.frames.file).toEqual(['pad0', 'pad1']);
  });

  it('accepts unpacked repeated location ids and values', () => {
    const [p] = decodePprof(
      pprofBytes({
        ...BASE,
        samples: [],
        raw: (w) => {
          const m = new ByteWriter();
          m.tag(1, 0);
          m.varint(2);
          m.tag(1, 0);
          m.varint(1);
          m.tag(2, 0);
          m.varint(7);
          w.messageField(2, m);
        },
      }),
    );
    expect(stackNames(p!, p!.samples.stack[0]!)).toEqual(['main', 'work']);
    expect(totalValue(p!)).toBe(7);
  });
});

describe('decodePprof rejects malformed input with coded errors', () => {
  const cases: Array<{
    name: string;
    bytes: () => Uint8Array;
    code: string;
    details?: Record<string, unknown>;
  }> = [
    {
      name: 'string index out of range (names the field and index)',
      bytes: () => pprofBytes({ ...BASE, functions: [{ id: 1, name: 99 }, BASE.functions![1]!] }),
      code: 'pprof_string_index',
      details: { field: 'function[0].name', index: 99, length: 10 },
    },
    {
      name: 'sample type string out of range',
      bytes: () => pprofBytes({ ...BASE, sampleTypes: [[1, 42]] }),
      code: 'pprof_string_index',
      details: { field: 'sample_type[0].unit', index: 42 },
    },
    {
      name: 'location id 0',
      bytes: () => pprofBytes({ ...BASE, locations: [{ id: 0, lines: [[1, 1]] }] }),
      code: 'pprof_zero_id',
    },
    {
      name: 'function id 0',
      bytes: () => pprofBytes({ ...BASE, functions: [{ id: 0, name: 3 }] }),
      code: 'pprof_zero_id',
    },
    {
      name: 'sample refers to an unknown location',
      bytes: () => pprofBytes({ ...BASE, samples: [{ locs: [7], values: [1] }] }),
      code: 'pprof_unknown_location',
      details: { index: 0, id: 7 },
    },
    {
      name: 'line refers to an unknown function',
      bytes: () => pprofBytes({ ...BASE, locations: [{ id: 1, lines: [[9, 1]] }] }),
      code: 'pprof_unknown_function',
      details: { index: 0, id: 9 },
    },
    {
      name: 'len(value) != len(sample_type)',
      bytes: () => pprofBytes({ ...BASE, samples: [{ locs: [1], values: [1, 2] }] }),
      code: 'pprof_value_count',
      details: { index: 0, expected: 1, actual: 2 },
    },
    {
      name: 'no sample_type',
      bytes: () => pprofBytes({ ...BASE, sampleTypes: [] }),
      code: 'pprof_no_sample_type',
    },
    { name: 'empty input', bytes: () => new Uint8Array(0), code: 'pprof_no_sample_type' },
    {
      name: 'string_table[0] is not empty',
      bytes: () =>
        pprofBytes({ ...BASE, strings: ['x', 'samples', 'count', 'main', 'work', 'inner', 'main.go'] }),
      code: 'pprof_string_table_start',
    },
    {
      name: 'wrong wire type (sample_type as a varint)',
      bytes: () => pprofBytes({ ...BASE, raw: (w) => w.varintField(1, 3) }),
      code: 'pprof_wire_type',
      details: { field: 1, wireType: 0 },
    },
    {
      name: 'packed location ids longer than their sample',
      bytes: () =>
        pprofBytes({ ...BASE, samples: [], raw: (w) => w.lenField(2, new Uint8Array([0x0a, 0x05, 0x01])) }),
      code: 'pprof_truncated',
    },
    {
      name: 'truncated Go profile (offset named)',
      bytes: () => fixture('edge-truncated.pb'),
      code: 'pprof_truncated',
    },
    {
      name: 'invalid UTF-8 string',
      bytes: () => fixture('edge-invalid-utf8.pb'),
      code: 'invalid_utf8',
      details: { index: 3 },
    },
    {
      name: 'varint longer than 10 bytes',
      bytes: () => fixture('edge-huge-varint.pb'),
      code: 'pprof_bad_varint',
    },
  ];
  it.each(cases)('$name → $code', ({ bytes, code, details }) => {
    const err = codeOf(() => decodePprof(bytes()));
    expect(err.code).toBe(code);
    if (details) expect(err.details).toMatchObject(details);
  });

  it('names the offset of a truncation', () => {
    const bytes = fixture('edge-truncated.pb');
    const err = codeOf(() => decodePprof(bytes));
    expect(Number(err.details.offset)).toBeLessThan(bytes.length);
    expect(err.message).toContain(`offset ${err.details.offset}`);
  });

  it('caps gunzipped size: decompressed_too_large names the limit and the actual size', () => {
    const bomb = new Uint8Array(gzipSync(new Uint8Array(8 * 1024 * 1024)));
    const err = codeOf(() => decodePprof(bomb, { maxDecompressedBytes: 1024 * 1024 }));
    expect(err.code).toBe('decompressed_too_large');
    expect(err.details.limit).toBe(1024 * 1024);
    expect(Number(err.details.actual)).toBeGreaterThan(1024 * 1024);
    expect(err.message).toContain('1048576');
  });

  it('reports a corrupt gzip stream as gzip_invalid', () => {
    const gz = fixture('go-cpu.pb.gz');
    expect(codeOf(() => decodePprof(gz.subarray(0, gz.length >> 1))).code).toBe('gzip_invalid');
  });
});

describe('encodePprof', () => {
  it('writes profiles that do not share tables as one pprof with one sample type each', () => {
    const a = profileFromFolded(`
      main;work 3
      main;idle 1
    `);
    const b = profileFromFolded(`
      main;work 10
      other 2
    `);
    const [x, y] = decodePprof(encodePprof([a, b]));
    expect(x!.stacks).toBe(y!.stacks);
    expect(printTree(x!)).toBe(printTree(a));
    expect(printTree(y!)).toBe(printTree(b));
  });

  it('keeps sample labels, time, duration and period', () => {
    const p = profileFromFolded('main;work 3 {region=eu,vehicle=car}\nmain 1');
    const stamped = { ...p, timeNs: 1_700_000_000_000_000_000, durationNs: 10e9, period: 10_000_000 };
    const [q] = decodePprof(encodePprof([stamped]));
    expect(q!.sampleLabelSets).toEqual(p.sampleLabelSets);
    expect([q!.timeNs, q!.durationNs, q!.period]).toEqual([stamped.timeNs, 10e9, 10_000_000]);
    expect(q!.type.id).toBe('process_cpu:samples:count:cpu:nanoseconds');
  });

  it('gzip output is recognised by the registry', () => {
    const p = profileFromFolded('a;b 1');
    expect(importProfile(encodePprofGzip([p])).format).toBe('pprof');
  });
});

describe('pprofMetricName (Pyroscope __name__ rules)', () => {
  it.each([
    [['samples', 'cpu'], undefined, 'process_cpu'],
    [['alloc_objects', 'alloc_space', 'inuse_objects', 'inuse_space'], undefined, 'memory'],
    [['objects', 'space'], undefined, 'memory'],
    [['sample', 'wall'], undefined, 'wall'],
    [['samples'], undefined, 'process_cpu'],
    [['goroutine'], undefined, 'goroutines'],
    [['contentions', 'delay'], undefined, 'mutex'],
    [['contentions', 'delay'], { contentions: 'block_count', delay: 'block_duration' }, 'block'],
    [['exception'], undefined, 'exception'],
  ] as const)('%j with %j → %s', (types, display, expected) => {
    expect(pprofMetricName(types, display)).toBe(expected);
  });
});
