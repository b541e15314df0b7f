// SelectSeries with a stack selection, proved against recording rules on DuckDB: a function-filtered
// rule's /metrics counter equals the sum of SelectSeries' points over the same data, asked by rule id
// or by function name; Pyroscope's stack_trace_selector (binary and JSON) keeps a call site from the
// root; bad selections are coded 400s/404s.
import { afterEach, describe, expect, it } from 'vitest';
import { ProtoReader, ProtoWriter } from '../src/connect/wire.ts';
import { NOW_MS, openTestServer, type TestServer } from './support/server.ts';
import { pprofOf } from './support/pprof.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const QUERIER = '/querier.v1.QuerierService';
const RULES = '/settings.v1.RecordingRulesService';
const RANGE = { start: String(NOW_MS - 3_600_000), end: String(NOW_MS + 60_000) };

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function post(path: string, body: unknown) {
  const res = await t!.app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  return { status: res.statusCode, body: JSON.parse(res.body) as any };
}

async function ingest(folded: string, labels: string, timeMs: number) {
  const res = await t!.app.inject({
    method: 'POST',
    url: `/ingest?name=${encodeURIComponent(`ride${labels}`)}&format=pprof`,
    payload: pprofOf(folded, { timeMs }),
  });
  expect(res.statusCode).toBe(200);
}

/** A SelectSeries answer as `region` (or `{}`) → sum of its points. */
function sums(body: any): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of body.series ?? []) {
    const key = (s.labels ?? []).map((l: any) => `${l.name}=${l.value}`).join(',') || '{}';
    out[key] = (s.points ?? []).reduce((a: number, p: any) => a + p.value, 0);
  }
  return out;
}

/** The rule's counters on /metrics as `region=<value>` → value. */
async function counters(metric: string): Promise<Record<string, number>> {
  const res = await t!.app.inject({ method: 'GET', url: '/metrics' });
  const out: Record<string, number> = {};
  for (const line of res.body.split('\n')) {
    const m = new RegExp(`^${metric}\\{.*region="([^"]*)".*\\} (\\S+)$`).exec(line);
    if (m) out[`region=${m[1]}`] = Number(m[2]);
  }
  return out;
}

// Each line one stack, root first. find_nearest_vehicle recurs on the first stack (counted once),
// and one sample carries a span (its samples count like any other).
const EU = `
  main;order_car;find_nearest_vehicle;find_nearest_vehicle;check_driver 30
  main;order_car;find_nearest_vehicle 20
  main;order_bike;find_nearest_vehicle 5 {span_id=00000000000000a1}
  main;idle 50
`;
const US = `
  main;order_car;find_nearest_vehicle 7
  main;idle 11
`;

async function serverWithRule(): Promise<string> {
  t = await openTestServer();
  const created = await post(`${RULES}/UpsertRecordingRule`, {
    metricName: 'rides_fnv_cpu',
    matchers: ['{service_name="ride"}', `{__profile_type__="${CPU}"}`],
    groupBy: ['region'],
    stacktraceFilter: { functionName: { functionName: 'find_nearest_vehicle' } },
  });
  expect(created.status).toBe(200);
  for (const offset of [0, 30_000, 60_000]) {
    await ingest(EU, '{region=eu}', NOW_MS - offset);
    await ingest(US, '{region=us}', NOW_MS - offset);
  }
  await ingest('main;order_car;find_nearest_vehicle 1000', '{region=eu,service_name=other}', NOW_MS);
  return created.body.rule.id as string;
}

