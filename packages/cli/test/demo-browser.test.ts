// The demo scenario in Debian Chromium: `hotpath demo` with 6-second periods, then the flame graph,
// the tag explorer by region and the diff of a fast and a slow eu-north period, each screenshotted
// to test-output/screenshots/demo-*.png.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot as saveScreenshot } from '../../ui/test/harness.ts';
import {
  REPO,
  demoSkipReason,
  regionsSeen,
  servesRides,
  startDemo,
  until,
  type RunningDemo,
} from './demo-run.ts';

const CHROMIUM = '/usr/bin/chromium';
const PERIOD_S = 6;
// Fast periods are read from their third second: a slow-path request begun just before the boundary
// can still be running, and the profiler charges CPU at its next tick, which it spaces out on a busy machine.
const SPILL_MS = 2000;
const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

const skipReason =
  demoSkipReason ??
  (!existsSync(join(REPO, 'packages/ui/dist/index.html'))
    ? 'the UI is not built (packages/ui/dist/index.html missing; run make build)'
    : !existsSync(CHROMIUM)
      ? `no Chromium at ${CHROMIUM} (Debian: apt-get install chromium)`
      : undefined);

describe.skipIf(skipReason !== undefined)(
  `the demo in the browser${skipReason ? ` (skipped: ${skipReason})` : ''}`,
  () => {
    let demo: RunningDemo;
    let browser: Browser;
    let page: Page;
    // One slow and one fast eu-north period, ms since the epoch.
    let slow: { from: number; until: number };
    let fast: { from: number; until: number };
    let whole: { from: number; until: number };

    beforeAll(async () => {
      const startedS = Date.now() / 1000;
      demo = await startDemo(['--rate', '12'], {
        RIDESHARE_PERIOD_S: String(PERIOD_S),
        RIDESHARE_WORK_SCALE: '0.15',
        HOTPATH_UPLOAD_INTERVAL: '1',
        // A request thread that starts and ends between two ticks goes unseen; on a busy machine the
        // 1 % overhead cap spaces ticks out until short requests vanish from the periods compared.
        HOTPATH_MAX_OVERHEAD: '0',
        FRAMEWORK: 'stdlib',
      });
      // The periods compared must have load in them: on a busy machine the load generator and the
      // first uploads can take seconds to arrive after the demo prints its address.
      await until(
        'eu-north to serve rides',
        async () => ((await servesRides(demo.ui, 'eu-north')) ? true : undefined),
        60_000,
      );
      const firstS = Math.ceil((Date.now() / 1000 + 0.5) / PERIOD_S) * PERIOD_S;
      const periods = [firstS, firstS + PERIOD_S].map((s) => ({
        s,
        slow: Math.floor(s / PERIOD_S) % 2 === 0,
      }));
      const slowS = periods.find((p) => p.slow)!.s;
      const fastS = periods.find((p) => !p.slow)!.s;
      slow = { from: slowS * 1000, until: (slowS + PERIOD_S) * 1000 - 1 };
      fast = { from: fastS * 1000 + SPILL_MS, until: (fastS + PERIOD_S) * 1000 - 1 };
      whole = { from: Math.floor(startedS * 1000) - 5000, until: (firstS + 2 * PERIOD_S) * 1000 + 5000 };
      // Both periods over, plus two upload intervals for their last windows to arrive.
      await new Promise((r) => setTimeout(r, Math.max(0, (firstS + 2 * PERIOD_S + 2) * 1000 - Date.now())));
      expect(await regionsSeen(demo.ui)).toEqual(['ap-south', 'eu-north', 'us-east']);
      browser = await launchBrowser();
      page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    }, 210_000);

    afterAll(async () => {
      await browser?.close();
      if (demo) {
        const code = await Promise.race([
          demo.interrupt(),
          new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000)),
        ]);
        demo.kill();
        expect(code).toBe(0);
      }
    }, 60_000);

    async function open(path: string, params: Record<string, string | number>): Promise<void> {
      const query = new URLSearchParams({ service: 'ride-sharing-app', profileType: CPU });
      for (const [k, v] of Object.entries(params)) query.set(k, String(v));
      await page.goto(`${demo.ui}${path.replace(/^\//, '')}?${query}`);
    }

    /** Waits for `text` on the page and a canvas; fails as soon as the UI shows an error. */
    async function shows(name: string, text: string[]): Promise<void> {
      try {
        await until(
          `the page to show ${text.join(', ')} and a canvas`,
          async () => {
            const errors = await page.getByRole('alert').allInnerTexts();
            if (errors.length > 0) throw new Error(`the UI shows an error: ${errors.join(' | ')}`);
            const body = await page.locator('body').innerText();
            return text.every((t) => body.includes(t)) && (await page.locator('canvas').count()) > 0
              ? true
              : undefined;
          },
          30_000,
        );
      } finally {
        await screenshot(name);
      }
    }

    async function screenshot(name: string): Promise<void> {
      await saveScreenshot(page, `demo-${name}`);
    }

    it('flame graph: order_car and the vehicle search under it', async () => {
      await open('/', whole);
      await shows('flamegraph', ['order_car', 'find_nearest_vehicle', 'check_driver_availability']);
    }, 60_000);

    it('tag explorer by region lists the three regions', async () => {
      await open('/explore', { ...whole, groupBy: 'region' });
      await shows('explore-region', ['us-east', 'eu-north', 'ap-south']);
    }, 60_000);

    it('diff of a fast and a slow eu-north period shows mutex_lock', async () => {
      const eu = '{region="eu-north"}';
      await open('/comparison-diff', {
        query: eu,
        from: fast.from,
        until: fast.until,
        rightQuery: eu,
        rightFrom: slow.from,
        rightUntil: slow.until,
      });
      await shows('diff', ['mutex_lock']);
    }, 60_000);

    it('the diff link the demo prints opens a fast and a slow eu-north period, not one range twice', async () => {
      const link = await until(
        'the demo to print its diff link',
        async () => /^\s+(http:\S+\/comparison-diff\?\S+)$/m.exec(demo.output())?.[1],
        60_000,
      );
      const q = new URL(link).searchParams;
      const [from, until_, rightFrom, rightUntil] = ['from', 'until', 'rightFrom', 'rightUntil'].map((k) =>
        Number(q.get(k)),
      ) as [number, number, number, number];
      // Baseline a whole odd period (fast), comparison a whole even one (slow), both already over.
      expect([until_ - from, rightUntil - rightFrom]).toEqual([PERIOD_S * 1000, PERIOD_S * 1000]);
      expect((from / 1000 / PERIOD_S) % 2).toBe(1);
      expect((rightFrom / 1000 / PERIOD_S) % 2).toBe(0);
      expect(Math.max(until_, rightUntil)).toBeLessThanOrEqual(Date.now());
      expect(q.get('query')).toBe('{region="eu-north"}');
      expect(q.get('rightQuery')).toBe('{region="eu-north"}');
      await page.goto(link);
      await shows('printed-diff-link', ['mutex_lock']);
      expect(await page.locator('[data-testid="timeline-shared"] .timeline-band').count()).toBe(2);
    }, 90_000);
  },
);
