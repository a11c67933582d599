// Commands: POST /v1/commands, then live commandProgress from the stream (the tracker
// keeps every command's events by id, so those that arrive before the POST answers are
// not lost), reconciled with GET /v1/commands/{id} at the start and the end.

import { h, clear, setText, setAttr, fmtDuration, pill, emptyRow } from './util.js';
import { KIND } from './stream.js';

const textDecoder = () => new TextDecoder();

export class CommandTracker {
  constructor(api, stream) {
    this.api = api;
    this.stream = stream;
    this.commands = new Map();
    this.order = [];
    this.subscription = null;
    this.unlisten = null;
  }

  start() {
    this.unlisten = this.stream.on('commandProgress', (m) => this.apply(m));
    this.subscription = this.stream.subscribe({ kinds: KIND.commands });
  }

  stop() {
    if (this.unlisten) this.unlisten();
    if (this.subscription) this.subscription.close();
    this.commands.clear();
    this.order = [];
  }

  command(id) {
    let command = this.commands.get(id);
    if (!command) {
      command = { id, results: new Map(), done: 0, total: 0, state: 'running', listeners: new Set(), decoders: new Map() };
      this.commands.set(id, command);
      this.order.push(id);
      while (this.order.length > 200) this.commands.delete(this.order.shift());
    }
    return command;
  }

  result(command, nodeID) {
    let r = command.results.get(nodeID);
    if (!r) {
      r = { node: nodeID, nodeName: nodeID, state: 'running', exitCode: null, reason: null, stdout: '', stderr: '', durationMs: null };
      command.results.set(nodeID, r);
    }
    return r;
  }

  apply(m) {
    const command = this.command(m.commandID);
    const r = this.result(command, m.nodeID);
    if (m.event === 'stdout' || m.event === 'stderr') {
      const key = `${m.nodeID}:${m.event}`;
      if (!command.decoders.has(key)) command.decoders.set(key, textDecoder());
      r[m.event] += command.decoders.get(key).decode(m.data, { stream: true });
    } else if (m.event === 'exit') {
      r.state = 'done';
      r.durationMs = Number(m.durationMs);
      const code = Number(m.exitCode);
      r.exitCode = code;
      if (code === -1 && !r.reason) r.reason = 'pending';
    }
    command.done = Number(m.done);
    command.total = Number(m.total);
    if (command.total && command.done >= command.total) command.state = 'done';
    this.notify(command);
  }

  /** Merges the server's snapshot (GET /v1/commands/{id}). */
  merge(snapshot) {
    const command = this.command(snapshot.id);
    command.command = snapshot.command;
    command.total = snapshot.total;
    command.done = Math.max(command.done, snapshot.done);
    command.state = snapshot.state === 'done' ? 'done' : command.state;
    for (const s of snapshot.results) {
      const r = this.result(command, s.node);
      r.nodeName = s.nodeName || s.node;
      if (s.state === 'done') {
        r.state = 'done';
        r.exitCode = s.exitCode ?? -1;
        r.reason = s.reason;
        r.durationMs = s.durationMs;
        r.stdout = s.stdout;
        r.stderr = s.stderr;
        r.truncated = s.truncated;
      } else if (s.stdout.length > r.stdout.length) {
        r.stdout = s.stdout;
        r.stderr = s.stderr;
      }
    }
    this.notify(command);
    return command;
  }

  notify(command) {
    for (const fn of command.listeners) fn(command);
  }

  watch(id, fn) {
    const command = this.command(id);
    command.listeners.add(fn);
    fn(command);
    return () => command.listeners.delete(fn);
  }
}

export function outcome(r) {
  if (r.state !== 'done') return { text: 'running', kind: 'running' };
  if (r.reason && r.reason !== 'exited' && r.reason !== 'pending') {
    const names = { timedOut: 'timed out', failedToStart: 'failed to start', signaled: 'killed', cancelled: 'cancelled', lost: 'lost' };
    return { text: names[r.reason] || r.reason, kind: 'bad' };
  }
  return r.exitCode === 0 ? { text: 'ok', kind: 'good' } : { text: 'failed', kind: 'bad' };
}

/**
 * The "run a command" box with its live results table; `targets()` gives the POST's
 * `targets` (or null with a reason to show).
 */
