// The "What changed?" panel in Debian Chromium: ten minutes of rideshare-like load on a real server
// (eu-north slow in even minutes), the panel asked from the single view and the tag explorer and laid
// out as a card of ranked rows in both, its first finding's diff link followed to the diff view on a
// fast and a slow eu-north step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  NS_PER_SAMPLE,
  RIDESHARE_APP,
  rideshareWindows,
  type RideshareWindow,
} from '../../core/src/testing/rideshare.ts';
import {
  ensureUiBuilt,
  ingestFolded,
  launchBrowser,
  screenshot,
  startServer,
  type RunningServer,
} from './harness.ts';

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const MIN = 60_000;
/** An even minute (eu-north starts slow) about fifteen minutes ago. */
const T0 = Math.floor((Date.now() - 15 * MIN) / (2 * MIN)) * 2 * MIN;

let server: RunningServer;
let browser: Browser;
let page: Page;

/**
 * The panel is laid out as a card of ranked rows, not unstyled text: a bordered box above the flame
 * graph and as wide as it, each finding a three-column row (rank | what and shares | links) with the
 * links on the right, the list without bullets.
 */
async function expectStyledPanel(): Promise<void> {
  const layout = await page.evaluate(() => {
    const q = (sel: string) => document.querySelector(sel)!;
    const box = (el: Element) => el.getBoundingClientRect();
    const panel = q('[data-testid="changes-panel"]');
    const row = q('[data-testid="changes-finding"]');
    const main = row.querySelector('.changes-main')!;
    const links = row.querySelector('.changes-links')!;
    const shares = row.querySelector('[data-testid="changes-shares"]')!;
    const flame = q('.flame-panel');
    return {
      border: getComputedStyle(panel).borderTopWidth,
      rowDisplay: getComputedStyle(row).display,
      bullets: getComputedStyle(row.parentElement!).listStyleType,
      panel: box(panel).toJSON() as DOMRect,
      flame: box(flame).toJSON() as DOMRect,
      main: box(main).toJSON() as DOMRect,
      links: box(links).toJSON() as DOMRect,
      shares: shares.textContent ?? '',
      rankWeight: getComputedStyle(row.querySelector('.changes-rank')!).fontWeight,
    };
  });
  expect(layout.border).toBe('1px');
  expect(layout.rowDisplay).toBe('grid');
  expect(layout.bullets).toBe('none');
  expect(layout.rankWeight).toBe('700');
  // Above the flame graph, as wide as it; links to the right of the finding, on its first line.
  expect(layout.panel.bottom).toBeLessThanOrEqual(layout.flame.top);
  expect(Math.abs(layout.panel.width - layout.flame.width)).toBeLessThan(4);
  expect(layout.links.left).toBeGreaterThanOrEqual(layout.main.right);
  expect(layout.links.top).toBeLessThan(layout.main.top + 20);
  // Shares before → after with the sample counts behind them.
  expect(layout.shares).toMatch(/%.*→.*%.*\d+ samples/);
}

/** Opens a view on the ten minutes, asks the panel, and returns its first finding once shown. */
async function askWhatChanged(path: string, extra: Record<string, string> = {}) {
  const q = new URLSearchParams({
    service: RIDESHARE_APP,
    profileType: CPU,
    from: String(T0),
    until: String(T0 + 10 * MIN - 1),
    ...extra,
  });
  await page.goto(`${server.url}${path}?${q}`);
  await page.waitForSelector('[data-testid="flame-main"] canvas[data-paints]', { timeout: 60_000 });
  await page.click('[data-testid="changes-run"]');
  const first = page.locator('[data-testid="changes-finding"]').first();
  await first.waitFor({ timeout: 60_000 });
  return first;
}

const folded = (w: RideshareWindow) =>
  w.stacks.map((s) => `${s.frames.join(';')} ${s.samples * NS_PER_SAMPLE}`).join('\n');

beforeAll(async () => {
  ensureUiBuilt('changes-shares');
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
    const first = await askWhatChanged('/');
    const text = await first.innerText();
    expect(text).toContain('region=eu-north');
    expect(text).toContain('mutex_lock');
    // Nothing was recorded before T0: the previous ten minutes are no baseline, and the panel says so.
    await page.getByTestId('changes-baseline-empty').waitFor();
    await expectStyledPanel();
    expect(await first.getByTestId('changes-shares').innerText()).toContain('region=eu-north');
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

  it('sits beside the flame graph in the tag explorer too, styled the same', async () => {
    const first = await askWhatChanged('/explore', { groupBy: 'region' });
    expect(await first.innerText()).toContain('region=eu-north');
    await expectStyledPanel();
    await screenshot(page, 'changes-explore');
  }, 120_000);
});
