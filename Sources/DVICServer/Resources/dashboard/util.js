// Small helpers shared by the views: an element builder, formatting, timing.

/**
 * h('div', {class: 'x', dataset: {nodeId: 'n-1'}, onclick: fn}, 'text', child, [more])
 * Strings become text nodes (never HTML); null/false children are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
      else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else if (key === 'testid') el.setAttribute('data-testid', value);
      else if (key in el && typeof value !== 'string') el[key] = value;
      else el.setAttribute(key, value === true ? '' : value);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Sets text only when it changed (cheap DOM updates on hot paths). */
export function setText(el, text) {
  const value = text === undefined || text === null ? '' : String(text);
  if (el.textContent !== value) el.textContent = value;
}

export function setAttr(el, name, value) {
  const v = String(value);
  if (el.getAttribute(name) !== v) el.setAttribute(name, v);
}

export function fmtBytes(n) {
  if (n === undefined || n === null || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${n < 0 ? '-' : ''}${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function fmtNumber(n, digits = 1) {
  if (n === undefined || n === null || !Number.isFinite(n)) return '—';
  return Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en') : n.toFixed(digits).replace(/\.0+$/, '');
}

export function fmtDuration(ms) {
  if (ms === undefined || ms === null) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60000);
  return `${m} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function toMillis(t) {
  if (t === undefined || t === null || t === '') return null;
  if (typeof t === 'number') return t;
  if (typeof t === 'bigint') return Number(t);
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : ms;
}

export function fmtTime(t, withDate = false) {
  const ms = toMillis(t);
  if (ms === null || ms <= 0) return '—';
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (!withDate) return `${time}.${pad(d.getMilliseconds(), 3)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

export function fmtAgo(t, now = Date.now()) {
  const ms = toMillis(t);
  if (ms === null || ms <= 0) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/**
 * Coalesces many "something changed" calls into at most one render every `interval`
 * ms, run in an animation frame (so a busy stream never renders more than a few times
 * a second, and a hidden tab not at all).
 */
export class RenderScheduler {
  constructor(render, interval = 250) {
    this.render = render;
    this.interval = interval;
    this.pending = false;
    this.last = 0;
    this.timer = null;
    this.stopped = false;
  }

  schedule() {
    if (this.pending || this.stopped) return;
    this.pending = true;
    const wait = Math.max(0, this.last + this.interval - performance.now());
    this.timer = setTimeout(() => {
      requestAnimationFrame(() => {
        this.pending = false;
        if (this.stopped) return;
        this.last = performance.now();
        this.render();
      });
    }, wait);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

export async function copyText(text, button) {
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    // Plain http on another host has no clipboard API: select the text instead.
    const area = h('textarea', { style: { position: 'fixed', opacity: '0' } }, text);
    document.body.appendChild(area);
    area.select();
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
  }
  if (button) {
    const label = button.textContent;
    button.textContent = ok ? 'Copied' : 'Select and copy';
    setTimeout(() => (button.textContent = label), 1500);
  }
  return ok;
}

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export function levelIndex(level) {
  const i = LEVELS.indexOf(String(level).toLowerCase());
  return i < 0 ? 2 : i;
}

const decoder = new TextDecoder();
export function bytesText(bytes) {
  if (!bytes) return '';
  return decoder.decode(bytes);
}

/** A small text badge. */
export function pill(text, kind) {
  return h('span', { class: `pill ${kind || ''}` }, text);
}

export function emptyRow(colspan, text) {
  return h('tr', { class: 'empty' }, h('td', { colspan: String(colspan) }, text));
}
