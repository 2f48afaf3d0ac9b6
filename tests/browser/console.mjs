// Drives the web console like a person would, in Debian's headless Chromium.
// Usage: node console.mjs URL ARTIFACT_DIR PREFIX [USER PASS]
// Exits non-zero with a message on the first failed expectation.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [url, artifacts, prefix, user, pass] = process.argv.slice(2);
if (!url || !artifacts || !prefix) {
  console.error('usage: node console.mjs URL ARTIFACT_DIR PREFIX [USER PASS]');
  process.exit(2);
}
const EXPECTED = {
  sleeper: 'RUNNING',
  ticker: 'RUNNING',
  idle: 'STOPPED',
  broken: 'FATAL',
  'pool:worker_0': 'RUNNING',
  'pool:worker_1': 'RUNNING',
};

function step(msg) { console.log(`[browser] ${msg}`); }

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  if (user) {
    // Without credentials the daemon must refuse, page and API alike.
    for (const p of ['/', '/api/v1/processes']) {
      const r = await fetch(url + p);
      if (r.status !== 401) throw new Error(`GET ${p} without credentials: ${r.status}, want 401`);
    }
    step('401 without credentials');
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gosup-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 760 },
    httpCredentials: user ? { username: user, password: pass } : undefined,
    colorScheme: 'light',
  });
  const errors = [];
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`); });
    page.on('requestfailed', (r) => {
      // Streams are cut when the page closes; anything else is a failure.
      if (!r.url().includes('/stream') && !r.url().includes('/events')) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
    const resp = await page.goto(url + '/', { waitUntil: 'domcontentloaded' });
    if (!resp || resp.status() !== 200) throw new Error(`GET / answered ${resp && resp.status()}`);
    const loadedAt = Date.now();

    const badge = (ns) => page.locator(`tr[data-ns="${ns}"] .badge`);
    for (const [ns, st] of Object.entries(EXPECTED)) {
      await badge(ns).filter({ hasText: st }).waitFor({ timeout: 15000 })
        .catch(async () => { throw new Error(`${ns}: state ${await badge(ns).textContent().catch(() => '?')}, want ${st}`); });
    }
    step(`every program shown with its state: ${Object.keys(EXPECTED).join(', ')}`);
    const count = await page.locator('#rows tr').count();
    if (count !== Object.keys(EXPECTED).length) throw new Error(`${count} rows, want ${Object.keys(EXPECTED).length}`);
    await page.locator('tr[data-ns="sleeper"] .cpu').filter({ hasText: '%' }).waitFor({ timeout: 5000 });
    await page.locator('#conn[data-live="1"]').waitFor({ timeout: 5000 });
    await page.screenshot({ path: path.join(artifacts, `${prefix}-table.png`), fullPage: true });

    // Stop: STOPPED within 2 s of the click.
    let t0 = Date.now();
    await page.locator('tr[data-ns="sleeper"] button[data-act="stop"]').click();
    await badge('sleeper').filter({ hasText: 'STOPPED' }).waitFor({ timeout: 2000 })
      .catch(() => { throw new Error('sleeper not STOPPED within 2 s of clicking stop'); });
    step(`stop → STOPPED after ${Date.now() - t0} ms`);

    // Start: RUNNING (after startsecs).
    t0 = Date.now();
    await page.locator('tr[data-ns="sleeper"] button[data-act="start"]').click();
    await badge('sleeper').filter({ hasText: 'RUNNING' }).waitFor({ timeout: 5000 })
      .catch(() => { throw new Error('sleeper not RUNNING within 5 s of clicking start'); });
    step(`start → RUNNING after ${Date.now() - t0} ms`);

    // Filter by name, then by state chip.
    await page.locator('#filter').fill('worker');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#rows tr')).filter((tr) => !tr.hidden).length === 2);
    await page.locator('#filter').fill('');
    await page.locator('.chip[data-state="FATAL"]').click();
    await page.waitForFunction(() => {
      const vis = Array.from(document.querySelectorAll('#rows tr')).filter((tr) => !tr.hidden);
      return vis.length === 1 && vis[0].dataset.ns === 'broken';
    });
    await page.locator('.chip[data-state="ALL"]').click();
    step('filters by name and state');

    // Live tail: a line the program printed after the page loaded.
    await page.locator('tr[data-ns="ticker"] button[data-act="tail"]').click();
    await page.locator('#logpanel:not([hidden])').waitFor({ timeout: 2000 });
    await page.waitForFunction((after) => {
      const text = document.querySelector('#log-content').textContent;
      return text.split('\n').some((l) => { const m = /^tick (\d+)$/.exec(l); return m && Number(m[1]) > after + 500; });
    }, loadedAt, { timeout: 10000 }).catch(() => { throw new Error('no line printed after page load appeared in the live tail'); });
    step('live tail shows output printed after the page loaded');
    await page.locator('#log-search').fill('tick');
    await page.locator('#log-hits').filter({ hasText: 'match' }).waitFor({ timeout: 2000 });
    await page.screenshot({ path: path.join(artifacts, `${prefix}-tail.png`) });
    await page.locator('#log-search').fill('');
    await page.locator('#log-close').click();

    // Phone-sized screen: cards, nothing cut off horizontally.
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 2) throw new Error(`page is ${overflow}px wider than a phone screen`);
    await page.screenshot({ path: path.join(artifacts, `${prefix}-phone.png`) });

    if (errors.length) throw new Error(errors.join('\n'));
    step('ok');
  } finally {
    await ctx.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`[browser] FAIL: ${e.message}`);
  process.exit(1);
});
