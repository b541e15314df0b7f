// Fuzzes settings.v1.RecordingRulesService in binary proto and JSON, then ingests with whatever
// rules the run created (the write path evaluates them), on the memory store holding known-good
// data that must survive; /metrics must still answer in Prometheus text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFamilies, pushFamilies } from './families.ts';
import { FUZZ_NOW_MS, injectSender, report, runFamily, scaled } from './harness.ts';
import { RULES_SERVICE } from '../../src/rules/service.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
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
    const post = (url: string, payload: string, type = 'application/json') =>
      s.app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload });
    const list = await post(`${RULES_SERVICE}/ListRecordingRules`, '{}');
    expect(JSON.parse(list.body).rules.length).toBeGreaterThan(3);
    // One rule known to select what is written below, besides whatever the run left.
    const known = await post(
      `${RULES_SERVICE}/UpsertRecordingRule`,
      JSON.stringify({ metricName: 'fuzz_known_cpu', matchers: [`{__profile_type__="${CPU}"}`] }),
    );
    const id = JSON.parse(known.body).rule.id as string;
    const failures = [];
    for (const f of [...ingestFamilies.slice(0, 2), pushFamilies[0]!])
      failures.push(...(await runFamily(injectSender(s.app), f, scaled(100))));
    expect(report(failures)).toBe('');
    const from = FUZZ_NOW_MS / 1000;
    const ingested = await post(
      `/ingest?name=fuzz-known&from=${from}&until=${from + 10}`,
      'main;parse 2',
      'text/plain',
    );
    expect(ingested.statusCode).toBe(200);
    const metrics = await s.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    // Every line a comment or `name{labels} number`.
    const bad = metrics.body
      .split('\n')
      .filter(
        (l) => l !== '' && !l.startsWith('#') && !/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? -?[0-9.e+]+$/.test(l),
      );
    expect(bad).toEqual([]);
    const value = new RegExp(`^fuzz_known_cpu\\{profiles_rule_id="${id}"\\} (\\S+)$`, 'm').exec(
      metrics.body,
    )?.[1];
    expect(Number(value)).toBeGreaterThanOrEqual(2e7);
  });

  it('still ready, and the known-good data is intact', async () => {
    expect(await checkKnown(s.app)).toEqual([]);
  });
});
