// Fleet: every node as a card, live. Virtualised: only the cards in (or near) the
// viewport exist in the DOM, renders are batched to a few per second, and the stream's
// metric and log subscription covers only the nodes on screen.

import { h, clear, setText, setAttr, fmtAgo, fmtNumber, RenderScheduler, debounce } from '../util.js';
import { Sparkline } from '../charts.js';
import { KIND } from '../stream.js';
import { isProblem, cpuOf, memoryPercentOf, temperatureOf } from '../fleet-state.js';

const CARD_MIN_WIDTH = 300;
const CARD_HEIGHT = 206;
const GAP = 12;
const OVERSCAN_ROWS = 2;

export function createFleetView(ctx) {
  const { fleet, stream, navigate } = ctx;
  const filters = { text: '', tag: '', status: '', problems: false, kind: '', sort: 'name' };
  const cards = new Map();
  let dirty = new Set();
  let allDirty = true;
  let list = [];
  let root;
  let grid;
  let counts;
  let tagSelect;
  let emptyNote;
  let subscription = null;
  let visibleKey = '';
  let currentVisible = new Set();
  let cpuRank = null;
  let cpuRankAt = 0;
  let unlisten = null;
  let tick = null;
  const scheduler = new RenderScheduler(render, 250);
  // Scrolling renders on the next frame (only geometry changes then); data changes
  // wait for the scheduler's few renders a second.
  let frame = 0;
  const onScroll = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      render();
    });
  };
  const updateSubscription = debounce((ids) => {
    if (!subscription) return;
    subscription.update({ kinds: ids.length ? KIND.metrics | KIND.logs : 0, nodes: ids });
  }, 200);

  function mount(container, params) {
    if (params.tag) filters.tag = params.tag;
    const search = h('input', {
      type: 'search',
      placeholder: 'Filter by name, id or tag',
      'aria-label': 'Filter nodes',
      value: filters.text,
      testid: 'fleet-filter',
      oninput: (e) => {
        filters.text = e.target.value.trim().toLowerCase();
        allDirty = true;
        scheduler.schedule();
      },
    });
    tagSelect = h('select', { 'aria-label': 'Tag', testid: 'fleet-tag', onchange: (e) => setFilter('tag', e.target.value) });
    const statusSelect = h(
      'select',
      { 'aria-label': 'Status', testid: 'fleet-status', onchange: (e) => setFilter('status', e.target.value) },
      h('option', { value: '' }, 'Any status'),
      h('option', { value: 'online' }, 'Online'),
      h('option', { value: 'offline' }, 'Offline'),
    );
    const kindSelect = h(
      'select',
      { 'aria-label': 'Kind', onchange: (e) => setFilter('kind', e.target.value) },
      h('option', { value: '' }, 'Machines and devices'),
      h('option', { value: 'agent' }, 'Machines'),
      h('option', { value: 'device' }, 'Devices'),
    );
    const sortSelect = h(
      'select',
      { 'aria-label': 'Sort', onchange: (e) => setFilter('sort', e.target.value) },
      h('option', { value: 'name' }, 'Sort by name'),
      h('option', { value: 'problems' }, 'Problems first'),
      h('option', { value: 'cpu' }, 'Busiest first'),
    );
    const problems = h('label', { class: 'check' },
      h('input', { type: 'checkbox', onchange: (e) => setFilter('problems', e.target.checked) }), 'Problems only');
    counts = h('div', { class: 'counts', testid: 'fleet-counts' });
    grid = h('div', { class: 'fleet-grid', testid: 'fleet-grid' });
    emptyNote = h('div', { class: 'empty-note', hidden: true });
    root = h(
      'section',
      { class: 'view fleet' },
      h('div', { class: 'toolbar' }, search, tagSelect, statusSelect, kindSelect, sortSelect, problems, h('div', { class: 'spacer' }), counts),
      emptyNote,
      grid,
    );
    container.appendChild(root);
    statusSelect.value = filters.status;
    subscription = stream.subscribe({ kinds: 0 });
    unlisten = fleet.onChange((ids) => {
      if (ids === null) allDirty = true;
      else ids.forEach((id) => dirty.add(id));
      scheduler.schedule();
    });
    window.addEventListener('scroll', onScroll, { passive: true });
    window.addEventListener('resize', onScroll);
    // "last seen" texts age even when nothing arrives.
    tick = setInterval(() => {
      allDirty = true;
      scheduler.schedule();
    }, 5000);
    allDirty = true;
    render();
  }

  function setFilter(key, value) {
    filters[key] = value;
    allDirty = true;
    window.scrollTo(0, 0);
    scheduler.schedule();
  }

  function matches(node) {
    if (filters.status && node.status !== filters.status) return false;
    if (filters.kind && node.kind !== filters.kind) return false;
    if (filters.tag && !node.tags.includes(filters.tag)) return false;
    if (filters.problems && !isProblem(node)) return false;
    if (filters.text) {
      const t = filters.text;
      if (!node.name.toLowerCase().includes(t) && !node.id.toLowerCase().includes(t) && !node.tags.some((tag) => tag.toLowerCase().includes(t))) {
        return false;
      }
    }
    return true;
  }

  function sortList(nodes) {
    const byName = (a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }) || a.id.localeCompare(b.id);
    if (filters.sort === 'problems') {
      return nodes.sort((a, b) => Number(isProblem(b)) - Number(isProblem(a)) || byName(a, b));
    }
    if (filters.sort === 'cpu') {
      // Re-ranked every few seconds, not on every sample, so cards do not jump about.
      const now = performance.now();
      if (!cpuRank || now - cpuRankAt > 5000 || allDirty) {
        cpuRankAt = now;
        cpuRank = new Map(fleet.list().map((n) => [n.id, cpuOf(n.latest) ?? -1]));
      }
      return nodes.sort((a, b) => (cpuRank.get(b.id) ?? -1) - (cpuRank.get(a.id) ?? -1) || byName(a, b));
    }
    return nodes.sort(byName);
  }

  function renderTags() {
    const tags = fleet.tags();
    const key = tags.join('\u0000');
    if (tagSelect.dataset.key === key) return;
    tagSelect.dataset.key = key;
    clear(tagSelect);
    tagSelect.appendChild(h('option', { value: '' }, 'Any tag'));
    for (const tag of tags) tagSelect.appendChild(h('option', { value: tag }, tag));
    tagSelect.value = tags.includes(filters.tag) ? filters.tag : '';
  }

  function render() {
    if (!root) return;
    const all = fleet.list();
    renderTags();
    list = sortList(all.filter(matches));
    const online = all.filter((n) => n.status === 'online').length;
    const exited = all.reduce((sum, n) => sum + n.demos.filter((d) => d.state === 'exited').length, 0);
    setText(counts, `${list.length} shown · ${all.length} nodes · ${online} online · ${all.length - online} offline${exited ? ` · ${exited} demo${exited === 1 ? '' : 's'} exited` : ''}`);
    emptyNote.hidden = list.length > 0;
    if (!list.length) {
      setText(emptyNote, fleet.loaded ? (all.length ? 'No node matches these filters.' : 'No machines yet. Add one under "Add a machine".') : 'Loading…');
    }

    // Geometry.
    const width = grid.clientWidth || root.clientWidth;
    const columns = Math.max(1, Math.floor((width + GAP) / (CARD_MIN_WIDTH + GAP)));
    const cardWidth = (width - GAP * (columns - 1)) / columns;
    const rows = Math.ceil(list.length / columns);
    const totalHeight = rows ? rows * (CARD_HEIGHT + GAP) - GAP : 0;
    grid.style.height = `${totalHeight}px`;
    const gridTop = grid.getBoundingClientRect().top;
    const viewTop = Math.max(0, -gridTop);
    const viewBottom = viewTop + window.innerHeight;
    const firstRow = Math.max(0, Math.floor(viewTop / (CARD_HEIGHT + GAP)) - OVERSCAN_ROWS);
    const lastRow = Math.min(rows - 1, Math.ceil(viewBottom / (CARD_HEIGHT + GAP)) + OVERSCAN_ROWS);

    const wanted = new Set();
    const onScreen = [];
    for (let row = firstRow; row <= lastRow; row++) {
      for (let col = 0; col < columns; col++) {
        const index = row * columns + col;
        if (index >= list.length) break;
        const node = list[index];
        wanted.add(node.id);
        const rowTop = row * (CARD_HEIGHT + GAP);
        if (rowTop + CARD_HEIGHT >= viewTop && rowTop <= viewBottom) onScreen.push(node.id);
        let card = cards.get(node.id);
        const fresh = !card;
        if (fresh) {
          card = createCard(node);
          cards.set(node.id, card);
          grid.appendChild(card.el);
        }
        const x = col * (cardWidth + GAP);
        const y = row * (CARD_HEIGHT + GAP);
        const transform = `translate(${x}px, ${y}px)`;
        if (card.transform !== transform) {
          card.el.style.transform = transform;
          card.transform = transform;
        }
        if (card.width !== cardWidth) {
          card.el.style.width = `${cardWidth}px`;
          card.width = cardWidth;
        }
        if (fresh || allDirty || dirty.has(node.id)) updateCard(card, node);
      }
    }
    for (const [id, card] of cards) {
      if (!wanted.has(id)) {
        card.el.remove();
        cards.delete(id);
      }
    }
    dirty = new Set();
    allDirty = false;

    const key = onScreen.slice().sort().join(',');
    if (key !== visibleKey) {
      visibleKey = key;
      updateSubscription(onScreen);
      currentVisible = new Set(onScreen);
      fleet.fillVisible(onScreen, (id) => currentVisible.has(id));
      grid.dataset.subscribed = String(onScreen.length);
    }
  }

  function createCard(node) {
    const sparks = {
      cpu: new Sparkline({ max: 100 }),
      mem: new Sparkline({ max: 100 }),
      temp: new Sparkline({}),
    };
    const values = { cpu: h('span', { class: 'value' }), mem: h('span', { class: 'value' }), temp: h('span', { class: 'value' }) };
    const metric = (label, key) => h('div', { class: 'metric' }, h('span', { class: 'label' }, label), sparks[key].canvas, values[key]);
    const el = h(
      'article',
      {
        class: 'card',
        tabindex: '0',
        role: 'link',
        testid: 'node-card',
        dataset: { nodeId: node.id },
        onclick: () => navigate(`#/node/${encodeURIComponent(node.id)}`),
        onkeydown: (e) => {
          if (e.key === 'Enter') navigate(`#/node/${encodeURIComponent(node.id)}`);
        },
      },
    );
    const card = {
      el,
      sparks,
      values,
      name: h('h3', { class: 'name' }),
      status: h('span', { class: 'pill status' }),
      sub: h('div', { class: 'sub' }),
      demos: h('div', { class: 'demos' }),
      log: h('div', { class: 'lastlog', testid: 'last-log' }),
      tags: h('div', { class: 'tags' }),
      transform: '',
      width: 0,
      demoKey: null,
      tagKey: null,
    };
    el.append(
      h('header', {}, h('span', { class: 'dot' }), card.name, card.status),
      card.sub,
      h('div', { class: 'metrics' }, metric('CPU', 'cpu'), metric('Mem', 'mem'), metric('Temp', 'temp')),
      card.demos,
      card.log,
      card.tags,
    );
    return card;
  }

  function updateCard(card, node) {
    const exited = node.demos.filter((d) => d.state === 'exited').length;
    setAttr(card.el, 'data-status', node.status);
    setAttr(card.el, 'data-kind', node.kind);
    setAttr(card.el, 'data-agent-version', node.agentVersion || '');
    setAttr(card.el, 'class', `card ${node.status}${exited ? ' has-exited' : ''}${node.kind === 'device' ? ' device' : ''}`);
    setAttr(card.el, 'aria-label', `${node.name}, ${node.status}`);
    setText(card.name, node.name);
    setText(card.status, node.status);
    const seen = node.status === 'online' ? '' : ` · last seen ${fmtAgo(node.lastSeen)}`;
    setText(card.sub, `${node.kind === 'device' ? 'device' : node.agentVersion ? `agent ${node.agentVersion}` : 'agent'} · ${node.id}${seen}`);

    const cpu = cpuOf(node.latest);
    const mem = memoryPercentOf(node.latest);
    const temp = temperatureOf(node.latest);
    setText(card.values.cpu, cpu === undefined ? '—' : `${fmtNumber(cpu, 0)}%`);
    setText(card.values.mem, mem === undefined ? '—' : `${fmtNumber(mem, 0)}%`);
    setText(card.values.temp, temp === undefined ? '—' : `${fmtNumber(temp, 0)}°C`);
    card.sparks.cpu.draw(node.cpu);
    card.sparks.mem.draw(node.mem);
    card.sparks.temp.draw(node.temp);

    const demoKey = node.demos.map((d) => `${d.name}:${d.state}`).join('|');
    if (demoKey !== card.demoKey) {
      card.demoKey = demoKey;
      clear(card.demos);
      if (!node.demos.length) card.demos.appendChild(h('span', { class: 'muted' }, node.kind === 'device' ? 'microcontroller (keepalives)' : 'no demos'));
      const shown = node.demos.slice().sort((a, b) => (a.state === 'exited' ? -1 : 0) - (b.state === 'exited' ? -1 : 0)).slice(0, 4);
      for (const d of shown) {
        card.demos.appendChild(h('span', { class: `demo ${d.state}`, title: `pid ${d.pid}`, testid: 'demo-state', dataset: { state: d.state } },
          h('span', { class: 'demo-dot' }), `${d.name} ${d.state}`));
      }
      if (node.demos.length > shown.length) card.demos.appendChild(h('span', { class: 'muted' }, `+${node.demos.length - shown.length}`));
    }

    if (node.lastLog) {
      setText(card.log, node.lastLog.text);
      setAttr(card.log, 'class', `lastlog level-${node.lastLog.level}`);
      setAttr(card.log, 'title', node.lastLog.text);
    } else {
      setText(card.log, node.status === 'online' ? 'no log lines yet' : '');
      setAttr(card.log, 'class', 'lastlog muted');
    }

    const tagKey = node.tags.join('|');
    if (tagKey !== card.tagKey) {
      card.tagKey = tagKey;
      clear(card.tags);
      for (const tag of node.tags) {
        card.tags.appendChild(h('button', {
          class: 'tag',
          type: 'button',
          title: `Show only ${tag}`,
          onclick: (e) => {
            e.stopPropagation();
            setFilter('tag', tag);
            tagSelect.value = tag;
          },
        }, tag));
      }
    }
  }

  function unmount() {
    scheduler.stop();
    cancelAnimationFrame(frame);
    updateSubscription.cancel();
    clearInterval(tick);
    window.removeEventListener('scroll', onScroll);
    window.removeEventListener('resize', onScroll);
    if (unlisten) unlisten();
    if (subscription) subscription.close();
    subscription = null;
    cards.clear();
    visibleKey = '';
    root = null;
  }

  return { mount, unmount, title: 'Fleet' };
}
