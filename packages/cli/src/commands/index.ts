// The registry of CLI commands, in the order `hotpath --help` lists them.
import type { Command } from '../command.ts';
import { serverCommand } from './server.ts';
import { demo } from './demo.ts';
import { convert } from './convert.ts';
import { top } from './top.ts';
import { diff } from './diff.ts';
import { changes } from './changes.ts';
import { ingest } from './ingest.ts';
import { query } from './query.ts';
import { exportCommand } from './export.ts';
import { keys } from './keys.ts';

export const commands: Record<string, Command> = {
  server: serverCommand,
  demo,
  ingest,
  query,
  export: exportCommand,
  keys,
  convert,
  top,
  diff,
  changes,
};
