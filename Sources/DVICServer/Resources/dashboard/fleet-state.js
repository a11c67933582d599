// What the dashboard knows about the fleet: nodes from GET /v1/nodes, kept current by
// the stream's nodeStatus and demoStates (subscribed for every node: they come only on
// change), and, for the nodes on screen, their latest metrics and last log line.

import { KIND } from './stream.js';
import { toMillis, levelIndex } from './util.js';

const SPARK_POINTS = 60;

export class FleetState {
  constructor(api, stream) {
    this.api = api;
    this.stream = stream;
    this.nodes = new Map();
    this.listeners = new Set();
    this.loaded = false;
    this.subscription = null;
    this.unlisten = [];
    // Counts stream updates, so that a GET /v1/nodes answered after a newer nodeStatus or
    // demoStates cannot put its older picture back (a device's first keepalive showed
    // "offline, never" when the list asked for just before it came back just after).
    this.updates = 0;
  }

  /** fn(changedIDs: Set|null) — null means "everything may have changed". */
  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed(ids) {
    for (const fn of this.listeners) fn(ids);
  }

  start() {
    this.unlisten.push(
      this.stream.on('nodeStatus', (m) => this.applyStatus(m)),
      this.stream.on('demoStates', (m) => this.applyDemos(m)),
      this.stream.on('metricPoints', (m) => this.applyMetrics(m)),
      this.stream.on('logEntries', (m) => this.applyLogs(m)),
      this.stream.on('state', (state) => {
        // After a reconnect, what changed meanwhile comes again through nodeStatus;
        // demos and the rest through REST.
        if (state === 'live' && this.loaded) this.load().catch(() => {});
      }),
    );
    this.subscription = this.stream.subscribe({ kinds: KIND.status | KIND.processes });
    return this.load();
  }

  stop() {
    this.unlisten.forEach((fn) => fn());
    this.unlisten = [];
    if (this.subscription) this.subscription.close();
    this.subscription = null;
    this.nodes.clear();
    this.filled = null;
    this.fillQueue = [];
    this.loaded = false;
  }

  async load() {
    const asked = this.updates;
    const list = await this.api.get('/v1/nodes');
    const seen = new Set();
    for (const summary of list) {
      seen.add(summary.id);
      const node = this.node(summary.id);
      if ((node.statusUpdate || 0) <= asked) {
        node.name = summary.name;
        node.kind = summary.kind;
        node.status = summary.status;
        node.lastSeen = toMillis(summary.lastSeen) || 0;
        node.tags = summary.tags || [];
        node.agentVersion = summary.agentVersion || '';
      }
      if ((node.demosUpdate || 0) <= asked) {
        node.demos = (summary.demos || []).map((d) => ({ name: d.name, pid: d.pid, state: d.state }));
      }
    }
    // A node the stream told of after the list was asked for is newer than the list.
    for (const [id, node] of [...this.nodes]) {
      if (!seen.has(id) && (node.statusUpdate || 0) <= asked) this.nodes.delete(id);
    }
    this.loaded = true;
    this.changed(null);
  }

  node(id) {
    let node = this.nodes.get(id);
    if (!node) {
      node = {
        id,
        name: id,
        kind: 'agent',
        status: 'offline',
        lastSeen: 0,
        tags: [],
        agentVersion: '',
        demos: [],
        latest: {},
        latestAt: 0,
        cpu: [],
        mem: [],
        temp: [],
        lastLog: null,
      };
      this.nodes.set(id, node);
    }
    return node;
  }

  applyStatus(m) {
    const node = this.node(m.nodeID);
    node.statusUpdate = ++this.updates;
    node.name = m.name;
    node.kind = m.kind;
    node.status = m.state;
    node.lastSeen = Number(m.lastSeen) || node.lastSeen;
    node.agentVersion = m.agentVersion;
    node.tags = m.tags;
    this.changed(new Set([m.nodeID]));
  }

  applyDemos(m) {
    const node = this.node(m.nodeID);
    node.demosUpdate = ++this.updates;
    node.demos = m.processes.map((p) => ({ name: p.name, pid: p.pid, state: p.state, key: p.key }));
    this.changed(new Set([m.nodeID]));
  }

  applyMetrics(m) {
    const node = this.nodes.get(m.nodeID);
    if (!node) return;
    let at = 0;
    for (const p of m.points) {
      node.latest[p.name] = p.value;
      at = Math.max(at, Number(p.timestamp));
    }
    node.latestAt = at || Date.now();
    push(node.cpu, cpuOf(node.latest));
    push(node.mem, memoryPercentOf(node.latest));
    push(node.temp, temperatureOf(node.latest));
    this.changed(new Set([m.nodeID]));
  }

