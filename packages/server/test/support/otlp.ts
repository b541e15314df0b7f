// Builds OTLP profiles requests (opentelemetry-proto 1.10+) from the project's generated schemas:
// a dictionary builder that interns strings, attributes, functions, mappings, locations, stacks and
// links (index 0 of every table is the zero value, as OTLP requires), and the request picture the
// OTLP tests and fuzz family share: a Python service profiled by an eBPF profiler.
import { create, toBinary, toJson, type MessageInitShape } from '@bufbuild/protobuf';
import {
  ExportProfilesServiceRequestSchema,
  type ExportProfilesServiceRequest,
} from '../../src/gen/opentelemetry/proto/collector/profiles/v1development/profiles_service_pb.ts';
import { KeyValueSchema, type KeyValue } from '../../src/gen/opentelemetry/proto/common/v1/common_pb.ts';
import {
  FunctionSchema,
  KeyValueAndUnitSchema,
  LinkSchema,
  LocationSchema,
  MappingSchema,
  ProfileSchema,
  ProfilesDictionarySchema,
  StackSchema,
  type ProfilesDictionary,
} from '../../src/gen/opentelemetry/proto/profiles/v1development/profiles_pb.ts';

type ProfileInit = MessageInitShape<typeof ProfileSchema>;

/** One frame of a location: a function (name, file) at a line. */
export interface LineSpec {
  readonly fn: string;
  readonly file?: string;
  readonly line?: number;
}

export class DictionaryBuilder {
  readonly d: ProfilesDictionary = create(ProfilesDictionarySchema, {
    stringTable: [''],
    mappingTable: [{}],
    locationTable: [{}],
    functionTable: [{}],
    linkTable: [{}],
    attributeTable: [{}],
    stackTable: [{}],
  });
  private readonly interned = new Map<string, number>();

  private intern(key: string, table: unknown[], make: () => unknown): number {
    let i = this.interned.get(key);
    if (i === undefined) {
      i = table.length;
      table.push(make());
      this.interned.set(key, i);
    }
    return i;
  }

  str(s: string): number {
    if (s === '') return 0;
    return this.intern(`s:${s}`, this.d.stringTable, () => s);
  }

  attr(key: string, value: string | number): number {
    const v =
      typeof value === 'string'
        ? { case: 'stringValue' as const, value }
        : { case: 'intValue' as const, value: BigInt(value) };
    return this.intern(`a:${key}=${value}`, this.d.attributeTable, () =>
      create(KeyValueAndUnitSchema, { keyStrindex: this.str(key), value: { value: v } }),
    );
  }

  mapping(file: string, kind?: string): number {
    return this.intern(`m:${file}:${kind}`, this.d.mappingTable, () =>
      create(MappingSchema, {
        filenameStrindex: this.str(file),
        memoryStart: 0x400000n,
        memoryLimit: 0x800000n,
        attributeIndices: kind === undefined ? [] : [this.attr('profile.frame.type', kind)],
      }),
    );
  }

  fn(name: string, file = ''): number {
    return this.intern(`f:${name}:${file}`, this.d.functionTable, () =>
      create(FunctionSchema, {
        nameStrindex: this.str(name),
        filenameStrindex: this.str(file),
      }),
    );
  }

  /** A location: `lines` innermost first (inlined functions before their caller); none = unsymbolised. */
  location(spec: {
    kind: string;
    mapping: string;
    lines: LineSpec[];
    address?: bigint;
    kindOn?: 'location' | 'mapping';
  }): number {
    const onMapping = spec.kindOn === 'mapping';
    const key = `l:${JSON.stringify(spec, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`;
    return this.intern(key, this.d.locationTable, () =>
      create(LocationSchema, {
        mappingIndex: this.mapping(spec.mapping, onMapping ? spec.kind : undefined),
        address: spec.address ?? 0n,
        lines: spec.lines.map((l) => ({ functionIndex: this.fn(l.fn, l.file), line: BigInt(l.line ?? 0) })),
        attributeIndices: onMapping ? [] : [this.attr('profile.frame.type', spec.kind)],
      }),
    );
  }

  /** A stack from location indexes given root first (OTLP stores them leaf first). */
  stack(rootFirst: number[]): number {
    return this.intern(`st:${rootFirst.join(',')}`, this.d.stackTable, () =>
      create(StackSchema, { locationIndices: [...rootFirst].reverse() }),
    );
  }

  link(traceIdHex: string, spanIdHex: string): number {
    return this.intern(`k:${traceIdHex}:${spanIdHex}`, this.d.linkTable, () =>
      create(LinkSchema, {
        traceId: Buffer.from(traceIdHex, 'hex'),
        spanId: Buffer.from(spanIdHex, 'hex'),
      }),
    );
  }

  valueType(type: string, unit: string) {
    return { typeStrindex: this.str(type), unitStrindex: this.str(unit) };
  }
}

export function keyValues(attrs: Record<string, string | number>): KeyValue[] {
  return Object.entries(attrs).map(([key, value]) =>
    create(KeyValueSchema, {
      key,
      value: {
        value:
          typeof value === 'string'
            ? { case: 'stringValue', value }
            : { case: 'intValue', value: BigInt(value) },
      },
    }),
  );
}

