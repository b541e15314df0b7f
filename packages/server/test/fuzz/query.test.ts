// Fuzzes the read path's Connect API (compat §3.3): every querier.v1.QuerierService method in binary
// proto and JSON, damaged, on the memory store holding known-good data that must survive the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryFamilies } from './families.ts';
import { injectSender, report, runFamily, scaled } from './harness.ts';
import { checkKnown, openFuzzServer, writeKnown, type FuzzServer } from './known.ts';

describe('fuzz: querier.v1.QuerierService', () => {
  let s: FuzzServer;
  beforeAll(async () => {
    s = await openFuzzServer('memory');
    await writeKnown(s.app);
  });
  afterAll(() => s.close());

  it.each(queryFamilies.map((f) => [f.name, f] as const))('%s', async (_name, family) => {
    const failures = await runFamily(injectSender(s.app), family, scaled(250));
    expect(report(failures)).toBe('');
  });

  it('still ready, and the known-good data is intact', async () => {
    expect(await checkKnown(s.app)).toEqual([]);
  });
});
