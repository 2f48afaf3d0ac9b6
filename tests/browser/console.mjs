// Drives the web console like a person would, in Debian's headless Chromium.
// Usage: node console.mjs URL ARTIFACT_DIR PREFIX [USER PASS]
// Exits non-zero with a message on the first failed expectation.
import { args, launch, run, stepper, until } from './lib.mjs';
import fs from 'node:fs';
import path from 'node:path';

const [url, artifacts, prefix, user, pass] = args('node console.mjs URL ARTIFACT_DIR PREFIX [USER PASS]', 3);
const EXPECTED = {
  sleeper: 'RUNNING',
  ticker: 'RUNNING',
  idle: 'STOPPED',
  broken: 'FATAL',
  'pool:worker_0': 'RUNNING',
  'pool:worker_1': 'RUNNING',
};

const step = stepper('browser');

// rowStates reads the table as the page shows it: namespec → state text.
function rowStates(page) {
  return page.evaluate(() => Object.fromEntries(Array.from(document.querySelectorAll('#rows tr[data-ns]'))
    .map((tr) => [tr.dataset.ns, tr.querySelector('.badge').textContent])));
}

function sameStates(got) {
  const want = Object.entries(EXPECTED);
  return Object.keys(got).length === want.length && want.every(([ns, st]) => got[ns] === st);
}

// geometry is where each row, badge, name and action control is drawn.
function geometry(page) {
  return page.evaluate(() => {
    const r = (el) => { const b = el.getBoundingClientRect(); return [b.x, b.y, b.width, b.height].map((v) => Math.round(v * 10) / 10); };
    const out = {};
    for (const tr of document.querySelectorAll('#rows tr[data-ns]')) {
      out[tr.dataset.ns] = {
        row: r(tr), badge: r(tr.querySelector('.badge')), name: r(tr.querySelector('.name')),
        actions: Array.from(tr.querySelector('.actions').children).map(r),
      };
    }
    out.toolbar = r(document.querySelector('.toolbar'));
    out.ident = r(document.querySelector('#ident'));
    out.supState = r(document.querySelector('#sup-state'));
    out.supMeta = r(document.querySelector('#sup-meta'));
    out.footer = r(document.querySelector('.foot'));
    return out;
  });
}

function diffGeometry(a, b) {
  const out = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = JSON.stringify(a[k]), y = JSON.stringify(b[k]);
    if (x !== y) out.push(`${k}: ${x} → ${y}`);
  }
  return out;
}

// withoutScript checks the page as curl, text browsers and browsers with
// JavaScript off get it: the whole table in the HTML, and links that act.
async function withoutScript(browser, opts) {
  const ctx = await browser.newContext({ ...opts, javaScriptEnabled: false });
  try {
    const page = await ctx.newPage();
    // Without the script nothing updates: reload until the programs settle.
    await until('every program with its state, without JavaScript', 15000, async () => {
      await page.goto(url + '/');
      return sameStates(await rowStates(page)) || { ok: false, states: await rowStates(page) };
    });
    for (const ns of Object.keys(EXPECTED)) {
      const desc = await page.locator(`tr[data-ns="${ns}"] .desc`).textContent();
      if (EXPECTED[ns] === 'RUNNING' && !/^pid \d+, uptime \d+:\d\d:\d\d$/.test(desc)) throw new Error(`${ns}: description ${desc}`);
    }
    if (await page.locator('#chips').isVisible()) throw new Error('state filters shown without JavaScript');
    if (!(await page.locator('a[href="index.html?action=restartall"]').isVisible())) throw new Error('no Restart all link without JavaScript');
    step(`without JavaScript: every program with its state and description: ${Object.keys(EXPECTED).join(', ')}`);
    await page.screenshot({ path: path.join(artifacts, `${prefix}-nojs.png`), fullPage: true });

    // The original's action links: stop, then start, each back on the page
    // with the outcome.
    await page.locator('tr[data-ns="sleeper"] a[data-act="stop"]').click();
    await page.waitForURL(/\?message=/);
    const msg = await page.locator('#msg').textContent();
    if (msg !== 'Process sleeper stopped') throw new Error(`after Stop: message ${msg}`);
    const st = (await rowStates(page)).sleeper;
    if (st !== 'STOPPED') throw new Error(`after Stop: sleeper is ${st}`);
    await page.locator('tr[data-ns="sleeper"] a[data-act="start"]').click();
    await page.waitForURL(/started/);
    if ((await rowStates(page)).sleeper !== 'RUNNING') throw new Error(`after Start: sleeper is ${(await rowStates(page)).sleeper}`);
    step('without JavaScript: Stop and Start links act and come back with the message');

    // The ⋯ menu opens without the script (a <details>).
    await page.locator('tr[data-ns="ticker"] .more > summary').click();
    await page.locator('tr[data-ns="ticker"] .more-items a', { hasText: 'Clear log' }).waitFor({ state: 'visible', timeout: 2000 });
    await page.screenshot({ path: path.join(artifacts, `${prefix}-nojs-menu.png`) });
    await page.locator('tr[data-ns="ticker"] .more > summary').click();

    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 2) throw new Error(`page without JavaScript is ${overflow}px wider than a phone screen`);
    await page.screenshot({ path: path.join(artifacts, `${prefix}-nojs-phone.png`), fullPage: true });
  } finally {
    await ctx.close();
  }
}

