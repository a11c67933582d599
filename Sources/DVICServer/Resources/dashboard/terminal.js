// Terminals over the stream: ptyAttach (a new session, or joining one by id), then
// ptyInput / ptyOutput / ptyResize / ptyClose. xterm.js (Debian's node-xterm, bundled
// by tools/vendor-js) with its DOM renderer, so the text is in the page. Several
// sessions per node, as tabs; leaving the node keeps them open on the node, and they
// are joined again (with their scrollback) on return.

import { h, clear, setText, fmtTime, debounce } from './util.js';

const encoder = new TextEncoder();

export function terminalAvailable() {
  return !!(window.XTermModule && window.XTermModule.Terminal);
}

/** Sessions this page opened or joined, by node, so they can be joined again. */
const known = new Map();

export function createTerminalPanel(ctx, nodeID) {
  const { stream, api } = ctx;
  const sessions = new Map(); // sessionID → tab
  const pending = []; // {kind: 'open'|'join', sessionID?, resolve, reject}
  let active = null;
  const unlisten = [];
  let wasDown = false;

  const tabs = h('div', { class: 'term-tabs', role: 'tablist' });
  const joinSelect = h('select', { 'aria-label': 'Join a session', testid: 'terminal-join' });
  const message = h('div', { class: 'form-note' });
  const body = h('div', { class: 'term-body' });
  const newButton = h('button', { type: 'button', class: 'primary', testid: 'new-terminal', onclick: () => open() }, '+ New terminal');
  const el = h('div', { class: 'terminal-panel' },
    h('div', { class: 'term-bar' }, tabs, h('div', { class: 'spacer' }), joinSelect,
      h('button', { type: 'button', onclick: () => joinSelect.value && join(joinSelect.value) }, 'Join'), newButton),
    message,
    body);

  if (!terminalAvailable()) {
    newButton.disabled = true;
    setText(message, 'The terminal needs xterm.js: run tools/vendor-js (it installs node-xterm and esbuild from Debian and bundles it into .build-vendor), then reload.');
  }

  unlisten.push(
    stream.on('ptyAttached', (m) => {
      if (m.nodeID !== nodeID) return;
      const index = pending.findIndex((p) => (p.kind === 'join' ? p.sessionID === m.sessionID : true));
      if (index < 0) return;
      const [request] = pending.splice(index, 1);
      request.resolve(m);
    }),
    stream.on('ptyOutput', (m) => {
      const tab = sessions.get(m.sessionID);
      if (tab) tab.write(m.data);
    }),
    stream.on('ptyClose', (m) => {
      const tab = sessions.get(m.sessionID);
      if (tab) tab.ended(m.reason, m.exitCode);
      const list = known.get(nodeID);
      if (list) list.delete(m.sessionID);
    }),
    stream.on('state', (state) => {
      // A new connection is a new viewer to the server: join the open sessions again
      // (their scrollback repaints what was missed).
      if (state !== 'live') {
        wasDown = true;
        return;
      }
      if (!wasDown) return;
      wasDown = false;
      for (const tab of sessions.values()) if (tab.alive) rejoin(tab);
    }),
    stream.on('error', (m) => {
      if (!pending.length || !['forbidden', 'not_found', 'unavailable', 'busy'].includes(m.code)) return;
      const request = pending.shift();
      request.reject(new Error(m.message || m.code));
    }),
  );

  const onResize = debounce(() => {
    if (active) active.fit();
  }, 120);
  window.addEventListener('resize', onResize);

  function request(kind, sessionID) {
    return new Promise((resolve, reject) => {
      const entry = { kind, sessionID, resolve, reject };
      pending.push(entry);
      setTimeout(() => {
        const i = pending.indexOf(entry);
        if (i >= 0) {
          pending.splice(i, 1);
          reject(new Error('the server did not answer'));
        }
      }, 10000);
    });
  }

  async function open() {
    if (!terminalAvailable()) return;
    setText(message, '');
    const size = estimateSize();
    const attached = request('open');
    if (!stream.send({ type: 'ptyAttach', nodeID, sessionID: '', rows: size.rows, cols: size.cols, argv: [] })) {
      pending.length = 0;
      setText(message, 'Not connected to the server; try again in a moment.');
      return;
    }
    try {
      const m = await attached;
      addTab(m.sessionID, m.scrollback, 'opened here');
    } catch (error) {
      setText(message, `No terminal: ${error.message}`);
    }
  }

  async function join(sessionID) {
    if (!terminalAvailable()) return;
    if (sessions.has(sessionID)) {
      select(sessions.get(sessionID));
      return;
    }
    setText(message, '');
    const size = estimateSize();
    const attached = request('join', sessionID);
    stream.send({ type: 'ptyAttach', nodeID, sessionID, rows: size.rows, cols: size.cols, argv: [] });
    try {
      const m = await attached;
      addTab(m.sessionID, m.scrollback, 'joined');
    } catch (error) {
      setText(message, `Could not join ${sessionID}: ${error.message}`);
      known.get(nodeID)?.delete(sessionID);
    }
  }

  async function rejoin(tab) {
    const attached = request('join', tab.sessionID);
    stream.send({ type: 'ptyAttach', nodeID, sessionID: tab.sessionID, rows: tab.term.rows, cols: tab.term.cols, argv: [] });
    try {
      const m = await attached;
      tab.term.reset();
      if (m.scrollback && m.scrollback.length) tab.write(m.scrollback);
      tab.lastSize = '';
      tab.fit();
    } catch {
      tab.ended('lost while reconnecting', -1);
    }
  }

  function estimateSize() {
    const box = body.getBoundingClientRect();
    const cols = Math.max(20, Math.floor((box.width || 800) / 8.4) - 1);
    const rows = Math.max(5, Math.floor((Math.max(box.height, 360)) / 17));
    return { rows, cols };
  }

  function addTab(sessionID, scrollback, how) {
    if (!known.has(nodeID)) known.set(nodeID, new Set());
    known.get(nodeID).add(sessionID);
    const host = h('div', { class: 'term-host', testid: 'terminal', dataset: { sessionId: sessionID } });
    body.appendChild(host);
    const Terminal = window.XTermModule.Terminal;
    const term = new Terminal({
      rendererType: 'dom',
      cursorBlink: true,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: { background: '#0b0f16', foreground: '#d7dde8', cursor: '#7cc4ff', selection: 'rgba(124,196,255,0.3)' },
    });
    term.open(host);
    const decoder = new TextDecoder();
    const label = h('span', {}, `${sessionID}`);
    const close = h('button', { type: 'button', class: 'term-close', title: 'End this session for everyone', 'aria-label': 'End session' }, '×');
    const tabButton = h('div', { class: 'term-tab', role: 'tab', title: `${how} · ${sessionID}` }, label, close);
    tabs.appendChild(tabButton);
    const tab = {
      sessionID,
      term,
      host,
      tabButton,
      alive: true,
      lastSize: '',
      write(bytes) {
        term.write(decoder.decode(bytes, { stream: true }));
      },
      fit() {
        const size = fitTerminal(term);
        if (!size) return;
        host.dataset.cols = String(size.cols);
        host.dataset.rows = String(size.rows);
        const key = `${size.rows}x${size.cols}`;
        if (key !== tab.lastSize && tab.alive) {
          tab.lastSize = key;
          stream.send({ type: 'ptyResize', sessionID, rows: size.rows, cols: size.cols });
        }
      },
      ended(reason, exitCode) {
        if (!tab.alive) return;
        tab.alive = false;
        tabButton.classList.add('ended');
        term.write(`\r\n\x1b[2m[session ended${reason ? `: ${reason}` : ''}${Number(exitCode) >= 0 ? `, exit ${exitCode}` : ''}]\x1b[0m\r\n`);
      },
    };
    term.on('data', (data) => {
      if (tab.alive) stream.send({ type: 'ptyInput', sessionID, data: encoder.encode(data) });
    });
    tabButton.addEventListener('click', (e) => {
      if (e.target === close) return;
      select(tab);
    });
    close.addEventListener('click', () => {
      if (tab.alive) stream.send({ type: 'ptyClose', sessionID, exitCode: -1, reason: 'closed from the dashboard' });
      known.get(nodeID)?.delete(sessionID);
      removeTab(tab);
    });
    sessions.set(sessionID, tab);
    if (scrollback && scrollback.length) tab.write(scrollback);
    select(tab);
    refreshJoinable();
  }

  function select(tab) {
    active = tab;
    for (const t of sessions.values()) {
      t.host.hidden = t !== tab;
      t.tabButton.classList.toggle('active', t === tab);
      t.tabButton.setAttribute('aria-selected', String(t === tab));
    }
    requestAnimationFrame(() => {
      tab.fit();
      tab.term.focus();
    });
  }

  function removeTab(tab) {
    sessions.delete(tab.sessionID);
    tab.term.dispose();
    tab.host.remove();
    tab.tabButton.remove();
    if (active === tab) {
      active = null;
      const next = [...sessions.values()].pop();
      if (next) select(next);
    }
    refreshJoinable();
  }

  /** Open sessions on this node: from the audit log (opened, not yet closed). */
  async function refreshJoinable() {
    const choices = new Map();
    for (const id of known.get(nodeID) || []) if (!sessions.has(id)) choices.set(id, 'this page');
    if (api.can('operator')) {
      try {
        const { entries } = await api.get('/v1/audit', { limit: 1000, since: '7d' });
        const closed = new Set(entries.filter((e) => e.action === 'terminal.close').map((e) => e.detail.session));
        for (const e of entries) {
          if (e.action !== 'terminal.open' || e.target !== nodeID) continue;
          const id = e.detail.session;
          if (!id || closed.has(id) || sessions.has(id)) continue;
          choices.set(id, `${e.actor}, ${fmtTime(e.at, true)}`);
        }
      } catch {
        // The list is a convenience; joining by id still works.
      }
    }
    clear(joinSelect);
    joinSelect.appendChild(h('option', { value: '' }, choices.size ? `Join an open session (${choices.size})` : 'No other open session'));
    for (const [id, who] of choices) joinSelect.appendChild(h('option', { value: id }, `${id} — ${who}`));
    joinSelect.disabled = !choices.size;
  }

  return {
    el,
    open,
    join,
    shown() {
      refreshJoinable();
      if (active) requestAnimationFrame(() => active.fit());
    },
    async resume() {
      // Sessions opened earlier from this page: join them again.
      for (const id of [...(known.get(nodeID) || [])]) await join(id);
    },
    destroy() {
      window.removeEventListener('resize', onResize);
      unlisten.forEach((fn) => fn());
      for (const tab of sessions.values()) tab.term.dispose();
      sessions.clear();
    },
  };
}

/** xterm 3's fit addon, inlined: as many cells as the host holds. */
function fitTerminal(term) {
  const core = term._core;
  const parent = term.element && term.element.parentElement;
  if (!parent || !core || !core.renderer || !core.renderer.dimensions) return null;
  const width = parent.clientWidth;
  const height = parent.clientHeight;
  const cell = core.renderer.dimensions;
  if (!width || !height || !cell.actualCellWidth || !cell.actualCellHeight) return null;
  const scrollbar = core.viewport ? core.viewport.scrollBarWidth : 0;
  const cols = Math.max(2, Math.floor((width - scrollbar) / cell.actualCellWidth));
  const rows = Math.max(1, Math.floor(height / cell.actualCellHeight));
  if (term.cols !== cols || term.rows !== rows) {
    core.renderer.clear();
    term.resize(cols, rows);
  }
  return { cols, rows };
}
