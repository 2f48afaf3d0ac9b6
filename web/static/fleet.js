// gosupervisor web console: the fleet view (EXTENSIONS.md §8), loaded only
// when the config has [remote:NAME] sections. Every node's processes in one
// table, from /api/v1/fleet/events (a sync, then the nodes that changed);
// actions go through /api/v1/fleet/{node}/…, which the server proxies with
// the original's XML-RPC methods. A node that does not answer only makes
// its own rows stale: the page never waits for it.
'use strict';
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const enc = encodeURIComponent;
  const STATES = ['RUNNING', 'STARTING', 'BACKOFF', 'STOPPING', 'STOPPED', 'EXITED', 'FATAL', 'UNKNOWN'];
  const STARTABLE = new Set(['STOPPED', 'EXITED', 'FATAL']);
  const DONE = { start: 'started', stop: 'stopped', restart: 'restarted' };
  // app.js's keys that act on the local table's selection: not in this view.
  const LOCAL_KEYS = new Set(['j', 'k', 'ArrowDown', 'ArrowUp', 'Enter', 'd', 's', 'x', 'r', 'e', 'p']);

  const fl = {
    order: [],          // node names, local first
    nodes: new Map(),   // name → node JSON (+ skew: node seconds − local seconds)
    rows: new Map(),    // row key → <tr>
    sections: new Map(), // node name → its rows' section
    node: '',           // the node filter ('' = all)
    states: new Set(),  // state chips switched on (empty = all)
    filter: '',
  };

  // ------------------------------------------------------------ helpers

  function setText(el, text) {
    text = String(text);
    if (el.textContent !== text) el.textContent = text;
  }

  function fmtUptime(sec) {
    sec = Math.max(0, Math.floor(sec));
    const d = Math.floor(sec / 86400);
    const h = String(Math.floor(sec / 3600) % 24).padStart(2, '0');
    const m = String(Math.floor(sec / 60) % 60).padStart(2, '0');
    const s = String(sec % 60).padStart(2, '0');
    return d > 0 ? `${d}d ${h}:${m}` : `${h}:${m}:${s}`;
  }

  // The original's description of a running process, its uptime ticking.
  function describe(n, p) {
    if (p.statename === 'RUNNING' && p.start && /^pid \d+, uptime /.test(p.description)) {
      const up = Math.max(0, Math.floor(Date.now() / 1000 + n.skew - p.start));
      const d = Math.floor(up / 86400), rest = up % 86400;
      const hms = `${Math.floor(rest / 3600)}:${String(Math.floor(rest / 60) % 60).padStart(2, '0')}:${String(rest % 60).padStart(2, '0')}`;
      return `pid ${p.pid}, uptime ${d ? `${d} day${d === 1 ? '' : 's'}, ` : ''}${hms}`;
    }
    return p.description;
  }

  function toast(msg, isErr) {
    const box = $('#toasts');
    if (!box) return;
    const el = document.createElement('div');
    el.className = 'toast' + (isErr ? ' err' : '');
    el.textContent = msg;
    box.append(el);
    setTimeout(() => el.remove(), isErr ? 7000 : 3500);
  }

  async function post(path) {
    const r = await fetch('/api/v1/fleet' + path, { method: 'POST', headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    let data = null;
    try { data = await r.json(); } catch (_) { /* not JSON */ }
    if (!r.ok) throw new Error(data && data.error ? data.error.message : `${r.status} ${r.statusText}`);
    return data;
  }

  const namespec = (p) => (p.group === p.name ? p.name : `${p.group}:${p.name}`);
  const isUp = (n) => n.state === 'up';

  // ------------------------------------------------------------ view

  function showView(view) {
    const fleet = view === 'fleet';
    document.documentElement.dataset.view = fleet ? 'fleet' : 'local';
    $('#fleet').hidden = !fleet;
    $('#tab-local').setAttribute('aria-selected', String(!fleet));
    $('#tab-fleet').setAttribute('aria-selected', String(fleet));
    const want = fleet ? '#fleet' : '';
    if (fleet ? location.hash !== want : location.hash === '#fleet') {
      history.replaceState(null, '', want || location.pathname + location.search);
    }
  }

  // ------------------------------------------------------------ nodes

  function nodeMeta(n) {
    if (!isUp(n) && n.error) return n.error;
    if (n.state === 'connecting') return 'connecting…';
    const running = n.processes.filter((p) => p.statename === 'RUNNING').length;
    const kind = n.kind === 'supervisor' ? 'supervisor' : (n.kind || '?');
    return `${kind} ${n.version || ''} · ${running}/${n.processes.length} running`;
  }

  function renderCards() {
    const box = $('#fleet-nodes');
    const want = [['', null], ...fl.order.map((name) => [name, fl.nodes.get(name)])];
    while (box.children.length > want.length) box.lastChild.remove();
    want.forEach(([name, n], i) => {
      let b = box.children[i];
      if (!b) {
        b = document.createElement('button');
        b.type = 'button';
        b.className = 'ncard';
        b.innerHTML = '<span class="dot"></span><span class="nname"></span><span class="nst"></span><span class="nmeta"></span>';
        box.append(b);
      }
      b.dataset.node = name;
      b.setAttribute('aria-pressed', String(fl.node === name));
      if (!n) {
        const all = fl.order.map((x) => fl.nodes.get(x));
        const up = all.filter(isUp).length;
        b.dataset.nstate = up === all.length ? 'up' : up ? 'partial' : 'unreachable';
        setText($('.nname', b), 'All nodes');
        setText($('.nst', b), `${up}/${all.length} up`);
        const procs = all.reduce((s, x) => s + x.processes.length, 0);
        setText($('.nmeta', b), `${procs} processes`);
        return;
      }
      b.dataset.nstate = n.state;
      setText($('.nname', b), n.name);
      b.title = `${n.name}${n.url ? ' · ' + n.url : ' (this daemon)'}${n.error ? '\n' + n.error : ''}`;
      setText($('.nst', b), n.state);
      setText($('.nmeta', b), nodeMeta(n));
    });
    const down = fl.order.filter((x) => !isUp(fl.nodes.get(x))).length;
    const sum = $('#fleet-sum');
    setText(sum, `${fl.order.length} nodes${down ? ` · ${down} down` : ''}`);
    sum.classList.toggle('bad', down > 0);
  }

  function renderChips() {
    const box = $('#fleet-chips');
    const counts = {};
    let total = 0;
    for (const name of fl.order) {
      if (fl.node && fl.node !== name) continue;
      for (const p of fl.nodes.get(name).processes) { counts[p.statename] = (counts[p.statename] || 0) + 1; total++; }
    }
    if (!box.children.length) {
      box.innerHTML = ['ALL', ...STATES].map((s) =>
        `<button type="button" class="chip" data-state="${s}" aria-pressed="false">${s === 'ALL' ? '' : '<span class="sw"></span>'}<span class="l">${s === 'ALL' ? 'All' : s[0] + s.slice(1).toLowerCase()}</span> <span class="n"></span></button>`).join('');
    }
    for (const b of box.children) {
      const s = b.dataset.state, n = s === 'ALL' ? total : (counts[s] || 0);
      setText($('.n', b), n);
      b.dataset.zero = n ? '0' : '1';
      b.setAttribute('aria-pressed', String(s === 'ALL' ? fl.states.size === 0 : fl.states.has(s)));
    }
  }

  // ------------------------------------------------------------ rows

  const COLS = '<colgroup><col class="c-node"><col class="c-state"><col class="c-name"><col class="c-pid"><col class="c-uptime"><col class="c-desc"><col class="c-factions"></colgroup>';
  const NODE_CELL = '<td class="node"><span class="nn"></span><span class="nst" hidden></span></td>';
  // One row is parsed once and cloned: thousands of rows come in one sync.
  const ROW = document.createElement('template');
  ROW.innerHTML = '<table><tbody><tr>' + NODE_CELL + '<td class="state"><span class="badge"></span></td><td class="name"></td>' +
    '<td class="num pid" data-label="pid"></td><td class="num uptime" data-label="up"></td><td class="desc"></td>' +
    '<td class="actions-c"><div class="actions"><button type="button" class="btn" data-act="start">Start</button>' +
    '<button type="button" class="btn" data-act="restart">Restart</button></div></td></tr></tbody></table>';
  const ROW_TR = ROW.content.querySelector('tr');

  function row(key, make) {
    let tr = fl.rows.get(key);
    if (!tr) { tr = make(); fl.rows.set(key, tr); }
    tr.dataset.used = '1';
    return tr;
  }

  // The node's name, and its state when it is not up (text, not colour
  // alone: the rows are its last known ones).
  function nodeCell(td, n) {
    if (td.dataset.nstate === n.state && td.firstChild.textContent === n.name) return;
    td.dataset.nstate = n.state;
    setText(td.firstChild, n.name);
    const st = td.lastChild;
    st.hidden = isUp(n);
    setText(st, n.state);
    td.title = isUp(n) ? n.name : `${n.name}: ${n.state}${n.error ? ' (' + n.error + ')' : ''}`;
  }

  function procRow(n, p, sectioned) {
    const ns = namespec(p);
    const tr = row(`p\u0000${n.name}\u0000${ns}`, () => {
      const t = ROW_TR.cloneNode(true);
      t.dataset.node = n.name;
      t.dataset.fns = ns;
      const c = t.cells;
      t.fc = { node: c[0], badge: c[1].firstChild, name: c[2], pid: c[3], uptime: c[4], desc: c[5], toggle: c[6].firstChild.firstChild, restart: c[6].firstChild.lastChild };
      return t;
    });
    const c = tr.fc, up = isUp(n);
    tr.dataset.state = p.statename;
    tr.fleetProc = [n, p]; // for the uptime ticker
    tr.classList.toggle('stale', !up);
    nodeCell(c.node, n);
    c.badge.dataset.state = p.statename;
    setText(c.badge, p.statename);
    setText(c.name, sectioned || p.group === p.name ? p.name : ns);
    c.name.title = `${n.name}:${ns}`;
    setText(c.pid, p.pid || '–');
    setText(c.uptime, p.pid && p.start ? fmtUptime(Date.now() / 1000 + n.skew - p.start) : '–');
    const text = describe(n, p);
    setText(c.desc, text);
    c.desc.title = text;
    c.desc.classList.toggle('err', p.statename === 'FATAL' || p.statename === 'BACKOFF' || !!p.spawnerr);
    const verb = STARTABLE.has(p.statename) ? 'start' : 'stop';
    c.toggle.dataset.act = verb;
    setText(c.toggle, verb === 'start' ? 'Start' : 'Stop');
    c.toggle.disabled = !up || p.statename === 'STOPPING' || p.statename === 'UNKNOWN';
    c.restart.disabled = !up || p.statename === 'STOPPING';
    return tr;
  }

  function headRow(n, group, procs) {
    const tr = row(`g\u0000${n.name}\u0000${group}`, () => {
      const t = document.createElement('tr');
      t.className = 'ghead';
      t.dataset.node = n.name;
      t.dataset.group = group;
      t.innerHTML = '<td colspan="7"><div class="ghead-in"><span class="gname"></span><span class="gmeta"></span><span class="gacts">' +
        '<button type="button" class="btn" data-gact="start">Start group</button><button type="button" class="btn" data-gact="stop">Stop group</button>' +
        '<button type="button" class="btn" data-gact="restart">Restart group</button></span></div></td>';
      return t;
    });
    setText($('.gname', tr), `${n.name} · ${group}`);
    const running = procs.filter((p) => p.statename === 'RUNNING').length;
    setText($('.gmeta', tr), `${procs.length} process${procs.length === 1 ? '' : 'es'} · ${running} running`);
    for (const b of tr.querySelectorAll('[data-gact]')) b.disabled = !isUp(n);
    return tr;
  }

  // A node without processes to show: why (connecting, unreachable, none).
  function msgRow(n) {
    const tr = row(`m\u0000${n.name}`, () => {
      const t = document.createElement('tr');
      t.className = 'nodemsg';
      t.dataset.node = n.name;
      t.innerHTML = NODE_CELL + '<td class="msg" colspan="6"></td>';
      return t;
    });
    tr.dataset.nstate = n.state;
    nodeCell($('.node', tr), n);
    setText($('.msg', tr), isUp(n) ? 'no programs' : n.state === 'connecting' ? 'connecting…' : `${n.state}${n.error ? ': ' + n.error : ''}`);
    return tr;
  }

  function matches(n, p) {
    if (fl.states.size && !fl.states.has(p.statename)) return false;
    if (!fl.filter) return true;
    const q = fl.filter.toLowerCase();
    return n.name.toLowerCase().includes(q) || namespec(p).toLowerCase().includes(q) || (p.description || '').toLowerCase().includes(q);
  }

  // The rows of one node, in the original's order, groups of processes
  // named apart from the group under a header with the group actions.
  function nodeRows(n, out) {
    const procs = n.processes.filter((p) => matches(n, p));
    if (!n.processes.length) {
      if (!fl.states.size && (!fl.filter || n.name.toLowerCase().includes(fl.filter.toLowerCase()))) out.push(msgRow(n));
      return;
    }
    const sectioned = new Set(n.processes.filter((p) => p.name !== p.group).map((p) => p.group));
    let group = null;
    for (const p of procs) {
      if (sectioned.has(p.group) && p.group !== group) out.push(headRow(n, p.group, n.processes.filter((q) => q.group === p.group)));
      group = p.group;
      out.push(procRow(n, p, sectioned.has(p.group)));
    }
  }

  // Each node's rows are a table of their own (same columns) in a section
  // that the browser lays out only near the screen (content-visibility):
  // thousands of rows cost what the visible ones do.
  function section(name) {
    let sec = fl.sections.get(name);
    if (!sec) {
      sec = document.createElement('div');
      sec.className = 'fsec';
      sec.dataset.node = name;
      sec.innerHTML = `<table class="procs fleet-procs">${COLS}<tbody></tbody></table>`;
      fl.sections.set(name, sec);
    }
    return sec;
  }

  function sameChildren(el, want) {
    if (el.children.length !== want.length) return false;
    for (let i = 0; i < want.length; i++) if (el.children[i] !== want[i]) return false;
    return true;
  }

  function render() {
    for (const tr of fl.rows.values()) tr.dataset.used = '';
    const secs = [];
    let count = 0;
    for (const name of fl.order) {
      if (fl.node && fl.node !== name) continue;
      const out = [];
      nodeRows(fl.nodes.get(name), out);
      if (!out.length) continue;
      const sec = section(name), body = sec.querySelector('tbody');
      if (!sameChildren(body, out)) body.replaceChildren(...out);
      sec.style.containIntrinsicSize = `auto ${out.length * 41}px`;
      secs.push(sec);
      count += out.length;
    }
    for (const [key, tr] of fl.rows) if (!tr.dataset.used) { tr.remove(); fl.rows.delete(key); }
    for (const name of fl.sections.keys()) if (!fl.nodes.has(name)) fl.sections.delete(name);
    const box = $('#fleet-rows');
    if (!sameChildren(box, secs)) box.replaceChildren(...secs);
    $('#fleet-empty').hidden = count > 0;
    renderCards();
    renderChips();
  }

  // ------------------------------------------------------------ live data

  function apply(nodes, sync) {
    const now = Date.now() / 1000;
    if (sync) { fl.order = []; fl.nodes.clear(); }
    for (const n of nodes) {
      const p0 = n.processes.find((p) => p.now);
      const old = fl.nodes.get(n.name);
      n.skew = p0 ? p0.now - now : (old ? old.skew : 0);
      if (!fl.nodes.has(n.name)) fl.order.push(n.name);
      fl.nodes.set(n.name, n);
    }
    if (fl.node && !fl.nodes.has(fl.node)) fl.node = '';
    render();
    document.documentElement.dataset.fleet = 'on'; // tests wait for the first sync
  }

  let events = null;
  function connect() {
    if (events) events.close();
    const es = new EventSource('/api/v1/fleet/events');
    events = es;
    es.addEventListener('sync', (e) => apply(JSON.parse(e.data).nodes, true));
    es.addEventListener('update', (e) => apply(JSON.parse(e.data).nodes, false));
    es.addEventListener('error', () => {
      if (es.readyState === EventSource.CLOSED) setTimeout(() => { if (events === es) connect(); }, 3000);
    });
  }

  // ------------------------------------------------------------ actions

  async function act(btn, path, label, verb) {
    btn.classList.add('busy');
    try {
      const r = await post(path);
      const results = r.results || [...(r.stopped || []), ...(r.started || [])];
      const bad = results.filter((x) => x.status !== 80);
      if (bad.length) toast(`${label}: ${bad.map((x) => x.description).join('; ')}`, true);
      else toast(`${label}: ${DONE[verb]}`);
    } catch (e) {
      toast(`${label}: ${e.message}`, true);
    } finally {
      btn.classList.remove('busy');
    }
  }

  function wire() {
    $('#views').addEventListener('click', (e) => {
      const b = e.target.closest('[data-view]');
      if (b) showView(b.dataset.view);
    });
    $('#fleet-nodes').addEventListener('click', (e) => {
      const b = e.target.closest('.ncard');
      if (!b) return;
      fl.node = fl.node === b.dataset.node ? '' : b.dataset.node;
      render();
    });
    $('#fleet-chips').addEventListener('click', (e) => {
      const b = e.target.closest('.chip');
      if (!b) return;
      const s = b.dataset.state;
      if (s === 'ALL') fl.states.clear();
      else if (fl.states.has(s)) fl.states.delete(s);
      else fl.states.add(s);
      render();
    });
    $('#fleet-filter').addEventListener('input', (e) => { fl.filter = e.target.value.trim(); render(); });
    $('#fleet-rows').addEventListener('click', (e) => {
      const tr = e.target.closest('tr');
      const b = e.target.closest('button');
      if (!tr || !b || b.disabled) return;
      const node = tr.dataset.node;
      if (b.dataset.gact) {
        const g = tr.dataset.group;
        act(b, `/${enc(node)}/groups/${enc(g)}/${b.dataset.gact}`, `${node} · ${g}`, b.dataset.gact);
      } else if (b.dataset.act) {
        const ns = tr.dataset.fns;
        act(b, `/${enc(node)}/processes/${enc(ns)}/${b.dataset.act}`, `${node}:${ns}`, b.dataset.act);
      }
    });
    // Before app.js's keys, which act on the local table.
    window.addEventListener('keydown', (e) => {
      if (document.documentElement.dataset.view !== 'fleet' || e.ctrlKey || e.metaKey || e.altKey) return;
      if (document.querySelector('dialog[open]')) return;
      const f = $('#fleet-filter');
      if (e.key === 'Escape' && e.target === f) {
        e.stopImmediatePropagation();
        f.value = ''; fl.filter = ''; f.blur(); render();
      } else if (e.key === '/' && e.target !== f) {
        e.preventDefault(); e.stopImmediatePropagation();
        f.focus(); f.select();
      } else if (LOCAL_KEYS.has(e.key) && !(e.target instanceof HTMLInputElement)) {
        e.stopImmediatePropagation();
      }
    }, true);
    window.addEventListener('hashchange', () => showView(location.hash === '#fleet' ? 'fleet' : 'local'));
  }

  // Uptimes tick locally; the server only sends what changed.
  setInterval(() => {
    if (document.documentElement.dataset.view !== 'fleet') return;
    for (const tr of fl.rows.values()) {
      if (!tr.fleetProc) continue;
      const [n, p] = tr.fleetProc;
      if (!p.pid || !p.start) continue;
      setText(tr.fc.uptime, fmtUptime(Date.now() / 1000 + n.skew - p.start));
      if (p.statename === 'RUNNING') setText(tr.fc.desc, describe(n, p));
    }
  }, 1000);

  wire();
  showView(location.hash === '#fleet' ? 'fleet' : 'local');
  connect();
})();
