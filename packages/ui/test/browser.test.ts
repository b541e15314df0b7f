// Browser tests: the built UI served by a real `hotpath server`, filled with known profiles through
// /ingest, driven in Debian Chromium. Screenshots of each view go to test-output/screenshots/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { importPprof, totalValue } from '@hotpath/core';
import { ingestFolded, launchBrowser, screenshot, startServer, type RunningServer } from './harness.ts';
import {
  decodeFlamebearer,
  decodeFlamebearerDiff,
  findNodeByPath,
  type FlameTree,
} from '../src/flame/tree.ts';
import { layoutFlame } from '../src/flame/layout.ts';
import { diffTrees } from '../src/flame/transforms.ts';
import { treeFromFolded } from '../src/flame/tree.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const APP = 'ride-sharing-app';
const U = 10_000_000; // one 10 ms CPU sample in nanoseconds
const uiDir = new URL('../', import.meta.url).pathname;

// Per region and profile: car 300, bike 100, scooter 200, gc 50 samples. In the recent window
// eu-north also spends 600 samples in order_car;check_driver_availability;mutex_lock (the regression).
function folded(region: string, recent: boolean): string {
  const lines = [
    `main;server.handle;order_car;find_nearest_vehicle ${300 * U}`,
    `main;server.handle;order_bike;find_nearest_vehicle ${100 * U}`,
    `main;server.handle;order_scooter;find_nearest_vehicle ${200 * U}`,
    `main;gc ${50 * U}`,
  ];
  if (recent && region === 'eu-north')
    lines.push(`main;server.handle;order_car;check_driver_availability;mutex_lock ${600 * U}`);
  return lines.join('\n');
}

let server: RunningServer;
let browser: Browser;
let page: Page;
let nowSec: number;
let tmp: string;
// Absolute ranges (ms) so every query sees the same data.
let hour: { from: string; until: string };
let before: { from: string; until: string };
let after: { from: string; until: string };

async function open(path: string): Promise<void> {
  await page.goto(server.url + path);
}

async function painted(label = 'main'): Promise<void> {
  await page.waitForSelector(`[data-testid="flame-${label}"] canvas[data-paints]`, { timeout: 30_000 });
}

async function renderTree(query: string, r: { from: string; until: string }): Promise<FlameTree> {
  const q = new URLSearchParams({
    query: `${CPU}{service_name="${APP}"${query}}`,
    from: r.from,
    until: r.until,
    'max-nodes': '8192',
  });
  const j = (await (await fetch(`${server.url}/pyroscope/render?${q}`)).json()) as {
    flamebearer: Parameters<typeof decodeFlamebearer>[0];
  };
  return decodeFlamebearer(j.flamebearer);
}

/** RGB of the canvas pixel at page coordinates (x, y - 6) in panel `label`. */
async function pixel(label: string, at: { x: number; y: number }): Promise<number[]> {
  const canvas = page.locator(`[data-testid="flame-${label}"] canvas`);
  const box = (await canvas.boundingBox())!;
  return canvas.evaluate(
    (el, p) => {
      const c = el as HTMLCanvasElement;
      const dpr = c.width / c.clientWidth;
      return Array.from(
        c.getContext('2d')!.getImageData(Math.round(p.x * dpr), Math.round(p.y * dpr), 1, 1).data,
      );
    },
    { x: at.x - box.x, y: at.y - 6 - box.y },
  );
}

