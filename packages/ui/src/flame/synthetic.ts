// Synthetic flame trees of a chosen size from a fixed seed, for benchmarks (B7, B8): stacks 8-48
// frames deep whose frames are drawn from a skewed distribution, so a few paths are hot and many are
// cold, with Python-like names and CPU values in nanoseconds (multiples of a 10 ms sample).
import { seededRandom } from '@hotpath/core';
import { TreeBuilder, type FlameTree } from './tree.ts';

/** A tree of at least `nodes` nodes (root included). */
export function syntheticTree(nodes: number, seed = 42): FlameTree {
  const rand = seededRandom(seed);
  const modules = Array.from({ length: 200 }, (_, k) => `app/module_${k}.py`);
  const names = Array.from(
    { length: Math.max(64, Math.ceil(nodes / 8)) },
    (_, k) => `${modules[k % modules.length]!.replace('.py', '')}.function_${k}`,
  );
  const b = new TreeBuilder();
  while (b.size < nodes) {
    const depth = 8 + Math.floor(rand() * 40);
    const path: string[] = [];
    for (let d = 0; d < depth; d++) {
      // Skewed choice: small indexes (hot frames) are much more likely; later levels branch wider.
      const width = Math.min(names.length, 4 + d * d * 8);
      const k = Math.floor(Math.pow(rand(), 3) * width);
      path.push(names[(k * 7919 + d * 104729) % names.length]!);
    }
    b.add(path, (1 + Math.floor(rand() * 20)) * 10_000_000);
  }
  return b.build();
}
