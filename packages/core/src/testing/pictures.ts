// Test helpers: profiles drawn as folded lines in, trees printed as indented text out, so a
// transform test reads "picture in, picture out". Not exported from @hotpath/core.
//
//   profileFromFolded(`
//     a;b;e 1
//     a;c 2
//     a;c;d 1 {region=eu}
//   `)
//   printTree(profile) ===
//   `total 4
//      a 4
//        b 1
//          e 1 self 1
//        c 3 self 2
//          d 1 self 1`

import { ProfileBuilder } from '../builder.ts';
import { makeProfileType, type LabelPair, type Profile, type ProfileType } from '../model.ts';
import { buildCallTree, getChildren, type CallTree } from '../transforms/call-tree.ts';

export const PICTURE_TYPE: ProfileType = makeProfileType(
  'process_cpu',
  'samples',
  'count',
  'cpu',
  'nanoseconds',
);

/** Strips the common indentation and the blank first/last lines of a template literal. */
export function dedent(text: string): string {
  const lines = text.replace(/\t/g, '  ').split('\n');
  while (lines.length > 0 && lines[0]!.trim() === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  let indent = Infinity;
  for (const l of lines) if (l.trim() !== '') indent = Math.min(indent, l.length - l.trimStart().length);
  return lines.map((l) => l.slice(indent === Infinity ? 0 : indent).trimEnd()).join('\n');
}

/**
 * A profile from folded lines `root;...;leaf <value> [{k=v,k2=v2}]`. Frames may contain spaces
 * (the value is the last number before the optional labels). `file:` prefixes are not parsed:
 * build frames with files through ProfileBuilder directly. Blank lines and `#` comments are skipped.
 */
export function profileFromFolded(text: string, type: ProfileType = PICTURE_TYPE): Profile {
  const b = new ProfileBuilder([type]);
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    let labels: LabelPair[] = [];
    if (line.endsWith('}')) {
      const open = line.lastIndexOf(' {');
      if (open < 0) throw new Error(`picture line ${n + 1}: '}' without ' {'`);
      labels = line
        .slice(open + 2, -1)
        .split(',')
        .filter((kv) => kv.trim() !== '')
        .map((kv) => {
          const eq = kv.indexOf('=');
          if (eq < 0) throw new Error(`picture line ${n + 1}: label '${kv}' has no '='`);
          return { name: kv.slice(0, eq).trim(), value: kv.slice(eq + 1).trim() };
        });
      line = line.slice(0, open).trimEnd();
    }
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (space < 0 || !Number.isFinite(value))
      throw new Error(`picture line ${n + 1}: '${line}' has no value`);
    const frames = line
      .slice(0, space)
      .split(';')
      .map((name) => b.frame(name));
    b.sample(b.stackOf(frames), [value], b.labelSet(labels));
  }
  return b.build()[0]!;
}

/** Indented tree text: `name total` plus ` self N` when self is not 0; two spaces per level. */
export function printTree(input: Profile | CallTree): string {
  const tree = 'samples' in input ? buildCallTree(input) : input;
  const out: string[] = [];
  const visit = (node: number, depth: number) => {
    const self = tree.self[node]!;
    out.push(
      `${'  '.repeat(depth)}${tree.name[node]} ${tree.total[node]}${self !== 0 ? ` self ${self}` : ''}`,
    );
    for (const c of getChildren(tree, node)) visit(c, depth + 1);
  };
  if (tree.length > 0) visit(0, 0);
  return out.join('\n');
}

/** Folded lines of a profile, one per distinct stack (summed, zeroes dropped), sorted. */
export function printFolded(profile: Profile): string {
  const sums = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const names: string[] = [];
    for (let s = profile.samples.stack[i]!; s !== -1; s = profile.stacks.parent[s]!) {
      names.push(profile.frames.name[profile.stacks.frame[s]!]!);
    }
    const key = names.reverse().join(';');
    sums.set(key, (sums.get(key) ?? 0) + profile.samples.value[i]!);
  }
  return [...sums]
    .filter(([, v]) => v !== 0)
    .map(([k, v]) => `${k} ${v}`)
    .sort()
    .join('\n');
}
