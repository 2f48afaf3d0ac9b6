// Drives the console's fleet view (issue 19) in Debian's headless Chromium:
// three real daemons on 127.0.0.1 (the console's, BETA ours, PY the Python
// original), see fleet_test.go.
// Usage: node fleet.mjs URL ARTIFACT_DIR PREFIX BETA_URL PY_URL BETA_PID
// Exits non-zero with a message on the first failed expectation.
import { args, launch, run, stepper, timedUntil as until } from './lib.mjs';
import fs from 'node:fs';
import path from 'node:path';

const [url, artifacts, prefix, betaURL, pyURL, betaPID] = args('node fleet.mjs URL ARTIFACT_DIR PREFIX BETA_URL PY_URL BETA_PID', 6);

const step = stepper('fleet');

// rpc calls a node's XML-RPC interface directly (the truth to compare with).
async function rpc(base, method, ...params) {
  const ps = params.map((p) => `<param><value>${typeof p === 'boolean' ? `<boolean>${p ? 1 : 0}</boolean>` : `<string>${p}</string>`}</value></param>`).join('');
  const r = await fetch(base + '/RPC2', {
    method: 'POST', headers: { 'Content-Type': 'text/xml' },
    body: `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${ps}</params></methodCall>`,
  });
  const text = await r.text();
  if (!r.ok || text.includes('<fault>')) throw new Error(`${base} ${method}: ${r.status} ${text}`);
  return text;
}

// truth is "node|namespec|STATE" for each process of a node.
async function truth(node, base) {
  const xml = await rpc(base, 'supervisor.getAllProcessInfo');
  return xml.split('<struct>').slice(1).map((s) => {
    const get = (k) => { const m = new RegExp(`<name>${k}</name>\\s*<value>(?:<string>)?([^<]*)`).exec(s); return m ? m[1] : ''; };
    const ns = get('group') === get('name') ? get('name') : `${get('group')}:${get('name')}`;
    return `${node}|${ns}|${get('statename')}`;
  });
}

// table is what the fleet table shows, the same way.
function table(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll('#fleet-rows tr[data-fns]'))
    .map((tr) => `${tr.dataset.node}|${tr.dataset.fns}|${tr.querySelector('.badge').textContent}`));
}

function cards(page) {
  return page.evaluate(() => Object.fromEntries(Array.from(document.querySelectorAll('#fleet-nodes .ncard'))
    .map((b) => [b.dataset.node || '*', { state: b.dataset.nstate, text: b.textContent }])));
}

const same = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

async function overflow(page) {
  const px = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (px > 2) throw new Error(`page is ${px}px wider than the screen`);
}

