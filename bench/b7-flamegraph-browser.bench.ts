// B7: the flame graph in the browser. Synthetic trees of 8 k, 64 k and 1 M nodes are opened in the real
// UI (built dist served by a real `hotpath server`, upload view, flamebearer JSON file) in headless
// Debian Chromium. Measured in the page:
//   first paint  = file input change → end of the first canvas paint (read, parse, decode, layout, paint);
//   frame times  = main-thread time of each paint (layout + canvas) while dragging to pan (zoomed in 8×),
//                  while ctrl+wheel zooming, and at full width; p50/p95/max;
//   search       = typing a query → end of the repaint with highlights.
// Targets (BENCHMARKS.md B7): first paint < 300 ms at 64 k, < 1.5 s at 1 M; p95 frame ≤ 16.7 ms panning at 64 k.
// Appends to bench/RESULTS.md (B7_DRY=1 prints without recording).
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { encodeFlamebearer } from '../packages/ui/src/flame/tree.ts';
import { syntheticTree } from '../packages/ui/src/flame/synthetic.ts';
import { launchBrowser, startServer } from '../packages/ui/test/harness.ts';
import { machine, record } from './lib/results.ts';

const SIZES: readonly [number, number][] = [
  [8_192, 5],
  [65_536, 5],
  [1_048_576, 3],
];
const uiDir = new URL('../packages/ui/', import.meta.url).pathname;

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

function median(xs: number[]): number {
  return pct(xs, 50);
}

async function paintDurations(page: Page): Promise<number[]> {
  return page.evaluate(() => performance.getEntriesByName('hotpath-paint').map((e) => e.duration));
}

async function clearPaints(page: Page): Promise<void> {
  await page.evaluate(() => performance.clearMeasures('hotpath-paint'));
}

/** Waits until the canvas has painted more than `after` times. */
async function waitPaints(page: Page, after: number): Promise<void> {
  await page.waitForFunction(
    (n) =>
      Number(
        document.querySelector('[data-testid="flame-adhoc"] canvas')?.getAttribute('data-paints') ?? '0',
      ) > n,
    after,
    { timeout: 120_000 },
  );
}

async function paintCount(page: Page): Promise<number> {
  return Number(
    (await page.locator('[data-testid="flame-adhoc"] canvas').getAttribute('data-paints')) ?? '0',
  );
}

