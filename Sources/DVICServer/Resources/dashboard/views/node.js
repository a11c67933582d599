// One node: charts with a time-range picker, the live log tail with full-text search
// over history, demos and containers, inventory, a command box and terminals.

import { h, clear, setText, fmtAgo, fmtTime, fmtBytes, fmtNumber, toMillis, RenderScheduler, pill, emptyRow, LEVELS, levelIndex } from '../util.js';
import { TimeChart } from '../charts.js';
import { KIND } from '../stream.js';
import { temperatureName } from '../fleet-state.js';
import { createCommandRunner } from '../commands.js';
import { createTerminalPanel } from '../terminal.js';

const RANGES = [
  { id: 'live', label: 'Live', since: '5m', step: '', live: true },
  { id: '1h', label: '1 h', since: '1h', step: '15s' },
  { id: '6h', label: '6 h', since: '6h', step: '1m' },
  { id: '24h', label: '24 h', since: '24h', step: '5m' },
  { id: '7d', label: '7 d', since: '7d', step: '30m' },
];
const LIVE_WINDOW_MS = 5 * 60 * 1000;
const MAX_LOG_LINES = 2000;

/** How to show a metric's values, from its name. */
export function metricFormat(name) {
  if (name === 'cpu.total' || name.startsWith('cpu.') || name.endsWith('_pct') || name.endsWith('.util')) {
    return { unit: '%', format: (v) => fmtNumber(v, 1), min: 0, max: 100, title: name === 'cpu.total' ? 'CPU' : name };
  }
  if (name.startsWith('mem.') || name.endsWith('.free') || name.endsWith('mem_used') || name === 'heap_free') {
    return { unit: '', format: (v) => fmtBytes(v), min: 0, title: name === 'mem.used' ? 'Memory used' : name };
  }
  if (name.startsWith('temp.') || name.endsWith('.temp') || name === 'temp_c') {
    return { unit: '°C', format: (v) => fmtNumber(v, 1), title: name === 'temp.cpu' || name === 'temp_c' ? 'Temperature' : name };
  }
  if (name.startsWith('net.') || name.startsWith('disk.io.')) {
    return { unit: '', format: (v) => `${fmtBytes(v)}/s`, min: 0, title: name };
  }
  if (name.startsWith('load.')) return { unit: '', format: (v) => fmtNumber(v, 2), min: 0, title: `Load ${name.slice(5)} min` };
  return { unit: '', format: (v) => fmtNumber(v, 2), title: name };
}

function defaultCharts(names) {
  const wanted = ['cpu.total', 'mem.used', temperatureName(names), 'load.1'];
  const net = names.find((n) => /^net\.(?!lo\.).+\.rx$/.test(n));
  if (net) wanted.push(net);
  const chosen = wanted.filter((n) => n && names.includes(n));
  // Devices (and odd agents) have other names: show what there is.
  for (const n of names) if (chosen.length < 4 && !chosen.includes(n)) chosen.push(n);
  return chosen;
}

