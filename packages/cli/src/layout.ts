// Where the files the CLI runs beside live: a clone of the repository (sources run through tsx), or
// the packed npm package that scripts/pack.mjs builds (one bundle in dist/, examples/ and sdk/ beside it).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface InstallLayout {
  /** The directory holding examples/rideshare and sdk/python. */
  readonly root: string;
  /** The script that runs `hotpath` (the demo starts its server with it). */
  readonly hotpathBin: string;
}

/** Found from this module's own place: packages/cli/src/layout.ts in a clone, dist/hotpath.mjs when packed. */
export function installLayout(): InstallLayout {
  const packed = fileURLToPath(new URL('../', import.meta.url));
  if (existsSync(join(packed, 'dist', 'hotpath.mjs')) && existsSync(join(packed, 'examples')))
    return { root: packed, hotpathBin: join(packed, 'dist', 'hotpath.mjs') };
  const repo = fileURLToPath(new URL('../../../', import.meta.url));
  return { root: repo, hotpathBin: join(repo, 'packages', 'cli', 'bin', 'hotpath.js') };
}
