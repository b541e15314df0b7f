// Ad-hoc view: a dropped file (pprof, folded, speedscope, flamebearer JSON) becomes flame trees in the
// browser; nothing is sent to the server. pprof decoding is @hotpath/core's.
import { gunzipCapped, importPprof, isGzip, sniffPprof, type Profile } from '@hotpath/core';
import {
  TreeBuilder,
  decodeFlamebearer,
  treeFromFolded,
  type FlameTree,
  type Flamebearer,
} from './flame/tree.ts';

export interface UploadedProfile {
  /** Profile type id (or a descriptive name for formats without one). */
  readonly typeId: string;
  readonly tree: FlameTree;
}

export interface UploadedFile {
  readonly fileName: string;
  /** 'stored': opened from the server by its ad hoc id (Adhoc.tsx), not read in this browser. */
  readonly format: 'pprof' | 'folded' | 'speedscope' | 'flamebearer' | 'stored';
  readonly profiles: readonly UploadedProfile[];
}

export class UploadError extends Error {}

/** A tree of a model Profile: samples summed per stack. */
export function treeFromProfile(p: Profile): FlameTree {
  const b = new TreeBuilder();
  const nodeOfStack = new Int32Array(p.stacks.length);
  for (let s = 0; s < p.stacks.length; s++) {
    const parent = p.stacks.parent[s]!;
    nodeOfStack[s] = b.child(parent < 0 ? 0 : nodeOfStack[parent]!, p.frames.name[p.stacks.frame[s]!] ?? '');
  }
  for (let i = 0; i < p.samples.length; i++) {
    const v = p.samples.value[i]!;
    if (v > 0) b.addSelf(nodeOfStack[p.samples.stack[i]!]!, v);
  }
  return b.build();
}

export function importFile(fileName: string, bytes: Uint8Array): UploadedFile {
  const raw = isGzip(bytes) ? gunzipCapped(bytes, 512 * 1024 * 1024) : bytes;
  if (sniffPprof(raw.subarray(0, 4096))) {
    const imported = importPprof(raw);
    return {
      fileName,
      format: 'pprof',
      profiles: imported.profiles.map((p) => ({ typeId: p.type.id, tree: treeFromProfile(p) })),
    };
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(raw);
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new UploadError(`${fileName}: not valid JSON (${(e as Error).message})`);
    }
    const obj = json as Record<string, unknown>;
    if (typeof obj['$schema'] === 'string' && obj['$schema'].includes('speedscope')) {
      return { fileName, format: 'speedscope', profiles: importSpeedscope(obj) };
    }
    const fb = (obj['flamebearer'] ?? null) as Flamebearer | null;
    if (fb && Array.isArray(fb.levels) && Array.isArray(fb.names)) {
      return {
        fileName,
        format: 'flamebearer',
        profiles: [{ typeId: 'flamebearer', tree: decodeFlamebearer(fb) }],
      };
    }
    throw new UploadError(`${fileName}: JSON is neither speedscope nor flamebearer`);
  }
  const tree = treeFromFolded(text);
  if (tree.numTicks <= 0) {
    throw new UploadError(`${fileName}: not a pprof, speedscope or folded file (no "a;b;c 123" lines found)`);
  }
  return { fileName, format: 'folded', profiles: [{ typeId: 'folded', tree }] };
}

interface SpeedscopeFile {
  shared?: { frames?: { name: string }[] };
  profiles?: SpeedscopeProfile[];
}

type SpeedscopeProfile =
  | { type: 'sampled'; name?: string; unit?: string; samples: number[][]; weights?: number[] }
  | {
      type: 'evented';
      name?: string;
      unit?: string;
      events: { type: 'O' | 'C'; at: number; frame: number }[];
    };

/** Speedscope sampled and evented profiles (https://www.speedscope.app/file-format-schema.json). */
function importSpeedscope(obj: Record<string, unknown>): UploadedProfile[] {
  const file = obj as SpeedscopeFile;
  const frames = (file.shared?.frames ?? []).map((f) => f.name);
  const out: UploadedProfile[] = [];
  for (const p of file.profiles ?? []) {
    const b = new TreeBuilder();
    if (p.type === 'sampled') {
      p.samples.forEach((stack, k) =>
        b.add(
          stack.map((f) => frames[f] ?? '?'),
          p.weights?.[k] ?? 1,
        ),
      );
    } else if (p.type === 'evented') {
      const open: { frame: number; at: number }[] = [];
      const ids: number[] = [0];
      for (const e of p.events) {
        if (e.type === 'O') {
          open.push({ frame: e.frame, at: e.at });
          ids.push(b.child(ids.at(-1)!, frames[e.frame] ?? '?'));
        } else {
          const o = open.pop();
          const id = ids.pop()!;
          if (!o) continue;
          // Self = duration minus children: add the whole span, then subtract it from the parent.
          const dur = e.at - o.at;
          b.addSelf(id, dur);
          if (ids.length > 1) b.addSelf(ids.at(-1)!, -dur);
        }
      }
    }
    out.push({ typeId: `${p.name ?? 'profile'} (${p.unit ?? 'none'})`, tree: b.build() });
  }
  if (out.length === 0) throw new UploadError('speedscope file holds no profiles');
  return out;
}
