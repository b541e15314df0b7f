// Shared helpers for exporters: profiles that do not share tables are merged into one set of
// tables (frames by (name, file, line), stacks by (parent, frame), label sets by content), with one
// value column per input profile.

import { formatLabels, type Labels, type Profile } from '../model.ts';

export interface MergedColumns {
  readonly frameName: string[];
  readonly frameFile: string[];
  readonly frameLine: number[];
  readonly stackParent: number[];
  readonly stackFrame: number[];
  readonly labelSets: Labels[];
  readonly sampleStack: number[];
  readonly sampleLabelSet: number[];
  /** values[t][i]: value of sample i for profile t (0 when the sample came from another profile). */
  readonly values: number[][];
}

/** True when every profile uses the same frame/stack/sample columns (one multi-valued source). */
export function sharesTables(profiles: readonly Profile[]): boolean {
  const a = profiles[0];
  if (a === undefined) return true;
  return profiles.every(
    (p) =>
      p.frames === a.frames &&
      p.stacks === a.stacks &&
      p.samples.stack === a.samples.stack &&
      p.samples.labelSet === a.samples.labelSet &&
      p.sampleLabelSets === a.sampleLabelSets,
  );
}

export function mergeColumns(profiles: readonly Profile[]): MergedColumns {
  const out: MergedColumns = {
    frameName: [],
    frameFile: [],
    frameLine: [],
    stackParent: [],
    stackFrame: [],
    labelSets: [[]],
    sampleStack: [],
    sampleLabelSet: [],
    values: profiles.map(() => []),
  };
  if (sharesTables(profiles) && profiles.length > 0) {
    const p = profiles[0]!;
    append(out.frameName, p.frames.name);
    append(out.frameFile, p.frames.file);
    append(out.frameLine, p.frames.line);
    append(out.stackParent, p.stacks.parent);
    append(out.stackFrame, p.stacks.frame);
    out.labelSets.length = 0;
    append(out.labelSets, p.sampleLabelSets);
    append(out.sampleStack, p.samples.stack);
    append(out.sampleLabelSet, p.samples.labelSet);
    profiles.forEach((q, t) => append(out.values[t]!, q.samples.value));
    return out;
  }
  const frameByKey = new Map<string, number>();
  const stackByKey = new Map<string, number>();
  const labelByKey = new Map<string, number>([['{}', 0]]);
  profiles.forEach((p, t) => {
    const frameMap = new Int32Array(p.frames.length);
    for (let f = 0; f < p.frames.length; f++) {
      const name = p.frames.name[f] ?? '';
      const file = p.frames.file[f] ?? '';
      const line = p.frames.line[f] ?? 0;
      const key = `${name}\u0000${file}\u0000${line}`;
      let i = frameByKey.get(key);
      if (i === undefined) {
        i = out.frameName.length;
        out.frameName.push(name);
        out.frameFile.push(file);
        out.frameLine.push(line);
        frameByKey.set(key, i);
      }
      frameMap[f] = i;
    }
    // parent[i] < i, so one forward pass maps every stack.
    const stackMap = new Int32Array(p.stacks.length);
    for (let s = 0; s < p.stacks.length; s++) {
      const parentIn = p.stacks.parent[s]!;
      const parent = parentIn === -1 ? -1 : stackMap[parentIn]!;
      const frame = frameMap[p.stacks.frame[s]!]!;
      const key = `${parent},${frame}`;
      let i = stackByKey.get(key);
      if (i === undefined) {
        i = out.stackParent.length;
        out.stackParent.push(parent);
        out.stackFrame.push(frame);
        stackByKey.set(key, i);
      }
      stackMap[s] = i;
    }
    const labelMap = p.sampleLabelSets.map((labels) => {
      const key = formatLabels(labels);
      let i = labelByKey.get(key);
      if (i === undefined) {
        i = out.labelSets.length;
        out.labelSets.push(labels);
        labelByKey.set(key, i);
      }
      return i;
    });
    for (let i = 0; i < p.samples.length; i++) {
      out.sampleStack.push(stackMap[p.samples.stack[i]!]!);
      out.sampleLabelSet.push(labelMap[p.samples.labelSet[i]!] ?? 0);
      for (let u = 0; u < profiles.length; u++) out.values[u]!.push(u === t ? p.samples.value[i]! : 0);
    }
  });
  return out;
}

/** Sums values per stack (ignoring labels): stack index → summed value, in first-seen order. */
export function sumByStack(p: Profile): Map<number, number> {
  const out = new Map<number, number>();
  const { stack, value } = p.samples;
  for (let i = 0; i < p.samples.length; i++) out.set(stack[i]!, (out.get(stack[i]!) ?? 0) + value[i]!);
  return out;
}

/** push(...src) without the argument-count limit of spreading large arrays. */
function append<T>(dst: T[], src: ArrayLike<T>): void {
  for (let i = 0; i < src.length; i++) dst.push(src[i]!);
}
