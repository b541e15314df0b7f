// Browser tests of the views an investigation walks through: a drag on a timeline selects a range and
// keeps the wider range in view, comparison and diff select both sides on one shared timeline, y axes
// read in one unit, and a tag explorer value filters the flame graph. They assert on the queries the
// UI sends to a real `hotpath server`, as well as on what it shows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ingestFolded, launchBrowser, screenshot, startServer, type RunningServer } from './harness.ts';

const APP = 'ride-sharing-app';
const U = 10_000_000; // one 10 ms CPU sample in nanoseconds
const uiDir = new URL('../', import.meta.url).pathname;
const EU = '{region="eu-north"}';

// Twelve 10 s profiles per region, 100 s apart over the last 20 minutes. eu-north is slow in the
// even ones (mutex_lock, 5 s more CPU), like the demo's even minutes.
function folded(region: string, slow: boolean): string {
  const lines = [`main;order_car;find_nearest_vehicle ${300 * U}`, `main;order_bike ${100 * U}`];
  if (slow && region === 'eu-north') lines.push(`main;order_car;mutex_lock ${500 * U}`);
  return lines.join('\n');
}

let server: RunningServer;
let browser: Browser;
let page: Page;
let t0: number; // ms of the first profile
let whole: { from: number; until: number }; // the 20-minute range the tests open
/** Every /pyroscope/render(-diff) request the page sent, as parsed URLs. */
const sent: URL[] = [];

/** Render requests for a flame graph (not the 1-node timeline-only ones) whose query contains `sel`. */
function flameRenders(sel = ''): URLSearchParams[] {
  return sent
    .filter((u) => u.pathname === '/pyroscope/render' && u.searchParams.get('max-nodes') !== '1')
    .map((u) => u.searchParams)
    .filter((q) => q.get('query')!.includes(sel));
}

function timelineRenders(): URLSearchParams[] {
  return sent
    .filter((u) => u.pathname === '/pyroscope/render' && u.searchParams.get('max-nodes') === '1')
    .map((u) => u.searchParams);
}

const param = (k: string): string | null => new URL(page.url()).searchParams.get(k);

/** Drags across the plot of `testId` from fraction a to b of its width. */
async function drag(testId: string, a: number, b: number): Promise<void> {
  const box = (await page.locator(`[data-testid="${testId}"] .u-over`).boundingBox())!;
  await page.mouse.move(box.x + box.width * a, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * b, box.y + box.height / 2, { steps: 6 });
  await page.mouse.up();
}

/** A band's left and right edges as fractions of its plot's width. */
async function bandSpan(testId: string, band: string): Promise<[number, number]> {
  const plot = (await page.locator(`[data-testid="${testId}"] .u-over`).boundingBox())!;
  const b = (await page.locator(`[data-testid="${testId}"] [data-testid="band-${band}"]`).boundingBox())!;
  return [(b.x - plot.x) / plot.width, (b.x + b.width - plot.x) / plot.width];
}

async function painted(label: string): Promise<void> {
  await page.waitForSelector(`[data-testid="flame-${label}"] canvas[data-paints]`, { timeout: 30_000 });
}

