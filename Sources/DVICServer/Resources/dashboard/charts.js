// Sparklines (a canvas each, no library) and time charts (Chart.js from Debian's
// libjs-chart.js when it is there; a plain canvas line otherwise, so a missing package
// costs looks, not data).

import { h, fmtNumber } from './util.js';

const css = (name, fallback) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

/** A tiny line of the last values, drawn only when asked. */
export class Sparkline {
  constructor({ width = 96, height = 24, max = null, color = null } = {}) {
    this.width = width;
    this.height = height;
    this.max = max;
    this.color = color;
    this.canvas = h('canvas', { class: 'spark', width: String(width * devicePixelRatio), height: String(height * devicePixelRatio) });
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
  }

  draw(values) {
    const ctx = this.canvas.getContext('2d');
    const ratio = devicePixelRatio;
    const w = this.width * ratio;
    const hgt = this.height * ratio;
    ctx.clearRect(0, 0, w, hgt);
    const points = values.filter((v) => Number.isFinite(v));
    if (points.length < 2) return;
    let lo = Math.min(...points);
    let hi = this.max !== null ? Math.max(this.max, ...points) : Math.max(...points);
    if (this.max !== null) lo = 0;
    if (hi - lo < 1e-9) {
      hi += 1;
      lo -= 1;
    }
    const n = values.length;
    ctx.beginPath();
    let started = false;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) continue;
      const x = (i / Math.max(1, n - 1)) * (w - 2 * ratio) + ratio;
      const y = hgt - ratio - ((v - lo) / (hi - lo)) * (hgt - 2 * ratio);
      if (!started) {
        ctx.moveTo(x, y);
        started = true;
      } else {
        ctx.lineTo(x, y);
      }
    }
    ctx.strokeStyle = this.color || css('--accent', '#4ea1ff');
    ctx.lineWidth = 1.5 * ratio;
    ctx.stroke();
  }
}

/**
 * A time series chart: `setData([[ms, value], …])`, `append(ms, value)`, keeping at most
 * `keep` ms of points when live. The container carries `data-points` (how many points
 * are drawn) for tests and people who read the DOM.
 */
export class TimeChart {
  constructor({ title, unit = '', format = (v) => fmtNumber(v), keepMs = null, min = null, max = null }) {
    this.title = title;
    this.unit = unit;
    this.format = format;
    this.keepMs = keepMs;
    this.points = [];
    this.dirty = false;
    this.canvas = h('canvas');
    this.valueLabel = h('span', { class: 'chart-value' }, '—');
    this.element = h(
      'figure',
      { class: 'chart', testid: 'chart', dataset: { metric: title, points: '0' } },
      h('figcaption', {}, h('span', { class: 'chart-title' }, title), this.valueLabel),
      h('div', { class: 'chart-canvas' }, this.canvas),
    );
    this.min = min;
    this.max = max;
    this.chart = null;
    if (window.Chart) {
      const grid = css('--grid', 'rgba(127,127,127,0.15)');
      const text = css('--muted', '#8a94a6');
      this.chart = new window.Chart(this.canvas, {
        type: 'line',
        data: {
          datasets: [{
            data: [],
            borderColor: css('--accent', '#4ea1ff'),
            backgroundColor: css('--accent-fill', 'rgba(78,161,255,0.12)'),
            borderWidth: 1.5,
            pointRadius: 0,
            fill: true,
            tension: 0.2,
          }],
        },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          parsing: false,
          normalized: true,
          interaction: { mode: 'nearest', axis: 'x', intersect: false },
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                title: (items) => (items.length ? new Date(items[0].parsed.x).toLocaleString() : ''),
                label: (item) => `${this.format(item.parsed.y)}${this.unit ? ' ' + this.unit : ''}`,
              },
            },
          },
          scales: {
            x: {
              type: 'linear',
              grid: { color: grid },
              ticks: { color: text, maxTicksLimit: 6, maxRotation: 0, callback: (v) => timeTick(v, this.span()) },
            },
            y: {
              grid: { color: grid },
              ticks: { color: text, maxTicksLimit: 5, callback: (v) => this.format(v) },
              suggestedMin: min ?? undefined,
              suggestedMax: max ?? undefined,
            },
          },
        },
      });
    }
  }

  span() {
    if (this.points.length < 2) return 0;
    return this.points[this.points.length - 1][0] - this.points[0][0];
  }

  setData(points) {
    this.points = points.filter((p) => Number.isFinite(p[1])).sort((a, b) => a[0] - b[0]);
    this.dirty = true;
  }

  append(ms, value) {
    if (!Number.isFinite(value)) return;
    const last = this.points[this.points.length - 1];
    if (last && ms <= last[0]) {
      if (ms === last[0]) last[1] = value;
      return;
    }
    this.points.push([ms, value]);
    if (this.keepMs) {
      const cut = ms - this.keepMs;
      let i = 0;
      while (i < this.points.length && this.points[i][0] < cut) i++;
      if (i) this.points.splice(0, i);
    }
    this.dirty = true;
  }

  /** Redraws if anything changed since the last call. */
  render() {
    if (!this.dirty) return;
    this.dirty = false;
    const last = this.points[this.points.length - 1];
    this.valueLabel.textContent = last ? `${this.format(last[1])}${this.unit ? ' ' + this.unit : ''}` : '—';
    this.element.dataset.points = String(this.points.length);
    if (this.chart) {
      this.chart.data.datasets[0].data = this.points.map(([x, y]) => ({ x, y }));
      this.chart.update('none');
    } else {
      drawFallback(this.canvas, this.points, this.min, this.max);
    }
  }

  destroy() {
    if (this.chart) this.chart.destroy();
    this.chart = null;
  }
}

function timeTick(value, span) {
  const d = new Date(value);
  const pad = (n) => String(n).padStart(2, '0');
  if (span > 2 * 86400000) return `${d.getMonth() + 1}/${d.getDate()} ${pad(d.getHours())}h`;
  if (span > 3600000) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function drawFallback(canvas, points, min, max) {
  const box = canvas.parentElement.getBoundingClientRect();
  const ratio = devicePixelRatio;
  canvas.width = Math.max(10, box.width) * ratio;
  canvas.height = Math.max(10, box.height) * ratio;
  canvas.style.width = `${box.width}px`;
  canvas.style.height = `${box.height}px`;
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (points.length < 2) return;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const x0 = xs[0];
  const x1 = xs[xs.length - 1];
  let lo = min ?? Math.min(...ys);
  let hi = max !== null && max !== undefined ? Math.max(max, ...ys) : Math.max(...ys);
  if (hi - lo < 1e-9) {
    hi += 1;
    lo -= 1;
  }
  ctx.beginPath();
  points.forEach(([x, y], i) => {
    const px = ((x - x0) / Math.max(1, x1 - x0)) * canvas.width;
    const py = canvas.height - ((y - lo) / (hi - lo)) * (canvas.height - 4 * ratio) - 2 * ratio;
    if (i === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  });
  ctx.strokeStyle = css('--accent', '#4ea1ff');
  ctx.lineWidth = 1.5 * ratio;
  ctx.stroke();
}
