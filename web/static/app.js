// gosupervisor web console: one dependency-free script, no build step.
// Live data: the process table from /api/v1/events (Server-Sent Events fed
// by the engine's state changes), log tails from /api/v1/.../stream.
'use strict';
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const enc = encodeURIComponent;

  const STATES = ['RUNNING', 'STARTING', 'BACKOFF', 'STOPPING', 'STOPPED', 'EXITED', 'FATAL', 'UNKNOWN'];
  const RUNNING_ISH = new Set(['STARTING', 'RUNNING', 'BACKOFF']);
  const STARTABLE = new Set(['STOPPED', 'EXITED', 'FATAL']);
  const SIGNALS = ['HUP', 'INT', 'QUIT', 'KILL', 'USR1', 'USR2', 'TERM', 'CONT', 'STOP', 'WINCH'];

  const ui = {
    procs: new Map(),   // namespec → process JSON
    rows: new Map(),    // namespec → <tr>
    stats: {},          // namespec → {cpu, rss}
    sup: null,
    clockSkew: 0,       // server seconds − local seconds
    sort: { key: 'name', dir: 1 },
    filter: '',
    states: new Set(),  // state chips switched on (empty = all)
    sel: null,          // selected namespec
  };

  // ---------------------------------------------------------------- API

  async function api(method, path, body) {
    const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    const r = await fetch('/api/v1' + path, opts);
    let data = null;
    try { data = await r.json(); } catch (_) { /* not JSON */ }
    if (!r.ok) {
      const msg = data && data.error ? data.error.message : `${r.status} ${r.statusText}`;
      const err = new Error(msg);
      err.status = r.status;
      throw err;
    }
    return data;
  }

  // ------------------------------------------------------------ helpers

  function setText(el, text) {
    text = String(text);
    if (el.textContent !== text) el.textContent = text;
  }

  function fmtUptime(sec) {
    if (sec < 0) sec = 0;
    sec = Math.floor(sec);
    const d = Math.floor(sec / 86400);
    const h = String(Math.floor(sec / 3600) % 24).padStart(2, '0');
    const m = String(Math.floor(sec / 60) % 60).padStart(2, '0');
    const s = String(sec % 60).padStart(2, '0');
    return d > 0 ? `${d}d ${h}:${m}` : `${h}:${m}:${s}`;
  }

  function fmtBytes(n) {
    if (n == null) return '–';
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n.toFixed(0) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
  }

  function nowServer() { return Date.now() / 1000 + ui.clockSkew; }

  function toast(msg, isErr) {
    const el = document.createElement('div');
    el.className = 'toast' + (isErr ? ' err' : '');
    el.textContent = msg;
    $('#toasts').append(el);
    setTimeout(() => el.remove(), isErr ? 7000 : 3500);
  }

  function typing(ev) {
    const t = ev.target;
    return t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
  }

  // ------------------------------------------------------------ header

  function renderSupervisor(sup) {
    if (!sup) return;
    ui.sup = sup;
    setText($('#ident'), sup.identification);
    const b = $('#sup-state');
    b.dataset.state = sup.statename;
    setText(b, sup.statename);
    setText($('#sup-meta'), `pid ${sup.pid}`);
    // version.String() on the server: the page already says it.
    setText($('#foot-version'), `gosupervisor ${sup.version} (supervisor ${sup.supervisor_version} compatible)`);
    $('#btn-mainlog').hidden = !sup.mainlog;
    document.title = `${sup.identification} · supervisor`;
  }

  function setLive(on) {
    const c = $('#conn');
    c.dataset.live = on ? '1' : '0';
    setText($('.conn-text', c), on ? 'live' : 'reconnecting');
  }

  // ------------------------------------------------------------- table

  // A row's action buttons. index.html renders the same cells with links in
  // their place, which work without JavaScript; adoptRow swaps them.
  const ACTIONS =
    '<button type="button" class="btn" data-act="start">Start</button>' +
    '<button type="button" class="btn" data-act="restart">Restart</button>' +
    '<button type="button" class="btn" data-act="tail" title="Live log (Enter)">Log</button>' +
    '<button type="button" class="btn icon" data-act="more" title="More actions" aria-label="more actions">⋯</button>';

  function makeRow(ns) {
    const tr = document.createElement('tr');
    tr.dataset.ns = ns;
    tr.innerHTML =
      '<td class="state"><span class="badge"></span></td>' +
      '<td class="name"></td>' +
      '<td class="num pid" data-label="pid"></td>' +
      '<td class="num uptime" data-label="up"></td>' +
      '<td class="num cpu" data-label="cpu"></td>' +
      '<td class="num mem" data-label="mem"></td>' +
      '<td class="num restarts" data-label="restarts"></td>' +
      '<td class="desc"></td>' +
      '<td class="actions-c"><div class="actions">' + ACTIONS + '</div></td>';
    return tr;
  }

  // adoptRow takes over a row the server rendered: same cells, so only the
  // links become the script's buttons (they look the same) and the group
  // prefix a menu button; the row itself stays where it is.
  function adoptRow(tr, p) {
    $('.actions', tr).innerHTML = ACTIONS;
    fillName($('.name', tr), p);
    updateRow(tr, p);
  }

  // The class the original's status page gives a state (web.py), which the
  // server-rendered page keeps for scripts that look for it.
  function statusClass(state) {
    if (state === 'RUNNING') return 'statusrunning';
    if (state === 'FATAL' || state === 'BACKOFF') return 'statuserror';
    return 'statusnominal';
  }

  // Our extensions, as page.go renders them: the description says what a
  // process held back by depends_on waits for; the name's tooltip what it
  // depends on; the health badge's what its check last said.
  function describe(p) {
    const w = p.waiting_for || [];
    if (w.length && !p.description.startsWith('waiting for ')) return 'waiting for ' + w.join(', ');
    return p.description;
  }

  function nameTitle(p) {
    const d = p.depends_on || [];
    return d.length ? `${p.namespec}\ndepends on ${d.join(', ')}` : p.namespec;
  }

  function healthTitle(h) {
    let t = `${h.kind} check ${h.target}\n`;
    if (h.last_error) t += `${h.last_error} (${h.failures === 1 ? '1 failure' : h.failures + ' failures'})`;
    else if (!h.last_check) t += 'not checked yet';
    else t += 'last check passed';
    return t;
  }

  // updateHealth keeps the health badge after the state badge, only for
  // processes with a health check.
  function updateHealth(td, p) {
    let hb = $('.health', td);
    if (!p.health) { if (hb) hb.remove(); return; }
    if (!hb) {
      hb = document.createElement('span');
      td.append(hb);
    }
    const st = p.health.status;
    if (hb.dataset.health !== st) {
      hb.dataset.health = st;
      hb.className = 'health ' + st;
      hb.textContent = st;
    }
    const title = healthTitle(p.health);
    if (hb.title !== title) hb.title = title;
  }

  function fillName(td, p) {
    td.textContent = '';
    if (p.group !== p.name) {
      const g = document.createElement('button');
      g.type = 'button';
      g.className = 'grp';
      g.dataset.group = p.group;
      g.title = `Group ${p.group} actions`;
      g.textContent = p.group + ':';
      td.append(g);
    }
    td.append(document.createTextNode(p.name));
    td.title = nameTitle(p);
  }

  function updateRow(tr, p) {
    const badge = $('.badge', tr);
    if (badge.dataset.state !== p.statename) {
      badge.dataset.state = p.statename;
      badge.textContent = p.statename;
      badge.className = 'badge ' + statusClass(p.statename);
      tr.dataset.state = p.statename;
    }
    updateHealth($('.state', tr), p);
    const name = $('.name', tr);
    if (name.title !== nameTitle(p)) fillName(name, p);
    setText($('.pid', tr), p.pid || '–');
    setText($('.restarts', tr), p.restarts);
    const desc = $('.desc', tr);
    const text = describe(p);
    setText(desc, text);
    if (desc.title !== text) desc.title = text;
    desc.classList.toggle('err', p.statename === 'FATAL' || p.statename === 'BACKOFF' || !!p.spawnerr);
    desc.classList.toggle('waiting', !!(p.waiting_for && p.waiting_for.length));
    // One slot for Start/Stop so that the row keeps its shape.
    const toggle = $('[data-act="start"], [data-act="stop"]', tr);
    const act = STARTABLE.has(p.statename) ? 'start' : 'stop';
    if (toggle.dataset.act !== act) {
      toggle.dataset.act = act;
      toggle.textContent = act === 'start' ? 'Start' : 'Stop';
    }
    toggle.disabled = p.statename === 'STOPPING' || p.statename === 'UNKNOWN';
    $('[data-act="restart"]', tr).disabled = p.statename === 'STOPPING';
    updateLive(tr, p);
  }

  // updateLive refreshes the cells that change without state changes.
  function updateLive(tr, p) {
    setText($('.uptime', tr), p.pid && p.start ? fmtUptime(nowServer() - p.start) : '–');
    const st = p.pid ? ui.stats[p.namespec] : null;
    setText($('.cpu', tr), st ? st.cpu.toFixed(1) + '%' : '–');
    setText($('.mem', tr), st ? fmtBytes(st.rss) : '–');
  }

  function sortValue(p) {
    const st = ui.stats[p.namespec];
    switch (ui.sort.key) {
      case 'state': return STATES.indexOf(p.statename);
      case 'pid': return p.pid || 0;
      case 'uptime': return p.pid && p.start ? nowServer() - p.start : -1;
      case 'cpu': return p.pid && st ? st.cpu : -1;
      case 'rss': return p.pid && st ? st.rss : -1;
      case 'restarts': return p.restarts;
      default: return null;
    }
  }

  function compare(a, b) {
    const va = sortValue(a), vb = sortValue(b);
    let c = 0;
    if (va !== null && va !== vb) c = va < vb ? -1 : 1;
    if (c === 0) {
      c = a.group < b.group ? -1 : a.group > b.group ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
      if (va !== null) return c; // ties always by name ascending
    }
    return c * ui.sort.dir;
  }

  function matches(p) {
    if (ui.states.size && !ui.states.has(p.statename)) return false;
    if (!ui.filter) return true;
    const f = ui.filter.toLowerCase();
    return p.namespec.toLowerCase().includes(f) || describe(p).toLowerCase().includes(f);
  }

  // render places rows in order and applies the filter, touching the DOM
  // only where something changed.
  function render() {
    const tbody = $('#rows');
    const list = Array.from(ui.procs.values()).sort(compare);
    let shown = 0;
    let prev = null;
    for (const p of list) {
      let tr = ui.rows.get(p.namespec);
      if (!tr) {
        tr = makeRow(p.namespec);
        ui.rows.set(p.namespec, tr);
        updateRow(tr, p);
      }
      const want = prev ? prev.nextSibling : tbody.firstChild;
      if (want !== tr) tbody.insertBefore(tr, want);
      const vis = matches(p);
      if (tr.hidden === vis) tr.hidden = !vis;
      if (vis) shown++;
      prev = tr;
    }
    for (const [ns, tr] of ui.rows) {
      if (!ui.procs.has(ns)) { tr.remove(); ui.rows.delete(ns); }
    }
    // Room for health badges only when some process has a check.
    $('#procs').classList.toggle('has-health', list.some((p) => p.health));
    $('#empty').hidden = ui.procs.size !== 0;
    $('#nomatch').hidden = ui.procs.size === 0 || shown !== 0;
    if (ui.sel && (!ui.rows.has(ui.sel) || ui.rows.get(ui.sel).hidden)) select(null);
    renderChips();
  }

  function renderChips() {
    const box = $('#chips');
    if (!box.childElementCount) {
      for (const s of ['ALL', ...STATES]) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'chip';
        b.dataset.state = s;
        b.setAttribute('aria-pressed', s === 'ALL' ? 'true' : 'false');
        b.innerHTML = (s === 'ALL' ? '' : '<span class="sw"></span>') + '<span class="l"></span><span class="n"></span>';
        $('.l', b).textContent = s === 'ALL' ? 'All' : s[0] + s.slice(1).toLowerCase();
        box.append(b);
      }
    }
    const counts = { ALL: ui.procs.size };
    for (const p of ui.procs.values()) counts[p.statename] = (counts[p.statename] || 0) + 1;
    for (const b of box.children) {
      const n = counts[b.dataset.state] || 0;
      setText($('.n', b), n);
      b.dataset.zero = n ? '0' : '1';
      const on = b.dataset.state === 'ALL' ? ui.states.size === 0 : ui.states.has(b.dataset.state);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
  }

  function upsert(p) {
    ui.procs.set(p.namespec, p);
    const tr = ui.rows.get(p.namespec);
    if (tr) updateRow(tr, p);
    if (p.now) ui.clockSkew = p.now - Date.now() / 1000;
  }

  function applySync(d) {
    renderSupervisor(d.supervisor);
    ui.procs.clear();
    for (const p of d.processes) upsert(p);
    seedStats(d.processes);
    render();
  }

  function applyUpdate(d) {
    renderSupervisor(d.supervisor);
    for (const p of d.processes) upsert(p);
    seedStats(d.processes);
    render();
    if (log.ns && d.processes.some((p) => p.namespec === log.ns)) renderLogTitle();
  }

  // Process answers carry cpu/rss too; use them until the next stats event.
  function seedStats(procs) {
    for (const p of procs) {
      if (p.pid && p.cpu != null) ui.stats[p.namespec] = { cpu: p.cpu, rss: p.rss };
      else if (!p.pid) delete ui.stats[p.namespec];
    }
  }

  function applyStats(d) {
    ui.stats = d;
    for (const [ns, tr] of ui.rows) updateLive(tr, ui.procs.get(ns));
    if (['cpu', 'rss', 'uptime'].includes(ui.sort.key)) render();
  }

  // ---------------------------------------------------------- selection

  function select(ns) {
    if (ui.sel && ui.rows.has(ui.sel)) ui.rows.get(ui.sel).classList.remove('sel');
    ui.sel = ns;
    if (ns && ui.rows.has(ns)) {
      const tr = ui.rows.get(ns);
      tr.classList.add('sel');
      tr.scrollIntoView({ block: 'nearest' });
    }
  }

  function moveSel(delta) {
    const vis = $$('#rows tr').filter((tr) => !tr.hidden);
    if (!vis.length) return;
    let i = vis.findIndex((tr) => tr.dataset.ns === ui.sel);
    i = i < 0 ? (delta > 0 ? 0 : vis.length - 1) : Math.min(vis.length - 1, Math.max(0, i + delta));
    select(vis[i].dataset.ns);
  }

  // ------------------------------------------------------------ actions

  const DONE = { start: 'started', stop: 'stopped', restart: 'restarted', clear: 'log cleared', signal: 'signalled' };

  async function processAction(ns, action, body, btn) {
    if (btn) btn.classList.add('busy');
    try {
      const r = await api('POST', `/processes/${enc(ns)}/${action}`, body);
      if (r && r.process) { upsert(r.process); render(); }
      toast(`${ns}: ${DONE[action]}`);
      if (action === 'clear' && log.ns === ns) restartLog();
    } catch (e) {
      toast(`${ns}: ${e.message}`, true);
    } finally {
      if (btn) btn.classList.remove('busy');
    }
  }

  function summarize(label, results) {
    const bad = (results || []).filter((r) => r.status !== 80);
    if (bad.length) {
      toast(`${label}: ${bad.map((r) => r.description).join('; ')}`, true);
    } else {
      toast(`${label}: done (${(results || []).length})`);
    }
  }

  async function multiAction(path, label, body) {
    try {
      const r = await api('POST', path, body);
      if (r.results) summarize(label, r.results);
      else summarize(label, [...(r.stopped || []), ...(r.started || [])]);
    } catch (e) {
      toast(`${label}: ${e.message}`, true);
    }
  }

  function confirmDialog(text, okLabel) {
    const dlg = $('#dlg-confirm');
    setText($('#confirm-text'), text);
    setText($('#confirm-ok'), okLabel);
    dlg.returnValue = '';
    dlg.showModal();
    return new Promise((resolve) => {
      dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    });
  }

  async function allAction(verb) {
    if (verb !== 'start' && !(await confirmDialog(`${verb[0].toUpperCase() + verb.slice(1)} every process?`, verb[0].toUpperCase() + verb.slice(1) + ' all'))) return;
    multiAction(`/all/${verb}`, `${verb} all`);
  }

  // ------------------------------------------------------------ menus

  // openMenu shows items ([label, fn]) under title and the info lines.
  function openMenu(anchor, title, items, info = []) {
    const m = $('#menu');
    m.textContent = '';
    const h = document.createElement('div');
    h.className = 'mh';
    h.textContent = title;
    m.append(h);
    for (const line of info) {
      const d = document.createElement('div');
      d.className = 'mi';
      d.textContent = line;
      m.append(d);
    }
    for (const [label, fn] of items) {
      const b = document.createElement('button');
      b.type = 'button';
      b.setAttribute('role', 'menuitem');
      b.textContent = label;
      b.addEventListener('click', () => { closeMenu(); fn(); });
      m.append(b);
    }
    m.hidden = false;
    const r = anchor.getBoundingClientRect();
    const w = m.offsetWidth, hgt = m.offsetHeight;
    m.style.left = Math.max(8, Math.min(window.innerWidth - w - 8, r.right - w)) + 'px';
    m.style.top = (r.bottom + hgt + 8 > window.innerHeight ? Math.max(8, r.top - hgt - 4) : r.bottom + 4) + 'px';
    $('button', m).focus();
  }

  function closeMenu() { $('#menu').hidden = true; }

  function groupItems(group) {
    return [
      [`Start group ${group}`, () => multiAction(`/groups/${enc(group)}/start`, `${group}: start`)],
      [`Stop group ${group}`, () => multiAction(`/groups/${enc(group)}/stop`, `${group}: stop`)],
      [`Restart group ${group}`, () => multiAction(`/groups/${enc(group)}/restart`, `${group}: restart`)],
    ];
  }

  function moreMenu(anchor, ns) {
    const p = ui.procs.get(ns);
    if (!p) return;
    const items = [
      ['Send signal…', () => signalDialog(ns)],
      ['Clear log', async () => { if (await confirmDialog(`Clear the logs of ${ns}?`, 'Clear')) processAction(ns, 'clear'); }],
      ['Log: stdout', () => openLog(ns, 'stdout')],
      ['Log: stderr', () => openLog(ns, 'stderr')],
      ...groupItems(p.group),
    ];
    const info = [];
    if (p.depends_on && p.depends_on.length) info.push(`depends on ${p.depends_on.join(', ')}`);
    if (p.waiting_for && p.waiting_for.length) info.push(`waiting for ${p.waiting_for.join(', ')}`);
    if (p.health) {
      const h = p.health;
      info.push(`health: ${h.status} (${h.kind} ${h.target})`);
      if (h.last_error) info.push(`${h.last_error} (${h.failures === 1 ? '1 failure' : h.failures + ' failures'})`);
    }
    openMenu(anchor, ns, items, info);
  }

  function signalDialog(ns) {
    const dlg = $('#dlg-signal');
    setText($('.dlg-target', dlg), ns);
    const list = $('#sig-list');
    const custom = $('#sig-custom');
    let chosen = 'HUP';
    list.textContent = '';
    for (const s of SIGNALS) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'btn';
      b.textContent = s;
      b.setAttribute('aria-pressed', s === chosen ? 'true' : 'false');
      b.addEventListener('click', () => {
        chosen = s;
        custom.value = '';
        for (const o of list.children) o.setAttribute('aria-pressed', o === b ? 'true' : 'false');
      });
      list.append(b);
    }
    custom.value = '';
    dlg.returnValue = '';
    dlg.showModal();
    dlg.addEventListener('close', () => {
      if (dlg.returnValue !== 'send') return;
      const sig = custom.value.trim() || chosen;
      processAction(ns, 'signal', { signal: sig });
    }, { once: true });
  }

  // ------------------------------------------------------ reread/update

  function diffSection(title, groups, kind) {
    const frag = document.createDocumentFragment();
    const h = document.createElement('h3');
    h.textContent = `${title} (${groups.length})`;
    frag.append(h);
    const ul = document.createElement('ul');
    for (const g of groups) {
      const li = document.createElement('li');
      li.className = kind;
      li.textContent = (kind === 'add' ? '+ ' : kind === 'remove' ? '− ' : '~ ') + g.group;
      const inner = document.createElement('ul');
      for (const p of g.processes) {
        const pl = document.createElement('li');
        pl.className = p.change;
        pl.textContent = '    ' + (p.change === 'add' ? '+ ' : p.change === 'remove' ? '− ' : '~ ') + p.name;
        if (p.command) {
          const c = document.createElement('span');
          c.className = 'cmd';
          c.textContent = p.command;
          pl.append(c);
        }
        inner.append(pl);
      }
      li.append(inner);
      ul.append(li);
    }
    frag.append(ul);
    return frag;
  }

  async function updateDialog() {
    const dlg = $('#dlg-update');
    const body = $('#diff-body');
    const apply = $('#diff-apply');
    body.textContent = 'Reading the configuration…';
    apply.disabled = true;
    dlg.returnValue = '';
    if (!dlg.open) dlg.showModal();
    try {
      const d = await api('GET', '/config/diff');
      body.textContent = '';
      const n = d.added.length + d.changed.length + d.removed.length;
      if (!n) {
        const p = document.createElement('p');
        p.className = 'none';
        p.textContent = 'No config updates to processes.';
        body.append(p);
        return;
      }
      if (d.added.length) body.append(diffSection('Added', d.added, 'add'));
      if (d.changed.length) body.append(diffSection('Changed (stopped and restarted)', d.changed, 'keep'));
      if (d.removed.length) body.append(diffSection('Removed (stopped)', d.removed, 'remove'));
      apply.disabled = false;
    } catch (e) {
      body.textContent = '';
      const pre = document.createElement('pre');
      pre.textContent = e.message;
      body.append(pre);
    }
  }

  async function applyUpdateConfig(ev) {
    ev.preventDefault();
    const apply = $('#diff-apply');
    const body = $('#diff-body');
    apply.disabled = true;
    apply.classList.add('busy');
    try {
      const r = await api('POST', '/config/update');
      body.textContent = '';
      const pre = document.createElement('pre');
      pre.textContent = r.log.length ? r.log.join('\n') : 'Nothing to do.';
      body.append(pre);
      toast('Configuration updated');
    } catch (e) {
      toast(`update: ${e.message}`, true);
    } finally {
      apply.classList.remove('busy');
    }
  }

  // --------------------------------------------------------------- logs

  const log = {
    ns: null,          // namespec, or '' for the main log; null = closed
    channel: 'stdout',
    es: null,
    text: '',
    paused: false,
    backlog: 0,        // bytes received while paused
    search: '',
    hit: -1,
    history: 65536,
    dirty: false,
  };

  function logBase() {
    return log.ns === '' ? '/api/v1/mainlog' : `/api/v1/logs/${enc(log.ns)}/${log.channel}`;
  }

  function renderLogTitle() {
    const p = ui.procs.get(log.ns);
    setText($('#log-name'), log.ns === '' ? 'supervisord (main log)' : `${log.ns}${p ? ' · ' + p.statename.toLowerCase() : ''}`);
  }

  function openLog(ns, channel) {
    log.ns = ns;
    log.channel = channel || 'stdout';
    const panel = $('#logpanel');
    panel.hidden = false;
    $('#log-tabs').hidden = ns === '';
    $('#log-clear').textContent = ns === '' ? 'Clear' : 'Clear';
    for (const t of $$('#log-tabs button')) t.setAttribute('aria-selected', t.dataset.channel === log.channel ? 'true' : 'false');
    renderLogTitle();
    restartLog();
    $('#log-content').focus({ preventScroll: true });
  }

  function closeLog() {
    if (log.es) log.es.close();
    log.es = null;
    log.ns = null;
    $('#logpanel').hidden = true;
    if (ui.sel && ui.rows.has(ui.sel)) ui.rows.get(ui.sel).focus({ preventScroll: true });
  }

  function restartLog() {
    if (log.es) log.es.close();
    log.text = '';
    log.backlog = 0;
    log.hit = -1;
    $('#log-content').textContent = '';
    setLogStatus('connecting…');
    $('#log-download').href = logBase() + '/download';
    // EventSource resends the last id on reconnects: the server resumes at
    // that offset, so nothing is lost or repeated.
    const es = new EventSource(`${logBase()}/stream?tail=${log.history}`);
    log.es = es;
    es.addEventListener('open', () => setLogStatus(log.paused ? 'paused' : 'following'));
    es.addEventListener('log', (e) => {
      const c = JSON.parse(e.data);
      if (c.truncated && log.text) appendLog('\n[… earlier output was cleared or dropped …]\n');
      if (c.data) appendLog(c.data);
    });
    es.addEventListener('error', () => {
      if (log.es !== es) return;
      setLogStatus(es.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…');
      if (es.readyState === EventSource.CLOSED) setTimeout(() => { if (log.es === es) restartLog(); }, 3000);
    });
  }

  function setLogStatus(s) { setText($('#log-status'), s); }

  function appendLog(s) {
    log.text += s;
    // Keep about the chosen history in memory; cut at a line boundary.
    const max = log.history * 1.25;
    if (log.text.length > max) {
      let cut = log.text.length - log.history;
      const nl = log.text.indexOf('\n', cut);
      if (nl >= 0 && nl - cut < 4096) cut = nl + 1;
      log.text = log.text.slice(cut);
      log.dirty = true;
    }
    if (log.paused) {
      log.backlog += s.length;
      setLogStatus(`paused · ${fmtBytes(log.backlog)} new`);
      return;
    }
    if (!log.search && !log.dirty) {
      const pre = $('#log-content');
      const atEnd = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
      pre.append(document.createTextNode(s));
      if (atEnd) pre.scrollTop = pre.scrollHeight;
      return;
    }
    scheduleLogRender();
  }

  let renderPending = false;
  function scheduleLogRender() {
    if (renderPending) return;
    renderPending = true;
    requestAnimationFrame(() => { renderPending = false; renderLog(true); });
  }

  function renderLog(follow) {
    const pre = $('#log-content');
    const atEnd = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
    log.dirty = false;
    pre.textContent = '';
    const q = log.search;
    let hits = 0;
    if (!q) {
      pre.textContent = log.text;
    } else {
      const lower = log.text.toLowerCase();
      const ql = q.toLowerCase();
      const frag = document.createDocumentFragment();
      let i = 0;
      for (;;) {
        const j = lower.indexOf(ql, i);
        if (j < 0) break;
        frag.append(document.createTextNode(log.text.slice(i, j)));
        const m = document.createElement('mark');
        m.textContent = log.text.slice(j, j + q.length);
        frag.append(m);
        hits++;
        i = j + q.length;
      }
      frag.append(document.createTextNode(log.text.slice(i)));
      pre.append(frag);
    }
    setText($('#log-hits'), q ? `${hits} match${hits === 1 ? '' : 'es'}` : '');
    if (q && log.hit >= 0) markHit(false);
    else if (follow && atEnd) pre.scrollTop = pre.scrollHeight;
  }

  function markHit(scroll) {
    const marks = $$('#log-content mark');
    if (!marks.length) return;
    if (log.hit >= marks.length) log.hit = 0;
    marks.forEach((m, i) => m.classList.toggle('cur', i === log.hit));
    if (scroll) marks[log.hit].scrollIntoView({ block: 'center' });
  }

  function togglePause() {
    log.paused = !log.paused;
    const b = $('#log-pause');
    b.setAttribute('aria-pressed', log.paused ? 'true' : 'false');
    b.textContent = log.paused ? 'Follow' : 'Pause';
    if (!log.paused) {
      log.backlog = 0;
      setLogStatus('following');
      renderLog(false);
      const pre = $('#log-content');
      pre.scrollTop = pre.scrollHeight;
    } else {
      setLogStatus('paused');
    }
  }

  async function clearLog() {
    const label = log.ns === '' ? 'the main log' : `the logs of ${log.ns}`;
    if (!(await confirmDialog(`Clear ${label}?`, 'Clear'))) return;
    try {
      if (log.ns === '') await api('POST', '/mainlog/clear');
      else await api('POST', `/processes/${enc(log.ns)}/clear`);
      toast(`Cleared ${label}`);
      restartLog();
    } catch (e) {
      toast(`clear: ${e.message}`, true);
    }
  }

  // --------------------------------------------------------- live table

  let events = null;
  function connect() {
    if (events) events.close();
    const es = new EventSource('/api/v1/events');
    events = es;
    es.addEventListener('sync', (e) => { setLive(true); applySync(JSON.parse(e.data)); });
    es.addEventListener('update', (e) => applyUpdate(JSON.parse(e.data)));
    es.addEventListener('stats', (e) => applyStats(JSON.parse(e.data)));
    es.addEventListener('error', () => {
      setLive(false);
      // The browser retries by itself unless the server refused outright.
      if (es.readyState === EventSource.CLOSED) setTimeout(() => { if (events === es) connect(); }, 3000);
    });
  }

  // ------------------------------------------------------------ wiring

  function wire() {
    $('#rows').addEventListener('click', (e) => {
      const tr = e.target.closest('tr');
      if (!tr) return;
      const ns = tr.dataset.ns;
      select(ns);
      const grp = e.target.closest('.grp');
      if (grp) { openMenu(grp, `group ${grp.dataset.group}`, groupItems(grp.dataset.group)); return; }
      const btn = e.target.closest('button[data-act]');
      if (!btn) return;
      const act = btn.dataset.act;
      if (act === 'tail') openLog(ns, 'stdout');
      else if (act === 'more') moreMenu(btn, ns);
      else processAction(ns, act, undefined, btn);
    });
    $('#rows').addEventListener('dblclick', (e) => {
      const tr = e.target.closest('tr');
      if (tr && !e.target.closest('button')) openLog(tr.dataset.ns, 'stdout');
    });
    $('thead').addEventListener('click', (e) => {
      const th = e.target.closest('th[data-sort]');
      if (!th) return;
      const key = th.dataset.sort;
      ui.sort = { key, dir: ui.sort.key === key ? -ui.sort.dir : 1 };
      for (const h of $$('th[data-sort]')) h.removeAttribute('aria-sort');
      th.setAttribute('aria-sort', ui.sort.dir > 0 ? 'ascending' : 'descending');
      render();
    });
    $('#chips').addEventListener('click', (e) => {
      const b = e.target.closest('.chip');
      if (!b) return;
      const s = b.dataset.state;
      if (s === 'ALL') ui.states.clear();
      else if (ui.states.has(s)) ui.states.delete(s);
      else ui.states.add(s);
      render();
    });
    $('#filter').addEventListener('input', (e) => { ui.filter = e.target.value.trim(); render(); });
    for (const b of $$('[data-all]')) b.addEventListener('click', () => allAction(b.dataset.all));
    $('#btn-update').addEventListener('click', updateDialog);
    $('#diff-apply').addEventListener('click', applyUpdateConfig);
    $('#btn-mainlog').addEventListener('click', () => openLog('', 'stdout'));
    $('#btn-help').addEventListener('click', () => $('#dlg-help').showModal());
    $('#log-close').addEventListener('click', closeLog);
    $('#log-pause').addEventListener('click', togglePause);
    $('#log-clear').addEventListener('click', clearLog);
    $('#log-tabs').addEventListener('click', (e) => {
      const t = e.target.closest('[data-channel]');
      if (t && log.ns) openLog(log.ns, t.dataset.channel);
    });
    $('#log-history').addEventListener('change', (e) => { log.history = Number(e.target.value); restartLog(); });
    $('#log-search').addEventListener('input', (e) => { log.search = e.target.value; log.hit = -1; renderLog(false); });
    $('#log-search').addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      const n = $$('#log-content mark').length;
      if (!n) return;
      log.hit = e.shiftKey ? (log.hit <= 0 ? n - 1 : log.hit - 1) : (log.hit + 1) % n;
      markHit(true);
    });
    document.addEventListener('click', (e) => {
      if (!$('#menu').hidden && !e.target.closest('#menu') && !e.target.closest('[data-act="more"]') && !e.target.closest('.grp')) closeMenu();
    });
    document.addEventListener('keydown', onKey);
  }

  function onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.querySelector('dialog[open]')) return; // dialogs handle their own keys
    if (e.key === 'Escape') {
      if (!$('#menu').hidden) { closeMenu(); return; }
      if (typing(e)) { e.target.blur(); if (e.target.id === 'filter' && ui.filter) { e.target.value = ''; ui.filter = ''; render(); } return; }
      if (log.ns !== null) { closeLog(); return; }
      if (ui.filter) { $('#filter').value = ''; ui.filter = ''; render(); }
      return;
    }
    if (typing(e)) return;
    const p = ui.sel ? ui.procs.get(ui.sel) : null;
    switch (e.key) {
      case '/': e.preventDefault(); $('#filter').focus(); $('#filter').select(); break;
      case 'j': case 'ArrowDown': e.preventDefault(); moveSel(1); break;
      case 'k': case 'ArrowUp': e.preventDefault(); moveSel(-1); break;
      case 'Enter': if (p && !e.target.closest('button, a')) { e.preventDefault(); openLog(p.namespec, 'stdout'); } break;
      case 's': if (p) processAction(p.namespec, 'start'); break;
      case 'x': if (p) processAction(p.namespec, 'stop'); break;
      case 'r': if (p) processAction(p.namespec, 'restart'); break;
      case 'e': if (log.ns) openLog(log.ns, log.channel === 'stdout' ? 'stderr' : 'stdout'); break;
      case 'm': if (ui.sup && ui.sup.mainlog) openLog('', 'stdout'); break;
      case 'p': if (log.ns !== null) togglePause(); break;
      case '?': $('#dlg-help').showModal(); break;
      default: return;
    }
  }

  // Uptimes tick locally; the server is only asked when something changes.
  setInterval(() => {
    for (const [ns, tr] of ui.rows) {
      const p = ui.procs.get(ns);
      if (p && p.pid) setText($('.uptime', tr), p.start ? fmtUptime(nowServer() - p.start) : '–');
    }
  }, 1000);

  // adopt starts from the page the server rendered: its rows, and the same
  // snapshot as JSON (#boot), so that the table never starts empty and no
  // row is drawn twice; the events stream's first sync then updates it.
  function adopt() {
    const el = $('#boot');
    let boot = null;
    try { boot = el && JSON.parse(el.textContent); } catch (_) { /* rendered without data */ }
    if (!boot) { $('#rows').textContent = ''; return; } // the first sync draws them
    renderSupervisor(boot.supervisor);
    for (const p of boot.processes) upsert(p);
    seedStats(boot.processes);
    for (const n of Array.from($('#rows').childNodes)) if (n.nodeType !== Node.ELEMENT_NODE) n.remove();
    for (const tr of $$('#rows > tr')) {
      const p = ui.procs.get(tr.dataset.ns);
      if (!p || ui.rows.has(p.namespec)) { tr.remove(); continue; }
      ui.rows.set(p.namespec, tr);
      adoptRow(tr, p);
    }
    render();
  }

  // The page keeps what only the script uses out of the drawn document
  // (#js-ui), and the table's notices that the server had no use for.
  function insertUI() {
    const tpl = $('#js-ui');
    if (tpl) { tpl.insertAdjacentHTML('beforebegin', tpl.textContent); tpl.remove(); }
    const wrap = $('.tablewrap');
    for (const [id, text] of [['empty', 'No programs to manage.'], ['nomatch', 'No process matches the filter.']]) {
      if ($('#' + id)) continue;
      const p = document.createElement('p');
      p.className = 'empty';
      p.id = id;
      p.hidden = true;
      p.textContent = text;
      wrap.append(p);
    }
  }

  insertUI();
  wire();
  adopt();
  renderChips();
  connect();
  // The table is the script's from here on (tests wait for this).
  document.documentElement.dataset.script = 'on';
})();
