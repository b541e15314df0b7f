// The link `hotpath diff git:BASE git:HEAD` prints opens the UI's diff view on those two
// service_git_ref selections: two CI runs of a test suite stored by a real server, the CLI run against
// it, and the printed link followed in Debian Chromium.
import { existsSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ingestFolded, launchBrowser, screenshot, startServer, type RunningServer } from './harness.ts';

const uiDir = new URL('../', import.meta.url).pathname;
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const SUITE = 'rideshare-tests';
const MS = 1_000_000; // ns

// Two runs of the suite: in the head run check_driver_availability takes twice as long.
function run(driverMs: number): string {
  return [
    `pytest;test_order[car];order_car;find_nearest_vehicle ${400 * MS}`,
    `pytest;test_order[car];order_car;find_nearest_vehicle;check_driver_availability ${driverMs * MS}`,
    `pytest;test_order[bike];order_bike;find_nearest_vehicle ${200 * MS}`,
  ].join('\n');
}

/** The real CLI as a subprocess (async: the server keeps answering meanwhile). */
function runCli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = join(uiDir, '../cli/bin/hotpath.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let server: RunningServer;
let browser: Browser;
let page: Page;
let fromMs: number;
let untilMs: number;

beforeAll(async () => {
  if (!existsSync(join(uiDir, 'dist/index.html'))) {
    const r = spawnSync('npx', ['vite', 'build'], { cwd: uiDir, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('vite build failed');
  }
  server = await startServer();
  const nowSec = Math.floor(Date.now() / 1000);
  await ingestFolded(server.url, `${SUITE}{service_git_ref=aaa111}`, run(200), nowSec - 600);
  await ingestFolded(server.url, `${SUITE}{service_git_ref=bbb222}`, run(400), nowSec - 300);
  fromMs = (nowSec - 3600) * 1000;
  untilMs = (nowSec + 60) * 1000;
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
}, 30_000);

describe('the diff link hotpath diff prints', () => {
  it('opens the diff and comparison views on the two git refs', async () => {
    const r = await runCli([
      ...['diff', 'git:aaa111', 'git:bbb222', '--service', SUITE, '--server', server.url],
      ...['--from', String(fromMs), '--until', String(untilMs), '--fail-on', '10%'],
    ]);
    // The CLI read both sides from the server: the slowed function fails the gate.
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('regression: check_driver_availability');
    const link = /^diff view: (\S+)$/m.exec(r.stdout)?.[1];
    expect(link, r.stdout).toBeDefined();
    expect(link!.startsWith(`${server.url}/comparison-diff?`)).toBe(true);

    const asked: URL[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/pyroscope/render-diff')) asked.push(new URL(req.url()));
    });
    await page.goto(link!);
    await page.waitForSelector('[data-testid="flame-diff"] canvas[data-paints]', { timeout: 30_000 });
    expect(asked.length).toBeGreaterThan(0);
    const q = asked[asked.length - 1]!.searchParams;
    expect(q.get('leftQuery')).toBe(`${CPU}{service_name="${SUITE}",service_git_ref="aaa111"}`);
    expect(q.get('rightQuery')).toBe(`${CPU}{service_name="${SUITE}",service_git_ref="bbb222"}`);
    expect(q.get('leftFrom')).toBe(String(fromMs));
    expect(q.get('rightUntil')).toBe(String(untilMs));
    expect(await page.getByLabel('Application').first().inputValue()).toBe(SUITE);
    await screenshot(page, 'ci-diff-link');

    // The side-by-side comparison of the same two runs.
    const sideBySide = /^side by side: (\S+)$/m.exec(r.stdout)?.[1];
    expect(sideBySide, r.stdout).toBe(link!.replace('/comparison-diff?', '/comparison?'));
    const rendered: string[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/pyroscope/render?'))
        rendered.push(new URL(req.url()).searchParams.get('query')!);
    });
    await page.goto(sideBySide!);
    await page.waitForSelector('[data-testid="flame-left"] canvas[data-paints]', { timeout: 30_000 });
    await page.waitForSelector('[data-testid="flame-right"] canvas[data-paints]', { timeout: 30_000 });
    expect(rendered).toContain(`${CPU}{service_name="${SUITE}",service_git_ref="aaa111"}`);
    expect(rendered).toContain(`${CPU}{service_name="${SUITE}",service_git_ref="bbb222"}`);
    await screenshot(page, 'ci-comparison-link');
  });
});
