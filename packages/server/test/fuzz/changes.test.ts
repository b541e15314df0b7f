// Fuzzes hotpath.v1.ChangesService/WhatChanged in binary proto and JSON, damaged, on the memory store
// holding known-good data that must survive the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changesFamilies } from './families.ts';
import { injectSender, report, runFamily, scaled } from './harness.ts';
import { checkKnown, openFuzzServer, writeKnown, type FuzzServer } from './known.ts';

describe('fuzz: hotpath.v1.ChangesService', () => {
  let s: FuzzServer;
  beforeAll(async () => {
    s = await openFuzzServer('memory');
    await writeKnown(s.app);
  });
  afterAll(() => s.close());

  it.each(changesFamilies.map((f) => [f.name, f] as const))('%s', async (_name, family) => {
    const failures = await runFamily(injectSender(s.app), family, scaled(250));
    expect(report(failures)).toBe('');
  });

  it('still ready, and the known-good data is intact', async () => {
    expect(await checkKnown(s.app)).toEqual([]);
  });
});
