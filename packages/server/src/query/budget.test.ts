import { describe, expect, it } from 'vitest';
import { Deadline, QueryGate } from './budget.ts';

const forever = () => new Deadline(60_000, () => 0);

/** A query that runs until its `finish()` is called. */
function query(gate: QueryGate, tenant: string, log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const result = gate.run(tenant, forever(), async () => {
    log.push(`start ${name}`);
    await done;
  });
  return { finish, result };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('QueryGate', () => {
  it('a tenant at its cap waits; another tenant passes it; a freed slot goes to the oldest that may run', async () => {
    const gate = new QueryGate({ perTenant: 1, total: 2, queuedPerTenant: 4 });
    const log: string[] = [];
    const a1 = query(gate, 'a', log, 'a1');
    const a2 = query(gate, 'a', log, 'a2');
    const b1 = query(gate, 'b', log, 'b1');
    await turn();
    expect(log).toEqual(['start a1', 'start b1']);
    a1.finish();
    await a1.result;
    await turn();
    expect(log).toEqual(['start a1', 'start b1', 'start a2']);
    b1.finish();
    a2.finish();
    await Promise.all([a2.result, b1.result]);
    expect(gate.runningCount).toBe(0);
  });

  it('a full queue refuses with too_many_queries; a failing query frees its slot', async () => {
    const gate = new QueryGate({ perTenant: 1, total: 1, queuedPerTenant: 1 });
    const log: string[] = [];
    const failing = gate.run('a', forever(), async () => {
      await turn();
      throw new Error('store down');
    });
    const waiting = query(gate, 'a', log, 'a2');
    await expect(gate.run('a', forever(), async () => 1)).rejects.toMatchObject({
      code: 'too_many_queries',
      details: { limit: 1, actual: 2 },
    });
    await expect(failing).rejects.toThrow('store down');
    await turn();
    expect(log).toEqual(['start a2']);
    waiting.finish();
    await waiting.result;
  });

  it('Deadline.check throws query_timeout once the clock passes the limit', () => {
    let t = 0;
    const d = new Deadline(100, () => t);
    t = 100;
    expect(() => d.check()).not.toThrow();
    t = 101;
    expect(() => d.check()).toThrow(expect.objectContaining({ code: 'query_timeout', httpStatus: 504 }));
  });
});