beforeAll(async () => {
  if (!existsSync(join(uiDir, 'dist/index.html'))) {
    const r = spawnSync('npx', ['vite', 'build'], { cwd: uiDir, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('vite build failed');
  }
  server = await startServer();
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  page.on('request', (r) => {
    if (r.url().includes('/pyroscope/render')) sent.push(new URL(r.url()));
  });
  const nowSec = Math.floor(Date.now() / 1000);
  t0 = (nowSec - 1200) * 1000;
  whole = { from: t0 - 60_000, until: t0 + 1_260_000 };
  for (let k = 0; k < 12; k++)
    for (const region of ['us-east', 'eu-north'])
      await ingestFolded(
        server.url,
        `${APP}{region=${region}}`,
        folded(region, k % 2 === 0),
        t0 / 1000 + k * 100,
      );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
}, 30_000);

describe('timeline selection in Chromium against a real server', () => {
  it('a drag selects a range for the flame graph and keeps the wider range in view; zoom is separate', async () => {
    await page.goto(`${server.url}/?service=${APP}&from=${whole.from}&until=${whole.until}`);
    await painted('main');
    sent.length = 0;
    await drag('timeline', 0.3, 0.5);
    await expect.poll(() => param('timelineFrom')).toBe(String(whole.from));
    expect(param('timelineUntil')).toBe(String(whole.until));
    const span = whole.until - whole.from;
    const from = Number(param('from'));
    const until = Number(param('until'));
    expect(Math.abs(from - (whole.from + 0.3 * span))).toBeLessThan(0.02 * span);
    expect(Math.abs(until - (whole.from + 0.5 * span))).toBeLessThan(0.02 * span);
    // The flame graph asks for the selection; the timeline still for the whole range.
    await expect
      .poll(() => flameRenders().map((q) => [q.get('from'), q.get('until')]))
      .toContainEqual([String(from), String(until)]);
    await expect
      .poll(() => timelineRenders().map((q) => [q.get('from'), q.get('until')]))
      .toContainEqual([String(whole.from), String(whole.until)]);
    // The band sits where the drag was, inside the unchanged axis.
    await expect
      .poll(async () => (await bandSpan('timeline', 'selection')).map((v) => Math.round(v * 10)))
      .toEqual([3, 5]);
    await expect.poll(() => page.getByTestId('selected-selection').count()).toBe(1);
    await screenshot(page, 'selection-01-single');
    // A second drag narrows the selection within the same view.
    await drag('timeline', 0.6, 0.7);
    await expect.poll(() => Number(param('from'))).toBeGreaterThan(until);
    expect(param('timelineFrom')).toBe(String(whole.from));
    // Zoom makes the selection the range in view: the band goes, the axis narrows.
    const selected = [param('from'), param('until')];
    await page.getByRole('button', { name: 'Zoom to selection' }).click();
    await expect.poll(() => param('timelineFrom')).toBe(null);
    expect([param('from'), param('until')]).toEqual(selected);
    await expect.poll(() => page.locator('[data-testid="band-selection"]').count()).toBe(0);
    // Double-click zooms too; "Clear selection" returns to the whole range.
    await drag('timeline', 0.2, 0.4);
    await expect.poll(() => param('timelineFrom')).toBe(selected[0]);
    await page.locator('[data-testid="timeline"] .u-over').dblclick();
    await expect.poll(() => param('timelineFrom')).toBe(null);
    await page.goto(`${server.url}/?service=${APP}&from=${whole.from}&until=${whole.until}`);
    await painted('main');
    await drag('timeline', 0.3, 0.5);
    await expect.poll(() => param('timelineFrom')).toBe(String(whole.from));
    await page.getByRole('button', { name: 'Clear selection' }).click();
    await expect.poll(() => param('from')).toBe(String(whole.from));
    expect(param('timelineFrom')).toBe(null);
  });

  it('comparison and diff: each side selects on one shared timeline as its own coloured band', async () => {
    const base = `service=${APP}&query=${encodeURIComponent(EU)}&rightQuery=${encodeURIComponent(EU)}`;
    await page.goto(
      `${server.url}/comparison?${base}&from=${whole.from}&until=${whole.until}&rightFrom=${whole.from}&rightUntil=${whole.until}`,
    );
    await painted('left');
    await painted('right');
    // One timeline for both sides, no per-side timelines.
    await expect.poll(() => page.locator('[data-testid="timeline-shared"]').count()).toBe(1);
    expect(await page.locator('[data-testid="timeline-left"], [data-testid="timeline-right"]').count()).toBe(
      0,
    );
    sent.length = 0;
    await page.getByRole('radio', { name: 'Baseline' }).check();
    await drag('timeline-shared', 0.1, 0.3);
    await expect.poll(() => param('timelineFrom')).toBe(String(whole.from));
    await page.getByRole('radio', { name: 'Comparison' }).check();
    await drag('timeline-shared', 0.6, 0.8);
    await expect.poll(() => param('rightFrom')).not.toBe(null);
    const left = { from: param('from')!, until: param('until')! };
    const right = { from: param('rightFrom')!, until: param('rightUntil')! };
    const span = whole.until - whole.from;
    expect(Math.abs(Number(left.from) - (whole.from + 0.1 * span))).toBeLessThan(0.02 * span);
    expect(Math.abs(Number(right.until) - (whole.from + 0.8 * span))).toBeLessThan(0.02 * span);
    // Each side's flame graph is queried over its own band; the view stays the whole range.
    await expect
      .poll(() => flameRenders('eu-north').map((q) => [q.get('from'), q.get('until')]))
      .toEqual(
        expect.arrayContaining([
          [left.from, left.until],
          [right.from, right.until],
        ]),
      );
    expect(param('timelineUntil')).toBe(String(whole.until));
    await expect
      .poll(async () => (await bandSpan('timeline-shared', 'left')).map((v) => Math.round(v * 10)))
      .toEqual([1, 3]);
    await expect
      .poll(async () => (await bandSpan('timeline-shared', 'right')).map((v) => Math.round(v * 10)))
      .toEqual([6, 8]);
    const colors = await page
      .locator('[data-testid="timeline-shared"] .timeline-band')
      .evaluateAll((els) => els.map((e) => getComputedStyle(e).borderLeftColor));
    expect(new Set(colors).size).toBe(2);
    // Its end handle drags the comparison's end alone, from 80 % to 90 % of the view.
    const handle = (await page.getByTestId('handle-right-end').boundingBox())!;
    const plot = (await page.locator('[data-testid="timeline-shared"] .u-over').boundingBox())!;
    await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
    await page.mouse.down();
    await page.mouse.move(plot.x + plot.width * 0.9, handle.y + handle.height / 2, { steps: 6 });
    await page.mouse.up();
    await expect.poll(() => param('rightUntil')).not.toBe(right.until);
    expect(Math.abs(Number(param('rightUntil')) - (whole.from + 0.9 * span))).toBeLessThan(0.02 * span);
    expect(param('rightFrom')).toBe(right.from);
    expect([param('from'), param('until')]).toEqual([left.from, left.until]);
    right.until = param('rightUntil')!;
    await screenshot(page, 'selection-02-comparison');
    // The link reproduces both selections in the diff view: its diff query uses exactly them.
    const diffUrl = page.url().replace('/comparison?', '/comparison-diff?');
    sent.length = 0;
    await page.goto(diffUrl);
    await painted('diff');
    const diff = sent.find((u) => u.pathname === '/pyroscope/render-diff')!.searchParams;
    expect([
      diff.get('leftFrom'),
      diff.get('leftUntil'),
      diff.get('rightFrom'),
      diff.get('rightUntil'),
    ]).toEqual([left.from, left.until, right.from, right.until]);
    // The flame graph can paint before the timeline's series arrive: wait for the bands.
    await expect.poll(() => page.locator('[data-testid="timeline-shared"] .timeline-band').count()).toBe(2);
    // A drag in the diff view moves the comparison side and the diff follows.
    await page.getByRole('radio', { name: 'Comparison' }).check();
    await drag('timeline-shared', 0.4, 0.5);
    await expect.poll(() => param('rightFrom')).not.toBe(right.from);
    const moved = param('rightFrom')!;
    await expect
      .poll(() =>
        sent
          .filter((u) => u.pathname === '/pyroscope/render-diff')
          .map((u) => u.searchParams.get('rightFrom')),
      )
      .toContain(moved);
    expect(param('from')).toBe(left.from);
    await screenshot(page, 'selection-03-diff');
  });

  it('labels every y axis tick in one unit, chosen from the axis max', async () => {
    // Per 15 s bucket of eu-north: 4 s (fast) or 9 s (slow) of CPU: ticks 0 s … 8 s, not 0 ns beside 8 s.
    await page.goto(
      `${server.url}/?service=${APP}&query=${encodeURIComponent(EU)}&from=${whole.from}&until=${whole.until}`,
    );
    await painted('main');
    const timeline = page.getByTestId('timeline');
    await expect.poll(() => timeline.getAttribute('data-y-ticks')).toMatch(/ s$/);
    const ticks = (await timeline.getAttribute('data-y-ticks'))!.split('|');
    expect(ticks.length).toBeGreaterThan(1);
    expect(ticks[0]).toBe('0 s');
    for (const t of ticks) expect(t).toMatch(/^[\d.]+ s$/);
  });

  it('tag explorer: clicking a value filters the flame graph to it; a share chart beside the table', async () => {
    await page.goto(
      `${server.url}/explore?service=${APP}&groupBy=region&from=${whole.from}&until=${whole.until}`,
    );
    const slices = page.locator('[data-testid="share-chart"] path');
    await expect.poll(() => slices.count()).toBe(2);
    // eu-north: 12 × 400 + 6 × 500 = 7800 samples of 12600: the larger slice, first, in the first colour.
    expect(await slices.first().getAttribute('data-value')).toBe('eu-north');
    sent.length = 0;
    await page.locator('[data-testid="share-chart"] path[data-value="eu-north"]').click();
    await expect.poll(() => param('groupValue')).toBe('eu-north');
    await expect.poll(() => page.getByTestId('value-filter').textContent()).toContain('region="eu-north"');
    await expect.poll(() => flameRenders('region="eu-north"').length).toBeGreaterThan(0);
    await painted('main');
    await expect.poll(() => page.locator('.breadcrumb .total').textContent()).toContain('1.3 min'); // 78 s
    await screenshot(page, 'selection-04-explore');
    // A row click picks another value; the chip's × removes the filter.
    await page.locator('[data-testid="explore-table"] tr[data-value="us-east"]').click();
    await expect.poll(() => param('groupValue')).toBe('us-east');
    await expect.poll(() => flameRenders('region="us-east"').length).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Remove region value filter' }).click();
    await expect.poll(() => param('groupValue')).toBe(null);
    await expect.poll(() => page.getByTestId('value-filter').count()).toBe(0);
  });
});