// act clicks a button of a row and waits for the row to show want.
async function act(page, node, ns, verb, want, nodes) {
  const btn = page.locator(`#fleet-rows tr[data-node="${node}"][data-fns="${ns}"] button[data-act="${verb}"]`);
  const t0 = Date.now();
  await btn.click();
  await until(`${node}:${ns} ${want} after ${verb}`, 2000, async () => (await table(page)).includes(`${node}|${ns}|${want}`));
  const ms = Date.now() - t0;
  const real = await truth(node, nodes[node]);
  if (!real.includes(`${node}|${ns}|${want}`)) throw new Error(`${node}:${ns} is not ${want} on the node: ${real}`);
  step(`${verb} ${node}:${ns}: ${want} in the table after ${ms} ms (and on the node)`);
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const browser = await launch();
  const errors = [];
  try {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console error: ${m.text()}`); });

    const local = (await (await fetch(url + '/api/v1/fleet')).json()).nodes.find((n) => n.local).name;
    const nodes = { [local]: url, beta: betaURL, py: pyURL };
    await page.goto(url + '/');
    await page.locator('html[data-script="on"]').waitFor({ state: 'attached', timeout: 10000 });
    if (await page.locator('#fleet').isVisible()) throw new Error('the fleet view shows before its tab is chosen');
    await page.locator('#tab-fleet').click();
    await page.locator('html[data-fleet="on"]').waitFor({ state: 'attached', timeout: 10000 });
    if (await page.locator('#procs').isVisible()) throw new Error('the local table still shows in the fleet view');

    // Every process of every node, with the state its node gives.
    const all = async () => [...await truth(local, url), ...await truth('beta', betaURL), ...await truth('py', pyURL)];
    const first = await until('every node up, the table as the nodes say', 10000, async () => {
      const c = await cards(page), want = await all(), got = await table(page);
      return (c[local].state === 'up' && c.beta.state === 'up' && c.py.state === 'up' && same(got, want)) || { ok: false, c, got, want };
    });
    step(`all three nodes up, ${(await table(page)).length} rows as getAllProcessInfo of each (${first.ms} ms after the tab)`);
    const c0 = await cards(page);
    if (!/supervisor 4\.2\.5/.test(c0.py.text) || !/gosupervisor/.test(c0.beta.text)) throw new Error(`node kinds/versions: ${JSON.stringify(c0)}`);
    await overflow(page);
    await page.screenshot({ path: path.join(artifacts, `${prefix}-desktop.png`), fullPage: true });

    // The node filter.
    await page.locator('#fleet-nodes .ncard[data-node="py"]').click();
    await until('only py rows with the py filter', 2000, async () => {
      const got = await table(page);
      return (got.length > 0 && got.every((r) => r.startsWith('py|')) && same(got, await truth('py', pyURL))) || { ok: false, got };
    });
    await page.screenshot({ path: path.join(artifacts, `${prefix}-filter.png`), fullPage: true });
    await page.locator('#fleet-nodes .ncard[data-node="py"]').click();
    await until('every row again', 2000, async () => same(await table(page), await all()));
    step('node filter: py alone, then all again');

    // An action on each node, seen within 2 s.
    await act(page, 'py', 'pyweb', 'stop', 'STOPPED', nodes);
    await act(page, 'beta', 'bapi', 'stop', 'STOPPED', nodes);
    await act(page, local, 'aone', 'stop', 'STOPPED', nodes);
    const gb = page.locator('#fleet-rows tr.ghead[data-node="beta"][data-group="bpool"] button[data-gact="stop"]');
    let t0 = Date.now();
    await gb.click();
    await until('beta bpool stopped', 2000, async () => {
      const got = await table(page);
      return got.includes('beta|bpool:bworker_0|STOPPED') && got.includes('beta|bpool:bworker_1|STOPPED');
    });
    step(`stop group beta · bpool: both workers STOPPED after ${Date.now() - t0} ms`);

    // A dead node: unreachable within 2 s, while the others keep updating.
    t0 = Date.now();
    process.kill(Number(betaPID), 'SIGTERM');
    const down = await until('beta unreachable', 2000, async () => (await cards(page)).beta.state === 'unreachable');
    step(`beta stopped: unreachable in the console after ${down.ms} ms`);
    t0 = Date.now();
    await rpc(pyURL, 'supervisor.startProcess', 'pyweb', true);
    const pyLive = await until('py still followed', 2000, async () => (await table(page)).includes('py|pyweb|RUNNING'));
    step(`py changed behind the console's back: RUNNING in the table after ${pyLive.ms} ms`);
    await act(page, local, 'aone', 'start', 'RUNNING', nodes);
    const stale = await page.locator('#fleet-rows tr.stale[data-node="beta"]').count();
    if (!stale) throw new Error("beta's last known rows are not marked stale");
    if (!(await page.locator('#fleet-rows tr[data-node="beta"] button[data-act="start"]').first().isDisabled())) throw new Error("beta's actions are not disabled");
    const cell = await page.locator('#fleet-rows tr[data-node="beta"][data-fns="bapi"] td.node').textContent();
    if (cell !== 'betaunreachable') throw new Error(`beta's node cell says ${JSON.stringify(cell)}, want its name and "unreachable"`);
    const sum = await page.locator('#fleet-sum').textContent();
    if (sum !== '3 nodes · 1 down') throw new Error(`tab summary ${JSON.stringify(sum)}`);
    await overflow(page);
    await page.screenshot({ path: path.join(artifacts, `${prefix}-down.png`), fullPage: true });

    // The local tab is the console as before, the tab bar above it.
    await page.locator('#tab-local').click();
    await page.locator('#procs').waitFor({ state: 'visible', timeout: 2000 });
    if (await page.locator('#fleet').isVisible()) throw new Error('the fleet view still shows in the local tab');
    await page.screenshot({ path: path.join(artifacts, `${prefix}-local.png`) });
    await page.locator('#tab-fleet').click();

    // Phone width: cards, nothing wider than the screen.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'light', isMobile: true, hasTouch: true });
    const pp = await phone.newPage();
    pp.on('pageerror', (e) => errors.push(`phone page error: ${e.message}`));
    await pp.goto(url + '/#fleet');
    await pp.locator('html[data-fleet="on"]').waitFor({ state: 'attached', timeout: 10000 });
    await until('phone: the fleet table', 5000, async () => (await table(pp)).length === (await table(page)).length);
    await overflow(pp);
    await pp.screenshot({ path: path.join(artifacts, `${prefix}-phone.png`), fullPage: true });
    await pp.screenshot({ path: path.join(artifacts, `${prefix}-phone-top.png`) });
    await phone.close();
    step('phone: the fleet view from #fleet, no overflow');

    if (errors.length) throw new Error(errors.join('\n'));
    step('ok');
  } finally {
    await browser.close();
  }
}

run('fleet', main);
