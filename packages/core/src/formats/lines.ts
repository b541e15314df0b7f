// Pyroscope's "lines" ingest format (format=lines): one stack per line, frames root-first separated
// by ';', each line counting one sample; identical lines add up. Blank lines are ignored.
// Reference: compatibility spec §1.5 (Grafana Pyroscope pkg/og/convert).

import { ProfileBuilder } from '../builder.ts';
import type { ImportedProfiles } from '../model.ts';
import { FOLDED_DEFAULT_TYPE, type TextImportOptions } from './folded.ts';
import { decodeText, headLines, headText, isFoldedLine } from './text.ts';

/** Text with ';'-separated stacks that is not folded (some complete line does not end in a count). */
export function sniffLines(head: Uint8Array): boolean {
  const text = headText(head);
  if (text === null || text.trimStart().startsWith('{')) return false;
  const lines = headLines(text);
  // Lines carry no counts: a file where most lines end in a count is folded (see sniffFolded).
  return lines.some((l) => l.includes(';')) && lines.filter((l) => isFoldedLine(l)).length * 2 < lines.length;
}

export function importLines(bytes: Uint8Array, opts: TextImportOptions = {}): ImportedProfiles {
  const text = decodeText(bytes, 'lines');
  const counts = new Map<string, number>();
  for (let line of text.split('\n')) {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  const b = new ProfileBuilder([opts.type ?? FOLDED_DEFAULT_TYPE]);
  for (const [line, n] of counts) b.sample(b.stackOf(line.split(';').map((name) => b.frame(name))), [n]);
  return { format: 'lines', profiles: b.build() };
}
