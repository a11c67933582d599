// Run on many: pick nodes by tag, from a list, or all of them; run a command; the
// results table fills in live with a progress count; re-run on the failed ones.

import { h, clear, setText, RenderScheduler } from '../util.js';
import { createCommandRunner } from '../commands.js';

export function createManyView(ctx) {
  const { fleet } = ctx;
  let mode = 'all';
  const pickedTags = new Set();
  const pickedNodes = new Set();
  let runner;
  let unlisten;
  let filterText = '';
  let root;
  let summary;
  let tagBox;
  let nodeBox;
  let nodeList;
  let stopScheduler = null;

  function targets() {
    if (mode === 'all') return { all: true };
    if (mode === 'tags') return pickedTags.size ? { tags: [...pickedTags] } : { error: 'Pick at least one tag.' };
    return pickedNodes.size ? { nodes: [...pickedNodes] } : { error: 'Pick at least one node.' };
  }

  function matched() {
    const nodes = fleet.list().filter((n) => n.kind !== 'device');
    if (mode === 'all') return nodes;
    if (mode === 'tags') return nodes.filter((n) => n.tags.some((t) => pickedTags.has(t)));
    return nodes.filter((n) => pickedNodes.has(n.id));
  }

  function renderSummary() {
    const nodes = matched();
    const online = nodes.filter((n) => n.status === 'online').length;
    setText(summary, nodes.length
      ? `${nodes.length} node${nodes.length === 1 ? '' : 's'} selected · ${online} online${nodes.length - online ? ` · ${nodes.length - online} offline (reported as lost)` : ''}`
      : 'No node selected.');
    tagBox.hidden = mode !== 'tags';
    nodeBox.hidden = mode !== 'nodes';
  }

  function renderTags() {
    clear(tagBox);
    const tags = fleet.tags();
    if (!tags.length) tagBox.appendChild(h('span', { class: 'muted' }, 'No node has a tag yet.'));
    for (const tag of tags) {
      const count = fleet.list().filter((n) => n.tags.includes(tag)).length;
      tagBox.appendChild(h('label', { class: `chip ${pickedTags.has(tag) ? 'on' : ''}` },
        h('input', { type: 'checkbox', checked: pickedTags.has(tag), onchange: (e) => {
          if (e.target.checked) pickedTags.add(tag);
          else pickedTags.delete(tag);
          e.target.parentElement.classList.toggle('on', e.target.checked);
          renderSummary();
        } }), `${tag} (${count})`));
    }
  }

  function renderNodes() {
    clear(nodeList);
    const nodes = fleet.list().filter((n) => n.kind !== 'device')
      .filter((n) => !filterText || n.name.toLowerCase().includes(filterText) || n.id.includes(filterText) || n.tags.some((t) => t.includes(filterText)))
      .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    for (const n of nodes.slice(0, 500)) {
      nodeList.appendChild(h('label', { class: `pick ${n.status}` },
        h('input', { type: 'checkbox', checked: pickedNodes.has(n.id), dataset: { nodeId: n.id }, onchange: (e) => {
          if (e.target.checked) pickedNodes.add(n.id);
          else pickedNodes.delete(n.id);
          renderSummary();
        } }),
        h('span', { class: `dot ${n.status}` }), n.name, h('span', { class: 'muted' }, ` ${n.id}`)));
    }
    if (nodes.length > 500) nodeList.appendChild(h('div', { class: 'muted' }, `${nodes.length - 500} more: narrow the filter.`));
  }

  function mount(container) {
    summary = h('div', { class: 'summary', testid: 'target-summary' });
    tagBox = h('div', { class: 'chips', testid: 'target-tags' });
    nodeList = h('div', { class: 'pick-list' });
    nodeBox = h('div', { class: 'node-picker' },
      h('div', { class: 'toolbar' },
        h('input', { type: 'search', placeholder: 'Filter nodes', oninput: (e) => {
          filterText = e.target.value.trim().toLowerCase();
          renderNodes();
        } }),
        h('button', { type: 'button', onclick: () => {
          nodeList.querySelectorAll('input[type=checkbox]').forEach((box) => {
            box.checked = true;
            pickedNodes.add(box.dataset.nodeId);
          });
          renderSummary();
        } }, 'Select shown'),
        h('button', { type: 'button', onclick: () => {
          pickedNodes.clear();
          renderNodes();
          renderSummary();
        } }, 'Clear')),
      nodeList);
    const radio = (value, label) => h('label', { class: 'radio' },
      h('input', { type: 'radio', name: 'target-mode', value, checked: mode === value, testid: `target-mode-${value}`, onchange: () => {
        mode = value;
        renderSummary();
      } }), label);
    runner = createCommandRunner(ctx, { targets });
    root = h('section', { class: 'view many' },
      h('h2', {}, 'Run on many'),
      h('div', { class: 'card-panel' },
        h('div', { class: 'radios' }, radio('all', 'All machines'), radio('tags', 'By tag'), radio('nodes', 'Pick from the list')),
        tagBox,
        nodeBox,
        summary),
      h('div', { class: 'card-panel' }, runner.el));
    container.appendChild(root);
    renderTags();
    renderNodes();
    renderSummary();
    const scheduler = new RenderScheduler(renderSummary, 500);
    unlisten = fleet.onChange(() => scheduler.schedule());
    stopScheduler = () => scheduler.stop();
    runner.focus();
  }

  function unmount() {
    if (unlisten) unlisten();
    if (stopScheduler) stopScheduler();
    if (runner) runner.destroy();
    root = null;
  }

  return { mount, unmount, title: 'Run on many' };
}