export function otlpRequest(
  dict: DictionaryBuilder,
  resources: {
    attributes: Record<string, string | number>;
    scope?: Record<string, string | number>;
    profiles: ProfileInit[];
  }[],
): ExportProfilesServiceRequest {
  return create(ExportProfilesServiceRequestSchema, {
    dictionary: dict.d,
    resourceProfiles: resources.map((r) => ({
      resource: { attributes: keyValues(r.attributes) },
      scopeProfiles: [
        {
          scope: {
            name: 'go.opentelemetry.io/ebpf-profiler',
            version: '0.1',
            attributes: keyValues(r.scope ?? {}),
          },
          profiles: r.profiles,
        },
      ],
    })),
  });
}

export const otlpBinary = (req: ExportProfilesServiceRequest): Buffer =>
  Buffer.from(toBinary(ExportProfilesServiceRequestSchema, req));

/** OTLP/JSON: protojson, except that trace, span and profile ids are hex (not base64). */
export function otlpJson(req: ExportProfilesServiceRequest): string {
  const j = toJson(ExportProfilesServiceRequestSchema, req) as Record<string, any>;
  for (const l of j.dictionary?.linkTable ?? []) {
    if (l.traceId) l.traceId = Buffer.from(l.traceId, 'base64').toString('hex');
    if (l.spanId) l.spanId = Buffer.from(l.spanId, 'base64').toString('hex');
  }
  return JSON.stringify(j);
}

/**
 * A Python service on Kubernetes profiled by an eBPF profiler: Python frames, the interpreter's and a
 * library's native frames (one unsymbolised, one with an inlined function) and a kernel frame; three
 * sample types (cpu samples, off-cpu time, allocated bytes) sharing one dictionary. Expected flame
 * graphs (values after the write path: cpu samples × period 10 ms):
 *
 *   process_cpu: main;handle_request;order_car;_PyEval_EvalFrameDefault [native];libssl.so.3+0x1a2b [native];do_syscall_64 [kernel] 30000000
 *                main;handle_request;order_bike 20000000
 *                main;handle_request;SSL_write [native];memcpy_fast [native] 20000000   (timestamps only: 2 samples)
 *   off_cpu:     main;handle_request;order_car;…;do_syscall_64 [kernel] 5000
 *   memory:      main;handle_request;order_bike 4096
 */
export function eBpfPythonRequest(timeNs: bigint): ExportProfilesServiceRequest {
  const d = new DictionaryBuilder();
  const py = (fn: string, file: string, line: number) =>
    d.location({ kind: 'cpython', mapping: '/usr/bin/python3.12', lines: [{ fn, file, line }] });
  const main = py('main', 'server.py', 10);
  const handle = py('handle_request', 'server.py', 42);
  const orderCar = py('order_car', 'lib/car/car.py', 7);
  const orderBike = py('order_bike', 'lib/bike/bike.py', 7);
  const eval_ = d.location({
    kind: 'native',
    kindOn: 'mapping',
    mapping: '/usr/lib/libpython3.12.so.1.0',
    lines: [{ fn: '_PyEval_EvalFrameDefault', line: 1234 }],
    address: 0x51234n,
  });
  const ssl = d.location({ kind: 'native', mapping: '/usr/lib/libssl.so.3', lines: [], address: 0x1a2bn });
  const syscall = d.location({
    kind: 'kernel',
    mapping: '[kernel.kallsyms]',
    lines: [{ fn: 'do_syscall_64' }],
  });
  const inlined = d.location({
    kind: 'native',
    mapping: '/usr/lib/libssl.so.3',
    lines: [
      { fn: 'memcpy_fast', file: 'mem.c', line: 3 },
      { fn: 'SSL_write', file: 'ssl_lib.c', line: 2100 },
    ],
    address: 0x2000n,
  });
  const carStack = d.stack([main, handle, orderCar, eval_, ssl, syscall]);
  const bikeStack = d.stack([main, handle, orderBike]);
  const sslStack = d.stack([main, handle, inlined]);
  const car = d.attr('vehicle', 'car');
  const bike = d.attr('vehicle', 'bike');
  const thread = d.attr('thread.id', 7);
  const link = d.link('0102030405060708090a0b0c0d0e0f10', 'a1a2a3a4a5a6a7a8');
  const common = { timeUnixNano: timeNs, durationNano: 10_000_000_000n };
  return otlpRequest(d, [
    {
      attributes: {
        'service.name': 'ride-sharing-app',
        'process.runtime.name': 'cpython',
        'process.runtime.version': '3.12.1',
        'k8s.pod.name': 'web-1',
        'k8s.namespace.name': 'prod',
        'process.pid': 4242,
      },
      scope: { 'profiler.mode': 'ebpf' },
      profiles: [
        {
          ...common,
          sampleType: d.valueType('samples', 'count'),
          periodType: d.valueType('cpu', 'nanoseconds'),
          period: 10_000_000n,
          samples: [
            { stackIndex: carStack, values: [3n], attributeIndices: [car, thread], linkIndex: link },
            { stackIndex: bikeStack, values: [2n], attributeIndices: [bike] },
            { stackIndex: sslStack, timestampsUnixNano: [timeNs + 1n, timeNs + 2n], attributeIndices: [car] },
          ],
        },
        {
          ...common,
          sampleType: d.valueType('off_cpu', 'nanoseconds'),
          samples: [{ stackIndex: carStack, values: [5000n], attributeIndices: [car] }],
        },
        {
          ...common,
          sampleType: d.valueType('alloc_space', 'bytes'),
          periodType: d.valueType('space', 'bytes'),
          period: 524_288n,
          samples: [{ stackIndex: bikeStack, values: [4096n], attributeIndices: [bike] }],
        },
      ],
    },
  ]);
}