export function createCommandRunner(ctx, { targets, placeholder = 'Command, e.g. uname -a' }) {
  const { api, tracker } = ctx;
  let unwatch = null;
  let current = null;
  let lastCommand = '';
  let lastTimeout = 30;
  const rows = new Map();

  const input = h('input', { type: 'text', placeholder, testid: 'command-input', 'aria-label': 'Command', autocomplete: 'off', spellcheck: false });
  const timeout = h('select', { 'aria-label': 'Timeout', testid: 'command-timeout' },
    ...[[10, '10 s'], [30, '30 s'], [120, '2 min'], [600, '10 min'], [3600, '1 h']].map(([v, t]) => h('option', { value: String(v), selected: v === 30 }, `timeout ${t}`)));
  const run = h('button', { type: 'submit', class: 'primary', testid: 'command-run' }, 'Run');
  const note = h('div', { class: 'form-note' });
  const progressText = h('span', { class: 'progress-text', testid: 'command-progress' });
  const bar = h('div', { class: 'bar' }, h('div', { class: 'bar-fill' }));
  const rerun = h('button', { type: 'button', hidden: true, testid: 'command-rerun-failed', onclick: () => rerunFailed() }, 'Re-run on failed');
  const cancel = h('button', { type: 'button', hidden: true, onclick: () => cancelCurrent() }, 'Cancel');
  const tbody = h('tbody', {}, emptyRow(5, 'Results appear here, node by node, as they come.'));
  const form = h('form', {
    class: 'command-form',
    onsubmit: (e) => {
      e.preventDefault();
      start(input.value.trim(), Number(timeout.value));
    },
  }, h('span', { class: 'prompt' }, '$'), input, timeout, run);
  const el = h('div', { class: 'command-runner' },
    form,
    note,
    h('div', { class: 'progress', hidden: true }, progressText, bar, h('div', { class: 'spacer' }), cancel, rerun),
    h('table', { class: 'results', testid: 'command-results' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Node'), h('th', {}, 'Result'), h('th', { class: 'num' }, 'Exit'), h('th', { class: 'num' }, 'Duration'), h('th', {}, 'Output'))),
      tbody));
  const progress = el.querySelector('.progress');

  async function start(command, timeoutSeconds, overrideTargets) {
    if (!command) {
      setText(note, 'Type a command first.');
      return;
    }
    const chosen = overrideTargets || targets();
    if (!chosen || chosen.error) {
      setText(note, chosen?.error || 'Pick where to run it first.');
      return;
    }
    setText(note, '');
    run.disabled = true;
    lastCommand = command;
    lastTimeout = timeoutSeconds;
    try {
      const { id } = await api.post('/v1/commands', { targets: chosen, command, timeoutSeconds });
      show(id);
      const snapshot = await api.get(`/v1/commands/${encodeURIComponent(id)}`);
      tracker.merge(snapshot);
    } catch (error) {
      setText(note, `Not run: ${error.message}`);
    } finally {
      run.disabled = false;
    }
  }

  function show(id) {
    if (unwatch) unwatch();
    current = id;
    rows.clear();
    clear(tbody);
    progress.hidden = false;
    let reconciled = false;
    unwatch = tracker.watch(id, (command) => {
      render(command);
      if (command.state === 'done' && !reconciled) {
        reconciled = true;
        // Reasons (timed out, lost), stderr and truncation come from the snapshot.
        api.get(`/v1/commands/${encodeURIComponent(id)}`).then((s) => tracker.merge(s)).catch(() => {});
      }
    });
  }

  function render(command) {
    const results = [...command.results.values()].sort((a, b) => a.nodeName.localeCompare(b.nodeName, 'en', { numeric: true }));
    let good = 0;
    let bad = 0;
    for (const r of results) {
      const o = outcome(r);
      if (o.kind === 'good') good++;
      if (o.kind === 'bad') bad++;
      let row = rows.get(r.node);
      if (!row) {
        row = {
          tr: h('tr', { testid: 'command-result', dataset: { nodeId: r.node } }),
          name: h('td', { class: 'node' }),
          result: h('td'),
          exit: h('td', { class: 'num', testid: 'command-exit-code' }),
          duration: h('td', { class: 'num' }),
          output: h('pre', { class: 'output', testid: 'command-output', title: 'Click to expand', onclick: (e) => e.currentTarget.classList.toggle('open') }),
        };
        row.tr.append(row.name, row.result, row.exit, row.duration, h('td', {}, row.output));
        rows.set(r.node, row);
        if (tbody.querySelector('.empty')) clear(tbody);
      }
      tbody.appendChild(row.tr); // keeps the sorted order
      setText(row.name, r.nodeName);
      row.name.title = r.node;
      clear(row.result).appendChild(pill(o.text, o.kind));
      setAttr(row.tr, 'data-state', r.state);
      setAttr(row.tr, 'class', o.kind);
      if (r.state === 'done') setAttr(row.tr, 'data-exit-code', String(r.exitCode));
      else row.tr.removeAttribute('data-exit-code');
      setText(row.exit, r.state === 'done' && r.exitCode !== -1 ? String(r.exitCode) : r.state === 'done' ? '—' : '…');
      setText(row.duration, r.durationMs === null ? '…' : fmtDuration(r.durationMs));
      const out = r.stdout + (r.stderr ? (r.stdout && !r.stdout.endsWith('\n') ? '\n' : '') + r.stderr : '');
      setText(row.output, out || (r.state === 'done' ? '(no output)' : ''));
      row.output.classList.toggle('has-stderr', !!r.stderr);
    }
    const total = command.total || results.length;
    const done = Math.min(command.done, total);
    setText(progressText, `${done} / ${total} done · ${good} ok · ${bad} failed`);
    bar.firstChild.style.width = total ? `${(100 * done) / total}%` : '0';
    const running = command.state !== 'done';
    cancel.hidden = !running;
    rerun.hidden = running || bad === 0;
    el.dataset.state = running ? 'running' : 'done';
  }

  function rerunFailed() {
    const command = tracker.commands.get(current);
    if (!command) return;
    const failed = [...command.results.values()].filter((r) => outcome(r).kind === 'bad').map((r) => r.node);
    if (failed.length) start(lastCommand, lastTimeout, { nodes: failed });
  }

  async function cancelCurrent() {
    if (!current) return;
    try {
      await api.post(`/v1/commands/${encodeURIComponent(current)}/cancel`);
    } catch (error) {
      setText(note, `Cancel: ${error.message}`);
    }
  }

  return {
    el,
    focus: () => input.focus(),
    destroy() {
      if (unwatch) unwatch();
    },
  };
}
