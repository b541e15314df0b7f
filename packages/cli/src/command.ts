// The shape of one CLI command (one per file under commands/).
export interface Command {
  readonly name: string;
  /** One line for `hotpath --help`. */
  readonly summary: string;
  /** Returns the process exit code. Prints its own --help. */
  run(argv: string[]): Promise<number>;
}
