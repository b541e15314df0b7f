// Fuzzes core's importers directly (no HTTP in the way, so many more cases per second): damaged
// real bytes of every format must import or throw a coded FormatError, never a TypeError/RangeError.
import { FormatError, importProfile, seededRandom } from '@hotpath/core';
import { describe, expect, it } from 'vitest';
import { caseSeed, chance, corpus, int, mutateBytes, mutateJson, scaled } from './harness.ts';

describe('fuzz: core importers', () => {
  it.each(['pprof', 'folded', 'lines', 'trie', 'tree', 'speedscope'])('%s', (format) => {
    const all = Object.values(corpus()).flat();
    const crashes = new Map<string, string>();
    for (let i = 0; i < scaled(1500); i++) {
      const seed = caseSeed(`importer-${format}`, i);
      const r = seededRandom(seed);
      let bytes = corpus()[format]![int(r, corpus()[format]!.length)]!;
      for (let k = 1 + int(r, 3); k > 0; k--)
        bytes =
          format === 'speedscope' && chance(r, 0.7) ? mutateJson(r, bytes, all) : mutateBytes(r, bytes, all);
      try {
        importProfile(bytes, { format: chance(r, 0.5) ? format : undefined, maxDecompressedBytes: 1 << 26 });
      } catch (e) {
        if (e instanceof FormatError) continue;
        const kind = `${(e as Error).name}: ${(e as Error).message.slice(0, 100)}`;
        if (!crashes.has(kind))
          crashes.set(kind, `seed ${seed}, input ${bytes.subarray(0, 64).toString('hex')}`);
      }
    }
    expect([...crashes.entries()].map(([k, v]) => `${k} (${v})`)).toEqual([]);
  });
});
