// Drives the console's view of our extensions (health checks, depends_on)
// in Debian's headless Chromium, against the programs of
// browser_test.go healthPrograms.
// Usage: node health.mjs URL ARTIFACT_DIR PREFIX DAEMON_DIR
// Exits non-zero with a message on the first failed expectation.
import { args, launch, run, stepper, until } from './lib.mjs';
import fs from 'node:fs';
import path from 'node:path';

const [url, artifacts, prefix, daemonDir] = args('node health.mjs URL ARTIFACT_DIR PREFIX DAEMON_DIR', 4);

const step = stepper('health');

// rows reads what the table shows of each process: state, health badge
// (text, classes, title, where it is drawn), description and its classes.
function rows(page) {
  return page.evaluate(() => {
    const r = (el) => { const b = el.getBoundingClientRect(); return { x: b.x, y: b.y, w: b.width, h: b.height }; };
    const out = {};
    for (const tr of document.querySelectorAll('#rows tr[data-ns]')) {
      const hb = tr.querySelector('.health');
      const desc = tr.querySelector('.desc');
      out[tr.dataset.ns] = {
        state: tr.querySelector('.badge').textContent,
        health: hb ? { text: hb.textContent, cls: hb.className, title: hb.title, box: r(hb) } : null,
        healthCount: tr.querySelectorAll('.health').length,
        badge: r(tr.querySelector('.badge')),
        // A phone's card with a health badge lays the state cell's
        // badges out in the card itself (display: contents).
        cell: getComputedStyle(tr.querySelector('td.state')).display === 'contents' ? r(tr) : r(tr.querySelector('td.state')),
        name: r(tr.querySelector('td.name')),
        nameTitle: tr.querySelector('td.name').title,
        desc: desc.textContent,
        descCls: desc.className,
      };
    }
    return out;
  });
}

// check is every expectation on rows for the programs as configured;
// cacheHealthy says whether cache.ok exists yet. It returns the failures.
function check(got, cacheHealthy) {
  const bad = [];
  const want = (ns, cond, what) => { if (!got[ns] || !cond(got[ns])) bad.push(`${ns}: ${what}: ${JSON.stringify(got[ns])}`); };
  const badge = (text) => (p) => p.health && p.health.text === text && p.health.cls === `health ${text}` && p.healthCount === 1;
  want('api', (p) => p.state === 'RUNNING', 'RUNNING');
  want('api', badge('healthy'), 'green "healthy" badge');
  want('api', (p) => /^tcp check 127\.0\.0\.1:\d+\nlast check passed$/.test(p.health.title), 'title names the check');
  want('cache', (p) => p.state === 'RUNNING', 'RUNNING');
  if (cacheHealthy) {
    want('cache', badge('healthy'), 'green "healthy" badge');
  } else {
    want('cache', badge('unhealthy'), 'red "unhealthy" badge');
    want('cache', (p) => /^exec check .*\nexit status 1 \(\d+ failures?\)$/.test(p.health.title), 'title gives last_error');
  }
  want('warming', badge('starting'), 'grey "starting" badge');
  want('warming', (p) => /\nexit status 2 \(\d+ failures?\)$/.test(p.health.title), 'title gives last_error');
  for (const ns of ['report', 'plain']) want(ns, (p) => p.health === null && p.healthCount === 0, 'no health badge');
  want('report', (p) => p.state === 'STOPPED' && p.desc === 'waiting for db' && p.descCls === 'desc waiting', '"waiting for db"');
  want('report', (p) => p.nameTitle === 'report\ndepends on db', 'name tooltip gives depends_on');
  want('plain', (p) => p.nameTitle === 'plain' && p.descCls === 'desc' && /^pid \d+, uptime /.test(p.desc), 'plain description');
  want('db', (p) => p.state === 'RUNNING', 'RUNNING');
  want('db', badge('starting'), 'grey "starting" badge until db.ok exists');
  return bad;
}

