// Function tables: topTable (like `go tool pprof -top`) and diffProfiles (per-function deltas).

import type { Profile } from '../model.ts';
import { TransformError } from './errors.ts';

export interface TopRow {
  readonly name: string;
  readonly file: string;
  /** Value of samples whose leaf is this function. */
  readonly self: number;
  /** Value of samples with this function anywhere on the stack, counted once per stack. */
  readonly total: number;
}

/**
 * One row per function (name, file), sorted by self descending, then name (as `go tool pprof -top`
 * orders ties), then file.
 * A recursive function's total counts each stack once. compute*: O(stacks x depth).
 */
export function topTable(profile: Profile): TopRow[] {
  const { frames, stacks, samples } = profile;
  const fnIndex = new Map<string, number>();
  const fnName: string[] = [];
  const fnFile: string[] = [];
  const fnOfFrame = new Int32Array(frames.length);
  for (let f = 0; f < frames.length; f++) {
    const name = frames.name[f] ?? '';
    const file = frames.file[f] ?? '';
    const key = `${name}\u0000${file}`;
    let id = fnIndex.get(key);
    if (id === undefined) {
      id = fnName.length;
      fnName.push(name);
      fnFile.push(file);
      fnIndex.set(key, id);
    }
    fnOfFrame[f] = id;
  }
  const valueByStack = new Float64Array(stacks.length);
  for (let i = 0; i < samples.length; i++) {
    const s = samples.stack[i]!;
    if (s >= 0 && s < stacks.length) valueByStack[s]! += samples.value[i]!;
  }
  const self = new Float64Array(fnName.length);
  const total = new Float64Array(fnName.length);
  const seen = new Int32Array(fnName.length).fill(-1);
  const seenCount = new Uint8Array(fnName.length);
  for (let s = 0; s < stacks.length; s++) {
    const v = valueByStack[s]!;
    if (v === 0) continue;
    self[fnOfFrame[stacks.frame[s]!]!]! += v;
    for (let t = s; t !== -1; t = stacks.parent[t]!) {
      const fn = fnOfFrame[stacks.frame[t]!]!;
      if (seen[fn] !== s) {
        seen[fn] = s;
        total[fn]! += v;
        seenCount[fn] = 1;
      }
    }
  }
  const rows: TopRow[] = [];
  for (let fn = 0; fn < fnName.length; fn++) {
    if (seenCount[fn] === 0) continue;
    rows.push({ name: fnName[fn]!, file: fnFile[fn]!, self: self[fn]!, total: total[fn]! });
  }
  const byText = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return rows.sort((a, b) => b.self - a.self || byText(a.name, b.name) || byText(a.file, b.file));
}

export interface FunctionDiff {
  readonly name: string;
  readonly file: string;
  readonly leftSelf: number;
  readonly leftTotal: number;
  readonly rightSelf: number;
  readonly rightTotal: number;
  /** rightSelf - leftSelf. */
  readonly selfDelta: number;
  /** rightTotal - leftTotal. */
  readonly totalDelta: number;
}

export interface ProfileDiff {
  /** Sum of all sample values of each side; divide by them to compare shares instead of values. */
  readonly leftTotal: number;
  readonly rightTotal: number;
  /** Every function of either side, largest |selfDelta| first (then |totalDelta|, then name). */
  readonly functions: FunctionDiff[];
}

/** Per-function deltas between a baseline (left) and a comparison (right) of the same type. Pure. */
export function diffProfiles(left: Profile, right: Profile): ProfileDiff {
  if (left.type.id !== right.type.id) {
    throw new TransformError(
      'profile_type_mismatch',
      `cannot diff ${left.type.id} against ${right.type.id}`,
      {
        expected: left.type.id,
        actual: right.type.id,
      },
    );
  }
  const byKey = new Map<
    string,
    { name: string; file: string; l: TopRow | undefined; r: TopRow | undefined }
  >();
  for (const row of topTable(left))
    byKey.set(`${row.name}\u0000${row.file}`, { name: row.name, file: row.file, l: row, r: undefined });
  for (const row of topTable(right)) {
    const key = `${row.name}\u0000${row.file}`;
    const e = byKey.get(key);
    if (e) e.r = row;
    else byKey.set(key, { name: row.name, file: row.file, l: undefined, r: row });
  }
  const functions: FunctionDiff[] = [...byKey.values()].map(({ name, file, l, r }) => {
    const leftSelf = l?.self ?? 0;
    const leftTotal = l?.total ?? 0;
    const rightSelf = r?.self ?? 0;
    const rightTotal = r?.total ?? 0;
    return {
      name,
      file,
      leftSelf,
      leftTotal,
      rightSelf,
      rightTotal,
      selfDelta: rightSelf - leftSelf,
      totalDelta: rightTotal - leftTotal,
    };
  });
  functions.sort(
    (a, b) =>
      Math.abs(b.selfDelta) - Math.abs(a.selfDelta) ||
      Math.abs(b.totalDelta) - Math.abs(a.totalDelta) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const sum = (p: Profile) => {
    let s = 0;
    for (let i = 0; i < p.samples.length; i++) s += p.samples.value[i]!;
    return s;
  };
  return { leftTotal: sum(left), rightTotal: sum(right), functions };
}
