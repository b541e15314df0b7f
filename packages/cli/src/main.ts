// Entry of the `hotpath` CLI: dispatches to one command per file under commands/.
import { commands } from './commands/index.ts';

const USAGE = `Usage: hotpath <command> [options]

Commands:
${'COMMANDS'}

Run 'hotpath <command> --help' for a command's options.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const list = Object.values(commands)
    .map((c) => `  ${c.name.padEnd(10)} ${c.summary}`)
    .join('\n');
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE.replace('COMMANDS', list) + '\n');
    return name === undefined ? 1 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`hotpath: unknown command '${name}'\n\n${USAGE.replace('COMMANDS', list)}\n`);
    return 2;
  }
  return command.run(rest);
}
