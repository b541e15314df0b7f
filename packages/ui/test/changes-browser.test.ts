// The "What changed?" panel in Debian Chromium: ten minutes of rideshare-like load on a real server
// (eu-north slow in even minutes), the panel asked from the single view, its first finding's diff
// link followed to the diff view on a fast and a slow eu-north step.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  NS_PER_SAMPLE,
  RIDESHARE_APP,
  rideshareWindows,
  type RideshareWindow,
} from '../../core/src/testing/rideshare.ts';
import { ingestFolded, launchBrowser, screenshot, startServer, type RunningServer } from './harness.ts';

const uiDir = new URL('../', import.meta.url).pathname;
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const MIN = 60_000;
/** An even minute (eu-north starts slow) about fifteen minutes ago. */
const T0 = Math.floor((Date.now() - 15 * MIN) / (2 * MIN)) * 2 * MIN;

let server: RunningServer;
let browser: Browser;
let page: Page;

/** The built UI holds this panel (a dist/ built before it would not). */
function distHasPanel(): boolean {
  const assets = join(uiDir, 'dist/assets');
  if (!existsSync(join(uiDir, 'dist/index.html')) || !existsSync(assets)) return false;
  return readdirSync(assets).some(
    (f) => f.endsWith('.js') && readFileSync(join(assets, f), 'utf8').includes('changes-baseline-empty'),
  );
}

const folded = (w: RideshareWindow) =>
  w.stacks.map((s) => `${s.frames.join(';')} ${s.samples * NS_PER_SAMPLE}`).join('\n');

beforeAll(async () => {
  if (!distHasPanel()) {
    const r = spawnSync('npx', ['vite', 'build'], { cwd: uiDir, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('vite build failed');
  }
  server = await startServer();
  const windows = rideshareWindows({ seed: 7, startMs: T0, durationMs: 10 * MIN, periodS: 60 });
  for (let i = 0; i < windows.length; i += 30)
    await Promise.all(
      windows
        .slice(i, i + 30)
        .map((w) =>
          ingestFolded(
            server.url,
            `${RIDESHARE_APP}{region=${w.labels.region},vehicle=${w.labels.vehicle}}`,
            folded(w),
            w.timeMs / 1000,
          ),
        ),
    );
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
}, 30_000);

describe('the What changed? panel', () => {
  it('names eu-north and mutex_lock first and its diff link opens a fast against a slow eu-north step', async () => {
    const q = new URLSearchParams({
      service: RIDESHARE_APP,
      profileType: CPU,
      from: String(T0),
      until: String(T0 + 10 * MIN - 1),
    });
    await page.goto(`${server.url}/?${q}`);
    await page.waitForSelector('[data-testid="flame-main"] canvas[data-paints]', { timeout: 60_000 });
    await page.click('[data-testid="changes-run"]');
    const first = page.locator('[data-testid="changes-finding"]').first();
    await first.waitFor({ timeout: 60_000 });
    const text = await first.innerText();
    expect(text).toContain('region=eu-north');
    expect(text).toContain('mutex_lock');
    // Nothing was recorded before T0: the previous ten minutes are no baseline, and the panel says so.
    await page.getByTestId('changes-baseline-empty').waitFor();
    await screenshot(page, 'changes-panel');

    const asked: URL[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/pyroscope/render-diff')) asked.push(new URL(req.url()));
    });
    await first.locator('[data-testid="changes-diff-link"]').click();
    await page.waitForSelector('[data-testid="flame-diff"] canvas[data-paints]', { timeout: 60_000 });
    const url = new URL(page.url());
    expect(url.pathname).toBe('/comparison-diff');
    expect(url.searchParams.get('query')).toBe('{region="eu-north"}');
    expect(url.searchParams.get('rightQuery')).toBe('{region="eu-north"}');
    // Left: a fast (odd) minute; right: a slow (even) one.
    expect(Math.floor((Number(url.searchParams.get('from')) - T0) / MIN) % 2).toBe(1);
    expect(Math.floor((Number(url.searchParams.get('rightFrom')) - T0) / MIN) % 2).toBe(0);
    const last = asked[asked.length - 1]!.searchParams;
    expect(last.get('leftQuery')).toBe(`${CPU}{service_name="${RIDESHARE_APP}",region="eu-north"}`);
    expect(last.get('rightFrom')).toBe(url.searchParams.get('rightFrom'));
    await screenshot(page, 'changes-diff');
  }, 120_000);
});
