// Devices: the microcontrollers that post JSON keepalives, with their last keepalive
// and latest metrics; creating a device token (admin) with a curl example.

import { h, clear, setText, fmtAgo, fmtTime, fmtNumber, emptyRow, pill, copyText, debounce, RenderScheduler } from '../util.js';

const MAX_ROWS = 300;

export function createDevicesView(ctx) {
  const { api, fleet, navigate } = ctx;
  let root;
  let tbody;
  let unlisten;
  let timer;
  const details = new Map();

  let filterText = '';
  let summary;
  const scheduler = new RenderScheduler(() => render(), 1000);

  function devices() {
    return fleet.list()
      .filter((n) => n.kind === 'device')
      .filter((n) => !filterText || n.name.toLowerCase().includes(filterText) || n.id.includes(filterText) || n.tags.some((t) => t.includes(filterText)))
      .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  }

  function render() {
    if (!tbody) return;
    clear(tbody);
    const all = devices();
    const list = all.slice(0, MAX_ROWS);
    const online = all.filter((d) => d.status === 'online').length;
    setText(summary, `${all.length} device${all.length === 1 ? '' : 's'} · ${online} online${all.length > MAX_ROWS ? ` · the first ${MAX_ROWS} shown: filter to see others` : ''}`);
    if (!list.length) tbody.appendChild(emptyRow(6, filterText ? 'No device matches.' : 'No devices yet.'));
    for (const d of list) {
      const detail = details.get(d.id);
      const metrics = detail ? Object.entries(detail.metrics || {}).sort(([a], [b]) => a.localeCompare(b)) : [];
      tbody.appendChild(h('tr', { class: d.status === 'online' ? '' : 'bad', testid: 'device-row', dataset: { nodeId: d.id, status: d.status } },
        h('td', {}, h('a', { href: `#/node/${encodeURIComponent(d.id)}`, onclick: (e) => {
          e.preventDefault();
          navigate(`#/node/${encodeURIComponent(d.id)}`);
        } }, d.name), h('div', { class: 'muted mono' }, d.id)),
        h('td', {}, pill(d.status, d.status === 'online' ? 'good' : 'bad')),
        h('td', {}, d.lastSeen ? `${fmtAgo(d.lastSeen)}` : 'never', h('div', { class: 'muted' }, d.lastSeen ? fmtTime(d.lastSeen, true) : '')),
        h('td', { class: 'metrics-cell' }, metrics.length
          ? metrics.map(([k, v]) => h('span', { class: 'kvchip' }, h('span', { class: 'muted' }, `${k} `), fmtNumber(v, 2)))
          : h('span', { class: 'muted' }, '—')),
        h('td', {}, ...(d.tags || []).map((t) => h('span', { class: 'tag' }, t)))));
    }
  }

  async function refreshDetails() {
    await Promise.all(devices().slice(0, 50).map(async (d) => {
      try {
        details.set(d.id, await api.get(`/v1/nodes/${encodeURIComponent(d.id)}`));
      } catch {
        // Shown as "—".
      }
    }));
    render();
  }

  function createForm() {
    const name = h('input', { type: 'text', placeholder: 'esp32-lab-3', required: true, testid: 'device-name', 'aria-label': 'Device name' });
    const tags = h('input', { type: 'text', placeholder: 'tags, comma separated', 'aria-label': 'Tags' });
    const note = h('div', { class: 'form-note' });
    const result = h('div', { class: 'result-box', hidden: true, testid: 'device-token' });
    const form = h('form', { class: 'inline-form', onsubmit: async (e) => {
      e.preventDefault();
      setText(note, '');
      try {
        const body = { name: name.value.trim(), tags: tags.value.split(',').map((t) => t.trim()).filter(Boolean) };
        const answer = await api.post('/v1/devices', body);
        const curl = `curl -sS -X POST ${location.origin}/v1/keepalive \\\n  -H 'Authorization: Bearer ${answer.token}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{"uptime_ms": 123456, "seq": 1, "metrics": {"temp_c": 41.5, "rssi_dbm": -61}, "logs": [{"level": "info", "msg": "booted"}]}'`;
        const copy = h('button', { type: 'button', onclick: (ev) => copyText(curl, ev.currentTarget) }, 'Copy');
        clear(result).append(
          h('p', {}, 'Device ', h('strong', {}, body.name), ' is ', h('span', { class: 'mono' }, answer.id), '. Its token is shown only now:'),
          h('pre', { class: 'mono token' }, answer.token),
          h('p', {}, 'A keepalive from the device (every 10 s; offline after three missed):'),
          h('div', { class: 'copy-row' }, h('pre', { class: 'mono', testid: 'device-curl' }, curl), copy));
        result.hidden = false;
        name.value = '';
        await fleet.load();
      } catch (error) {
        setText(note, `Not created: ${error.message}`);
      }
    } }, name, tags, h('button', { type: 'submit', class: 'primary', testid: 'device-create' }, 'Create device token'));
    return h('div', { class: 'card-panel' }, h('h3', {}, 'Add a microcontroller'), form, note, result);
  }

  function mount(container) {
    tbody = h('tbody');
    summary = h('span', { class: 'muted' });
    root = h('section', { class: 'view devices' },
      h('h2', {}, 'Devices'),
      h('p', { class: 'muted' }, 'Microcontrollers post a JSON keepalive to /v1/keepalive with their own token (Spec/protocol.md, section 11).'),
      api.can('admin') ? createForm() : h('p', { class: 'muted' }, 'Creating device tokens needs the admin role.'),
      h('div', { class: 'card-panel' },
        h('div', { class: 'toolbar' },
          h('input', { type: 'search', placeholder: 'Filter devices', 'aria-label': 'Filter devices', oninput: debounce((e) => {
            filterText = e.target.value.trim().toLowerCase();
            render();
            refreshDetails();
          }, 200) }),
          h('div', { class: 'spacer' }),
          summary),
        h('table', { class: 'list', testid: 'device-table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Device'), h('th', {}, 'Status'), h('th', {}, 'Last keepalive'), h('th', {}, 'Latest metrics'), h('th', {}, 'Tags'))),
          tbody)));
    container.appendChild(root);
    render();
    refreshDetails();
    // A device that just posted shows its new metrics without waiting for the timer.
    const soon = debounce(refreshDetails, 400);
    unlisten = fleet.onChange((ids) => {
      scheduler.schedule();
      if (ids && [...ids].some((id) => fleet.nodes.get(id)?.kind === 'device')) soon();
    });
    timer = setInterval(refreshDetails, 10000);
  }

  function unmount() {
    clearInterval(timer);
    scheduler.stop();
    if (unlisten) unlisten();
    tbody = null;
    root = null;
  }

  return { mount, unmount, title: 'Devices' };
}
