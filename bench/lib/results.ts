// Appends a benchmark's section to bench/RESULTS.md (under a lock, as benchmarks may run at once) and
// gathers the machine facts its header states.
import { execSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';

export interface Machine {
  /** UTC date of the run, YYYY-MM-DD. */
  date: string;
  /** Short hash of the checked-out commit. */
  commit: string;
  /** Model name of the first CPU. */
  cpu: string;
  /** Cores this process may use (`nproc`, honours affinity). */
  cores: number;
  /** Logical CPUs of the machine (`os.cpus().length`). */
  cpuCount: number;
}

export function machine(): Machine {
  return {
    date: new Date().toISOString().slice(0, 10),
    commit: execSync('git rev-parse --short HEAD').toString().trim(),
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cores: Number(execSync('nproc').toString().trim()),
    cpuCount: cpus().length,
  };
}

/** The 1, 5 and 15 min load averages to one decimal, joined by `separator`. */
export function loadAverage(separator = ' '): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(separator);
}

/** Appends `text` to bench/RESULTS.md unless the env variable `dryEnv` is set; prints it either way. */
export function record(text: string, dryEnv: string): void {
  const resultsPath = new URL('../RESULTS.md', import.meta.url).pathname;
  if (!process.env[dryEnv])
    execSync(`flock /tmp/results.lock sh -c 'cat >> "${resultsPath}"'`, { input: text });
  console.log(text);
}
