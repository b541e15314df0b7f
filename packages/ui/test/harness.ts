// Browser test harness: a real `hotpath server` (memory store, free port, temp data dir) filled with
// known profiles through its real /ingest route, and Debian Chromium driven by playwright-core.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ProfileBuilder, encodePprofGzip, makeProfileType } from '@hotpath/core';

const repoRoot = new URL('../../../', import.meta.url).pathname;
export const screenshotDir = join(repoRoot, 'test-output', 'screenshots');

const uiDir = join(repoRoot, 'packages/ui');

/**
 * Builds the UI unless packages/ui/dist already holds `marker` (a string only the code under test
 * has): a dist built before a feature would otherwise fail its test for the wrong reason.
 */
export function ensureUiBuilt(marker: string): void {
  const assets = join(uiDir, 'dist/assets');
  const built =
    existsSync(join(uiDir, 'dist/index.html')) &&
    existsSync(assets) &&
    readdirSync(assets).some(
      (f) => f.endsWith('.js') && readFileSync(join(assets, f), 'utf8').includes(marker),
    );
  if (built) return;
  const r = spawnSync('npx', ['vite', 'build'], { cwd: uiDir, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('vite build failed');
}

export interface RunningServer {
  readonly url: string;
  /** With `--auth keys`: the admin key the server made at start (it prints it once). */
  readonly adminKey?: string;
  readonly stop: () => Promise<void>;
}

/**
 * Starts `hotpath server --port 0 --store memory [...extraArgs]` and waits for its "listening" line
 * (and, with `--auth keys`, for the bootstrap admin key it prints next).
 */
export async function startServer(extraArgs: readonly string[] = []): Promise<RunningServer> {
  const wantsKey = extraArgs.includes('keys');
  const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-ui-test-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(repoRoot, 'packages/cli/bin/hotpath.js'),
      'server',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--store',
      'memory',
      ...extraArgs,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const [url, adminKey] = await new Promise<[string, string | undefined]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 60 s:\n${log}`)), 60_000);
    const onData = (b: Buffer) => {
      log += b.toString();
      const m = /Hotpath listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      const key = /^(hp_\S+)$/m.exec(log)?.[1];
      if (m && (!wantsKey || key !== undefined)) {
        clearTimeout(timer);
        resolve([m[1]!, key]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${log}`));
    });
  });
  return {
    url,
    ...(adminKey !== undefined ? { adminKey } : {}),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Sends folded stacks (`a;b;c 100` lines, values in CPU nanoseconds) as a gzip pprof CPU profile
 * (`cpu/nanoseconds`, i.e. process_cpu:cpu:nanoseconds:cpu:nanoseconds) through POST /ingest.
 */
export async function ingestFolded(
  baseUrl: string,
  name: string,
  folded: string,
  fromSec: number,
  headers: Readonly<Record<string, string>> = {},
): Promise<void> {
  const type = makeProfileType('process_cpu', 'cpu', 'nanoseconds', 'cpu', 'nanoseconds');
  const b = new ProfileBuilder([type], { timeNs: fromSec * 1e9, durationNs: 10e9, period: 10_000_000 });
  for (const line of folded.trim().split('\n')) {
    const sp = line.lastIndexOf(' ');
    const frames = line
      .slice(0, sp)
      .split(';')
      .map((f) => b.frame(f));
    b.sample(b.stackOf(frames), [Number(line.slice(sp + 1))]);
  }
  const body = encodePprofGzip(b.build());
  const q = new URLSearchParams({
    name,
    from: String(fromSec),
    until: String(fromSec + 10),
    format: 'pprof',
    spyName: 'pyspy',
  });
  const res = await fetch(`${baseUrl}/ingest?${q}`, {
    method: 'POST',
    body: body as RequestInit['body'],
    headers: { 'Content-Type': 'application/octet-stream', ...headers },
  });
  if (res.status !== 200) throw new Error(`ingest ${name} failed: ${res.status} ${await res.text()}`);
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}
