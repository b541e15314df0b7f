// Span profiles in the browser: pprof bytes whose samples carry span_id / span_name / trace_id labels
// (as the Python SDK and pyroscope's otel integrations write them) go into an in-process server
// through /ingest; a trace viewer's link (`spanSelector` in the single view's URL), the Spans list, the
// id box and the timeline's exemplar markers each open exactly one request's flame graph, in Debian
// Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ProfileBuilder, encodePprofGzip, makeProfileType } from '@hotpath/core';
import { startServer, type RunningServer } from '@hotpath/server';
import { ensureUiBuilt, launchBrowser, screenshot } from './harness.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const APP = 'ride-sharing-app';
const MS = 1_000_000; // ns

const CAR = { id: 'a1b2c3d4e5f60718', name: 'GET /car', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' };
const BIKE = { id: '00000000000000b1', name: 'GET /bike' };

// Two requests and work outside any request, in one profile of eu-north. Each line: sample labels,
// root-first stack, CPU ms.
const SAMPLES: [Record<string, string>, string, number][] = [
  [
    { span_id: CAR.id, span_name: CAR.name, trace_id: CAR.traceId },
    'handle;order_car;find_nearest_vehicle',
    300,
  ],
  [
    { span_id: CAR.id, span_name: CAR.name, trace_id: CAR.traceId },
    'handle;order_car;check_driver_availability;mutex_lock',
    900,
  ],
  [{ span_id: BIKE.id, span_name: BIKE.name }, 'handle;order_bike;find_nearest_vehicle', 200],
  [{}, 'main;gc', 50],
];

let server: RunningServer;
let browser: Browser;
let page: Page;
let range: string;

/** Real pprof bytes with sample labels, POSTed to /ingest as any pprof client does. */
async function ingestSpans(atSec: number): Promise<void> {
  const type = makeProfileType('process_cpu', 'cpu', 'nanoseconds', 'cpu', 'nanoseconds');
  const b = new ProfileBuilder([type], { timeNs: atSec * 1e9, durationNs: 10e9, period: 10 * MS });
  for (const [labels, stack, ms] of SAMPLES) {
    const frames = stack.split(';').map((f) => b.frame(f));
    const set = b.labelSet(Object.entries(labels).map(([name, value]) => ({ name, value })));
    b.sample(b.stackOf(frames), [ms * MS], set);
  }
  const q = new URLSearchParams({
    name: `${APP}{region=eu-north}`,
    from: String(atSec),
    until: String(atSec + 10),
    format: 'pprof',
  });
  const res = await fetch(`${server.url}/ingest?${q}`, {
    method: 'POST',
    body: encodePprofGzip(b.build()) as RequestInit['body'],
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  if (res.status !== 200) throw new Error(`ingest failed: ${res.status} ${await res.text()}`);
}

/** The function names of the top table of the flame graph on screen, sorted. */
async function functionsShown(): Promise<string[]> {
  await page.waitForSelector('[data-testid="top-table"] tbody tr', { timeout: 30_000 });
  const names = await page.locator('[data-testid="top-table"] td.name').allTextContents();
  return names.sort();
}

const carFunctions = [
  'check_driver_availability',
  'find_nearest_vehicle',
  'handle',
  'mutex_lock',
  'order_car',
];
const bikeFunctions = ['find_nearest_vehicle', 'handle', 'order_bike'];

beforeAll(async () => {
  ensureUiBuilt('timeline-marker');
  server = await startServer({ port: 0, host: '127.0.0.1', store: 'memory', logger: false });
  const nowSec = Math.floor(Date.now() / 1000);
  await ingestSpans(nowSec - 120);
  range = `from=${(nowSec - 3600) * 1000}&until=${(nowSec + 60) * 1000}`;
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
}, 30_000);

describe('span profiles in the UI', () => {
  it("a trace viewer's link (spanSelector in the single view's URL) opens that span's flame graph in the single view", async () => {
    await page.goto(`${server.url}/?service=${APP}&profileType=${CPU}&${range}&spanSelector=${CAR.id}`);
    expect(await functionsShown()).toEqual(carFunctions); // nothing of the bike's request, nor gc
    await expect.poll(() => page.locator('.breadcrumb .total').textContent()).toContain('1.2 s');
    // The tab, the path and the chip all say: the single view, narrowed to this span.
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.locator('.tabs a[aria-current="page"]').textContent()).toBe('Single view');
    await expect.poll(() => page.getByTestId('span-chip').textContent()).toContain(CAR.id);
    await screenshot(page, 'spans-01-link');
  });

  it("the span chip's × goes back to the whole selection's flame graph", async () => {
    await page.goto(`${server.url}/?service=${APP}&profileType=${CPU}&${range}&spanSelector=${CAR.id}`);
    expect(await functionsShown()).toEqual(carFunctions);
    await page.getByTestId('span-chip').getByRole('button').click();
    await expect.poll(() => new URL(page.url()).searchParams.get('spanSelector')).toBeNull();
    await expect.poll(() => page.getByTestId('span-chip').count()).toBe(0);
    await expect
      .poll(() => functionsShown())
      .toEqual([...new Set([...carFunctions, ...bikeFunctions, 'gc', 'main'])].sort());
  });

  it("a link naming a span on another view's path lands on the single view", async () => {
    await page.goto(
      `${server.url}/explore?service=${APP}&profileType=${CPU}&${range}&spanSelector=${BIKE.id}`,
    );
    await expect.poll(() => new URL(page.url()).pathname).toBe('/');
    expect(await functionsShown()).toEqual(bikeFunctions);
    expect(await page.locator('.tabs a[aria-current="page"]').textContent()).toBe('Single view');
  });

  it("the timeline marks each step's largest span; a click opens its flame graph", async () => {
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/SelectSeries')) asked.push(r.postData() ?? '');
    });
    await page.goto(`${server.url}/?service=${APP}&profileType=${CPU}&${range}`);
    const marker = page.getByTestId(`marker-${CAR.id}`); // the car's request: the step's largest span
    await marker.waitFor({ timeout: 30_000 });
    expect(await marker.getAttribute('title')).toContain(CAR.name);
    expect(await page.locator('.timeline-marker').count()).toBe(1);
    // Drawn inside the timeline, on its line.
    const inside = await page.evaluate((id) => {
      const m = document.querySelector(`[data-testid="marker-${id}"]`)!.getBoundingClientRect();
      const t = document.querySelector('[data-testid="timeline"]')!.getBoundingClientRect();
      const x = m.left + m.width / 2;
      const y = m.top + m.height / 2;
      return x > t.left && x < t.right && y > t.top && y < t.bottom;
    }, CAR.id);
    expect(inside).toBe(true);
    // Cheap: one SelectSeries asking for span exemplars.
    expect(asked).toHaveLength(1);
    expect(JSON.parse(asked[0]!).exemplarType).toBe('EXEMPLAR_TYPE_SPAN');
    await screenshot(page, 'spans-04-exemplars');
    await marker.click();
    await expect.poll(() => new URL(page.url()).searchParams.get('spanSelector')).toBe(CAR.id);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await functionsShown()).toEqual(carFunctions);
    await expect.poll(() => page.getByTestId('span-chip').textContent()).toContain(CAR.id);
    await expect.poll(() => page.getByTestId(`marker-${CAR.id}`).getAttribute('class')).toContain('on');
    await screenshot(page, 'spans-05-exemplar-opened');
  });

  it('the Spans view lists the slowest spans first; a click opens one', async () => {
    await page.goto(`${server.url}/spans?service=${APP}&profileType=${CPU}&${range}`);
    const rows = page.locator('[data-testid="spans-table"] tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).textContent()).toContain(CAR.name);
    expect(await rows.nth(0).textContent()).toContain('1.2 s');
    expect(await rows.nth(1).textContent()).toContain(BIKE.name);
    await screenshot(page, 'spans-02-list');
    await rows.nth(1).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('spanSelector')).toBe(BIKE.id);
    expect(await functionsShown()).toEqual(bikeFunctions);
    await page.getByRole('button', { name: 'All spans' }).click();
    await expect.poll(() => rows.count()).toBe(2);
  });

  it('a pasted span id or trace id opens its flame graph; anything else is refused', async () => {
    await page.goto(`${server.url}/spans?service=${APP}&profileType=${CPU}&${range}`);
    const box = page.getByLabel('Span or trace id');
    await box.fill('not an id');
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('16 hex digits');
    await box.fill(BIKE.id.toUpperCase());
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('spanSelector')).toBe(BIKE.id);
    expect(await functionsShown()).toEqual(bikeFunctions);
    await box.fill(CAR.traceId);
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('spanSelector')).toBe(CAR.traceId);
    await expect.poll(() => page.getByTestId('span-heading').textContent()).toContain('Trace');
    await expect.poll(() => functionsShown()).toEqual(carFunctions);
    await screenshot(page, 'spans-03-trace');
  });
});
