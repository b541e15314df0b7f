// speedscope JSON. Spec: https://www.speedscope.app/file-format-schema.json
// (source: https://github.com/jlfwong/speedscope/blob/main/src/lib/file-format-spec.ts).
// Sampled profiles give stacks (frame indexes, root-first) with weights; evented profiles give
// open/close events, whose time between events is charged to the stack open at that moment.
// Profiles with the same (name, type, unit) are merged, as Pyroscope does. Time units are
// converted to nanoseconds.

import { ProfileBuilder } from '../builder.ts';
import { FormatError } from '../errors.ts';
import {
  makeProfileType,
  stackFrames,
  totalValue,
  type ImportedProfiles,
  type Profile,
  type ProfileType,
} from '../model.ts';
import { sumByStack } from './tables.ts';
import { decodeText, headText } from './text.ts';

export const SPEEDSCOPE_SCHEMA = 'https://www.speedscope.app/file-format-schema.json';

/** Nanoseconds per unit for the time units of the spec. */
const NS_PER_UNIT: Readonly<Record<string, number>> = {
  nanoseconds: 1,
  microseconds: 1e3,
  milliseconds: 1e6,
  seconds: 1e9,
};

function typeForUnit(unit: string): ProfileType {
  if (unit in NS_PER_UNIT) return makeProfileType('process_cpu', 'cpu', 'nanoseconds', 'cpu', 'nanoseconds');
  if (unit === 'bytes') return makeProfileType('memory', 'samples', 'bytes');
  return makeProfileType('process_cpu', 'samples', 'count');
}

/** A JSON object that names the speedscope schema (or has its `shared.frames` + `profiles` shape). */
export function sniffSpeedscope(head: Uint8Array): boolean {
  const text = headText(head);
  if (text === null || !text.trimStart().startsWith('{')) return false;
  return (
    text.includes('speedscope.app/file-format-schema') ||
    (/"shared"\s*:/.test(text) && /"frames"\s*:/.test(text))
  );
}

function invalid(path: string, what: string): FormatError {
  return new FormatError('speedscope_invalid', `speedscope: ${path} ${what}`, { path });
}

/**
 * A bounded preview of a value for an error message. JSON.stringify of what a client sent could be
 * megabytes long or nested deeper than the stack (a RangeError instead of a coded error).
 */