// layout checks that nothing overflows the screen and that each health
// badge sits inside its state cell (its card on a phone), right of the
// state badge, and clear of the name.
async function layout(page, got, phone) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 2) throw new Error(`page is ${overflow}px wider than the screen`);
  for (const [ns, p] of Object.entries(got)) {
    if (!p.health) continue;
    const hb = p.health.box, c = p.cell, b = p.badge, n = p.name;
    const inside = hb.x >= c.x - 0.5 && hb.x + hb.w <= c.x + c.w + 0.5 && hb.y >= c.y - 0.5 && hb.y + hb.h <= c.y + c.h + 0.5;
    if (!inside) throw new Error(`${ns}: health badge ${JSON.stringify(hb)} outside its cell ${JSON.stringify(c)}`);
    if (hb.x < b.x + b.w || Math.abs((hb.y + hb.h / 2) - (b.y + b.h / 2)) > 3) throw new Error(`${ns}: health badge ${JSON.stringify(hb)} not beside the state ${JSON.stringify(b)}`);
    const apart = hb.x + hb.w <= n.x + 0.5 || hb.y + hb.h <= n.y + 0.5 || n.y + n.h <= hb.y + 0.5;
    if (!apart) throw new Error(`${ns}: health badge ${JSON.stringify(hb)} overlaps the name ${JSON.stringify(n)}`);
  }
  step(`${phone ? 'phone' : 'desktop'}: no overflow, health badges beside the state, clear of the name`);
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const okFile = path.join(daemonDir, 'cache.ok');
  fs.rmSync(okFile, { force: true });
  const dbOkFile = path.join(daemonDir, 'db.ok');
  fs.rmSync(dbOkFile, { force: true });
  const browser = await launch();
  const errors = [];
  try {
    // The server's page alone (no script) already shows the badges.
    const nojs = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', javaScriptEnabled: false });
    const np = await nojs.newPage();
    await until('health badges without JavaScript', 15000, async () => {
      await np.goto(url + '/');
      const bad = check(await rows(np), false);
      return bad.length ? { ok: false, bad } : true;
    });
    await np.screenshot({ path: path.join(artifacts, `${prefix}-nojs.png`), fullPage: true });
    await nojs.close();
    step('without JavaScript: badges, titles and "waiting for db" as the script draws them');

    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`); });
    await page.goto(url + '/');
    await page.locator('html[data-script="on"]').waitFor({ state: 'attached', timeout: 10000 });
    await page.locator('#conn[data-live="1"]').waitFor({ timeout: 5000 });
    let got = await until('health badges and the wait, desktop', 15000, async () => {
      const g = await rows(page);
      const bad = check(g, false);
      return bad.length ? { ok: false, bad } : g;
    });
    if (!(await page.locator('#procs.has-health').count())) throw new Error('table without has-health');
    await layout(page, got, false);
    await page.screenshot({ path: path.join(artifacts, `${prefix}-desktop.png`), fullPage: true });
    step('desktop: api healthy, cache unhealthy, warming starting, db starting, report waiting for db, plain unchanged');

    // The ⋯ menu gives the details.
    await page.locator('tr[data-ns="report"] button[data-act="more"]').click();
    const menu = await page.locator('#menu .mi').allTextContents();
    if (menu.join('|') !== 'depends on db|waiting for db') throw new Error(`report's menu: ${JSON.stringify(menu)}`);
    await page.keyboard.press('Escape');
    await page.locator('tr[data-ns="cache"] button[data-act="more"]').click();
    const cmenu = await page.locator('#menu .mi').allTextContents();
    if (!/^health: unhealthy \(exec /.test(cmenu[0] || '') || !/^exit status 1 \(/.test(cmenu[1] || '')) throw new Error(`cache's menu: ${JSON.stringify(cmenu)}`);
    await page.keyboard.press('Escape');
    step('the ⋯ menu shows depends_on, the wait and the last error');

    // Phone: cards, the badges still beside the state, nothing cut off.
    await page.setViewportSize({ width: 390, height: 844 });
    got = await until('badges at phone width', 5000, async () => {
      const g = await rows(page);
      const bad = check(g, false);
      return bad.length ? { ok: false, bad } : g;
    });
    await layout(page, got, true);
    await page.screenshot({ path: path.join(artifacts, `${prefix}-phone.png`), fullPage: true });

    // Live: cache's check starts passing; db's passing ends report's wait.
    await page.setViewportSize({ width: 1280, height: 800 });
    fs.writeFileSync(okFile, '');
    await until('cache turning healthy without a reload', 10000, async () => {
      const g = await rows(page);
      return (g.cache.health && g.cache.health.text === 'healthy' && g.cache.health.cls === 'health healthy') || { ok: false, cache: g.cache.health };
    });
    step('a health transition reaches the console live');
    fs.writeFileSync(dbOkFile, '');
    await until('report starting once db is healthy', 10000, async () => {
      const g = await rows(page);
      const r = g.report;
      return (g.db.health && g.db.health.text === 'healthy' && r.state === 'RUNNING' && r.descCls === 'desc' && !r.desc.includes('waiting')) || { ok: false, db: g.db.health, report: r };
    });
    got = await rows(page);
    if (got.report.nameTitle !== 'report\ndepends on db') throw new Error(`report's tooltip after start: ${got.report.nameTitle}`);
    await layout(page, got, false);
    await page.screenshot({ path: path.join(artifacts, `${prefix}-live.png`), fullPage: true });
    step('db turning healthy: report leaves "waiting for db" and runs');

    if (errors.length) throw new Error(errors.join('\n'));
    step('ok');
  } finally {
    await browser.close();
  }
}

run('health', main);