if (!existsSync(join(uiDir, 'dist/index.html'))) {
  const r = spawnSync('npx', ['vite', 'build'], { cwd: uiDir, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('vite build failed');
}
const tmp = mkdtempSync(join(tmpdir(), 'hotpath-b7-'));
const server = await startServer();
const browser = await launchBrowser();
const rows: string[] = [];
const loadStart = loadavg()[0]!;
try {
  for (const [size, reps] of SIZES) {
    const tree = syntheticTree(size);
    const file = join(tmp, `tree-${size}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        flamebearer: encodeFlamebearer(tree),
        metadata: { units: 'samples', name: 'cpu' },
      }),
    );
    const firstPaints: number[] = [];
    let pan: number[] = [];
    let zoom: number[] = [];
    let full: number[] = [];
    const searches: number[] = [];
    for (let r = 0; r < reps; r++) {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      await page.goto(`${server.url}/adhoc?display=flame`);
      const input = page.locator('[data-testid="drop-main"] input');
      await input.evaluate((el) =>
        el.addEventListener('change', () => ((window as unknown as { t0: number }).t0 = performance.now()), {
          capture: true,
        }),
      );
      await input.setInputFiles(file);
      await waitPaints(page, 0);
      firstPaints.push(
        await page.evaluate(() => {
          const e = performance.getEntriesByName('hotpath-paint')[0]!;
          return e.startTime + e.duration - (window as unknown as { t0: number }).t0;
        }),
      );
      if (r === 0) {
        const box = (await page.locator('[data-testid="flame-adhoc"] canvas').boundingBox())!;
        const cx = box.x + box.width / 2;
        const cy = box.y + 30;
        // Full width: hover sweeps repaint the hover outline.
        await clearPaints(page);
        for (let k = 0; k < 40; k++) await page.mouse.move(box.x + 20 + k * 35, cy + (k % 10) * 20);
        full = await paintDurations(page);
        // Zoom in with ctrl+wheel around the centre (8× over 10 steps).
        await clearPaints(page);
        await page.mouse.move(cx, cy);
        await page.keyboard.down('Control');
        for (let k = 0; k < 10; k++) {
          const before = await paintCount(page);
          await page.mouse.wheel(0, -104); // exp(-104 × 0.002) ≈ 0.81 per step → 0.81^10 ≈ 1/8
          await waitPaints(page, before);
        }
        await page.keyboard.up('Control');
        zoom = await paintDurations(page);
        // Pan by dragging 60 × 8 px.
        await clearPaints(page);
        await page.mouse.move(cx, cy);
        await page.mouse.down();
        for (let k = 1; k <= 60; k++) await page.mouse.move(cx - k * 8, cy);
        await page.mouse.up();
        await page.waitForTimeout(100);
        pan = await paintDurations(page);
        // Search: typing → highlighted repaint.
        for (const q of ['function_1', 'module_7', 'function_42']) {
          const before = await paintCount(page);
          const t0 = await page.evaluate(() => performance.now());
          await page.getByLabel('Search').fill(q);
          await waitPaints(page, before);
          const end = await page.evaluate(() => {
            const all = performance.getEntriesByName('hotpath-paint');
            const e = all[all.length - 1]!;
            return e.startTime + e.duration;
          });
          searches.push(end - t0);
        }
      }
      await page.close();
    }
    const fp = median(firstPaints);
    const target =
      size === 65_536
        ? fp < 300
          ? 'met (< 300 ms)'
          : 'not met (< 300 ms)'
        : size === 1_048_576
          ? fp < 1500
            ? 'met (< 1.5 s)'
            : 'not met (< 1.5 s)'
          : '–';
    const panTarget =
      size === 65_536 ? (pct(pan, 95) <= 16.7 ? 'met (≤ 16.7 ms)' : 'not met (≤ 16.7 ms)') : '–';
    const f = (x: number) => x.toFixed(1);
    const line =
      `| ${tree.length.toLocaleString('en-US')} | ${f(fp)} (${f(Math.min(...firstPaints))}–${f(Math.max(...firstPaints))}) | ${target} | ` +
      `${f(median(pan))} / ${f(pct(pan, 95))} / ${f(Math.max(...pan))} (${pan.length}) | ${panTarget} | ` +
      `${f(median(zoom))} / ${f(pct(zoom, 95))} (${zoom.length}) | ${f(median(full))} / ${f(pct(full, 95))} (${full.length}) | ${f(median(searches))} |`;
    console.log(line);
    rows.push(line);
  }
} finally {
  await browser.close();
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
}

const commit = machine().commit;
const chromium = execSync('/usr/bin/chromium --version', { stdio: ['ignore', 'pipe', 'ignore'] })
  .toString()
  .trim();
const section = `
## B7 flame graph in the browser — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}

${chromium} headless (--disable-gpu, viewport 1600×1000, device pixel ratio 1), the built UI served by
\`hotpath server\`; synthetic trees (seed 42, 48 levels) uploaded as flamebearer JSON in the upload view with
\`display=flame\`. First paint: median (min–max) of the repetitions, file input change → end of first paint.
Frame = main-thread time of one paint (layout + canvas drawing), median / p95 / max (frames). Load average
${loadStart.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores (machine shared with other builds).

| nodes | first paint ms | first paint target | pan frame ms (zoomed 8×) | pan target (64 k) | ctrl+wheel zoom frame ms | full-width hover frame ms | search → repaint ms |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
record(section, 'B7_DRY');