function shown(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && v !== null) return 'an object';
  return typeof v === 'string' ? JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v) : String(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteNumber(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw invalid(path, `must be a finite number, got ${shown(v)}`);
  return v;
}

export function importSpeedscope(bytes: Uint8Array): ImportedProfiles {
  let doc: unknown;
  try {
    doc = JSON.parse(decodeText(bytes, 'speedscope'));
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError('speedscope_bad_json', `speedscope: not valid JSON (${(e as Error).message})`, {});
  }
  if (!isObject(doc)) throw invalid('$', 'must be an object');
  const shared = doc.shared;
  if (!isObject(shared) || !Array.isArray(shared.frames))
    throw invalid('$.shared.frames', 'must be an array');
  if (!Array.isArray(doc.profiles)) throw invalid('$.profiles', 'must be an array');
  const frames = shared.frames.map((f, i) => {
    if (!isObject(f) || typeof f.name !== 'string')
      throw invalid(`$.shared.frames[${i}].name`, 'must be a string');
    const file = typeof f.file === 'string' ? f.file : '';
    const line = typeof f.line === 'number' && Number.isInteger(f.line) && f.line > 0 ? f.line : 0;
    return { name: f.name, file, line };
  });

  interface Group {
    builder: ProfileBuilder;
    frameMap: Map<number, number>;
    scale: number;
  }
  const groups = new Map<string, Group>();
  doc.profiles.forEach((p, pi) => {
    const at = `$.profiles[${pi}]`;
    if (!isObject(p)) throw invalid(at, 'must be an object');
    const type = p.type;
    const unit = typeof p.unit === 'string' ? p.unit : 'none';
    const name = typeof p.name === 'string' ? p.name : '';
    if (type !== 'sampled' && type !== 'evented')
      throw invalid(`${at}.type`, `must be "sampled" or "evented", got ${shown(type)}`);
    const key = `${name}\u0000${type}\u0000${unit}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        builder: new ProfileBuilder([typeForUnit(unit)]),
        frameMap: new Map(),
        scale: NS_PER_UNIT[unit] ?? 1,
      };
      groups.set(key, g);
    }
    const group = g;
    const frame = (index: unknown, path: string): number => {
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= frames.length) {
        throw invalid(path, `must be a frame index below ${frames.length}, got ${shown(index)}`);
      }
      let f = group.frameMap.get(index);
      if (f === undefined) {
        const fr = frames[index]!;
        f = group.builder.frame(fr.name, fr.file, fr.line);
        group.frameMap.set(index, f);
      }
      return f;
    };
    const b = group.builder;
    if (type === 'sampled') {
      const samples = p.samples;
      const weights = p.weights;
      if (!Array.isArray(samples) || !Array.isArray(weights))
        throw invalid(at, 'needs "samples" and "weights" arrays');
      if (samples.length !== weights.length) {
        throw invalid(
          `${at}.weights`,
          `has ${weights.length} entries but there are ${samples.length} samples`,
        );
      }
      samples.forEach((stack, si) => {
        if (!Array.isArray(stack)) throw invalid(`${at}.samples[${si}]`, 'must be an array');
        const w = finiteNumber(weights[si], `${at}.weights[${si}]`);
        if (w < 0) throw invalid(`${at}.weights[${si}]`, `must not be negative, got ${w}`);
        if (stack.length === 0 || w === 0) return;
        let s = -1;
        stack.forEach((fi, k) => (s = b.stack(s, frame(fi, `${at}.samples[${si}][${k}]`))));
        b.sample(s, [Math.round(w * group.scale)]);
      });
    } else {
      if (!Array.isArray(p.events)) throw invalid(`${at}.events`, 'must be an array');
      // Open frames (builder stack after each) and the time of the previous event.
      const open: Array<{ frame: unknown; stack: number }> = [];
      let last = 0;
      p.events.forEach((e, ei) => {
        const path = `${at}.events[${ei}]`;
        if (!isObject(e)) throw invalid(path, 'must be an object');
        const t = finiteNumber(e.at, `${path}.at`);
        if (ei > 0 && t < last) throw invalid(`${path}.at`, `goes back in time (${t} < ${last})`);
        const top = open[open.length - 1];
        if (top !== undefined && t > last) b.sample(top.stack, [Math.round((t - last) * group.scale)]);
        last = t;
        if (e.type === 'O') {
          open.push({ frame: e.frame, stack: b.stack(top?.stack ?? -1, frame(e.frame, `${path}.frame`)) });
        } else if (e.type === 'C') {
          if (top === undefined || top.frame !== e.frame) {
            throw invalid(
              path,
              `closes frame ${shown(e.frame)} but the open frame is ${shown(top?.frame ?? null)}`,
            );
          }
          open.pop();
        } else {
          throw invalid(`${path}.type`, `must be "O" or "C", got ${shown(e.type)}`);
        }
      });
      if (open.length > 0) throw invalid(`${at}.events`, `leave ${open.length} frame(s) open`);
    }
  });
  const profiles = [...groups.values()].map((g) => g.builder.build()[0]!);
  return { format: 'speedscope', profiles };
}

function speedscopeUnit(sampleUnit: string): string {
  return sampleUnit in NS_PER_UNIT || sampleUnit === 'bytes' ? sampleUnit : 'none';
}

/** One sampled speedscope profile: a sample per distinct stack with its summed value. */
export function exportSpeedscope(profile: Profile): string {
  const frameIndex = new Map<number, number>();
  const frames: Array<{ name: string; file?: string; line?: number }> = [];
  const samples: number[][] = [];
  const weights: number[] = [];
  for (const [stack, value] of sumByStack(profile)) {
    if (value === 0) continue;
    samples.push(
      stackFrames(profile.stacks, stack).map((f) => {
        let i = frameIndex.get(f);
        if (i === undefined) {
          i = frames.length;
          frameIndex.set(f, i);
          const fr: { name: string; file?: string; line?: number } = { name: profile.frames.name[f] ?? '' };
          if (profile.frames.file[f]) fr.file = profile.frames.file[f];
          if (profile.frames.line[f]) fr.line = profile.frames.line[f];
          frames.push(fr);
        }
        return i;
      }),
    );
    weights.push(value);
  }
  return JSON.stringify({
    $schema: SPEEDSCOPE_SCHEMA,
    shared: { frames },
    profiles: [
      {
        type: 'sampled',
        name: profile.type.id,
        unit: speedscopeUnit(profile.type.sampleUnit),
        startValue: 0,
        endValue: totalValue(profile),
        samples,
        weights,
      },
    ],
    name: profile.type.id,
    activeProfileIndex: 0,
    exporter: 'hotpath',
  });
}
