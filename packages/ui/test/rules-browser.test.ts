// Recording rules in the browser: right-click a flame graph block, "Track this function", and the
// rule made from the view's selector, profile type and the function counts the profiles that arrive
// next on /metrics; the Rules view lists it and deletes it. Debian Chromium, in-process server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '@hotpath/server';
import { ingestFolded, launchBrowser, screenshot } from './harness.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const APP = 'ride-sharing-app';
const METRIC = 'ride_sharing_app_find_nearest_vehicle_cpu';
const uiDir = new URL('../', import.meta.url).pathname;

// find_nearest_vehicle is most of the graph (500 of 550 ns), so the middle of its row is on it;
// its recursive stack counts once.
const FOLDED = `
main;find_nearest_vehicle;find_nearest_vehicle;check_driver 300
main;find_nearest_vehicle 200
main;gc 50
`;

let server: RunningServer;
let browser: Browser;
let page: Page;
let nowSec: number;

async function rules(): Promise<{ id: string; matchers: string[]; metricName: string }[]> {
  const res = await fetch(`${server.url}/settings.v1.RecordingRulesService/ListRecordingRules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  return ((await res.json()) as { rules?: [] }).rules ?? [];
}

async function metricLines(): Promise<string[]> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(METRIC));
}

beforeAll(async () => {
  if (!existsSync(join(uiDir, 'dist/index.html'))) {
    const r = spawnSync('npx', ['vite', 'build'], { cwd: uiDir, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('vite build failed');
  }
  server = await startServer({ port: 0, host: '127.0.0.1', store: 'memory', logger: false });
  nowSec = Math.floor(Date.now() / 1000);
  await ingestFolded(server.url, `${APP}{region=eu-north}`, FOLDED, nowSec - 120);
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.app.close();
}, 30_000);

describe('recording rules in the UI', () => {
  it('"Track this function" makes a rule from the node, the selector and the profile type', async () => {
    const range = `from=${(nowSec - 3600) * 1000}&until=${(nowSec + 60) * 1000}`;
    const query = encodeURIComponent('{region="eu-north"}');
    await page.goto(`${server.url}/?service=${APP}&profileType=${CPU}&${range}&query=${query}`);
    const canvas = page.locator('[data-testid="flame-main"] canvas');
    await page.waitForSelector('[data-testid="flame-main"] canvas[data-paints]', { timeout: 30_000 });
    const box = (await canvas.boundingBox())!;
    // Rows of 20 CSS px: total, main, then find_nearest_vehicle (91% of the width).
    await page.mouse.click(box.x + box.width / 2, box.y + 2 * 20 + 10, { button: 'right' });
    await expect.poll(() => canvas.getAttribute('data-selected')).toBe('find_nearest_vehicle');
    await page.getByRole('menuitem', { name: 'Track this function (recording rule)' }).click();
    const dialog = page.getByTestId('track-dialog');
    expect(await dialog.getByLabel('Metric name').inputValue()).toBe(METRIC);
    await dialog.getByLabel('Group by').fill('region');
    await screenshot(page, 'rules-01-track');
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await expect.poll(() => page.getByTestId('track-created').textContent()).toContain(METRIC);

    const [rule] = await rules();
    expect(rule).toMatchObject({
      metricName: METRIC,
      profileType: CPU,
      matchers: [`{service_name="${APP}",region="eu-north"}`, `{__profile_type__="${CPU}"}`],
      groupBy: ['region'],
      stacktraceFilter: { functionName: { functionName: 'find_nearest_vehicle' } },
    });
    // Profiles arriving from now on are counted: the function's total, its recursion once.
    await ingestFolded(server.url, `${APP}{region=eu-north}`, FOLDED, nowSec - 60);
    await ingestFolded(server.url, `${APP}{region=us-east}`, FOLDED, nowSec - 60);
    expect(await metricLines()).toEqual([`${METRIC}{profiles_rule_id="${rule!.id}",region="eu-north"} 500`]);
  });

  it('the Rules view lists the rule and deletes it', async () => {
    await page.getByRole('button', { name: 'See all rules' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/rules');
    const rows = page.locator('.rules-table tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('find_nearest_vehicle');
    await screenshot(page, 'rules-02-list');
    await page.getByRole('button', { name: `Delete rule ${METRIC}` }).click();
    await expect.poll(() => page.locator('.rules .empty').textContent()).toContain('No recording rules');
    expect(await rules()).toEqual([]);
    expect(await metricLines()).toEqual([]);
  });
});
