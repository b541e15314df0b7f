// Writes the Node.js pprof fixtures of packages/core/test/fixtures with @datadog/pprof (the
// profiler inside @pyroscope/nodejs): a wall-time profile (node-wall.pb.gz) and a heap profile
// (node-heap.pb.gz) of a small CPU- and allocation-heavy workload.
//
//   node packages/core/scripts/gen-node-fixtures.mjs packages/core/test/fixtures
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode, heap, time } from '@datadog/pprof';

const dir = process.argv[2];
if (!dir) throw new Error('usage: gen-node-fixtures.mjs <fixtures dir>');

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

const kept = [];
function allocateStrings(n) {
  for (let i = 0; i < n; i++) kept.push(`item-${i}-${'x'.repeat(i % 64)}`);
}
function allocateArrays(n) {
  for (let i = 0; i < n; i++) kept.push(new Array(256).fill(i));
}

function busy(ms) {
  const end = Date.now() + ms;
  let s = 0;
  while (Date.now() < end) s += fib(20);
  return s;
}

heap.start(16 * 1024, 64);
time.start({ durationMillis: 1000, intervalMicros: 1000 });
busy(600);
allocateStrings(50_000);
allocateArrays(2_000);
busy(300);
const wall = time.stop();
const mem = heap.profile();
heap.stop();

writeFileSync(join(dir, 'node-wall.pb.gz'), await encode(wall));
writeFileSync(join(dir, 'node-heap.pb.gz'), await encode(mem));
console.log('kept', kept.length);
