// Agent updates (Spec/updates.md): the builds the server holds, a form that starts a
// rollout (operators and admins), and every rollout with its live progress. Progress
// arrives as jobProgress of kind "update" on the stream; each event re-reads the
// rollout (GET /v1/updates/{id}), which carries every node's state. A slow poll covers
// events a reconnect lost.

import { h, clear, setText, fmtTime, fmtBytes, emptyRow, pill } from '../util.js';
import { KIND } from '../stream.js';

const NODE_STATE_KIND = { succeeded: 'good', failed: 'bad', skipped: 'warn', pending: '', offered: 'running' };

export function createUpdatesView(ctx) {
  const { api, stream, fleet } = ctx;
  let root;
  let buildsBody;
  let keyLine;
  let rolloutsEl;
  let versionSelect;
  let formError;
  let unlisten = null;
  let subscription = null;
  let timer = null;
  const rollouts = new Map();
  const refreshing = new Set();

  async function loadBuilds() {
    try {
      const list = await api.get('/v1/agent/builds');
      renderBuilds(list);
    } catch (error) {
      setText(keyLine, `Could not load the builds: ${error.message}`);
    }
  }

  async function loadRollouts() {
    try {
      for (const rollout of await api.get('/v1/updates')) rollouts.set(rollout.id, rollout);
      renderRollouts();
    } catch (error) {
      console.warn('updates', error);
    }
  }

  async function refresh(id) {
    if (refreshing.has(id)) return;
    refreshing.add(id);
    try {
      rollouts.set(id, await api.get(`/v1/updates/${encodeURIComponent(id)}`));
      renderRollouts();
    } catch (error) {
      console.warn('update', id, error);
    } finally {
      refreshing.delete(id);
    }
  }

  function renderBuilds(list) {
    clear(buildsBody);
    const rows = [...list.builds];
    if (list.fallback) rows.push(list.fallback);
    if (!rows.length) buildsBody.appendChild(emptyRow(5, 'No builds. Sign one with tools/sign-agent and upload it with `dvic builds upload`.'));
    for (const build of rows) {
      buildsBody.appendChild(h('tr', { testid: 'build-row', dataset: { version: build.version, signed: String(build.signed) } },
        h('td', { class: 'mono' }, build.version),
        h('td', {}, build.signed ? pill('signed', 'good') : pill('unsigned fallback (installs only)', 'warn')),
        h('td', { class: 'nowrap' }, fmtBytes(build.size)),
        h('td', { class: 'mono', title: build.sha256 }, build.sha256.slice(0, 16) + '…'),
        h('td', { class: 'nowrap' }, build.uploadedAt ? `${fmtTime(build.uploadedAt, true)} by ${build.uploadedBy || '?'}` : '')));
    }
    setText(keyLine, list.releaseKey
      ? `Release key ${list.releaseKey} (agents need it as release-key in their config).`
      : 'No release key: start dvic-server with --release-key to accept signed builds.');
    if (versionSelect) {
      clear(versionSelect);
      for (const build of list.builds) versionSelect.appendChild(h('option', { value: build.version }, build.version));
      versionSelect.disabled = list.builds.length === 0;
    }
  }

  function renderRollouts() {
    clear(rolloutsEl);
    const all = [...rollouts.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    if (!all.length) rolloutsEl.appendChild(h('p', { class: 'muted' }, 'No rollouts since the server started.'));
    for (const rollout of all) rolloutsEl.appendChild(rolloutCard(rollout));
    const running = all.some((r) => r.state === 'running');
    if (running && !timer) timer = setInterval(() => { for (const r of rollouts.values()) if (r.state === 'running') refresh(r.id); }, 3000);
    if (!running && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  function rolloutCard(rollout) {
    const percent = rollout.total ? Math.round((100 * rollout.done) / rollout.total) : 100;
    const stateKind = rollout.state === 'succeeded' ? 'good' : rollout.state === 'failed' ? 'bad' : 'running';
    const nodes = h('tbody');
    for (const node of rollout.nodes) {
      nodes.appendChild(h('tr', { testid: 'update-node', dataset: { nodeId: node.node, state: node.state }, class: node.state === 'failed' ? 'bad' : '' },
        h('td', { class: 'nowrap' }, h('a', { href: `#/node/${encodeURIComponent(node.node)}` }, node.nodeName)),
        h('td', {}, String(node.batch)),
        h('td', { class: 'mono' }, node.fromVersion || '—'),
        h('td', {}, pill(node.state, NODE_STATE_KIND[node.state] ?? 'running')),
        h('td', {}, node.message)));
    }
    const bar = h('div', { class: 'bar' }, h('div', { class: 'bar-fill', style: { width: `${percent}%` } }));
    return h('div', { class: 'card-panel', testid: 'update-rollout', dataset: { updateId: rollout.id, state: rollout.state } },
      h('h3', {}, `${rollout.version} `, pill(rollout.state, stateKind), h('span', { class: 'muted' }, ` ${rollout.id} · ${rollout.actor} · ${fmtTime(rollout.createdAt, true)}`)),
      h('div', { class: 'progress' },
        h('span', { class: 'progress-text', testid: 'update-progress' }, `batch ${rollout.currentBatch} of ${rollout.batches} · ${rollout.done} / ${rollout.total} done`),
        bar),
      h('p', { class: 'muted', testid: 'update-message' }, rollout.message),
      h('table', { class: 'list' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Node'), h('th', {}, 'Batch'), h('th', {}, 'From'), h('th', {}, 'State'), h('th', {}, 'Detail'))),
        nodes));
  }

  function nodeIDs(text) {
    const ids = [];
    for (const word of text.split(',').map((s) => s.trim()).filter(Boolean)) {
      const match = [...fleet.nodes.values()].find((n) => n.name === word || n.id === word);
      if (!match) throw new Error(`no node named ${word}`);
      ids.push(match.id);
    }
    if (!ids.length) throw new Error('name at least one node');
    return ids;
  }

  function startForm() {
    const targetSelect = h('select', { 'aria-label': 'Targets', testid: 'update-targets' },
      h('option', { value: 'all' }, 'every online agent'),
      h('option', { value: 'tag' }, 'agents with the tag'),
      h('option', { value: 'nodes' }, 'these nodes'));
    const targetValue = h('input', { type: 'text', placeholder: 'tag, or node names separated by commas', 'aria-label': 'Tag or nodes', testid: 'update-target-value' });
    versionSelect = h('select', { 'aria-label': 'Version', testid: 'update-version', disabled: true });
    const batch = h('input', { type: 'number', min: '1', max: '10000', value: '10', 'aria-label': 'Batch size', testid: 'update-batch', style: { width: '6em' } });
    const timeout = h('input', { type: 'number', min: '1', max: '86400', value: '120', 'aria-label': 'Timeout (s)', testid: 'update-timeout', style: { width: '6em' } });
    formError = h('span', { class: 'error', testid: 'update-error' });
    return h('form', { class: 'toolbar', testid: 'update-form', onsubmit: async (e) => {
      e.preventDefault();
      setText(formError, '');
      try {
        const value = targetValue.value.trim();
        let targets;
        if (targetSelect.value === 'all') targets = { all: true };
        else if (targetSelect.value === 'tag') {
          if (!value) throw new Error('name a tag');
          targets = { tags: [value] };
        } else targets = { nodes: nodeIDs(value) };
        const answer = await api.post('/v1/updates', {
          targets, version: versionSelect.value || undefined,
          batchSize: Number(batch.value) || 10, timeoutSeconds: Number(timeout.value) || 120,
        });
        await refresh(answer.id);
      } catch (error) {
        setText(formError, error.message);
      }
    } },
    h('span', {}, 'Update'), targetSelect, targetValue,
    h('span', {}, 'to'), versionSelect,
    h('span', {}, 'in batches of'), batch,
    h('span', {}, 'waiting'), timeout, h('span', {}, 's per node'),
    h('button', { type: 'submit', testid: 'update-start' }, 'Start rollout'),
    formError);
  }

  function mount(container) {
    buildsBody = h('tbody');
    keyLine = h('p', { class: 'muted', testid: 'release-key' });
    rolloutsEl = h('div', { testid: 'update-rollouts' });
    root = h('section', { class: 'view updates' },
      h('h2', {}, 'Agent updates'),
      h('div', { class: 'card-panel' },
        h('h3', {}, 'Builds'),
        h('table', { class: 'list', testid: 'builds-table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Version'), h('th', {}, 'Signature'), h('th', {}, 'Size'), h('th', {}, 'SHA-256'), h('th', {}, 'Uploaded'))),
          buildsBody),
        keyLine),
      api.can('operator')
        ? h('div', { class: 'card-panel' }, h('h3', {}, 'Roll out'), startForm(),
          h('p', { class: 'muted' }, 'A batch starts when every node of the one before is back online with the new version; the first batch with a refusal, a rollback or a timeout stops the rollout.'))
        : h('p', { class: 'muted', testid: 'update-needs-operator' }, 'Starting a rollout needs the operator role.'),
      h('h3', {}, 'Rollouts'),
      rolloutsEl);
    container.appendChild(root);
    unlisten = stream.on('jobProgress', (m) => {
      if (m.kind === 'update') refresh(m.jobID);
    });
    subscription = stream.subscribe({ kinds: KIND.jobs });
    loadBuilds();
    loadRollouts();
  }

  function unmount() {
    if (unlisten) unlisten();
    if (subscription) subscription.close();
    if (timer) clearInterval(timer);
    timer = null;
    root = null;
  }

  return { mount, unmount, title: 'Updates' };
}
