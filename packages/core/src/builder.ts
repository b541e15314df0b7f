// ProfileBuilder: the one mutable place where Profiles are made. Interns frames (name, file, line),
// stacks (parent, frame) and sample label sets; `build()` returns immutable Profiles.

import {
  formatLabels,
  normalizeLabels,
  type FrameIndex,
  type LabelPair,
  type Labels,
  type Profile,
  type ProfileType,
  type StackIndex,
} from './model.ts';

class GrowableInt32 {
  data = new Int32Array(64);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

class GrowableFloat64 {
  data = new Float64Array(64);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

/** Shared frame/stack/label interning for one or more sample types. */
export class ProfileBuilder {
  private readonly frameNames: string[] = [];
  private readonly frameFiles: string[] = [];
  private readonly frameLines = new GrowableInt32();
  private readonly frameIndex = new Map<string, FrameIndex>();
  private readonly stackParent = new GrowableInt32();
  private readonly stackFrame = new GrowableInt32();
  /** key = parent * 2^21 + frame would overflow; use a nested map per parent instead. */
  private readonly stackChildren = new Map<number, Map<FrameIndex, StackIndex>>();
  private readonly labelSets: Labels[] = [[]];
  private readonly labelSetIndex = new Map<string, number>([['{}', 0]]);
  private readonly sampleStack = new GrowableInt32();
  private readonly sampleLabelSet = new GrowableInt32();
  private readonly sampleValues: GrowableFloat64[];

  /** `types` are the sample types; every added sample carries one value per type. */
  constructor(
    private readonly types: readonly ProfileType[],
    private readonly meta: { timeNs?: number; durationNs?: number; period?: number } = {},
  ) {
    this.sampleValues = types.map(() => new GrowableFloat64());
  }

  frame(name: string, file = '', line = 0): FrameIndex {
    const key = `${name}\u0000${file}\u0000${line}`;
    let i = this.frameIndex.get(key);
    if (i === undefined) {
      i = this.frameNames.length;
      this.frameNames.push(name);
      this.frameFiles.push(file);
      this.frameLines.push(line);
      this.frameIndex.set(key, i);
    }
    return i;
  }

  /** The stack made of `parent` (or -1 for none) plus `frame` as its leaf. */
  stack(parent: StackIndex, frame: FrameIndex): StackIndex {
    let children = this.stackChildren.get(parent);
    if (children === undefined) {
      children = new Map();
      this.stackChildren.set(parent, children);
    }
    let s = children.get(frame);
    if (s === undefined) {
      s = this.stackParent.length;
      this.stackParent.push(parent);
      this.stackFrame.push(frame);
      children.set(frame, s);
    }
    return s;
  }

  /** Interns a root-first list of frames; returns -1 for an empty list. */
  stackOf(framesRootFirst: readonly FrameIndex[]): StackIndex {
    let s = -1;
    for (const f of framesRootFirst) s = this.stack(s, f);
    return s;
  }

  labelSet(pairs: Iterable<LabelPair>): number {
    const labels = normalizeLabels(pairs);
    if (labels.length === 0) return 0;
    const key = formatLabels(labels);
    let i = this.labelSetIndex.get(key);
    if (i === undefined) {
      i = this.labelSets.length;
      this.labelSets.push(labels);
      this.labelSetIndex.set(key, i);
    }
    return i;
  }

  /** Adds one sample; `values` has one entry per sample type. Stacks must not be -1. */
  sample(stack: StackIndex, values: readonly number[], labelSet = 0): void {
    this.sampleStack.push(stack);
    this.sampleLabelSet.push(labelSet);
    for (let t = 0; t < this.sampleValues.length; t++) this.sampleValues[t]!.push(values[t] ?? 0);
  }

  get sampleCount(): number {
    return this.sampleStack.length;
  }

  build(): Profile[] {
    const frames = {
      length: this.frameNames.length,
      name: this.frameNames.slice(),
      file: this.frameFiles.slice(),
      line: this.frameLines.view(),
    };
    const stacks = {
      length: this.stackParent.length,
      parent: this.stackParent.view(),
      frame: this.stackFrame.view(),
    };
    const stack = this.sampleStack.view();
    const labelSet = this.sampleLabelSet.view();
    const sampleLabelSets = this.labelSets.slice();
    return this.types.map((type, t) => ({
      type,
      timeNs: this.meta.timeNs ?? 0,
      durationNs: this.meta.durationNs ?? 0,
      period: this.meta.period ?? 0,
      frames,
      stacks,
      samples: { length: stack.length, stack, value: this.sampleValues[t]!.view(), labelSet },
      sampleLabelSets,
    }));
  }
}
