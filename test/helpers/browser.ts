import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, Locator, Page, chromium } from 'playwright-core';

/** Debian's Chromium, installed by scripts/install-test-deps.sh: Playwright downloads no browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(__dirname, '..', '..', 'docs', 'screenshots');
export const WEB_DIST = path.join(__dirname, '..', '..', 'dist', 'web');

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(path.join(WEB_DIST, 'index.html'))) throw new Error(`${WEB_DIST} has no build of the web UI: run npm run build first`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root Chromium needs --no-sandbox; the rest keep it off the (closed) network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A full-page screenshot for the README (docs/screenshots/<name>.png), once no dialog is still closing. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await hasCount(page.getByRole('dialog'), 0);
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

// Waiting checks for a page that renders as data arrives (playwright-core has no `expect`).
const WAIT_MS = 15_000;

/** Waits until `locator` (its first match) is visible. */
export async function visible(locator: Locator): Promise<void> {
  await locator.first().waitFor({ state: 'visible', timeout: WAIT_MS });
}

/** Waits until `locator` holds `text` somewhere inside it. */
export async function containsText(locator: Locator, text: string): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ state: 'visible', timeout: WAIT_MS });
}

/** Waits until `locator` matches exactly `count` elements; fails with the last count seen. */
export async function hasCount(locator: Locator, count: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  let seen = await locator.count();
  while (seen !== count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    seen = await locator.count();
  }
  if (seen !== count) throw new Error(`expected ${count} matches of ${locator}, saw ${seen}`);
}
