// Decodes a pprof file with Hotpath core's importer and prints what the Python tests compare:
// one JSON object per sample type with its profile type id, total and folded stacks.
import { readFileSync } from 'node:fs';
import { decodePprof, formatProfileTypeId } from '../../../packages/core/src/index.ts';
import { printFolded } from '../../../packages/core/src/testing/pictures.ts';

const profiles = decodePprof(new Uint8Array(readFileSync(process.argv[2]!)));
const out = profiles.map((p) => {
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) total += p.samples.value[i]!;
  const labels = p.sampleLabelSets.map((l) => Object.fromEntries(l.map((x) => [x.name, x.value])));
  return {
    type: formatProfileTypeId(p.type),
    total,
    folded: printFolded(p),
    labelSets: labels,
    timeNs: p.timeNs,
    period: p.period,
  };
});
process.stdout.write(JSON.stringify(out));
