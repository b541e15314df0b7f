// Test helpers for the write path: pprof bytes from folded pictures (real pprof encoding via core).
import { gzipSync } from 'node:zlib';
import { ProtoWriter } from '../../src/connect/wire.ts';
import {
  encodePprof,
  makeProfileType,
  ProfileBuilder,
  type LabelPair,
  type ProfileType,
} from '@hotpath/core';

export const PY_CPU = makeProfileType('process_cpu', 'cpu', 'nanoseconds', 'cpu', 'nanoseconds');

/**
 * pprof bytes from folded lines `a;b;c 3` (root first) with optional sample labels per line
 * `a;b 2 {vehicle=car}`. Frames get file `<name>.py`. Values are multiplied by `scale`.
 */
export function pprofOf(
  folded: string,
  opts: { type?: ProfileType; timeMs?: number; scale?: number; gzip?: boolean; period?: number } = {},
): Buffer {
  const type = opts.type ?? PY_CPU;
  const b = new ProfileBuilder([type], {
    timeNs: (opts.timeMs ?? 0) * 1e6,
    durationNs: 10e9,
    period: opts.period ?? 10_000_000,
  });
  for (const raw of folded.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    let labels: LabelPair[] = [];
    let rest = line;
    const brace = line.lastIndexOf(' {');
    if (brace !== -1 && line.endsWith('}')) {
      labels = line
        .slice(brace + 2, -1)
        .split(',')
        .map((kv) => ({ name: kv.split('=')[0]!, value: kv.split('=')[1]! }));
      rest = line.slice(0, brace);
    }
    const space = rest.lastIndexOf(' ');
    const frames = rest.slice(0, space).split(';');
    const value = Number(rest.slice(space + 1)) * (opts.scale ?? 1);
    const stack = b.stackOf(frames.map((f) => b.frame(f, `${f}.py`)));
    b.sample(stack, [value], labels.length > 0 ? b.labelSet(labels) : 0);
  }
  const bytes = encodePprof(b.build());
  return opts.gzip ? gzipSync(bytes) : Buffer.from(bytes);
}

/** PushRequest bytes: one series per entry with one RawSample each. */
export function pushRequest(
  series: { labels: Record<string, string>; profiles: Uint8Array[] }[],
): Uint8Array {
  const w = new ProtoWriter();
  for (const s of series) {
    w.message(1, (sw) => {
      for (const [name, value] of Object.entries(s.labels))
        sw.message(1, (lw) => lw.string(1, name).string(2, value));
      for (const p of s.profiles)
        sw.message(2, (rw) => rw.bytes(1, p).string(2, '6f1c3c43-6c2e-4c55-9d8a-3d3f5b3c0c11'));
    });
  }
  return w.finish();
}
