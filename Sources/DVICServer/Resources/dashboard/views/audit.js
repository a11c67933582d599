// Audit: who ran what, where and when (GET /v1/audit, operators and admins).

import { h, clear, setText, fmtTime, emptyRow } from '../util.js';

const RANGES = [['1h', 'last hour'], ['24h', 'last 24 h'], ['7d', 'last 7 days'], ['30d', 'last 30 days'], ['', 'all time']];

export function createAuditView(ctx) {
  const { api, fleet } = ctx;
  let root;
  let tbody;
  let status;
  let since = '24h';
  let actor = '';
  let action = '';
  let entries = [];

  async function load() {
    setText(status, 'Loading…');
    try {
      const answer = await api.get('/v1/audit', { since, actor, limit: 1000 });
      entries = answer.entries;
      render();
    } catch (error) {
      setText(status, `Could not load the audit log: ${error.message}`);
    }
  }

  function nodeName(id) {
    const node = fleet.nodes.get(id);
    return node ? node.name : id;
  }

  function target(e) {
    if (e.action.startsWith('terminal.') || e.action.startsWith('node.')) {
      return h('a', { href: `#/node/${encodeURIComponent(e.target)}` }, nodeName(e.target));
    }
    if (e.action === 'command.run') {
      const ids = e.target.split(',').filter(Boolean);
      const names = ids.slice(0, 5).map(nodeName).join(', ');
      return `${names}${ids.length > 5 ? ` and ${ids.length - 5} more` : ''}`;
    }
    return e.target;
  }

  function detail(e) {
    const d = { ...(e.detail || {}) };
    if (e.action === 'command.run' && d.command) {
      const command = d.command;
      delete d.command;
      return [h('code', {}, command), ' ', h('span', { class: 'muted' }, Object.entries(d).map(([k, v]) => `${k}=${v}`).join(' '))];
    }
    return h('span', { class: 'muted mono' }, Object.entries(d).map(([k, v]) => `${k}=${v}`).join(' '));
  }

  function render() {
    clear(tbody);
    const shown = entries.filter((e) => !action || e.action.startsWith(action));
    setText(status, `${shown.length} entries${entries.length === 1000 ? ' (the newest 1000)' : ''}`);
    if (!shown.length) tbody.appendChild(emptyRow(5, 'Nothing in this range.'));
    for (const e of shown) {
      tbody.appendChild(h('tr', { testid: 'audit-row', dataset: { action: e.action } },
        h('td', { class: 'nowrap' }, fmtTime(e.at, true)),
        h('td', {}, e.actor, h('span', { class: 'muted' }, ` ${e.role}`)),
        h('td', {}, h('span', { class: `action ${e.action.split('.')[0]}` }, e.action)),
        h('td', {}, target(e)),
        h('td', {}, detail(e))));
    }
  }

  function mount(container) {
    tbody = h('tbody');
    status = h('span', { class: 'muted' });
    root = h('section', { class: 'view audit' }, h('h2', {}, 'Audit log'));
    if (!api.can('operator')) {
      root.appendChild(h('p', { class: 'muted' }, 'The audit log needs the operator role.'));
      container.appendChild(root);
      return;
    }
    const actorInput = h('input', { type: 'search', placeholder: 'who (user name)', 'aria-label': 'Actor' });
    root.append(
      h('form', { class: 'toolbar', onsubmit: (e) => {
        e.preventDefault();
        actor = actorInput.value.trim();
        load();
      } },
      h('select', { 'aria-label': 'Range', onchange: (e) => {
        since = e.target.value;
        load();
      } }, ...RANGES.map(([v, t]) => h('option', { value: v, selected: v === since }, t))),
      h('select', { 'aria-label': 'Action', onchange: (e) => {
        action = e.target.value;
        render();
      } }, ...[['', 'every action'], ['command.', 'commands'], ['terminal.', 'terminals'], ['enrollment.', 'enrollments'], ['node.', 'nodes'], ['device.', 'devices'], ['user.', 'users']].map(([v, t]) => h('option', { value: v }, t))),
      actorInput,
      h('button', { type: 'submit' }, 'Refresh'),
      h('div', { class: 'spacer' }),
      status),
      h('div', { class: 'card-panel' }, h('table', { class: 'list', testid: 'audit-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Who'), h('th', {}, 'What'), h('th', {}, 'Where'), h('th', {}, 'Detail'))),
        tbody)));
    container.appendChild(root);
    load();
  }

  return { mount, unmount() { root = null; }, title: 'Audit' };
}
