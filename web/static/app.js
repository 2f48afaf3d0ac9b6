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
    heads: new Map(),   // group → its section's header <tr>
    collapsed: new Set(loadCollapsed()), // groups whose sections are folded
  };

  // Restarts in ten minutes that make a process flapping (page.go flapMin).
  const FLAP_MIN = 3;

  function loadCollapsed() {
    try { return JSON.parse(localStorage.getItem('gosupervisor.collapsed') || '[]'); } catch (_) { return []; }
  }

  function saveCollapsed() {
    try { localStorage.setItem('gosupervisor.collapsed', JSON.stringify([...ui.collapsed])); } catch (_) { /* private mode */ }
  }

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
    // With [user:NAME] users the API names the caller's role; app.css hides
    // the buttons it does not allow (the stream's updates leave it out).
    if (sup.role) ui.role = document.documentElement.dataset.role = sup.role;
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
    // A running process's uptime ticks here as in the Uptime column, so
    // that the text stays what getProcessInfo says at this moment.
    if (p.statename === 'RUNNING' && p.pid && p.start && /^pid \d+, uptime /.test(p.description)) {
      return `pid ${p.pid}, uptime ${timedelta(nowServer() - p.start)}`;
    }
    return p.description;
  }

  // timedelta is Python's str(timedelta) of whole seconds, as the
  // original's descriptions write uptimes: "0:00:25", "1 day, 2:03:04".
  function timedelta(sec) {
    sec = Math.max(0, Math.floor(sec));
    const days = Math.floor(sec / 86400), rest = sec % 86400;
    const hms = `${Math.floor(rest / 3600)}:${String(Math.floor(rest / 60) % 60).padStart(2, '0')}:${String(rest % 60).padStart(2, '0')}`;
    if (days === 0) return hms;
    return `${days} day${days === 1 ? '' : 's'}, ${hms}`;
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
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'pname';
    b.dataset.act = 'detail';
    b.textContent = p.name;
    td.append(b);
    td.title = nameTitle(p);
    updateFlap(td, p);
  }

  function flapTitle(n) { return `flapping: ${n} restarts in the last 10 minutes`; }

  // updateFlap keeps the flapping badge after the name: restarts of the
  // last ten minutes, from the engine's record of state changes.
  function updateFlap(td, p) {
    const n = p.recent_restarts || 0;
    let fb = $('.flap', td);
    if (n < FLAP_MIN) { if (fb) fb.remove(); return; }
    if (!fb) {
      fb = document.createElement('span');
      fb.className = 'flap';
      td.append(fb);
    }
    if (fb.dataset.flaps !== String(n)) {
      fb.dataset.flaps = String(n);
      fb.textContent = '↻' + n;
      fb.title = flapTitle(n);
    }
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
    if (name.title !== nameTitle(p) || !$('.pname', name)) fillName(name, p);
    else updateFlap(name, p);
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
    const list = sectionOrder(Array.from(ui.procs.values()).sort(compare));
    const secs = sections();
    for (const p of list) { const s = secs.get(p.group); if (s && !s.first) s.first = p; }
    let shown = 0;
    let prev = null;
    const place = (tr) => {
      const want = prev ? prev.nextSibling : tbody.firstChild;
      if (want !== tr) tbody.insertBefore(tr, want);
      prev = tr;
    };
    for (const p of list) {
      const sec = secs.get(p.group);
      if (sec && sec.first === p) {
        let head = ui.heads.get(p.group);
        if (!head) { head = makeHead(p.group); ui.heads.set(p.group, head); }
        renderHead(head, sec);
        place(head);
      }
      let tr = ui.rows.get(p.namespec);
      if (!tr) {
        tr = makeRow(p.namespec);
        ui.rows.set(p.namespec, tr);
        updateRow(tr, p);
      }
      place(tr);
      const match = matches(p);
      const vis = match && !(sec && ui.collapsed.has(p.group));
      if (tr.hidden === vis) tr.hidden = !vis;
      if (match) shown++;
    }
    for (const [ns, tr] of ui.rows) {
      if (!ui.procs.has(ns)) { tr.remove(); ui.rows.delete(ns); }
    }
    for (const [g, head] of ui.heads) {
      if (!secs.has(g)) { head.remove(); ui.heads.delete(g); }
    }
    // Room for health badges only when some process has a check.
    $('#procs').classList.toggle('has-health', list.some((p) => p.health));
    $('#empty').hidden = ui.procs.size !== 0;
    $('#nomatch').hidden = ui.procs.size === 0 || shown !== 0;
    if (ui.sel && (!ui.rows.has(ui.sel) || ui.rows.get(ui.sel).hidden)) select(null);
    renderChips();
  }

  // Groups whose processes are named apart from the group ([group:x],
  // numprocs) are drawn as sections with a header (page.go groupHeads).
  function sections() {
    const out = new Map();
    for (const p of ui.procs.values()) if (p.name !== p.group) out.set(p.group, { first: null, count: 0, running: 0, match: 0 });
    return out;
  }

  // sectionOrder keeps each group's processes together, the groups in the
  // order of their first process in the sorted list; the sections'
  // counts are filled in on the way.
  function sectionOrder(list) {
    const byGroup = new Map();
    for (const p of list) {
      if (!byGroup.has(p.group)) byGroup.set(p.group, []);
      byGroup.get(p.group).push(p);
    }
    return [...byGroup.values()].flat();
  }

  function makeHead(group) {
    const tr = document.createElement('tr');
    tr.className = 'ghead';
    tr.dataset.group = group;
    fillHead(tr, group);
    return tr;
  }

  // fillHead draws a section's header: the fold button, the summary and
  // the group's actions (the server's header has only the first two).
  function fillHead(tr, group) {
    tr.innerHTML = '<td colspan="9"><div class="ghead-in">' +
      '<button type="button" class="gtoggle" aria-expanded="true"><span class="chev" aria-hidden="true">▾</span><span class="gname"></span></button>' +
      '<span class="gmeta"></span><span class="gacts">' +
      '<button type="button" class="btn" data-gact="start">Start group</button>' +
      '<button type="button" class="btn" data-gact="stop">Stop group</button>' +
      '<button type="button" class="btn" data-gact="restart">Restart group</button></span></div></td>';
    $('.gname', tr).textContent = group;
  }

  function headMeta(count, running) {
    return `${count === 1 ? '1 process' : count + ' processes'} · ${running} running`;
  }

  function renderHead(tr, sec) {
    const g = tr.dataset.group;
    let count = 0, running = 0, match = 0;
    for (const p of ui.procs.values()) {
      if (p.group !== g) continue;
      count++;
      if (p.statename === 'RUNNING') running++;
      if (matches(p)) match++;
    }
    sec.count = count;
    setText($('.gmeta', tr), headMeta(count, running));
    const folded = ui.collapsed.has(g);
    const t = $('.gtoggle', tr);
    if (t.getAttribute('aria-expanded') !== String(!folded)) t.setAttribute('aria-expanded', String(!folded));
    t.title = folded ? `Show the processes of ${g}` : `Hide the processes of ${g}`;
    setText($('.chev', tr), folded ? '▸' : '▾');
    tr.classList.toggle('folded', folded);
    const vis = match > 0;
    if (tr.hidden === vis) tr.hidden = !vis;
  }

  function toggleSection(group) {
    if (ui.collapsed.has(group)) ui.collapsed.delete(group);
    else ui.collapsed.add(group);
    saveCollapsed();
    render();
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
    if (det.ns) detailChanged();
  }

  function applyUpdate(d) {
    renderSupervisor(d.supervisor);
    for (const p of d.processes) upsert(p);
    seedStats(d.processes);
    render();
    if (log.ns && d.processes.some((p) => p.namespec === log.ns)) renderLogTitle();
    if (det.ns && d.processes.some((p) => p.namespec === det.ns)) detailChanged();
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
    const vis = $$('#rows tr[data-ns]').filter((tr) => !tr.hidden);
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
    if (ui.role === 'readonly') items = items.filter(([label]) => !/^(Send signal|Clear log|Start |Stop |Restart )/.test(label));
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
    // Clearing the main log (the audit trail) is an admin's, a process's an operator's.
    $('#log-clear').hidden = ns === '' ? Boolean(ui.role) && ui.role !== 'admin' : ui.role === 'readonly';
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

  // ------------------------------------------------------------ details

  // The process detail view: CPU and memory over the last hour, the state
  // changes (the engine's history of the process), its health,
  // dependencies and resolved config. Opened from the name, or by
  // #process=NAMESPEC in the address.
  const det = {
    ns: null,       // namespec shown; null = closed
    hist: null,     // the last /history answer
    cfg: null,      // the last /config answer
    timer: 0,
    seq: 0,         // answers of an earlier process are dropped
    refetch: 0,
  };

  const HOUR = 3600;
  const STATE_CLASS = {
    RUNNING: 'ok', STARTING: 'warn', BACKOFF: 'warn', STOPPING: 'warn',
    STOPPED: 'idle', EXITED: 'idle', FATAL: 'bad', UNKNOWN: 'bad',
  };

  function openDetail(ns) {
    if (!ui.procs.has(ns)) return;
    det.ns = ns;
    det.hist = null;
    det.cfg = null;
    det.seq++;
    const panel = $('#detail');
    panel.hidden = false;
    panel.scrollTop = 0;
    $('#det-body').scrollTop = 0;
    renderDetail();
    loadHistory();
    loadConfig();
    clearInterval(det.timer);
    // The samples come every 5 s; reading them keeps the sampler going.
    det.timer = setInterval(loadHistory, 5000);
    if (location.hash !== '#process=' + enc(ns)) history.replaceState(null, '', '#process=' + enc(ns));
    $('#det-close').focus({ preventScroll: true });
  }

  function closeDetail() {
    clearInterval(det.timer);
    det.ns = null;
    det.seq++;
    $('#detail').hidden = true;
    if (location.hash.startsWith('#process=')) history.replaceState(null, '', location.pathname + location.search);
  }

  async function loadHistory() {
    const ns = det.ns, seq = det.seq;
    if (ns === null) return;
    try {
      const h = await api('GET', `/processes/${enc(ns)}/history`);
      if (seq !== det.seq) return;
      det.hist = h;
      renderHistory();
    } catch (e) {
      if (seq === det.seq) setText($('#chart-note'), `history: ${e.message}`);
    }
  }

  async function loadConfig() {
    const ns = det.ns, seq = det.seq;
    try {
      const c = await api('GET', `/processes/${enc(ns)}/config`);
      if (seq !== det.seq) return;
      det.cfg = c;
      renderConfig();
    } catch (e) {
      if (seq === det.seq) setText($('#det-config'), `config: ${e.message}`);
    }
  }

  // A state change of the process shown: its history has a new entry.
  function detailChanged() {
    renderDetail();
    clearTimeout(det.refetch);
    det.refetch = setTimeout(loadHistory, 100);
  }

  function fact(dl, label, value, cls) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = value;
    if (cls) dd.className = cls;
    if (cls && cls.includes('wide')) dt.className = 'wide';
    dl.append(dt, dd);
    return dd;
  }

  function lastExit() {
    const ts = det.hist ? det.hist.transitions : [];
    for (let i = ts.length - 1; i >= 0; i--) if (ts[i].exitstatus !== undefined) return ts[i];
    return null;
  }

  function exitText(t) {
    if (t.signal) return t.signal;
    return `exit ${t.exitstatus}`;
  }

  // renderDetail draws what the process JSON says (the table's data).
  function renderDetail() {
    const p = ui.procs.get(det.ns);
    if (!p) { closeDetail(); return; }
    setText($('#det-name'), p.namespec);
    const b = $('#det-state');
    b.dataset.state = p.statename;
    setText(b, p.statename);
    const flap = $('#det-flap');
    const n = p.recent_restarts || 0;
    flap.hidden = n < FLAP_MIN;
    setText(flap, `flapping · ${n} restarts in 10 min`);
    const toggle = $('#detail [data-dact="toggle"]');
    toggle.dataset.verb = STARTABLE.has(p.statename) ? 'start' : 'stop';
    setText(toggle, toggle.dataset.verb === 'start' ? 'Start' : 'Stop');
    toggle.disabled = p.statename === 'STOPPING' || p.statename === 'UNKNOWN';
    $('#detail [data-dact="restart"]').disabled = p.statename === 'STOPPING';

    const dl = $('#det-facts');
    dl.textContent = '';
    fact(dl, 'pid', p.pid || '–');
    fact(dl, 'uptime', p.pid && p.start ? fmtUptime(nowServer() - p.start) : '–').id = 'det-uptime';
    fact(dl, 'restarts', p.restarts);
    fact(dl, 'in 10 min', n, n >= FLAP_MIN ? 'bad' : '');
    const le = lastExit();
    fact(dl, 'last exit', le ? `${exitText(le)} · ${fmtClock(le.time)}` : (p.stop ? `exit ${p.exitstatus}` : '–'),
      le && !le.expected ? 'bad' : '');
    fact(dl, 'description', describe(p) || '–', p.spawnerr ? 'bad wide' : 'wide');

    const hs = $('#det-health');
    hs.hidden = !p.health;
    if (p.health) {
      const h = p.health;
      const hdl = $('dl', hs);
      hdl.textContent = '';
      const st = fact(hdl, 'status', h.status);
      st.className = 'health ' + h.status;
      fact(hdl, 'check', `${h.kind} ${h.target}`);
      fact(hdl, 'failures', h.failures);
      fact(hdl, 'last check', h.last_check ? fmtClock(h.last_check) : 'not yet');
      if (h.last_error) fact(hdl, 'last error', h.last_error, 'bad wide');
      if (h.output) fact(hdl, 'output', h.output, 'mono wide');
    }
    const ds = $('#det-deps');
    const deps = p.depends_on || [];
    ds.hidden = !deps.length;
    if (deps.length) {
      const ddl = $('dl', ds);
      ddl.textContent = '';
      fact(ddl, 'depends on', deps.join(', '));
      const w = p.waiting_for || [];
      fact(ddl, 'waiting for', w.length ? w.join(', ') : 'nothing', w.length ? 'warn' : '');
    }
  }

  function fmtClock(sec) {
    const d = new Date(sec * 1000);
    const two = (x) => String(x).padStart(2, '0');
    return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  }

  function fmtClockMs(sec) {
    return fmtClock(sec) + '.' + String(Math.floor((sec * 1000) % 1000)).padStart(3, '0');
  }

  const SVGNS = 'http://www.w3.org/2000/svg';
  function svgEl(name, attrs) {
    const el = document.createElementNS(SVGNS, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  }

  // sparkline draws values ([time, value]) over the last hour in svg:
  // a line broken where samples are missing, the area under it, and the
  // largest value as the scale. The data stays on the element for tests.
  // chartSpan is the time the charts cover: the last hour, or less while
  // the samples are younger (at least 5 minutes), so that a new console
  // does not draw a sliver at the right edge.
  function chartSpan(samples, now) {
    const first = samples.length ? samples[0].time : now;
    return Math.min(HOUR, Math.max(300, now - first + 2 * (det.hist ? det.hist.sample_every : 5)));
  }

  function sparkline(svg, points, now, every, fmt, span) {
    const W = 600, H = 90, PAD = 4;
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.textContent = '';
    const t0 = now - span;
    const max = Math.max(...points.map((p) => p[1]), 0);
    const scale = max > 0 ? max : 1;
    const x = (t) => ((t - t0) / span) * W;
    const y = (v) => H - PAD - (v / scale) * (H - 2 * PAD);
    let line = '', area = '';
    let run = [];
    const flush = () => {
      if (!run.length) return;
      line += run.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)} ${y(p[1]).toFixed(1)}`).join('');
      if (run.length === 1) line += `h2`;
      area += `M${x(run[0][0]).toFixed(1)} ${H}` + run.map((p) => `L${x(p[0]).toFixed(1)} ${y(p[1]).toFixed(1)}`).join('') +
        `L${x(run[run.length - 1][0]).toFixed(1)} ${H}Z`;
      run = [];
    };
    for (const p of points) {
      if (p[0] < t0) continue;
      if (run.length && p[0] - run[run.length - 1][0] > 2.5 * every) flush();
      run.push(p);
    }
    flush();
    for (const f of [0.25, 0.5, 0.75]) svg.append(svgEl('line', { x1: W * f, x2: W * f, y1: 0, y2: H, class: 'grid' }));
    svg.append(svgEl('path', { d: area || 'M0 0', class: 'area' }));
    svg.append(svgEl('path', { d: line || 'M0 0', class: 'line' }));
    svg.dataset.values = JSON.stringify(points.map((p) => p[1]));
    svg.dataset.times = JSON.stringify(points.map((p) => p[0]));
    svg.dataset.max = String(max);
    const fig = svg.closest('figure');
    const last = points.length ? points[points.length - 1][1] : null;
    setText($('.cur', fig), last === null ? 'no samples' : `${fmt(last)} · max ${fmt(max)}`);
  }

  function renderHistory() {
    const h = det.hist;
    if (!h) return;
    const samples = h.samples || [];
    const span = chartSpan(samples, h.now);
    sparkline($('#chart-cpu svg'), samples.map((s) => [s.time, s.cpu]), h.now, h.sample_every, (v) => v.toFixed(1) + '%', span);
    sparkline($('#chart-mem svg'), samples.map((s) => [s.time, s.rss]), h.now, h.sample_every, fmtBytes, span);
    const ax = $$('#det-axis span');
    for (let i = 0; i < ax.length; i++) {
      const ago = Math.round((span * (ax.length - 1 - i)) / (ax.length - 1) / 60);
      setText(ax[i], i === ax.length - 1 ? 'now' : `−${ago} min`);
    }
    const fds = samples.length ? samples[samples.length - 1].fds : null;
    let note = samples.length ? `${samples.length} samples, every ${h.sample_every} s` : 'No samples yet: they are taken every ' + h.sample_every + ' s while the console is open.';
    if (fds != null) note += ` · ${fds} open files`;
    setText($('#chart-note'), note);
    renderTimeline(h);
    renderDetail();
  }

  // renderTimeline draws the state changes: a strip of coloured spans
  // (one per state, exits marked; a crash loop shows as a comb of red
  // marks) and the list, newest first.
  function renderTimeline(h) {
    const ts = h.transitions || [];
    const svg = $('#tl-strip');
    const W = 600, H = 28;
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.textContent = '';
    const now = h.now;
    const first = ts.length ? ts[0].time : now;
    const t0 = Math.max(now - HOUR, Math.min(first - 2, now - 60));
    const span = now - t0;
    const x = (t) => Math.max(0, ((t - t0) / span) * W);
    for (let i = 0; i < ts.length; i++) {
      const a = ts[i], end = i + 1 < ts.length ? ts[i + 1].time : now;
      if (end < t0) continue;
      const cls = a.to === 'EXITED' && !a.expected ? 'bad' : STATE_CLASS[a.to] || 'idle';
      svg.append(svgEl('rect', { x: x(a.time).toFixed(2), y: 6, width: Math.max(0.6, x(end) - x(a.time)).toFixed(2), height: H - 12, class: 'st ' + cls }));
    }
    let crashes = 0;
    for (const a of ts) {
      if (a.exitstatus === undefined || a.time < t0) continue;
      const bad = !a.expected || a.to === 'BACKOFF';
      if (bad) crashes++;
      svg.append(svgEl('line', { x1: x(a.time).toFixed(2), x2: x(a.time).toFixed(2), y1: 0, y2: H, class: 'exit' + (bad ? ' bad' : '') }));
    }
    svg.dataset.crashes = String(crashes);
    svg.dataset.from = String(t0);
    setText($('#tl-span'), `${fmtClock(t0)} – ${fmtClock(now)}`);
    const ol = $('#tl-list');
    ol.textContent = '';
    for (let i = ts.length - 1; i >= 0; i--) {
      const a = ts[i];
      const li = document.createElement('li');
      li.dataset.from = a.from;
      li.dataset.to = a.to;
      const tm = document.createElement('time');
      tm.textContent = fmtClockMs(a.time);
      const ch = document.createElement('span');
      ch.className = 'chg';
      const to = document.createElement('span');
      to.className = 'to st-' + (STATE_CLASS[a.to] || 'idle');
      to.textContent = a.to;
      ch.append(document.createTextNode(a.from + ' → '), to);
      li.append(tm, ch);
      if (a.exitstatus !== undefined) {
        li.dataset.exit = a.signal || String(a.exitstatus);
        const ex = document.createElement('span');
        ex.className = 'exitcode' + (!a.expected || a.to === 'BACKOFF' ? ' bad' : '');
        ex.textContent = exitText(a);
        li.append(ex);
      }
      if (a.spawnerr) {
        const se = document.createElement('span');
        se.className = 'why';
        se.textContent = a.spawnerr;
        li.append(se);
      }
      ol.append(li);
    }
    if (!ts.length) {
      const li = document.createElement('li');
      li.className = 'none';
      li.textContent = 'No state changes recorded.';
      ol.append(li);
    }
  }

  // The config keys in the order a config file usually has them; the rest
  // follow by name.
  const CFG_ORDER = ['command', 'directory', 'uid', 'autostart', 'startsecs', 'startretries', 'exitcodes',
    'stopsignal', 'stopwaitsecs', 'killasgroup', 'redirect_stderr', 'stdout_logfile', 'stderr_logfile'];
  const CFG_SKIP = new Set(['name', 'group', 'inuse']);

  function renderConfig() {
    const dl = $('#det-config');
    dl.textContent = '';
    const c = det.cfg;
    if (!c) return;
    const keys = Object.keys(c.config).filter((k) => !CFG_SKIP.has(k));
    keys.sort((a, b) => {
      const ia = CFG_ORDER.indexOf(a), ib = CFG_ORDER.indexOf(b);
      if (ia !== ib) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
      return a < b ? -1 : a > b ? 1 : 0;
    });
    const show = (v) => Array.isArray(v) ? v.join(',') : typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
    for (const k of keys) fact(dl, k, show(c.config[k]), k === 'command' ? 'mono wide' : 'mono').previousSibling.dataset.key = k;
    for (const k of Object.keys(c.extensions).sort()) {
      const dd = fact(dl, k, show(c.extensions[k]), 'mono ours');
      dd.previousSibling.dataset.key = k;
      dd.previousSibling.classList.add('ours');
      dd.title = 'gosupervisor extension';
    }
  }

  async function detailAction(verb, btn) {
    if (!det.ns) return;
    if (verb === 'tail') { openLog(det.ns, 'stdout'); return; }
    await processAction(det.ns, verb, undefined, btn);
    detailChanged();
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
      if (tr.classList.contains('ghead')) {
        const g = tr.dataset.group;
        const ga = e.target.closest('[data-gact]');
        if (ga) multiAction(`/groups/${enc(g)}/${ga.dataset.gact}`, `${g}: ${ga.dataset.gact}`);
        else if (e.target.closest('.gtoggle')) toggleSection(g);
        return;
      }
      const ns = tr.dataset.ns;
      select(ns);
      const grp = e.target.closest('.grp');
      if (grp) { openMenu(grp, `group ${grp.dataset.group}`, groupItems(grp.dataset.group)); return; }
      const btn = e.target.closest('button[data-act]');
      if (!btn) return;
      const act = btn.dataset.act;
      if (act === 'tail') openLog(ns, 'stdout');
      else if (act === 'detail') openDetail(ns);
      else if (act === 'more') moreMenu(btn, ns);
      else processAction(ns, act, undefined, btn);
    });
    $('#rows').addEventListener('dblclick', (e) => {
      const tr = e.target.closest('tr');
      if (tr && tr.dataset.ns && !e.target.closest('button')) openLog(tr.dataset.ns, 'stdout');
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
    $('#det-close').addEventListener('click', closeDetail);
    $('#detail').addEventListener('click', (e) => {
      const b = e.target.closest('[data-dact]');
      if (b) detailAction(b.dataset.dact === 'toggle' ? b.dataset.verb : b.dataset.dact, b);
    });
    window.addEventListener('hashchange', openFromHash);
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
      if (det.ns !== null) { closeDetail(); return; }
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
      case 'd': if (p) openDetail(p.namespec); break;
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
      if (p && p.statename === 'RUNNING') {
        const desc = $('.desc', tr), text = describe(p);
        setText(desc, text);
        if (desc.title !== text) desc.title = text;
      }
    }
    const du = det.ns && $('#det-uptime');
    const dp = du && ui.procs.get(det.ns);
    if (dp) setText(du, dp.pid && dp.start ? fmtUptime(nowServer() - dp.start) : '–');
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
    for (const tr of $$('#rows > tr.ghead')) {
      const g = tr.dataset.group;
      if (ui.heads.has(g)) { tr.remove(); continue; }
      ui.heads.set(g, tr); // the server draws it as fillHead does
    }
    for (const tr of $$('#rows > tr[data-ns]')) {
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

  function openFromHash() {
    const m = /^#process=(.+)$/.exec(location.hash);
    if (m && ui.procs.has(decodeURIComponent(m[1]))) openDetail(decodeURIComponent(m[1]));
  }

  insertUI();
  wire();
  adopt();
  renderChips();
  connect();
  openFromHash();
  // The table is the script's from here on (tests wait for this).
  document.documentElement.dataset.script = 'on';
})();
