// Folded ("collapsed") stacks, as written by Brendan Gregg's stackcollapse-* scripts and accepted by
// Pyroscope's /ingest as the default format: https://github.com/brendangregg/FlameGraph#2-fold-stacks
//   frame1;frame2;...;leaf <count>
// Frames are root-first, separated by ';'; the count follows the LAST space (frame names may contain
// spaces). CRLF is accepted, blank lines are ignored, anything else is a coded error with its line.

import { ProfileBuilder } from '../builder.ts';
import { FormatError } from '../errors.ts';
import {
  makeProfileType,
  stackNames,
  type ImportedProfiles,
  type Profile,
  type ProfileType,
} from '../model.ts';
import { sumByStack } from './tables.ts';
import { decodeText, headLines, headText, isFoldedLine } from './text.ts';

export interface TextImportOptions {
  /** Profile type of the result; default process_cpu:samples:count:: (the server rescales). */
  type?: ProfileType;
}

export const FOLDED_DEFAULT_TYPE: ProfileType = makeProfileType('process_cpu', 'samples', 'count');

/** True when every complete non-blank line of the head ends in " <count>". */
export function sniffFolded(head: Uint8Array): boolean {
  const text = headText(head);
  if (text === null || text.trimStart().startsWith('{')) return false;
  const lines = headLines(text);
  // Most lines with a count is folded: the importer then reports each bad line with its number,
  // rather than a damaged folded file importing silently as 'lines'.
  const folded = lines.filter((l) => isFoldedLine(l)).length;
  return folded > 0 && folded * 2 >= lines.length;
}

export function importFolded(bytes: Uint8Array, opts: TextImportOptions = {}): ImportedProfiles {
  const text = decodeText(bytes, 'folded');
  const b = new ProfileBuilder([opts.type ?? FOLDED_DEFAULT_TYPE]);
  const frameByName = new Map<string, number>();
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const space = line.lastIndexOf(' ');
    const count = space === -1 ? '' : line.slice(space + 1);
    const stack = space === -1 ? '' : line.slice(0, space);
    if (!isFoldedLine(line)) {
      throw new FormatError(
        'folded_bad_line',
        `folded: line ${lineNo} is not "<frames> <count>": ${JSON.stringify(line.slice(0, 80))}`,
        { line: lineNo },
      );
    }
    let s = -1;
    for (const name of stack.split(';')) {
      let f = frameByName.get(name);
      if (f === undefined) {
        f = b.frame(name);
        frameByName.set(name, f);
      }
      s = b.stack(s, f);
    }
    b.sample(s, [Number(count)]);
  }
  return { format: 'folded', profiles: b.build() };
}

/** One line per distinct stack (frame names joined by ';'), values summed, sorted; zero sums omitted. */
export function exportFolded(profile: Profile): string {
  const byText = new Map<string, number>();
  for (const [stack, value] of sumByStack(profile)) {
    const key = stackNames(profile, stack).join(';');
    byText.set(key, (byText.get(key) ?? 0) + value);
  }
  const lines: string[] = [];
  for (const key of [...byText.keys()].sort()) {
    const v = byText.get(key)!;
    if (v !== 0) lines.push(`${key} ${v}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