describe('SelectSeries with a stack selection', () => {
  it("a function-filtered rule's counter equals SelectSeries' sum, by rule id and by function name", async () => {
    const id = await serverWithRule();
    // Per EU profile: 30 + 20 + 5 = 55; per US profile: 7; three profiles each.
    expect(await counters('rides_fnv_cpu')).toEqual({ 'region=eu': 165, 'region=us': 21 });

    const byRule = await post(`${QUERIER}/SelectSeries`, { ruleId: id, step: 60, ...RANGE });
    expect(byRule.status).toBe(200);
    expect(sums(byRule.body)).toEqual({ 'region=eu': 165, 'region=us': 21 });

    const byName = await post(`${QUERIER}/SelectSeries`, {
      profileTypeID: CPU,
      labelSelector: '{service_name="ride"}',
      groupBy: ['region'],
      functionName: 'find_nearest_vehicle',
      step: 60,
      ...RANGE,
    });
    expect(sums(byName.body)).toEqual(await counters('rides_fnv_cpu'));

    // The rule's selector narrows further with the request's, and its group-by gives way to one asked for.
    const narrowed = await post(`${QUERIER}/SelectSeries`, {
      ruleId: id,
      labelSelector: '{region="us"}',
      groupBy: ['service_name'],
      step: 3600,
      ...RANGE,
    });
    expect(sums(narrowed.body)).toEqual({ 'service_name=ride': 21 });
    const absent = await post(`${QUERIER}/SelectSeries`, {
      profileTypeID: CPU,
      labelSelector: '{}',
      functionName: 'no_such_function',
      step: 60,
      ...RANGE,
    });
    expect(absent).toEqual({ status: 200, body: {} });
  });

  it("Pyroscope's stack_trace_selector keeps the stacks under a call site, in binary and JSON", async () => {
    await serverWithRule();
    const json = await post(`${QUERIER}/SelectSeries`, {
      profileTypeID: CPU,
      labelSelector: '{service_name="ride"}',
      stackTraceSelector: { callSite: [{ name: 'main' }, { name: 'order_car' }] },
      step: 3600,
      ...RANGE,
    });
    expect(sums(json.body)).toEqual({ '{}': 3 * (30 + 20 + 7) });

    const w = new ProtoWriter()
      .string(1, CPU)
      .string(2, '{service_name="ride"}')
      .int64(3, Number(RANGE.start))
      .int64(4, Number(RANGE.end))
      .double(6, 3600)
      .message(8, (sts) =>
        sts
          .message(1, (l) => l.string(1, 'main'))
          .message(1, (l) => l.string(1, 'order_bike'))
          .message(2, (pgo) => pgo.int64(1, 1)),
      );
    const res = await t!.app.inject({
      method: 'POST',
      url: `${QUERIER}/SelectSeries`,
      headers: { 'content-type': 'application/proto' },
      payload: Buffer.from(w.finish()),
    });
    expect(res.statusCode).toBe(200);
    expect(pointSum(res.rawPayload)).toBe(3 * 5);
  });

  it('bad selections are coded', async () => {
    const id = await serverWithRule();
    const base = { profileTypeID: CPU, labelSelector: '{}', step: 60, ...RANGE };
    const unknown = await post(`${QUERIER}/SelectSeries`, { ...base, ruleId: 'nosuchrule' });
    expect([unknown.status, unknown.body.error]).toEqual([404, 'rule_not_found']);
    const conflict = await post(`${QUERIER}/SelectSeries`, { ...base, ruleId: id, functionName: 'main' });
    expect([conflict.status, conflict.body.error]).toEqual([400, 'rule_query_conflict']);
    const otherType = await post(`${QUERIER}/SelectSeries`, {
      ...base,
      ruleId: id,
      profileTypeID: 'memory:inuse_space:bytes:space:bytes',
    });
    expect([otherType.status, otherType.body.error]).toEqual([400, 'rule_query_conflict']);
    const long = await post(`${QUERIER}/SelectSeries`, { ...base, functionName: 'f'.repeat(70_000) });
    expect([long.status, long.body.error, long.body.message]).toEqual([
      400,
      'invalid_function_name',
      'functionName is 70000 characters, the limit is 65535',
    ]);
    const deep = await post(`${QUERIER}/SelectSeries`, {
      ...base,
      stackTraceSelector: { callSite: Array.from({ length: 1001 }, () => ({ name: 'f' })) },
    });
    expect([deep.status, deep.body.error, deep.body.message]).toEqual([
      400,
      'call_site_too_long',
      'stackTraceSelector.callSite has 1001 frames, the limit is 1000',
    ]);
  });
});

/** Sum of every point value of a binary SelectSeriesResponse (series 1 → points 2 → value 1). */
function pointSum(bytes: Uint8Array): number {
  let sum = 0;
  const each = (r: ProtoReader, field: number, visit: (m: ProtoReader) => void) => {
    while (!r.done) {
      const [f, wire] = r.key();
      if (f === field) visit(r.message());
      else r.skip(wire);
    }
  };
  each(new ProtoReader(bytes), 1, (series) =>
    each(series, 2, (point) => {
      while (!point.done) {
        const [f, wire] = point.key();
        if (f === 1) sum += point.double();
        else point.skip(wire);
      }
    }),
  );
  return sum;
}
