// The server's import layering: no module reaches itself through its imports, and store/ (below both
// paths) imports nothing from query/ or ingest/. Reads the import statements of src/**/*.ts (not src/gen).

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return path === join(SRC, 'gen') ? [] : sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Relative specifiers of `import … from`, `export … from`, `import '…'` and `import('…')`. */
export function importsOf(source: string): string[] {
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  return [...source.matchAll(re)].map((m) => m[1]!);
}

/** The graph: file (relative to src/) → the src/ files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const targets = importsOf(readFileSync(file, 'utf8'))
      .map((spec) => resolve(dirname(file), spec))
      .filter((path) => path.endsWith('.ts') && !path.startsWith(join(SRC, 'gen')))
      .map((path) => relative(SRC, path));
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

/** Every cycle found by depth-first search, each as the path that closes it (a → b → a). */
export function cyclesOf(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (state.get(node) === undefined) visit(node);
  return cycles;
}

describe('server import layering', () => {
  const graph = importGraph();

  it('reads the source tree', () => {
    expect(graph.get('app.ts')).toContain('errors.ts');
    expect(graph.size).toBeGreaterThan(50);
  });

  it('finds a cycle when there is one (the checker itself works)', () => {
    const picture = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cyclesOf(picture)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
    expect(importsOf("import type { X } from './x.ts';\nexport { Y } from '../y.ts';")).toEqual([
      './x.ts',
      '../y.ts',
    ]);
    expect(importsOf("const { m } = await import('./m.ts');")).toEqual(['./m.ts']);
  });

  it('has no import cycle', () => {
    expect(cyclesOf(graph).map((c) => c.join(' → '))).toEqual([]);
  });

  it('store/ imports nothing from query/ or ingest/', () => {
    const upward = [...graph]
      .filter(([file]) => file.startsWith('store/'))
      .flatMap(([file, targets]) =>
        targets.filter((t) => t.startsWith('query/') || t.startsWith('ingest/')).map((t) => `${file} → ${t}`),
      );
    expect(upward).toEqual([]);
  });
});