  applyLogs(m) {
    const node = this.nodes.get(m.nodeID);
    if (!node || !m.entries.length) return;
    const last = m.entries[m.entries.length - 1];
    node.lastLog = { text: last.text, level: last.severity, ts: Number(last.timestamp), stream: m.streamKey };
    this.changed(new Set([m.nodeID]));
  }

  /**
   * Nodes that just came on screen get, once each, what the stream does not repeat:
   * their latest metric values, two minutes of sparkline history and their last log
   * line (live values take over from there). A few requests at a time, skipping nodes
   * that left the screen meanwhile.
   */
  fillVisible(ids, stillVisible = () => true) {
    if (!this.filled) this.filled = new Set();
    if (!this.fillQueue) this.fillQueue = [];
    for (const id of ids) {
      if (this.filled.has(id)) continue;
      this.filled.add(id);
      this.fillQueue.push(id);
    }
    this.fillWorkers = this.fillWorkers || 0;
    while (this.fillWorkers < 4 && this.fillQueue.length) {
      this.fillWorkers++;
      this.fillWorker(stillVisible).finally(() => this.fillWorkers--);
    }
  }

  async fillWorker(stillVisible) {
    while (this.fillQueue.length) {
      const id = this.fillQueue.shift();
      const node = this.nodes.get(id);
      if (!node) continue;
      if (!stillVisible(id)) {
        this.filled.delete(id);
        continue;
      }
      try {
        await this.fillNode(node);
      } catch {
        // Live values fill the card anyway.
      }
      if (this.nodes.get(id) === node) this.changed(new Set([id]));
    }
  }

  async fillNode(node) {
    const path = `/v1/nodes/${encodeURIComponent(node.id)}`;
    const [detail, logs] = await Promise.all([
      this.api.get(path),
      node.lastLog ? null : this.api.get('/v1/logs', { node: node.id, limit: 1 }).catch(() => null),
    ]);
    node.latest = { ...(detail.metrics || {}), ...node.latest };
    if (logs && logs.entries.length && !node.lastLog) {
      const e = logs.entries[0];
      node.lastLog = { text: e.text, level: e.level, ts: toMillis(e.ts), stream: e.stream };
    }
    const names = Object.keys(node.latest);
    const series = async (name) => {
      if (!name || !names.includes(name)) return [];
      const answer = await this.api.get(`${path}/metrics`, { name, since: '2m', step: '2s' });
      return answer.points.map(([, v]) => v);
    };
    const [cpu, mem, temp] = await Promise.all([series('cpu.total'), series('mem.used'), series(temperatureName(names))]);
    const total = node.latest['mem.total'];
    const prepend = (target, values) => {
      const merged = values.concat(target).slice(-SPARK_POINTS);
      target.splice(0, target.length, ...merged);
    };
    prepend(node.cpu, cpu);
    prepend(node.mem, Number.isFinite(total) && total > 0 ? mem.map((v) => (v / total) * 100) : []);
    prepend(node.temp, temp);
  }

  tags() {
    const all = new Set();
    for (const node of this.nodes.values()) node.tags.forEach((t) => all.add(t));
    return [...all].sort();
  }

  list() {
    return [...this.nodes.values()];
  }
}

function push(series, value) {
  series.push(value);
  if (series.length > SPARK_POINTS) series.splice(0, series.length - SPARK_POINTS);
}

export function cpuOf(latest) {
  return latest['cpu.total'];
}

export function memoryPercentOf(latest) {
  const used = latest['mem.used'];
  const total = latest['mem.total'];
  if (Number.isFinite(used) && Number.isFinite(total) && total > 0) return (used / total) * 100;
  if (Number.isFinite(latest['mem.available']) && Number.isFinite(total) && total > 0) {
    return (1 - latest['mem.available'] / total) * 100;
  }
  return undefined;
}

/** The processor's temperature, else the first sensor an agent names, else a device's. */
export function temperatureOf(latest) {
  if (Number.isFinite(latest['temp.cpu'])) return latest['temp.cpu'];
  for (const [name, value] of Object.entries(latest)) {
    if (name.startsWith('temp.') && Number.isFinite(value)) return value;
  }
  for (const name of ['temp_c', 'temperature', 'temp']) if (Number.isFinite(latest[name])) return latest[name];
  return undefined;
}

export function temperatureName(names) {
  if (names.includes('temp.cpu')) return 'temp.cpu';
  return names.find((n) => n.startsWith('temp.')) || names.find((n) => ['temp_c', 'temperature', 'temp'].includes(n)) || null;
}

export function isProblem(node) {
  return node.status !== 'online' || node.demos.some((d) => d.state === 'exited') || (node.lastLog && levelIndex(node.lastLog.level) >= 4);
}
