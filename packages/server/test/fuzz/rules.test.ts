// Fuzzes settings.v1.RecordingRulesService in binary proto and JSON, then ingests with whatever
// rules the run created (the write path evaluates them), on the memory store holding known-good
// data that must survive; /metrics must still answer in Prometheus text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFamilies, pushFamilies } from './families.ts';
import { injectSender, report, runFamily, scaled } from './harness.ts';
import { checkKnown, openFuzzServer, writeKnown, type FuzzServer } from './known.ts';
import { rulesFamilies } from './rules-families.ts';

describe('fuzz: settings.v1.RecordingRulesService', () => {
  let s: FuzzServer;
  beforeAll(async () => {
    s = await openFuzzServer('memory');
    await writeKnown(s.app);
  });
  afterAll(() => s.close());

  it.each(rulesFamilies.map((f) => [f.name, f] as const))('%s', async (_name, family) => {
    const failures = await runFamily(injectSender(s.app), family, scaled(150));
    expect(report(failures)).toBe('');
  });

  it('ingest with the rules the run created: every write evaluates them', async () => {
    const list = await s.app.inject({
      method: 'POST',
      url: '/settings.v1.RecordingRulesService/ListRecordingRules',
      headers: { 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(JSON.parse(list.body).rules.length).toBeGreaterThan(5);
    const failures = [];
    for (const f of [...ingestFamilies.slice(0, 2), pushFamilies[0]!])
      failures.push(...(await runFamily(injectSender(s.app), f, scaled(100))));
    expect(report(failures)).toBe('');
    const metrics = await s.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    // Every line a comment or `name{labels} number`.
    const bad = metrics.body
      .split('\n')
      .filter(
        (l) => l !== '' && !l.startsWith('#') && !/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? -?[0-9.e+]+$/.test(l),
      );
    expect(bad).toEqual([]);
    expect(metrics.body).toMatch(/^fuzz_cpu\{.*profiles_rule_id=/m);
  });

  it('still ready, and the known-good data is intact', async () => {
    expect(await checkKnown(s.app)).toEqual([]);
  });
});
