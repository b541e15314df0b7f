// Fuzzes the write path (compat §1, §2, OTLP): every ingest format, Connect Push and OTLP, binary and JSON, on the
// memory store, then a smaller pass on DuckDB; the data written before the run must survive it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFamilies, otlpFamilies, pushFamilies } from './families.ts';
import { injectSender, report, runFamily, scaled } from './harness.ts';
import { checkKnown, openFuzzServer, writeKnown, type FuzzServer } from './known.ts';

describe.each([
  { backend: 'memory' as const, count: 1000 },
  { backend: 'duckdb' as const, count: 100 },
])('fuzz: write path on the $backend store', ({ backend, count }) => {
  let s: FuzzServer;
  beforeAll(async () => {
    s = await openFuzzServer(backend);
    await writeKnown(s.app);
  });
  afterAll(() => s.close());

  it.each([...ingestFamilies, ...pushFamilies, ...otlpFamilies].map((f) => [f.name, f] as const))(
    '%s',
    async (_name, family) => {
      const failures = await runFamily(injectSender(s.app), family, scaled(count));
      expect(report(failures)).toBe('');
    },
  );

  it('still ready, and the known-good data is intact', async () => {
    expect(await checkKnown(s.app)).toEqual([]);
  });
});
