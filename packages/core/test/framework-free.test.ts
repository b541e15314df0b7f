// Core is framework-free (STYLE.md habit 1): no `node:` imports, no Node or DOM globals in src/.
// The type check alone cannot enforce this once tests pull in Node's types, so this test reads
// the sources.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = new URL('../src/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

describe('core sources', () => {
  it('import nothing from node: and use no Node or DOM globals', () => {
    const offenders: string[] = [];
    for (const file of sources(src)) {
      const code = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => !l.trimStart().startsWith('//') && !l.trimStart().startsWith('*'))
        .join('\n');
      if (/from\s+['"]node:|require\(|\bprocess\.|\bBuffer\b|\bdocument\.|\bwindow\./.test(code))
        offenders.push(file.slice(src.length));
    }
    expect(offenders).toEqual([]);
  });
});
