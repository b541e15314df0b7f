// The registry of CLI commands, in the order `hotpath --help` lists them.
import type { Command } from '../command.ts';
import { serverCommand } from './server.ts';
import { demo } from './demo.ts';

export const commands: Record<string, Command> = {
  server: serverCommand,
  demo,
};
