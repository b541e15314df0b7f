// Stack-rewriting views: sandwich (callers / callees of a function), focus on a subtree, filter by
// sample labels, invert (leaf first), collapse direct recursion. All pure: new profiles out.

import type { Labels, Profile } from '../model.ts';
import { framesOf, Rebuilder } from './rebuild.ts';

export interface Sandwich {
  /** Stacks ending at the function, inverted: the function is the root, its callers below it. */
  readonly callers: Profile;
  /** The subtrees rooted at the function: the function is the root, its callees below it. */
  readonly callees: Profile;
}

/**
 * Callers and callees of every occurrence of `functionName` (by frame name), as Grafana's flame
 * graph sandwich view builds them: a recursive function contributes once per occurrence, so a
 * half's root total can exceed the function's total in topTable.
 */
export function sandwich(profile: Profile, functionName: string): Sandwich {
  const callers = Rebuilder.like(profile);
  const callees = Rebuilder.like(profile);
  const { frames } = profile;
  // Per stack: the output stacks its samples go to (most stacks go nowhere).
  const callerStacks = new Map<number, number[]>();
  const calleeStacks = new Map<number, number[]>();
  const isTarget = new Uint8Array(frames.length);
  for (let f = 0; f < frames.length; f++) if (frames.name[f] === functionName) isTarget[f] = 1;
  // A stack contains the function iff it or an ancestor is a target frame (parents come first).
  const contains = new Uint8Array(profile.stacks.length);
  for (let s = 0; s < profile.stacks.length; s++) {
    const ps = profile.stacks.parent[s]!;
    contains[s] = isTarget[profile.stacks.frame[s]!]! | (ps >= 0 ? contains[ps]! : 0);
  }
  const outputs = (s: number): [number[], number[]] => {
    let a = callerStacks.get(s);
    let b = calleeStacks.get(s);
    if (a !== undefined && b !== undefined) return [a, b];
    a = [];
    b = [];
    const fs = framesOf(profile, s);
    for (let k = 0; k < fs.length; k++) {
      if (isTarget[fs[k]!] !== 1) continue;
      let up = -1;
      for (let j = k; j >= 0; j--) up = callers.builder.stack(up, callers.frame(profile, fs[j]!));
      a.push(up);
      let down = -1;
      for (let j = k; j < fs.length; j++) down = callees.builder.stack(down, callees.frame(profile, fs[j]!));
      b.push(down);
    }
    callerStacks.set(s, a);
    calleeStacks.set(s, b);
    return [a, b];
  };
  const { stack, value, labelSet } = profile.samples;
  for (let i = 0; i < profile.samples.length; i++) {
    const s = stack[i]!;
    if (s < 0 || contains[s] !== 1) continue;
    const [a, b] = outputs(s);
    for (const t of a) callers.builder.sample(t, [value[i]!], callers.labelSet(profile, labelSet[i]!));
    for (const t of b) callees.builder.sample(t, [value[i]!], callees.labelSet(profile, labelSet[i]!));
  }
  return { callers: callers.build(), callees: callees.build() };
}

/**
 * Keeps the samples whose stack starts with `path` (frame names, root first) and makes the last
 * name of the path the new root: `focusSubtree(p, ['main', 'parse'])` turns main;parse;lex into
 * parse;lex and drops main;eval. An empty path returns the profile unchanged.
 */
export function focusSubtree(profile: Profile, path: readonly string[]): Profile {
  if (path.length === 0) return profile;
  const rb = Rebuilder.like(profile);
  const { parent, frame } = profile.stacks;
  const depth = new Int32Array(profile.stacks.length);
  // -1: outside the focus; -2: on the path but above its last name; >= 0: the new stack.
  const map = new Int32Array(profile.stacks.length);
  for (let s = 0; s < profile.stacks.length; s++) {
    const ps = parent[s]!;
    const d = ps < 0 ? 1 : depth[ps]! + 1;
    depth[s] = d;
    const above = ps < 0 ? -2 : map[ps]!;
    if (above === -1) map[s] = -1;
    else if (d <= path.length) {
      if (profile.frames.name[frame[s]!] !== path[d - 1]) map[s] = -1;
      else map[s] = d === path.length ? rb.builder.stack(-1, rb.frame(profile, frame[s]!)) : -2;
    } else map[s] = rb.builder.stack(above, rb.frame(profile, frame[s]!));
  }
  rb.addSamples(profile, map);
  return rb.build();
}

/**
 * Keeps the samples whose label set satisfies `keep` (called once per distinct label set). Frames
 * and stacks are shared with the input (tables are immutable), only the sample table is new.
 */
export function filterByLabels(profile: Profile, keep: (labels: Labels) => boolean): Profile {
  const verdict = profile.sampleLabelSets.map((l) => keep(l));
  const { stack, value, labelSet } = profile.samples;
  let n = 0;
  for (let i = 0; i < profile.samples.length; i++) if (verdict[labelSet[i]!]) n++;
  const outStack = new Int32Array(n);
  const outValue = new Float64Array(n);
  const outLabels = new Int32Array(n);
  let j = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    if (!verdict[labelSet[i]!]) continue;
    outStack[j] = stack[i]!;
    outValue[j] = value[i]!;
    outLabels[j] = labelSet[i]!;
    j++;
  }
  return { ...profile, samples: { length: n, stack: outStack, value: outValue, labelSet: outLabels } };
}

/** Every stack reversed: the leaf becomes the root (a "bottom-up" view). */
export function invertProfile(profile: Profile): Profile {
  const rb = Rebuilder.like(profile);
  const map = new Int32Array(profile.stacks.length).fill(-1);
  const used = new Uint8Array(profile.stacks.length);
  for (let i = 0; i < profile.samples.length; i++) {
    const s = profile.samples.stack[i]!;
    if (s >= 0) used[s] = 1;
  }
  for (let s = 0; s < profile.stacks.length; s++) {
    if (used[s] === 0) continue;
    let t = -1;
    for (let u = s; u !== -1; u = profile.stacks.parent[u]!)
      t = rb.builder.stack(t, rb.frame(profile, profile.stacks.frame[u]!));
    map[s] = t;
  }
  rb.addSamples(profile, map);
  return rb.build();
}

/**
 * Collapses direct recursion: consecutive frames with the same name become one (a;b;b;b;c -> a;b;c).
 * With `functionName`, only that function's runs are collapsed.
 */
export function collapseDirectRecursion(profile: Profile, functionName?: string): Profile {
  const rb = Rebuilder.like(profile);
  const { parent, frame } = profile.stacks;
  const names = profile.frames.name;
  const map = new Int32Array(profile.stacks.length);
  for (let s = 0; s < profile.stacks.length; s++) {
    const ps = parent[s]!;
    const name = names[frame[s]!];
    if (ps >= 0 && names[frame[ps]!] === name && (functionName === undefined || name === functionName)) {
      map[s] = map[ps]!;
    } else map[s] = rb.builder.stack(ps < 0 ? -1 : map[ps]!, rb.frame(profile, frame[s]!));
  }
  rb.addSamples(profile, map);
  return rb.build();
}
