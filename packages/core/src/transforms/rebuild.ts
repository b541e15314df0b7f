// Shared plumbing of the transforms that rewrite stacks: a builder plus the mapping of the source
// profile's frames and label sets into it, each looked up once.

import { ProfileBuilder } from '../builder.ts';
import type { FrameIndex, Profile, ProfileType, StackIndex } from '../model.ts';

export class Rebuilder {
  readonly builder: ProfileBuilder;
  private frameMap = new Map<Profile['frames'], Int32Array>();
  private labelMap = new Map<Profile['sampleLabelSets'], Int32Array>();

  constructor(type: ProfileType, meta: { timeNs?: number; durationNs?: number; period?: number } = {}) {
    this.builder = new ProfileBuilder([type], meta);
  }

  static like(p: Profile): Rebuilder {
    return new Rebuilder(p.type, { timeNs: p.timeNs, durationNs: p.durationNs, period: p.period });
  }

  /** The builder's frame for frame f of profile p. */
  frame(p: Profile, f: FrameIndex): FrameIndex {
    let m = this.frameMap.get(p.frames);
    if (m === undefined) {
      m = new Int32Array(p.frames.length).fill(-1);
      this.frameMap.set(p.frames, m);
    }
    let out = m[f]!;
    if (out === -1) {
      out = this.builder.frame(p.frames.name[f] ?? '', p.frames.file[f] ?? '', p.frames.line[f] ?? 0);
      m[f] = out;
    }
    return out;
  }

  /** The builder's label set for sample label set l of profile p. */
  labelSet(p: Profile, l: number): number {
    let m = this.labelMap.get(p.sampleLabelSets);
    if (m === undefined) {
      m = new Int32Array(p.sampleLabelSets.length).fill(-1);
      this.labelMap.set(p.sampleLabelSets, m);
    }
    let out = m[l]!;
    if (out === -1) {
      out = this.builder.labelSet(p.sampleLabelSets[l] ?? []);
      m[l] = out;
    }
    return out;
  }

  /** Adds every sample of p whose stack maps to a builder stack (>= 0) through `stackMap`. */
  addSamples(p: Profile, stackMap: Int32Array): void {
    const { stack, value, labelSet } = p.samples;
    for (let i = 0; i < p.samples.length; i++) {
      const s = stack[i]!;
      if (s < 0 || s >= stackMap.length) continue;
      const to = stackMap[s]!;
      if (to < 0) continue;
      this.builder.sample(to, [value[i]!], this.labelSet(p, labelSet[i]!));
    }
  }

  build(): Profile {
    return this.builder.build()[0]!;
  }
}

/** Frames of stack s, root first, as source frame indexes. */
export function framesOf(p: Profile, s: StackIndex): FrameIndex[] {
  const out: FrameIndex[] = [];
  for (let t = s; t !== -1; t = p.stacks.parent[t]!) out.push(p.stacks.frame[t]!);
  return out.reverse();
}