export function createNodeView(ctx) {
  const { api, stream, fleet, navigate } = ctx;
  let nodeID = null;
  let detail = null;
  let root;
  let header;
  let tabBar;
  let body;
  const panels = new Map();
  let current = null;
  const subscriptions = [];
  const unlisten = [];
  const timers = [];
  let destroyed = false;

  const canOperate = api.can('operator');
  const TABS = [
    ['metrics', 'Metrics'],
    ['logs', 'Logs'],
    ['processes', 'Demos & containers'],
    ['inventory', 'Inventory'],
    ...(canOperate ? [['command', 'Run command'], ['terminal', 'Terminal']] : []),
  ];

  async function mount(container, params) {
    nodeID = params.id;
    root = h('section', { class: 'view node', dataset: { nodeId: nodeID } });
    header = h('header', { class: 'node-header' });
    tabBar = h('nav', { class: 'tabs', role: 'tablist' });
    body = h('div', { class: 'tab-body' });
    root.append(h('a', { href: '#/fleet', class: 'back' }, '← Fleet'), header, tabBar, body);
    container.appendChild(root);
    for (const [id, label] of TABS) {
      tabBar.appendChild(h('a', { href: `#/node/${encodeURIComponent(nodeID)}/${id}`, role: 'tab', dataset: { tab: id }, testid: `tab-${id}` }, label));
    }
    renderHeader();
    unlisten.push(fleet.onChange((ids) => {
      if (ids === null || ids.has(nodeID)) renderHeader();
    }));
    timers.push(setInterval(renderHeader, 5000));
    try {
      detail = await api.get(`/v1/nodes/${encodeURIComponent(nodeID)}`);
    } catch (error) {
      if (destroyed) return;
      clear(body).appendChild(h('div', { class: 'empty-note' }, error.status === 404 ? `No node ${nodeID}.` : `Could not load the node: ${error.message}`));
      return;
    }
    if (destroyed) return;
    if (detail.kind === 'device') {
      // A microcontroller only posts keepalives: no commands, no terminal.
      for (const id of ['command', 'terminal']) {
        const i = TABS.findIndex(([tab]) => tab === id);
        if (i >= 0) TABS.splice(i, 1);
        tabBar.querySelector(`[data-tab="${id}"]`)?.remove();
      }
    }
    renderHeader();
    show(params.tab || 'metrics');
  }

  function update(params) {
    if (params.id !== nodeID) return false;
    show(params.tab || 'metrics');
    return true;
  }

  function renderHeader() {
    if (!header) return;
    const live = fleet.nodes.get(nodeID);
    const node = live || detail;
    if (!node) {
      clear(header).appendChild(h('h2', {}, nodeID));
      return;
    }
    const status = live ? live.status : detail.status;
    const lastSeen = live ? live.lastSeen : toMillis(detail.lastSeen);
    const actions = h('div', { class: 'actions' });
    if (canOperate && node.kind !== 'device') {
      actions.appendChild(h('button', {
        type: 'button',
        class: 'primary',
        testid: 'open-terminal',
        disabled: status !== 'online',
        title: status === 'online' ? 'Open a terminal on this node' : 'The node is offline',
        onclick: async () => {
          history.replaceState(null, '', `#/node/${encodeURIComponent(nodeID)}/terminal`);
          show('terminal');
          await panels.get('terminal').terminal.open();
        },
      }, 'Open terminal'));
    }
    clear(header).append(
      h('div', { class: 'title' },
        h('span', { class: `dot ${status}` }),
        h('h2', {}, node.name),
        pill(status, status === 'online' ? 'good' : 'bad'),
        h('span', { class: 'muted', testid: 'agent-version', dataset: { version: node.agentVersion || '' } }, `${node.kind === 'device' ? 'device' : 'agent'} ${node.agentVersion || ''}`)),
      h('div', { class: 'facts' },
        h('span', {}, h('span', { class: 'muted' }, 'id '), nodeID),
        h('span', {}, h('span', { class: 'muted' }, 'last seen '), status === 'online' ? 'now' : `${fmtAgo(lastSeen)} (${fmtTime(lastSeen, true)})`),
        h('span', { class: 'tags' }, ...(node.tags || []).map((t) => h('a', { class: 'tag', href: `#/fleet?tag=${encodeURIComponent(t)}` }, t)))),
      actions,
    );
  }

  function show(tab) {
    if (!TABS.some(([id]) => id === tab)) tab = 'metrics';
    for (const a of tabBar.children) {
      a.classList.toggle('active', a.dataset.tab === tab);
      a.setAttribute('aria-selected', String(a.dataset.tab === tab));
    }
    if (current && panels.get(current)) panels.get(current).el.hidden = true;
    current = tab;
    let panel = panels.get(tab);
    if (!panel) {
      panel = makePanel(tab);
      panels.set(tab, panel);
      body.appendChild(panel.el);
    }
    panel.el.hidden = false;
    if (panel.shown) panel.shown();
  }

  function makePanel(tab) {
    switch (tab) {
      case 'metrics': return metricsPanel();
      case 'logs': return logsPanel();
      case 'processes': return processesPanel();
      case 'inventory': return inventoryPanel();
      case 'command': {
        const runner = createCommandRunner(ctx, { targets: () => ({ nodes: [nodeID] }) });
        return { el: h('div', { class: 'panel' }, h('p', { class: 'muted' }, `Runs with /bin/sh -c on ${detail.name}. Output, exit code and duration come back live.`), runner.el), shown: () => runner.focus(), destroy: () => runner.destroy() };
      }
      case 'terminal': {
        const terminal = createTerminalPanel(ctx, nodeID);
        let resumed = false;
        return {
          el: h('div', { class: 'panel' }, terminal.el),
          terminal,
          shown() {
            terminal.shown();
            if (!resumed) {
              resumed = true;
              terminal.resume();
            }
          },
          destroy: () => terminal.destroy(),
        };
      }
    }
    return { el: h('div') };
  }

  // ---- Metrics --------------------------------------------------------------------

  function metricsPanel() {
    let range = RANGES[0];
    let names = [];
    const charts = new Map();
    const grid = h('div', { class: 'chart-grid' });
    const picker = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time range', testid: 'range-picker' });
    const addSelect = h('select', { 'aria-label': 'Add a chart', onchange: (e) => {
      if (e.target.value) addChart(e.target.value, true);
      e.target.value = '';
    } });
    const latestTable = h('tbody');
    const note = h('div', { class: 'form-note' });
    for (const r of RANGES) {
      picker.appendChild(h('button', { type: 'button', dataset: { range: r.id }, class: r === range ? 'active' : '', onclick: () => setRange(r) }, r.label));
    }
    const el = h('div', { class: 'panel' },
      h('div', { class: 'toolbar' }, picker, addSelect, h('div', { class: 'spacer' }), note),
      grid,
      h('details', { class: 'latest' }, h('summary', {}, 'Every metric, latest value'),
        h('table', { class: 'kv' }, latestTable)));
    const scheduler = new RenderScheduler(() => {
      for (const chart of charts.values()) chart.render();
    }, 500);

    const sub = stream.subscribe({ kinds: KIND.metrics, nodes: [nodeID] });
    subscriptions.push(sub);
    unlisten.push(stream.on('metricPoints', (m) => {
      if (m.nodeID !== nodeID) return;
      for (const p of m.points) {
        if (detail) detail.metrics[p.name] = p.value;
        if (!names.includes(p.name)) {
          names.push(p.name);
          refreshAdd();
        }
        if (!range.live) continue;
        const chart = charts.get(p.name);
        if (chart) chart.append(Number(p.timestamp), p.value);
      }
      scheduler.schedule();
      renderLatestSoon();
    }));
    let latestTimer = null;
    function renderLatestSoon() {
      if (latestTimer) return;
      latestTimer = setTimeout(() => {
        latestTimer = null;
        renderLatest();
      }, 1000);
    }

    function renderLatest() {
      clear(latestTable);
      const entries = Object.entries(detail.metrics || {}).sort(([a], [b]) => a.localeCompare(b));
      if (!entries.length) latestTable.appendChild(emptyRow(2, 'No metrics yet.'));
      for (const [name, value] of entries) {
        const f = metricFormat(name);
        latestTable.appendChild(h('tr', {}, h('th', {}, name), h('td', {}, `${f.format(value)}${f.unit ? ' ' + f.unit : ''}`)));
      }
    }

    function refreshAdd() {
      clear(addSelect);
      addSelect.appendChild(h('option', { value: '' }, '+ Add a chart'));
      for (const n of names.slice().sort()) if (!charts.has(n)) addSelect.appendChild(h('option', { value: n }, n));
    }

    function addChart(name, load) {
      if (charts.has(name)) return;
      const f = metricFormat(name);
      const chart = new TimeChart({ title: f.title, unit: f.unit, format: f.format, min: f.min ?? null, max: f.max ?? null, keepMs: range.live ? LIVE_WINDOW_MS : null });
      chart.element.dataset.metric = name;
      const remove = h('button', { type: 'button', class: 'chart-remove', title: 'Remove this chart', onclick: () => {
        chart.destroy();
        chart.element.remove();
        charts.delete(name);
        refreshAdd();
      } }, '×');
      chart.element.querySelector('figcaption').appendChild(remove);
      charts.set(name, chart);
      grid.appendChild(chart.element);
      refreshAdd();
      if (load) loadChart(name, chart);
    }

    async function loadChart(name, chart) {
      try {
        const series = await api.get(`/v1/nodes/${encodeURIComponent(nodeID)}/metrics`, { name, since: range.since, step: range.step });
        const points = series.points.map(([t, v]) => [toMillis(t), v]);
        // Live points that came while the history was on its way are kept.
        const newer = chart.points.filter((p) => !points.length || p[0] > points[points.length - 1][0]);
        chart.setData(points.concat(newer));
        chart.keepMs = range.live ? LIVE_WINDOW_MS : null;
        scheduler.schedule();
      } catch (error) {
        setText(note, `${name}: ${error.message}`);
      }
    }

    function setRange(r) {
      range = r;
      for (const b of picker.children) b.classList.toggle('active', b.dataset.range === r.id);
      for (const [name, chart] of charts) loadChart(name, chart);
    }

    (async () => {
      try {
        const answer = await api.get(`/v1/nodes/${encodeURIComponent(nodeID)}/metrics`);
        for (const n of answer.names || []) if (!names.includes(n)) names.push(n);
      } catch {
        names = Object.keys(detail.metrics || {});
      }
      if (!names.length) names = Object.keys(detail.metrics || {});
      const chosen = defaultCharts(names);
      if (!chosen.length) setText(note, 'No metrics from this node yet; charts appear as they come.');
      for (const n of chosen) addChart(n, true);
      refreshAdd();
      renderLatest();
    })();

    return {
      el,
      shown: () => scheduler.schedule(),
      destroy() {
        scheduler.stop();
        clearTimeout(latestTimer);
        for (const chart of charts.values()) chart.destroy();
      },
    };
  }

  // ---- Logs -----------------------------------------------------------------------

  function logsPanel() {
    let level = 'trace';
    let streamKey = '';
    let mode = 'live';
    let follow = true;
    const seen = new Set();
    const streams = new Set();
    let queue = [];
    const list = h('div', { class: 'log-list', testid: 'log-list', role: 'log', 'aria-live': 'off' });
    const status = h('div', { class: 'log-status' });
    const levelSelect = h('select', { 'aria-label': 'Lowest level', testid: 'log-level', onchange: (e) => {
      level = e.target.value;
      restartLive();
    } }, ...LEVELS.map((l) => h('option', { value: l }, l === 'trace' ? 'All levels' : `${l} and above`)));
    const streamSelect = h('select', { 'aria-label': 'Stream', onchange: (e) => {
      streamKey = e.target.value;
      if (mode === 'live') restartLive();
      else search();
    } });
    const query = h('input', { type: 'search', placeholder: 'Search all history (full text)', testid: 'log-search', 'aria-label': 'Search logs' });
    const searchForm = h('form', { class: 'inline', onsubmit: (e) => {
      e.preventDefault();
      if (query.value.trim()) search();
      else restartLive();
    } }, query, h('button', { type: 'submit' }, 'Search'));
    const liveButton = h('button', { type: 'button', hidden: true, onclick: () => {
      query.value = '';
      restartLive();
    } }, 'Back to live tail');
    const followBox = h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: true, onchange: (e) => {
      follow = e.target.checked;
      if (follow) list.scrollTop = list.scrollHeight;
    } }), 'Follow');
    const el = h('div', { class: 'panel logs' },
      h('div', { class: 'toolbar' }, levelSelect, streamSelect, searchForm, liveButton, h('div', { class: 'spacer' }), followBox),
      status,
      list);
    const sub = stream.subscribe({ kinds: 0, nodes: [nodeID] });
    subscriptions.push(sub);
    const scheduler = new RenderScheduler(flush, 100);

    function refreshStreams() {
      const keys = [...streams].sort();
      if (streamSelect.dataset.key === keys.join('|')) return;
      streamSelect.dataset.key = keys.join('|');
      clear(streamSelect);
      streamSelect.appendChild(h('option', { value: '' }, 'All streams'));
      for (const k of keys) streamSelect.appendChild(h('option', { value: k }, k));
      streamSelect.value = streamKey;
    }

    function line(entry) {
      const text = entry.text;
      return h('div', { class: `log-line level-${entry.level}`, testid: 'log-line', dataset: { level: entry.level, stream: entry.stream, seq: String(entry.seq) } },
        h('time', { datetime: new Date(entry.ts).toISOString() }, fmtTime(entry.ts)),
        h('span', { class: 'lvl' }, entry.level.toUpperCase()),
        h('span', { class: 'stream', title: entry.stream }, shortStream(entry.stream)),
        h('span', { class: 'text' }, mode === 'search' ? highlight(text, query.value) : text));
    }

    function flush() {
      if (!queue.length) return;
      const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
      const fragment = document.createDocumentFragment();
      for (const entry of queue) fragment.appendChild(line(entry));
      queue = [];
      list.appendChild(fragment);
      while (list.childElementCount > MAX_LOG_LINES) list.firstElementChild.remove();
      if (follow && (atBottom || list.childElementCount < 50)) list.scrollTop = list.scrollHeight;
      setText(status, mode === 'live' ? `Live · ${list.childElementCount} lines shown${level !== 'trace' ? ` · ${level} and above` : ''}` : status.textContent);
    }

    function add(entry) {
      const key = `${entry.stream}#${entry.seq}`;
      if (seen.has(key)) return;
      seen.add(key);
      if (seen.size > 20000) seen.clear();
      if (!streams.has(entry.stream)) {
        streams.add(entry.stream);
        refreshStreams();
      }
      queue.push(entry);
      scheduler.schedule();
    }

    unlisten.push(stream.on('logEntries', (m) => {
      if (m.nodeID !== nodeID || mode !== 'live') return;
      if (streamKey && m.streamKey !== streamKey) return;
      for (const e of m.entries) {
        if (levelIndex(e.severity) < levelIndex(level)) continue;
        add({ stream: m.streamKey, seq: Number(e.seq), ts: Number(e.timestamp), level: e.severity, text: e.text });
      }
    }));

    async function restartLive() {
      mode = 'live';
      liveButton.hidden = true;
      clear(list);
      seen.clear();
      queue = [];
      sub.update({ kinds: KIND.logs, nodes: [nodeID], minSeverity: level });
      setText(status, 'Loading recent lines…');
      try {
        const { entries } = await api.get('/v1/logs', { node: nodeID, level: level === 'trace' ? '' : level, stream: streamKey, limit: 300 });
        if (mode !== 'live') return;
        const history = entries.slice().reverse().map(fromREST);
        const live = queue;
        queue = [];
        for (const e of history) add(e);
        for (const e of live) if (!queue.includes(e)) queue.push(e);
        queue.sort((a, b) => a.ts - b.ts);
        flush();
        setText(status, `Live · ${list.childElementCount} lines shown${level !== 'trace' ? ` · ${level} and above` : ''}`);
      } catch (error) {
        setText(status, `History unavailable: ${error.message}`);
      }
    }

    async function search() {
      mode = 'search';
      liveButton.hidden = false;
      sub.update({ kinds: 0, nodes: [nodeID] });
      clear(list);
      seen.clear();
      queue = [];
      const q = query.value.trim();
      setText(status, `Searching for “${q}”…`);
      try {
        const { entries } = await api.get('/v1/logs', { node: nodeID, q, level: level === 'trace' ? '' : level, stream: streamKey, limit: 500 });
        if (mode !== 'search') return;
        for (const e of entries.slice().reverse()) add(fromREST(e));
        flush();
        setText(status, `${entries.length}${entries.length === 500 ? "+" : ""} line${entries.length === 1 ? "" : "s"} match “${q}” in the stored history`);
      } catch (error) {
        setText(status, `Search failed: ${error.message}`);
      }
    }

    restartLive();
    return { el, destroy: () => scheduler.stop() };
  }

  // ---- Demos and containers ------------------------------------------------------

  function processesPanel() {
    const demos = h('tbody');
    const containers = h('tbody');
    const el = h('div', { class: 'panel' },
      h('h3', {}, 'Demo processes'),
      h('table', { class: 'list', testid: 'demo-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Demo'), h('th', {}, 'State'), h('th', { class: 'num' }, 'PID'), h('th', {}, 'Log stream'), h('th', {}, ''))),
        demos),
      h('h3', {}, 'Containers'),
      h('table', { class: 'list', testid: 'container-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Image'), h('th', {}, 'State'), h('th', { class: 'num' }, 'CPU'), h('th', { class: 'num' }, 'Memory'), h('th', {}, 'Id'))),
        containers));
    // demoStates come through the fleet's subscription (every node, on change).
    let liveDemos = null;
    unlisten.push(stream.on('demoStates', (m) => {
      if (m.nodeID !== nodeID) return;
      liveDemos = m.processes;
      renderDemos();
    }));

    function renderDemos() {
      clear(demos);
      const list = liveDemos
        ? liveDemos.map((p) => ({ name: p.name, pid: p.pid, state: p.state, key: p.key, changedAt: Number(p.changedAt) }))
        : (fleet.nodes.get(nodeID)?.demos || detail.demos || []);
      if (!list.length) demos.appendChild(emptyRow(5, 'No demo process has written a dvic log file on this node.'));
      for (const d of list.slice().sort((a, b) => a.name.localeCompare(b.name))) {
        demos.appendChild(h('tr', { class: d.state === 'exited' ? 'bad' : '' },
          h('td', {}, d.name),
          h('td', {}, pill(d.state, d.state === 'running' ? 'good' : 'bad')),
          h('td', { class: 'num' }, String(d.pid)),
          h('td', { class: 'mono' }, d.key || '—'),
          h('td', {}, d.key ? h('a', { href: `#/node/${encodeURIComponent(nodeID)}/logs`, onclick: () => setTimeout(() => {
            const select = body.querySelector('.logs select[aria-label="Stream"]');
            if (select) {
              select.value = d.key;
              select.dispatchEvent(new Event('change'));
            }
          }, 50) }, 'logs') : '')));
      }
    }

    function renderContainers(list) {
      clear(containers);
      if (!list.length) containers.appendChild(emptyRow(6, 'No containers (or no Docker) on this node.'));
      for (const c of list) {
        containers.appendChild(h('tr', { class: c.state === 'running' ? '' : 'muted-row' },
          h('td', {}, c.name),
          h('td', { class: 'mono' }, c.image),
          h('td', {}, pill(c.state, c.state === 'running' ? 'good' : 'warn')),
          h('td', { class: 'num' }, `${(c.cpuPermille / 10).toFixed(1)}%`),
          h('td', { class: 'num' }, fmtBytes(c.memoryBytes)),
          h('td', { class: 'mono' }, c.id.slice(0, 12))));
      }
    }

    async function refresh() {
      try {
        detail = { ...detail, ...(await api.get(`/v1/nodes/${encodeURIComponent(nodeID)}`)) };
        renderContainers(detail.containers || []);
        if (!liveDemos) renderDemos();
      } catch {
        // Shown again on the next tick.
      }
    }
    renderDemos();
    renderContainers(detail.containers || []);
    timers.push(setInterval(() => {
      if (current === 'processes') refresh();
    }, 10000));
    return { el, shown: refresh };
  }

  // ---- Inventory ------------------------------------------------------------------

  function inventoryPanel() {
    const tbody = h('tbody');
    const el = h('div', { class: 'panel' }, h('table', { class: 'kv inventory', testid: 'inventory' }, tbody));
    function render() {
      clear(tbody);
      const entries = Object.entries(detail.inventory || {}).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
      if (!entries.length) tbody.appendChild(emptyRow(2, 'The node has not sent its inventory yet.'));
      // Prefixes with several keys (cpu., net., os.) get a heading; the rest is "system".
      const groups = new Map([['system', []]]);
      const prefix = (key) => (key.includes('.') ? key.split('.')[0] : '');
      const counts = new Map();
      for (const [key] of entries) counts.set(prefix(key), (counts.get(prefix(key)) || 0) + 1);
      for (const entry of entries) {
        const p = prefix(entry[0]);
        const g = p && counts.get(p) > 1 ? p : 'system';
        if (!groups.has(g)) groups.set(g, []);
        groups.get(g).push(entry);
      }
      for (const [group, list] of groups) {
        if (!list.length) continue;
        tbody.appendChild(h('tr', { class: 'group' }, h('th', { colspan: '2' }, group)));
        for (const [key, value] of list) {
          const shown = key.endsWith('_bytes') && Number.isFinite(Number(value)) ? `${fmtBytes(Number(value))} (${value})` : value;
          tbody.appendChild(h('tr', {}, h('th', {}, key), h('td', { class: 'mono' }, shown)));
        }
      }
    }
    render();
    return {
      el,
      async shown() {
        try {
          detail = { ...detail, ...(await api.get(`/v1/nodes/${encodeURIComponent(nodeID)}`)) };
          render();
        } catch {
          // Keeps what it had.
        }
      },
    };
  }

  function unmount() {
    destroyed = true;
    timers.forEach(clearInterval);
    unlisten.forEach((fn) => fn());
    subscriptions.forEach((s) => s.close());
    for (const panel of panels.values()) if (panel.destroy) panel.destroy();
    panels.clear();
    root = null;
    header = null;
  }

  return { mount, update, unmount, title: 'Node' };
}

function fromREST(e) {
  return { stream: e.stream, seq: Number(e.seq), ts: toMillis(e.ts), level: e.level, text: e.text };
}

function shortStream(key) {
  if (key.startsWith('demo:')) return 'demo';
  if (key.startsWith('file:')) return key.slice(5).split('/').pop();
  if (key.startsWith('container:')) return 'container';
  return key;
}

function highlight(text, q) {
  const words = q.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  if (!words.length) return text;
  const pattern = new RegExp(`(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'giu');
  const parts = text.split(pattern);
  return parts.map((part, i) => (i % 2 ? h('mark', {}, part) : part));
}
