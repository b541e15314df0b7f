// Runs the real `hotpath` CLI as a subprocess (async, so an in-process server keeps answering).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const HOTPATH_BIN = fileURLToPath(new URL('../bin/hotpath.js', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../../core/test/fixtures/', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export function runCli(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOTPATH_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({
        code,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBytes,
      });
    });
  });
}

/**
 * Runs the CLI's main() in this process with stdout/stderr captured: the same code without the
 * process start-up, for the many small argument cases. Never use it with a server in this process
 * waiting on the CLI (main() is awaited here, so that is fine, but output capture is global).
 */
export async function runInProcess(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../src/main.ts');
  let stdout = '';
  let stderr = '';
  const capture =
    (sink: (s: string) => void) =>
    (chunk: unknown, encoding?: unknown, cb?: unknown): boolean => {
      sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') (done as () => void)();
      return true;
    };
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = capture((s) => (stdout += s)) as typeof process.stdout.write;
  process.stderr.write = capture((s) => (stderr += s)) as typeof process.stderr.write;
  try {
    const code = await main([...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
