// What the `hotpath` command runs: bin/hotpath.js loads it through tsx in a clone; scripts/pack.mjs
// compiles it into dist/hotpath.mjs of the npm package.
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
