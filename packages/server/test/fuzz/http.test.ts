// Fuzzes the legacy HTTP read API and every other registered route (query strings included), then
// replays a share of every family over a real socket on 127.0.0.1, where a reset or an early close
// counts as a dropped connection. The fuzzed route list must cover what buildServer registers.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allFamilies, httpFamilies, OTHER_ROUTES, READ_ROUTES } from './families.ts';
import { injectSender, report, runFamily, scaled, socketSender } from './harness.ts';
import { checkKnown, openFuzzServer, writeKnown, type FuzzServer } from './known.ts';

/** Paths of Fastify's printRoutes tree (one segment per line, children indented by 4). */
function routePaths(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ├└─]*?)([├└]── )(\S+) \(/.exec(line);
    if (m === null) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const parent = depth === 0 ? '' : stack[depth - 1]!;
    // A child segment continues its parent ('-diff' after '/render'), or starts a new path segment.
    const glue = depth === 0 || parent.endsWith('/') || /^[-/]/.test(m[3]!) ? '' : '/';
    const path = parent + glue + m[3]!;
    stack.push(path);
    out.push(path);
  }
  return out;
}

describe('fuzz: HTTP routes', () => {
  let s: FuzzServer;
  beforeAll(async () => {
    s = await openFuzzServer('memory');
    await writeKnown(s.app);
  });
  afterAll(() => s.close());

  it('fuzzes every route buildServer registers', () => {
    const fuzzed = new Set([...READ_ROUTES, ...OTHER_ROUTES, '/*']);
    const registered = routePaths(s.app.printRoutes({ commonPrefix: false }));
    expect(registered.length).toBeGreaterThan(10);
    expect(registered.filter((p) => !fuzzed.has(p))).toEqual([]);
  });

  it.each(httpFamilies.map((f) => [f.name, f] as const))('%s', async (_name, family) => {
    const failures = await runFamily(injectSender(s.app), family, scaled(1000));
    expect(report(failures)).toBe('');
  });

  it('over a real socket: every family, no dropped connection', async () => {
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    const send = socketSender((s.app.server.address() as AddressInfo).port);
    try {
      const failures = [];
      // Indices past the in-process runs: new cases, not replays.
      for (const f of allFamilies)
        failures.push(...(await runFamily(send, f, scaled(25), { firstIndex: 100_000 })));
      expect(report(failures)).toBe('');
    } finally {
      send.close();
    }
  });

  it('still ready, and the known-good data is intact', async () => {
    expect(await checkKnown(s.app)).toEqual([]);
  });
});
