// mergeProfiles: several profiles of one type into one, frames and stacks re-interned by content.

import type { Profile } from '../model.ts';
import { TransformError } from './errors.ts';
import { Rebuilder } from './rebuild.ts';

/**
 * Sums profiles of the same profile type. Frames are re-interned by (name, file, line), stacks by
 * their frames, sample label sets by content; samples with the same (stack, label set) are summed.
 * The time window covers every input window; the period is the first non-zero one. Pure.
 */
export function mergeProfiles(profiles: readonly Profile[]): Profile {
  const first = profiles[0];
  if (first === undefined)
    throw new TransformError('merge_empty', 'mergeProfiles needs at least one profile');
  let start = Infinity;
  let end = -Infinity;
  let period = 0;
  profiles.forEach((p, i) => {
    if (p.type.id !== first.type.id) {
      throw new TransformError(
        'profile_type_mismatch',
        `profile ${i} has type ${p.type.id}, profile 0 has ${first.type.id}`,
        { index: i, expected: first.type.id, actual: p.type.id },
      );
    }
    if (p.timeNs > 0) {
      start = Math.min(start, p.timeNs);
      end = Math.max(end, p.timeNs + p.durationNs);
    }
    if (period === 0) period = p.period;
  });
  const rb = new Rebuilder(first.type, {
    timeNs: start === Infinity ? 0 : start,
    durationNs: start === Infinity ? 0 : end - start,
    period,
  });
  // (stack, label set) -> index into the summed samples. Keys stay below 2^53 for < 2^31 label sets.
  const slot = new Map<number, number>();
  const outStack: number[] = [];
  const outLabels: number[] = [];
  const outValue: number[] = [];
  for (const p of profiles) {
    const stackMap = new Int32Array(p.stacks.length);
    const { parent, frame } = p.stacks;
    for (let s = 0; s < p.stacks.length; s++) {
      const ps = parent[s]!;
      stackMap[s] = rb.builder.stack(ps < 0 ? -1 : stackMap[ps]!, rb.frame(p, frame[s]!));
    }
    const { stack, value, labelSet } = p.samples;
    for (let i = 0; i < p.samples.length; i++) {
      const s = stack[i]!;
      if (s < 0 || s >= stackMap.length) continue;
      const to = stackMap[s]!;
      const ls = rb.labelSet(p, labelSet[i]!);
      const key = to * 2147483648 + ls;
      const at = slot.get(key);
      if (at === undefined) {
        slot.set(key, outValue.length);
        outStack.push(to);
        outLabels.push(ls);
        outValue.push(value[i]!);
      } else outValue[at]! += value[i]!;
    }
  }
  for (let i = 0; i < outValue.length; i++) rb.builder.sample(outStack[i]!, [outValue[i]!], outLabels[i]!);
  return rb.build();
}
