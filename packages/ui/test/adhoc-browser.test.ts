// The Upload view stores the dropped file as an ad hoc profile (adhocprofiles.v1.AdHocProfileService):
// the URL gets its id, and that link opens the same flame graph in a browser that never saw the file;
// the stored uploads are listed. In Debian Chromium against an in-process server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '@hotpath/server';
import { launchBrowser, screenshot } from './harness.ts';

const uiDir = new URL('../', import.meta.url).pathname;
let server: RunningServer;
let browser: Browser;
let tmp: string;

async function newPage(): Promise<Page> {
  // A fresh context: nothing of the first page (no file, no storage) carries over.
  return (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
}

async function functionsShown(page: Page): Promise<string[]> {
  await page.waitForSelector('[data-testid="flame-adhoc"] canvas[data-paints]', { timeout: 30_000 });
  await page.waitForSelector('[data-testid="top-table"] tbody tr', { timeout: 30_000 });
  return (await page.locator('[data-testid="top-table"] td.name').allTextContents()).sort();
}

beforeAll(async () => {
  if (!existsSync(join(uiDir, 'dist/index.html'))) {
    const r = spawnSync('npx', ['vite', 'build'], { cwd: uiDir, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('vite build failed');
  }
  tmp = mkdtempSync(join(tmpdir(), 'hotpath-ui-adhoc-'));
  server = await startServer({ port: 0, host: '127.0.0.1', store: 'memory', logger: false });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
}, 30_000);

describe('ad hoc uploads in the UI', () => {
  it('a dropped file gets a shareable link that opens it in another browser', async () => {
    const file = join(tmp, 'after.folded');
    writeFileSync(file, 'main;parse 30\nmain;render 20\nmain;upload_only_fn 50\n');
    const first = await newPage();
    await first.goto(`${server.url}/adhoc`);
    await first.locator('[data-testid="drop-main"] input').setInputFiles(file);
    const shown = await functionsShown(first);
    expect(shown).toEqual(['main', 'parse', 'render', 'upload_only_fn']);
    await expect.poll(() => new URL(first.url()).searchParams.get('adhoc') ?? '').toMatch(/^[\w.-]+$/);
    const id = new URL(first.url()).searchParams.get('adhoc')!;
    await expect.poll(() => first.getByTestId('adhoc-link').getAttribute('href')).toBe(`/adhoc?adhoc=${id}`);
    await screenshot(first, 'adhoc-01-stored');

    const second = await newPage();
    await second.goto(`${server.url}/adhoc?adhoc=${id}`);
    expect(await functionsShown(second)).toEqual(shown);
    await expect.poll(() => second.locator('.panel-title').textContent()).toBe('after.folded');
    // The stored uploads are listed for the tenant.
    await expect
      .poll(() => second.getByLabel('Stored uploads').locator('option').allTextContents())
      .toContainEqual(expect.stringContaining('after.folded'));
    await screenshot(second, 'adhoc-02-opened-by-link');
  });

  it('an unknown id says so', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/adhoc?adhoc=nope`);
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('not found');
  });
});
