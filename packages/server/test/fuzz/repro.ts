// Replays one fuzz case from its family and seed against a fresh server holding the known-good data,
// and prints the request and the answer:
//   npx tsx packages/server/test/fuzz/repro.ts <family> <seed> [memory|duckdb] [--body]
// (--body also writes the request body to ./fuzz-<family>-<seed>.bin).

import { writeFileSync } from 'node:fs';
import { familyNamed } from './families.ts';
import { caseOf, judge } from './harness.ts';
import { openFuzzServer, writeKnown } from './known.ts';

const [familyName, seedText, backend = 'memory'] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (familyName === undefined || seedText === undefined) {
  console.error('usage: repro.ts <family> <seed> [memory|duckdb] [--body]');
  process.exit(2);
}
const c = caseOf(familyNamed(familyName), Number(seedText));
const body = c.body ?? Buffer.alloc(0);
console.log(`${c.method} ${c.url}`);
console.log(JSON.stringify(c.headers));
console.log(`body: ${body.length} bytes; head ${body.subarray(0, 256).toString('hex')}`);
if (process.argv.includes('--body')) writeFileSync(`fuzz-${familyName}-${seedText}.bin`, body);

const s = await openFuzzServer(backend === 'duckdb' ? 'duckdb' : 'memory');
await writeKnown(s.app);
const started = performance.now();
const res = await s.app.inject({
  method: c.method as 'POST',
  url: c.url,
  headers: c.headers,
  payload: c.body,
});
console.log(
  `→ ${res.statusCode} in ${(performance.now() - started).toFixed(0)} ms: ${res.body.slice(0, 1000)}`,
);
console.log(`verdict: ${judge({ status: res.statusCode, body: res.body }, c.method) ?? 'ok'}`);
await s.close();