/** Page coordinates of the centre of the node at `path` in the canvas of panel `label`, from our own layout. */
async function nodeCenter(
  tree: FlameTree,
  path: string[],
  label = 'main',
): Promise<{ x: number; y: number }> {
  const box = (await page.locator(`[data-testid="flame-${label}"] canvas`).boundingBox())!;
  const node = findNodeByPath(tree, path);
  expect(node, `node ${path.join(';')}`).toBeGreaterThan(0);
  const rects = layoutFlame(
    tree,
    {
      startTicks: 0,
      endTicks: tree.numTicks,
      cssPxWidth: Math.round(box.width),
      cssPxRowHeight: 20,
      inverted: false,
    },
    0,
  );
  for (let k = 0; k < rects.length; k++) {
    if (rects.node[k] === node)
      return { x: box.x + rects.cssPxX[k]! + rects.cssPxW[k]! / 2, y: box.y + rects.cssPxY[k]! + 10 };
  }
  throw new Error(`node ${path.join(';')} not laid out`);
}

beforeAll(async () => {
  if (!existsSync(join(uiDir, 'dist/index.html'))) {
    const r = spawnSync('npx', ['vite', 'build'], { cwd: uiDir, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('vite build failed');
  }
  tmp = mkdtempSync(join(tmpdir(), 'hotpath-ui-files-'));
  server = await startServer();
  browser = await launchBrowser();
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  page = await ctx.newPage();
  nowSec = Math.floor(Date.now() / 1000);
  hour = { from: String((nowSec - 3600) * 1000), until: String((nowSec + 60) * 1000) };
  before = { from: String((nowSec - 3000) * 1000), until: String((nowSec - 1800) * 1000) };
  after = { from: String((nowSec - 1200) * 1000), until: String((nowSec + 60) * 1000) };
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 30_000);

describe('Hotpath UI in Chromium against a real server', () => {
  it('explains what to do when there is no data yet', async () => {
    await open('/');
    await expect.poll(() => page.locator('[data-testid="no-data"]').textContent()).toContain('No data yet');
    expect(await page.locator('[data-testid="no-data"]').textContent()).toContain('hotpath.configure');
    await screenshot(page, '00-empty');
    // Fill the server: two profiles per region in the old window, two in the recent one.
    for (const region of ['us-east', 'eu-north', 'ap-south']) {
      for (const ago of [2400, 2100])
        await ingestFolded(server.url, `${APP}{region=${region}}`, folded(region, false), nowSec - ago);
      for (const ago of [600, 300])
        await ingestFolded(server.url, `${APP}{region=${region}}`, folded(region, true), nowSec - ago);
    }
  });

  it('single view: picks the app, shows the expected top frames, hover tooltip', async () => {
    await open(`/?from=${hour.from}&until=${hour.until}`);
    await painted();
    expect(page.url()).toContain(`service=${APP}`);
    expect(await page.getByLabel('Application').inputValue()).toBe(APP);
    expect(await page.getByLabel('Profile type').inputValue()).toBe(CPU);
    // Top table sorted by self: find_nearest_vehicle has all 7200 samples of self time but gc.
    const first = page.locator('[data-testid="top-table"] tbody tr').first();
    expect(await first.locator('td.name').textContent()).toBe('find_nearest_vehicle');
    expect(await first.textContent()).toContain('80.00%'); // 7200 / 9000
    const tree = await renderTree('', hour);
    expect(tree.numTicks).toBe(9000 * U);
    const c = await nodeCenter(tree, ['main', 'server.handle', 'order_car']);
    await page.mouse.move(c.x, c.y);
    const tip = page.getByRole('tooltip');
    await expect.poll(() => tip.textContent()).toContain('order_car');
    expect(await tip.textContent()).toContain('53.33% of root'); // 4800 / 9000
    await screenshot(page, '01-single');
  });

  it('query bar: label autocomplete and filter, time presets, drag on the timeline', async () => {
    await open(`/?from=${hour.from}&until=${hour.until}`);
    await painted();
    const labels = page.getByTestId('labels-main');
    await expect
      .poll(() =>
        labels
          .locator('#names-main option')
          .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
      )
      .toEqual(['pyroscope_spy', 'region']); // spyName=pyspy of the ingest
    await labels.getByLabel('Label name').fill('region');
    await expect
      .poll(() =>
        labels
          .locator('#values-main option')
          .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
      )
      .toEqual(['ap-south', 'eu-north', 'us-east']);
    await labels.getByLabel('Label value').fill('eu-north');
    await labels.getByRole('button', { name: 'Add filter' }).click();
    await expect.poll(() => page.url()).toContain(`query=${encodeURIComponent('{region="eu-north"}')}`);
    await expect.poll(() => page.locator('.breadcrumb .total').textContent()).toContain('38 s'); // eu-north only
    await screenshot(page, '01b-filtered');
    await labels.getByRole('button', { name: 'Remove region' }).click();
    await expect.poll(() => page.locator('.breadcrumb .total').textContent()).toContain('1.5 min');
    // Drag across the middle of the timeline: the range becomes absolute and narrower.
    const plot = (await page.locator('[data-testid="timeline"] .u-over').boundingBox())!;
    await page.mouse.move(plot.x + plot.width * 0.3, plot.y + plot.height / 2);
    await page.mouse.down();
    await page.mouse.move(plot.x + plot.width * 0.5, plot.y + plot.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => new URL(page.url()).searchParams.get('from')).not.toBe(hour.from);
    const from = Number(new URL(page.url()).searchParams.get('from'));
    const until = Number(new URL(page.url()).searchParams.get('until'));
    expect(from).toBeGreaterThan(Number(hour.from));
    expect(until).toBeLessThan(Number(hour.until));
    expect(until - from).toBeGreaterThan(0.1 * 3660_000);
    expect(until - from).toBeLessThan(0.3 * 3660_000);
    await page.getByTestId('time-main').getByLabel('Time range').selectOption('now-5m');
    await expect.poll(() => new URL(page.url()).searchParams.get('from')).toBe('now-5m');
    await page.goBack();
    await expect.poll(() => new URL(page.url()).searchParams.get('from')).toBe(String(from));
    // A range of seconds holds one timeline bucket: the axis still spans the range (it used to
    // stretch over years around the lone point), so a drag selects seconds within it.
    const short = { from: (nowSec - 310) * 1000, until: (nowSec - 290) * 1000 };
    await open(`/?from=${short.from}&until=${short.until}`);
    await painted();
    const box = (await page.locator('[data-testid="timeline"] .u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => new URL(page.url()).searchParams.get('from')).not.toBe(String(short.from));
    const picked = new URL(page.url()).searchParams;
    expect(Math.abs(Number(picked.get('from')) - (short.from + 5_000))).toBeLessThan(1_000);
    expect(Math.abs(Number(picked.get('until')) - (short.from + 15_000))).toBeLessThan(1_000);
    await page.goBack();
    await expect.poll(() => new URL(page.url()).searchParams.get('from')).toBe(String(short.from));
  });

  it('search highlights matches and gives their share', async () => {
    await open(`/?from=${hour.from}&until=${hour.until}`);
    await painted();
    await page.getByLabel('Search').fill('order_car');
    await expect
      .poll(() => page.getByTestId('search-summary').textContent())
      .toBe('1 matches, 53.33% of total');
    expect(page.url()).toContain('search=order_car');
    await page.getByLabel('Search').fill('/^order_(bike|scooter)$/');
    await expect
      .poll(() => page.getByTestId('search-summary').textContent())
      .toBe('2 matches, 40.00% of total');
    await screenshot(page, '02-search');
    await page.getByLabel('Search').fill('');
  });

  it('click focuses a node with a breadcrumb; keyboard and reset', async () => {
    const tree = await renderTree('', hour);
    const c = await nodeCenter(tree, ['main', 'server.handle', 'order_car']);
    await page.mouse.click(c.x, c.y);
    await expect.poll(() => page.url()).toContain('focus=main%3Bserver.handle%3Border_car');
    const canvas = page.locator('[data-testid="flame-main"] canvas');
    expect(await canvas.getAttribute('data-focus')).toBe('order_car');
    expect(await page.locator('.breadcrumb').textContent()).toContain(
      'all › main › server.handle › order_car',
    );
    // The focused node now spans the width: hover its widest child and read its share of the focus.
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.9, box.y + 3 * 20 + 30);
    await expect.poll(() => page.getByRole('tooltip').textContent()).toContain('find_nearest_vehicle');
    expect(await page.getByRole('tooltip').textContent()).toContain('Of focus75.00%'); // 3600 / 4800
    await screenshot(page, '03-focus');
    await page.getByRole('button', { name: 'Reset focus' }).click();
    await expect.poll(() => canvas.getAttribute('data-focus')).toBe('total');
    await canvas.focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => canvas.getAttribute('data-selected')).toBe('server.handle');
    await page.keyboard.press('Enter');
    await expect.poll(() => canvas.getAttribute('data-focus')).toBe('server.handle');
    await page.keyboard.press('Escape');
    await expect.poll(() => canvas.getAttribute('data-focus')).toBe('total');
  });

  it('context menu opens the sandwich view of a function', async () => {
    const tree = await renderTree('', hour);
    const c = await nodeCenter(tree, ['main', 'server.handle', 'order_car', 'find_nearest_vehicle']);
    await page.mouse.click(c.x, c.y, { button: 'right' });
    await page.getByRole('menuitem', { name: 'Open in sandwich view' }).click();
    await expect.poll(() => page.url()).toContain('sandwich=find_nearest_vehicle');
    await painted('main-callers');
    await painted('main-callees');
    // Callers, four rows: find_nearest_vehicle ← order_bike, order_car, order_scooter ← server.handle ← main.
    expect(await page.locator('[data-testid="flame-main-callers"] canvas').getAttribute('data-rows')).toBe(
      '4',
    );
    await screenshot(page, '04-sandwich');
  });

  it('tag explorer shows each value with its share and its flame graph on click', async () => {
    await open(`/explore?from=${hour.from}&until=${hour.until}&groupBy=region`);
    const rows = page.locator('[data-testid="explore-table"] tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    const text = await rows.allTextContents();
    expect(text[0]).toContain('eu-north');
    expect(text[0]).toContain('42.22%'); // 3800 / 9000
    expect(text.find((t) => t.includes('us-east'))).toContain('28.89%'); // 2600 / 9000
    expect(text.find((t) => t.includes('ap-south'))).toContain('28.89%');
    await rows.filter({ hasText: 'eu-north' }).click();
    await expect.poll(() => page.locator('.panel-title').textContent()).toBe('region=eu-north');
    expect(page.url()).toContain('groupValue=eu-north');
    await painted();
    await expect.poll(() => page.locator('.breadcrumb .total').textContent()).toContain('38 s'); // 3800 samples × 10 ms
    await screenshot(page, '05-explore');
    // Shortcut: the selected value against all the others as a diff.
    await page.getByRole('button', { name: 'Diff against the other values' }).click();
    await expect.poll(() => page.url()).toContain('/comparison-diff?');
    expect(new URL(page.url()).searchParams.get('query')).toBe('{region!="eu-north"}');
    expect(new URL(page.url()).searchParams.get('rightQuery')).toBe('{region="eu-north"}');
    await painted('diff');
    await expect
      .poll(() => page.locator('[data-testid="panel-diff"] .breadcrumb .total').textContent())
      .toContain('baseline 52 s, comparison 38 s');
  });

  it('comparison shows two ranges side by side with synced search', async () => {
    await open(
      `/comparison?from=${before.from}&until=${before.until}&rightFrom=${after.from}&rightUntil=${after.until}`,
    );
    await painted('left');
    await painted('right');
    expect(await page.locator('[data-testid="panel-left"] .breadcrumb .total').textContent()).toContain(
      '39 s',
    );
    expect(await page.locator('[data-testid="panel-right"] .breadcrumb .total').textContent()).toContain(
      '51 s',
    );
    await page.locator('[data-testid="panel-left"]').getByLabel('Search').fill('mutex');
    await expect
      .poll(() => page.locator('[data-testid="panel-right"]').getByLabel('Search').inputValue())
      .toBe('mutex');
    await expect
      .poll(() => page.locator('[data-testid="panel-right"] [data-testid="search-summary"]').textContent())
      .toContain('23.53% of total'); // 2 × 600 / 5100
    await screenshot(page, '06-comparison');
  });

  it('diff paints the known regression red and explains it in the tooltip', async () => {
    await open(
      `/comparison-diff?from=${before.from}&until=${before.until}&rightFrom=${after.from}&rightUntil=${after.until}`,
    );
    await painted('diff');
    const q = (r: { from: string; until: string }) => `${CPU}{service_name="${APP}"}`;
    const params = new URLSearchParams({
      leftQuery: q(before),
      leftFrom: before.from,
      leftUntil: before.until,
      rightQuery: q(after),
      rightFrom: after.from,
      rightUntil: after.until,
    });
    const j = (await (await fetch(`${server.url}/pyroscope/render-diff?${params}`)).json()) as {
      flamebearer: Parameters<typeof decodeFlamebearer>[0];
      leftTicks: number;
      rightTicks: number;
    };
    const tree = decodeFlamebearerDiff(j.flamebearer, j.leftTicks, j.rightTicks);
    const path = ['main', 'server.handle', 'order_car', 'check_driver_availability', 'mutex_lock'];
    const c = await nodeCenter(tree, path, 'diff');
    const [r, g, b] = await pixel('diff', c);
    expect(r).toBeGreaterThan(200);
    expect(g!).toBeLessThan(100);
    expect(b!).toBeLessThan(100);
    await page.mouse.move(c.x, c.y);
    await expect.poll(() => page.getByRole('tooltip').textContent()).toContain('mutex_lock');
    expect(await page.getByRole('tooltip').textContent()).toContain('Change: new');
    expect(await page.getByTestId('diff-legend').textContent()).toContain('red: more time in the comparison');
    await screenshot(page, '07-diff');
    await page.getByLabel('Diff mode').selectOption('absolute');
    await expect.poll(() => page.url()).toContain('diffMode=absolute');
    await screenshot(page, '08-diff-absolute');
  });

  it('keeps all state in the URL: reload and back/forward', async () => {
    await open(`/?from=${hour.from}&until=${hour.until}`);
    await painted();
    await page.getByLabel('Search').fill('gc');
    await page.getByRole('button', { name: 'Toggle theme' }).click();
    await page.getByRole('radio', { name: 'Flame graph' }).click();
    await expect.poll(() => page.url()).toContain('display=flame');
    const url = page.url();
    expect(url).toContain('theme=dark');
    expect(url).toContain('search=gc');
    await page.reload();
    await painted();
    expect(await page.getByLabel('Search').inputValue()).toBe('gc');
    expect(await page.evaluate(() => document.documentElement.dataset['theme'])).toBe('dark');
    expect(await page.getByTestId('top-table').count()).toBe(0);
    await screenshot(page, '09-dark-flame-only');
    await page.goBack();
    await expect.poll(() => page.url()).not.toContain('display=flame');
    await expect.poll(() => page.getByTestId('top-table').count()).toBe(1);
    await page.goForward();
    await expect.poll(() => page.getByTestId('top-table').count()).toBe(0);
  });

  it('shows server errors as text', async () => {
    await open(`/?from=${hour.from}&until=${hour.until}&query=${encodeURIComponent('{region=~"("}')}`);
    await expect
      .poll(() => page.getByRole('alert').first().textContent())
      .toContain('invalid regular expression');
    await screenshot(page, '10-error');
  });

  it('exports the whole selection as pprof, not the flame graph cut to its node budget', async () => {
    // Four nodes on screen: the rest of the tree is folded into "other" there, but not in the export.
    await open(`/?from=${hour.from}&until=${hour.until}&maxNodes=4`);
    await painted();
    const onScreen = await page.locator('[data-testid="top-table"] td.name').allTextContents();
    expect(onScreen).toContain('other');
    expect(onScreen).not.toContain('mutex_lock');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByLabel('Export').selectOption('pprof'),
    ]);
    expect(download.suggestedFilename()).toMatch(/^flamegraph_.*\.pb\.gz$/);
    const file = join(tmp, 'export.pb.gz');
    await download.saveAs(file);
    const bytes = new Uint8Array(readFileSync(file));
    expect(bytes[0]).toBe(0x1f);
    const [profile] = importPprof(bytes).profiles;
    expect(profile!.type.id).toBe(CPU);
    expect(totalValue(profile!)).toBe(9000 * U);
    const names = new Set(profile!.frames.name);
    for (const n of ['mutex_lock', 'order_bike', 'order_scooter', 'check_driver_availability', 'gc'])
      expect(names, n).toContain(n);
    expect(names).not.toContain('other');
  });

  it('views an uploaded folded file (kept as an ad hoc profile, never as series), and diffs it against another file', async () => {
    const a = join(tmp, 'before.folded');
    const b = join(tmp, 'after.folded');
    writeFileSync(a, 'main;parse 30\nmain;render 70\n');
    writeFileSync(b, 'main;parse 30\nmain;render 20\nmain;upload_only_fn 50\n');
    await open('/adhoc');
    await page.locator('[data-testid="drop-main"] input').setInputFiles(b);
    await painted('adhoc');
    const names = await page.locator('[data-testid="top-table"] td.name').allTextContents();
    expect(names).toContain('upload_only_fn');
    await screenshot(page, '11-upload');
    await page.locator('[data-testid="drop-other"] input').setInputFiles(a);
    await expect
      .poll(() => page.locator('.panel-title').textContent())
      .toBe('Diff: baseline → uploaded profile');
    await expect.poll(() => page.getByTestId('diff-legend').count()).toBe(1);
    // The new function is painted red where our own layout of the same diff puts it.
    const expected = diffTrees(
      treeFromFolded(readFileSync(a, 'utf8')),
      treeFromFolded(readFileSync(b, 'utf8')),
    );
    const at = await nodeCenter(expected, ['main', 'upload_only_fn'], 'adhoc');
    const [r, g] = await pixel('adhoc', at);
    expect(r).toBeGreaterThan(200);
    expect(g!).toBeLessThan(100);
    await screenshot(page, '12-upload-diff');
    // Compare the uploaded profile against stored data of the selected application and range.
    await page.goto(`${server.url}/adhoc?from=${hour.from}&until=${hour.until}`);
    await page.locator('[data-testid="drop-main"] input').setInputFiles(b);
    await painted('adhoc');
    await expect
      .poll(() => page.getByLabel('Compare with').locator('option[value="stored"]').isDisabled())
      .toBe(false);
    await page.getByLabel('Compare with').selectOption('stored');
    await expect
      .poll(() => page.locator('.panel-title').textContent())
      .toBe('Diff: baseline → uploaded profile');
    expect(await page.locator('.breadcrumb .total').textContent()).toContain('baseline 1.5 min');
    expect(await page.locator('[data-testid="top-table"] td.name').allTextContents()).toContain(
      'find_nearest_vehicle',
    );
    // No series were made: the server still lists only the ride-sharing app.
    const series = await fetch(`${server.url}/querier.v1.QuerierService/LabelValues`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: 'service_name',
        matchers: ['{}'],
        start: (nowSec - 3600) * 1000,
        end: (nowSec + 60) * 1000,
      }),
    });
    expect(((await series.json()) as { names: string[] }).names).toEqual([APP]);
  });
});