// takeOver loads the page with the script held back, checks that what is
// drawn before it runs is already the table, then lets it run and checks
// that it adopted the rows: none added, removed or moved, same footer.
async function takeOver(page, shot) {
  // Hold the script back: what is drawn before it runs is the server's
  // page alone, and it must already be the table.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/static/app.js', async (route) => { await held; await route.continue(); });
  const resp = await page.goto(url + '/', { waitUntil: 'commit' });
  if (!resp || resp.status() !== 200) throw new Error(`GET / answered ${resp && resp.status()}`);
  const loadedAt = Date.now();
  await page.locator('.foot').waitFor({ timeout: 5000 });
  // Measured with the stylesheet applied (it blocks drawing, not the DOM).
  await page.waitForFunction(() => getComputedStyle(document.body).display === 'flex', null, { timeout: 5000 });
  const first = await rowStates(page);
  if (!sameStates(first)) throw new Error(`before the script: rows ${JSON.stringify(first)}, want ${JSON.stringify(EXPECTED)}`);
  if (await page.evaluate(() => document.documentElement.dataset.script)) throw new Error('the script ran although it was held');
  await page.screenshot({ path: path.join(artifacts, `${prefix}-${shot}.png`), fullPage: true });
  const before = await geometry(page);
  const footBefore = await page.locator('#foot-version').textContent();
  // Every row added to or removed from the table from now on.
  await page.evaluate(() => {
    window.__rowChanges = [];
    new MutationObserver((ms) => {
      for (const m of ms) {
        for (const n of m.addedNodes) if (n.nodeName === 'TR') window.__rowChanges.push('+' + n.dataset.ns);
        for (const n of m.removedNodes) if (n.nodeName === 'TR') window.__rowChanges.push('-' + n.dataset.ns);
      }
    }).observe(document.querySelector('#rows'), { childList: true });
  });
  step(`${shot}: before the script runs the page already shows ${Object.keys(first).length} rows`);
  release();
  await page.locator('html[data-script="on"]').waitFor({ state: 'attached', timeout: 10000 });
  await page.locator('#conn[data-live="1"]').waitFor({ timeout: 5000 });
  const changes = await page.evaluate(() => window.__rowChanges);
  if (changes.length) throw new Error(`the script added or removed rows: ${changes.join(' ')}`);
  const nss = await page.evaluate(() => Array.from(document.querySelectorAll('#rows tr[data-ns]')).map((tr) => tr.dataset.ns));
  if (nss.length !== new Set(nss).size || nss.length !== Object.keys(EXPECTED).length) throw new Error(`rows after the script: ${nss.join(' ')}`);
  if (await page.locator('#rows a[data-act], #rows details').count()) throw new Error('server links left in the script\'s table');
  const moved = diffGeometry(before, await geometry(page));
  if (moved.length) throw new Error(`the table moved when the script took over:\n${moved.join('\n')}`);
  const sup = await page.evaluate(async () => (await fetch('/api/v1/supervisor')).json());
  const wantFoot = `gosupervisor ${sup.version} (supervisor ${sup.supervisor_version} compatible)`;
  const footAfter = await page.locator('#foot-version').textContent();
  if (sup.supervisor_version !== '4.2.5' || footBefore !== wantFoot || footAfter !== wantFoot) {
    throw new Error(`footer ${JSON.stringify(footBefore)} then ${JSON.stringify(footAfter)}, want ${JSON.stringify(wantFoot)}`);
  }
  step(`${shot}: the script adopted the rows: none added, removed or moved; footer "${footAfter}"`);
  await page.unroute('**/static/app.js');
  return loadedAt;
}

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
  const browser = await launch();
  const opts = {
    viewport: { width: 1360, height: 760 },
    httpCredentials: user ? { username: user, password: pass } : undefined,
    colorScheme: 'light',
  };
  const errors = [];
  try {
    await withoutScript(browser, opts);
    const ctx = await browser.newContext(opts);
    const phone = await ctx.newPage();
    phone.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    phone.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`); });
    await phone.setViewportSize({ width: 390, height: 844 });
    await takeOver(phone, 'prejs-phone');
    await phone.close();
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`); });
    page.on('requestfailed', (r) => {
      // Streams are cut when the page closes; anything else is a failure.
      if (!r.url().includes('/stream') && !r.url().includes('/events')) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
    const loadedAt = await takeOver(page, 'prejs');

    const badge = (ns) => page.locator(`tr[data-ns="${ns}"] .badge`);
    for (const [ns, st] of Object.entries(EXPECTED)) {
      await badge(ns).filter({ hasText: st }).waitFor({ timeout: 15000 })
        .catch(async () => { throw new Error(`${ns}: state ${await badge(ns).textContent().catch(() => '?')}, want ${st}`); });
    }
    step(`every program shown with its state: ${Object.keys(EXPECTED).join(', ')}`);
    const count = await page.locator('#rows tr[data-ns]').count();
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
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#rows tr[data-ns]')).filter((tr) => !tr.hidden).length === 2);
    await page.locator('#filter').fill('');
    await page.locator('.chip[data-state="FATAL"]').click();
    await page.waitForFunction(() => {
      const vis = Array.from(document.querySelectorAll('#rows tr[data-ns]')).filter((tr) => !tr.hidden);
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
    await browser.close();
  }
}

run('browser', main);
