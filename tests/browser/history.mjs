// Drives the console's history views (issue 17) in Debian's headless
// Chromium against browser_test.go historyPrograms: the flapping badge of
// a real crash loop, the process detail view (CPU and memory charts, the
// timeline of state changes with exit codes, the resolved config), group
// sections that fold and act, the table against getAllProcessInfo at the
// same moment, and the server-rendered page without JavaScript.
// Usage: node history.mjs URL ARTIFACT_DIR PREFIX
// Exits non-zero with a message on the first failed expectation.
import { args, launch, run as runMain, stepper, until } from './lib.mjs';
import fs from 'node:fs';
import path from 'node:path';

const [url, artifacts, prefix] = args('node history.mjs URL ARTIFACT_DIR PREFIX', 3);

const step = stepper('history');

async function api(p) {
  const r = await fetch(url + '/api/v1' + p);
  if (!r.ok) throw new Error(`GET ${p}: ${r.status}`);
  return r.json();
}

// compareWithRPC reads, in one turn of the page's event loop, every
// number the table shows, asks supervisor.getAllProcessInfo (and
// gosupervisor.getProcessHistory for flapping badges), then reads the
// table again, at once and 250 ms later: when nothing changed in between,
// the figures must match.
// It returns the mismatches, or null when the table changed meanwhile.
function compareWithRPC(page) {
  return page.evaluate(async () => {
    const rpc = async (method, ...params) => {
      const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
      const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>` +
        params.map((p) => `<param><value><string>${esc(p)}</string></value></param>`).join('') + '</params></methodCall>';
      const r = await fetch('/RPC2', { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body });
      const doc = new DOMParser().parseFromString(await r.text(), 'text/xml');
      const val = (v) => {
        const c = v.firstElementChild;
        if (!c) return v.textContent;
        switch (c.nodeName) {
          case 'int': case 'i4': case 'i8': return parseInt(c.textContent, 10);
          case 'double': return parseFloat(c.textContent);
          case 'boolean': return c.textContent === '1';
          case 'string': return c.textContent;
          case 'array': return Array.from(c.querySelector('data').children).map(val);
          case 'struct': return Object.fromEntries(Array.from(c.children).map((m) => [m.querySelector('name').textContent, val(m.querySelector('value'))]));
          default: return c.textContent;
        }
      };
      if (doc.querySelector('fault')) throw new Error(`${method}: fault ${doc.querySelector('fault').textContent}`);
      return val(doc.querySelector('params > param > value'));
    };
    const read = () => {
      const rows = {};
      for (const tr of document.querySelectorAll('#rows tr[data-ns]')) {
        const fl = tr.querySelector('.flap');
        rows[tr.dataset.ns] = {
          state: tr.querySelector('.badge').textContent,
          pid: tr.querySelector('.pid').textContent,
          uptime: tr.querySelector('.uptime').textContent,
          desc: tr.querySelector('.desc').textContent,
          flaps: fl ? Number(fl.dataset.flaps) : 0,
        };
      }
      const chips = {};
      for (const c of document.querySelectorAll('.chip')) chips[c.dataset.state] = Number(c.querySelector('.n').textContent);
      const heads = {};
      for (const h of document.querySelectorAll('tr.ghead')) heads[h.dataset.group] = h.querySelector('.gmeta').textContent;
      return { rows, chips, heads };
    };
    const before = read();
    const infos = await rpc('supervisor.getAllProcessInfo');
    const flappy = await rpc('gosupervisor.getProcessHistory', 'flappy');
    const after = read();
    // An answer may carry a change the table is about to show (updates are
    // gathered for 50 ms): the table must also hold still for 250 ms after it.
    await new Promise((r) => setTimeout(r, 250));
    const settled = read();
    if (JSON.stringify(before) !== JSON.stringify(after) || JSON.stringify(after) !== JSON.stringify(settled)) return null;
    const bad = [];
    const secs = (t) => { const m = /^(?:(\d+)d )?(\d\d):(\d\d)(?::(\d\d))?$/.exec(t); return m ? (+(m[1] || 0)) * 86400 + (+m[2]) * 3600 + (+m[3]) * 60 + (+(m[4] || 0)) : null; };
    const counts = { ALL: infos.length };
    const groups = {};
    for (const p of infos) {
      const ns = p.group === p.name ? p.name : `${p.group}:${p.name}`;
      counts[p.statename] = (counts[p.statename] || 0) + 1;
      if (p.group !== p.name) {
        groups[p.group] = groups[p.group] || { n: 0, running: 0 };
        groups[p.group].n++;
        if (p.statename === 'RUNNING') groups[p.group].running++;
      }
      const r = after.rows[ns];
      if (!r) { bad.push(`${ns}: no row`); continue; }
      if (r.state !== p.statename) bad.push(`${ns}: state ${r.state}, RPC ${p.statename}`);
      if (r.pid !== (p.pid ? String(p.pid) : '–')) bad.push(`${ns}: pid ${r.pid}, RPC ${p.pid}`);
      const run = /^pid (\d+), uptime (?:(\d+) days?, )?(\d+):(\d\d):(\d\d)$/;
      const td = (m) => (+(m[2] || 0)) * 86400 + (+m[3]) * 3600 + (+m[4]) * 60 + (+m[5]);
      const [mr, mp] = [run.exec(r.desc), run.exec(p.description)];
      if (mr && mp) {
        if (mr[1] !== mp[1] || Math.abs(td(mr) - td(mp)) > 1) bad.push(`${ns}: description ${JSON.stringify(r.desc)}, RPC ${JSON.stringify(p.description)}`);
      } else if (r.desc !== p.description) bad.push(`${ns}: description ${JSON.stringify(r.desc)}, RPC ${JSON.stringify(p.description)}`);
      if (p.pid && p.start) {
        const up = secs(r.uptime);
        if (up === null || Math.abs(up - (p.now - p.start)) > 1) bad.push(`${ns}: uptime ${r.uptime}, RPC ${p.now - p.start} s`);
      } else if (r.uptime !== '–') bad.push(`${ns}: uptime ${r.uptime} without a pid`);
    }
    for (const [st, n] of Object.entries(after.chips)) if ((counts[st] || 0) !== n) bad.push(`chip ${st}: ${n}, RPC ${counts[st] || 0}`);
    for (const [g, c] of Object.entries(groups)) {
      const want = `${c.n} processes · ${c.running} running`;
      if (after.heads[g] !== want) bad.push(`group ${g}: ${after.heads[g]}, RPC ${want}`);
    }
    // The flapping badge: restarts of the last ten minutes in the history.
    const now = Date.now() / 1000;
    const restarts = flappy.transitions.filter((t) => t.to === 'STARTING' && (t.from === 'EXITED' || t.from === 'BACKOFF') && t.time > now - 600).length;
    const shown = after.rows.flappy.flaps;
    if (restarts >= 3 ? shown !== restarts && shown !== restarts - 1 && shown !== restarts + 1 : shown !== 0) bad.push(`flappy: badge ${shown}, history ${restarts} restarts`);
    return { bad, checked: infos.length, restarts, shown };
  });
}

// detail reads the detail view: charts' data, the timeline, the config.
function detail(page) {
  return page.evaluate(() => {
    const svgData = (sel) => {
      const s = document.querySelector(sel);
      return { values: JSON.parse(s.dataset.values || '[]'), times: JSON.parse(s.dataset.times || '[]'), paths: s.querySelectorAll('path').length,
        line: s.querySelector('path.line') ? s.querySelector('path.line').getAttribute('d') : '' };
    };
    return {
      open: !document.querySelector('#detail').hidden,
      name: document.querySelector('#det-name').textContent,
      state: document.querySelector('#det-state').textContent,
      flap: document.querySelector('#det-flap').hidden ? '' : document.querySelector('#det-flap').textContent,
      cpu: svgData('#chart-cpu svg'),
      mem: svgData('#chart-mem svg'),
      crashes: Number(document.querySelector('#tl-strip').dataset.crashes || 0),
      marks: document.querySelectorAll('#tl-strip line.exit.bad').length,
      timeline: Array.from(document.querySelectorAll('#tl-list li[data-to]')).map((li) => ({
        from: li.dataset.from, to: li.dataset.to, exit: li.dataset.exit || null,
        code: li.querySelector('.exitcode') ? li.querySelector('.exitcode').textContent : null,
        why: li.querySelector('.why') ? li.querySelector('.why').textContent : null,
      })),
      config: Object.fromEntries(Array.from(document.querySelectorAll('#det-config dt')).map((dt) => [dt.dataset.key, dt.nextElementSibling.textContent])),
      hash: location.hash,
    };
  });
}

function rowVisible(page, ns) {
  return page.evaluate((n) => { const tr = document.querySelector(`tr[data-ns="${n}"]`); return !!tr && !tr.hidden && tr.getBoundingClientRect().height > 0; }, ns);
}

async function run(browser, viewport, tag) {
  const ctx = await browser.newContext({ viewport, colorScheme: 'light' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`); });
  try {
    await page.goto(url + '/');
    await page.locator('html[data-script="on"]').waitFor({ state: 'attached', timeout: 10000 });
    await page.locator('#conn[data-live="1"]').waitFor({ timeout: 5000 });

    // The crash loop shows as flapping in the table.
    const flaps = await until('flappy flapping in the table', 20000, async () => {
      const n = await page.evaluate(() => { const f = document.querySelector('tr[data-ns="flappy"] .flap'); return f ? Number(f.dataset.flaps) : 0; });
      return n >= 3 ? n : { ok: false, n };
    });
    const title = await page.locator('tr[data-ns="flappy"] .flap').getAttribute('title');
    if (!/^flapping: \d+ restarts in the last 10 minutes$/.test(title)) throw new Error(`flap badge title ${title}`);
    for (const ns of ['steady', 'busy', 'pool:worker_0']) {
      if (await page.locator(`tr[data-ns="${ns}"] .flap`).count()) throw new Error(`${ns} shows a flapping badge`);
    }
    step(`${tag}: flappy shows ↻${flaps} (${title})`);

    // Every number of the table against getAllProcessInfo at one moment.
    const cmp = await until('a moment when the table holds still', 15000, async () => (await compareWithRPC(page)) || { ok: false });
    if (cmp.bad.length) throw new Error(`table differs from getAllProcessInfo:\n${cmp.bad.join('\n')}`);
    step(`${tag}: the table matches getAllProcessInfo for ${cmp.checked} processes (flappy: ${cmp.shown} shown, ${cmp.restarts} in the history)`);

    // Group sections: fold, unfold, act on the group.
    const head = page.locator('tr.ghead[data-group="pool"]');
    if (!(await head.isVisible())) throw new Error('no section header for group pool');
    if ((await head.locator('.gmeta').textContent()) !== '2 processes · 2 running') throw new Error(`pool header: ${await head.locator('.gmeta').textContent()}`);
    await head.locator('.gtoggle').click();
    await until('pool folded', 3000, async () => !(await rowVisible(page, 'pool:worker_0')) && !(await rowVisible(page, 'pool:worker_1')) && (await head.isVisible()));
    if ((await head.locator('.gtoggle').getAttribute('aria-expanded')) !== 'false') throw new Error('folded toggle not aria-expanded=false');
    await page.screenshot({ path: path.join(artifacts, `${prefix}-${tag}-folded.png`), fullPage: true });
    // The fold survives a reload.
    await page.reload();
    await page.locator('html[data-script="on"]').waitFor({ state: 'attached', timeout: 10000 });
    if (await rowVisible(page, 'pool:worker_0')) throw new Error('pool unfolded after a reload');
    await page.locator('tr.ghead[data-group="pool"] .gtoggle').click();
    await until('pool unfolded', 3000, async () => (await rowVisible(page, 'pool:worker_0')) && (await rowVisible(page, 'pool:worker_1')));
    await page.locator('tr.ghead[data-group="pool"] [data-gact="stop"]').click();
    await until('pool stopped by its header', 10000, async () => {
      const st = await page.evaluate(() => ['pool:worker_0', 'pool:worker_1'].map((ns) => document.querySelector(`tr[data-ns="${ns}"] .badge`).textContent));
      return st.every((s) => s === 'STOPPED') || { ok: false, st };
    });
    if ((await page.locator('tr.ghead[data-group="pool"] .gmeta').textContent()) !== '2 processes · 0 running') throw new Error('header count after stop');
    await page.locator('tr.ghead[data-group="pool"] [data-gact="start"]').click();
    await until('pool started by its header', 10000, async () => {
      const st = await page.evaluate(() => ['pool:worker_0', 'pool:worker_1'].map((ns) => document.querySelector(`tr[data-ns="${ns}"] .badge`).textContent));
      return st.every((s) => s === 'RUNNING') || { ok: false, st };
    });
    step(`${tag}: group pool folds (kept across a reload), unfolds, stops and starts from its header`);
    await page.screenshot({ path: path.join(artifacts, `${prefix}-${tag}-table.png`), fullPage: true });

    // The detail view of the crash loop: timeline with exit codes.
    await page.locator('tr[data-ns="flappy"] .pname').click();
    let d = await until('flappy detail with its crashes', 15000, async () => {
      const got = await detail(page);
      // The config comes in its own answer.
      return got.open && got.name === 'flappy' && got.crashes >= 3 && got.timeline.length >= 9 && got.config.command ? got : { ok: false, open: got.open, crashes: got.crashes, n: got.timeline.length };
    });
    if (d.hash !== '#process=flappy') throw new Error(`address ${d.hash}`);
    const exits = d.timeline.filter((t) => t.to === 'EXITED');
    if (!exits.length || exits.some((t) => t.exit !== '3' || t.code !== 'exit 3' || t.why !== 'Bad exit code 3')) throw new Error(`exits in the timeline: ${JSON.stringify(exits.slice(0, 3))}`);
    if (d.marks !== d.crashes) throw new Error(`${d.marks} red marks for ${d.crashes} crashes`);
    if (!/^flapping · \d+ restarts in 10 min$/.test(d.flap)) throw new Error(`detail flap ${d.flap}`);
    // The timeline is the API's history, newest first.
    await until('the timeline is the API\'s history', 10000, async () => {
      const [h, got] = [await api('/processes/flappy/history'), await detail(page)];
      const want = h.transitions.slice().reverse().map((t) => `${t.from}>${t.to}`).join(' ');
      const shown = got.timeline.map((t) => `${t.from}>${t.to}`).join(' ');
      return want === shown || { ok: false, want: want.slice(0, 80), shown: shown.slice(0, 80) };
    });
    if (d.config.command !== '/bin/sh -c "echo crashing >&2; sleep 0.3; exit 3"' || d.config.autostart !== 'true' || d.config.startsecs !== '0') {
      throw new Error(`config ${JSON.stringify(d.config)}`);
    }
    if (d.config.healthcheck || !('exitcodes' in d.config)) throw new Error(`config keys ${Object.keys(d.config)}`);
    step(`${tag}: flappy's timeline shows ${d.crashes} crashes with exit 3 (${d.timeline.length} changes), as the API's history; its config`);
    await page.screenshot({ path: path.join(artifacts, `${prefix}-${tag}-crashloop.png`) });
    await page.locator('#det-close').click();
    if (await page.locator('#detail').isVisible()) throw new Error('detail still open after close');

    // The charts of a busy process: CPU and memory samples as the API has them.
    await page.locator('tr[data-ns="busy"] .pname').click();
    d = await until('busy\'s charts with 3 samples', 30000, async () => {
      const got = await detail(page);
      return got.name === 'busy' && got.cpu.values.length >= 3 ? got : { ok: false, n: got.cpu.values.length };
    });
    const h = await api('/processes/busy/history');
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    await until('the charts are the API\'s samples', 10000, async () => {
      const [hh, got] = [await api('/processes/busy/history'), await detail(page)];
      return (same(got.cpu.values, hh.samples.map((s) => s.cpu)) && same(got.mem.values, hh.samples.map((s) => s.rss)) && same(got.cpu.times, hh.samples.map((s) => s.time))) ||
        { ok: false, cpu: got.cpu.values, api: hh.samples.map((s) => s.cpu) };
    });
    d = await detail(page);
    if (!d.cpu.values.slice(1).some((v) => v > 1)) throw new Error(`busy's CPU ${d.cpu.values}`);
    if (!d.mem.values.every((v) => v > 100000)) throw new Error(`busy's memory ${d.mem.values}`);
    if (!/^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+)+/.test(d.cpu.line)) throw new Error(`CPU line ${d.cpu.line}`);
    if (!h.sampling || h.sample_every !== 5) throw new Error(`sampling ${h.sampling} every ${h.sample_every}`);
    step(`${tag}: busy's charts draw the API's ${d.cpu.values.length} samples: CPU ${d.cpu.values.join(', ')} %, memory ${d.mem.values.map((v) => Math.round(v / 1024)).join(', ')} KB`);
    await page.screenshot({ path: path.join(artifacts, `${prefix}-${tag}-detail.png`) });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 2) throw new Error(`page is ${overflow}px wider than the screen`);
    // The address opens the view directly.
    await page.goto(url + '/#process=steady');
    await until('steady opened from the address', 10000, async () => { const got = await detail(page); return got.open && got.name === 'steady' && got.state === 'RUNNING'; });
    await page.keyboard.press('Escape');
    if (await page.locator('#detail').isVisible()) throw new Error('Escape left the detail open');
    if (errors.length) throw new Error(errors.join('\n'));
  } finally {
    await ctx.close();
  }
}

// withoutScript: the server's page already has the sections and badges.
async function withoutScript(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, javaScriptEnabled: false, colorScheme: 'light' });
  try {
    const page = await ctx.newPage();
    await until('flappy flapping without JavaScript', 20000, async () => {
      await page.goto(url + '/');
      return (await page.locator('tr[data-ns="flappy"] .flap').count()) === 1;
    });
    if ((await page.locator('tr.ghead[data-group="pool"] .gmeta').textContent()) !== '2 processes · 2 running') throw new Error('pool header without JavaScript');
    if (await page.locator('tr.ghead .gacts').isVisible()) throw new Error('group buttons shown without JavaScript');
    await page.screenshot({ path: path.join(artifacts, `${prefix}-nojs.png`), fullPage: true });
    step('without JavaScript: the pool section header and the flapping badge are in the page');
  } finally {
    await ctx.close();
  }
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const browser = await launch();
  try {
    await withoutScript(browser);
    await run(browser, { width: 1280, height: 800 }, 'desktop');
    await run(browser, { width: 390, height: 844 }, 'phone');
    step('ok');
  } finally {
    await browser.close();
  }
}

runMain('history', main);
