// The dashboard's shell: sign-in, the top bar, hash routing between views, and the
// shared parts every view uses (REST client, live stream, fleet state, commands).

import { h, clear, setText } from './util.js';
import { Api } from './api.js';
import { LiveStream } from './stream.js';
import { FleetState } from './fleet-state.js';
import { CommandTracker } from './commands.js';
import { createLoginView } from './views/login.js';
import { createFleetView } from './views/fleet.js';
import { createNodeView } from './views/node.js';
import { createManyView } from './views/many.js';
import { createDevicesView } from './views/devices.js';
import { createEnrollView } from './views/enroll.js';
import { createAuditView } from './views/audit.js';
import { createUpdatesView } from './views/updates.js';

const api = new Api();
const stream = new LiveStream();
const fleet = new FleetState(api, stream);
const tracker = new CommandTracker(api, stream);

const ROUTES = {
  fleet: { create: createFleetView, nav: 'Fleet' },
  node: { create: createNodeView },
  run: { create: createManyView, nav: 'Run on many', role: 'operator' },
  devices: { create: createDevicesView, nav: 'Devices' },
  enroll: { create: createEnrollView, nav: 'Add a machine', role: 'admin' },
  audit: { create: createAuditView, nav: 'Audit', role: 'operator' },
  updates: { create: createUpdatesView, nav: 'Updates' },
};

const app = document.getElementById('app');
let view = null;
let viewKey = '';
let main;
let nav;
let liveBadge;
let notices;
let wanted = null;

const ctx = { api, stream, fleet, tracker, navigate, signIn, signOut };

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, queryString] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = Object.fromEntries(new URLSearchParams(queryString || ''));
  const name = parts[0] || 'fleet';
  if (name === 'node') return { name, params: { id: parts[1], tab: parts[2], ...query } };
  return { name, params: query };
}

function route() {
  if (!api.token) {
    if (viewKey !== 'login') {
      if (location.hash && !location.hash.startsWith('#/login')) wanted = location.hash;
      showLogin();
    }
    return;
  }
  let { name, params } = parseHash();
  if (!ROUTES[name] || (ROUTES[name].role && !api.can(ROUTES[name].role)) || (name === 'node' && !params.id)) {
    name = 'fleet';
    params = {};
  }
  const key = name === 'node' ? `node:${params.id}` : `${name}:${JSON.stringify(params)}`;
  if (view && key === viewKey && view.update && view.update(params)) return;
  if (view && key === viewKey) return;
  if (view) view.unmount();
  clear(main);
  viewKey = key;
  view = ROUTES[name].create(ctx);
  window.scrollTo(0, 0);
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.route === name);
  document.title = `${view.title || 'Dashboard'} · DVIC`;
  view.mount(main, params);
}

function showLogin(message) {
  if (view) view.unmount();
  view = null;
  viewKey = 'login';
  clear(app);
  const container = h('main', { class: 'login-page' });
  app.appendChild(container);
  view = createLoginView(ctx);
  view.mount(container, {});
  if (message) container.querySelector('[data-testid="login-error"]').textContent = message;
  document.title = 'Sign in · DVIC';
}

function shell() {
  clear(app);
  nav = h('nav', { class: 'nav' });
  for (const [name, r] of Object.entries(ROUTES)) {
    if (!r.nav || (r.role && !api.can(r.role))) continue;
    nav.appendChild(h('a', { href: `#/${name}`, dataset: { route: name }, testid: `nav-${name}` }, r.nav));
  }
  liveBadge = h('span', { class: 'live-badge', testid: 'connection', title: 'The live stream' });
  notices = h('div', { class: 'notices' });
  const user = h('div', { class: 'user' },
    h('span', { class: 'muted' }, api.username),
    h('span', { class: `role role-${api.role}`, testid: 'user-role', title: roleHelp(api.role) }, api.role),
    h('button', { type: 'button', class: 'ghost', testid: 'sign-out', onclick: () => signOut() }, 'Sign out'));
  const top = h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: '#/fleet' }, h('span', { class: 'logo' }, 'DVIC'), h('span', { class: 'brand-text' }, 'Demo Monitoring')),
    nav,
    h('div', { class: 'spacer' }),
    liveBadge,
    user);
  main = h('main', { class: 'content' });
  app.append(top, notices, main);
  showState(stream.state);
  vendorNotices();
}

function roleHelp(role) {
  return {
    viewer: 'Viewer: watches nodes, metrics and logs',
    operator: 'Operator: also runs commands and opens terminals',
    admin: 'Admin: also adds machines, devices and people',
  }[role] || role;
}

function showState(state) {
  if (!liveBadge) return;
  const text = { live: 'live', connecting: 'connecting…', reconnecting: 'reconnecting…', idle: 'offline' }[state] || state;
  setText(liveBadge, text);
  liveBadge.dataset.state = state;
}

function vendorNotices() {
  const missing = [];
  if (!window.Chart) missing.push(['Charts', 'Chart.js', 'libjs-chart.js']);
  if (!(window.XTermModule && window.XTermModule.Terminal)) missing.push(['The terminal', 'xterm.js', 'node-xterm and esbuild']);
  for (const [what, lib, pkg] of missing) {
    notices.appendChild(h('div', { class: 'notice', testid: 'vendor-missing' },
      `${what} need${what === 'Charts' ? '' : 's'} ${lib}, which the server did not find. Run tools/vendor-js on the server (it installs ${pkg} from Debian into .build-vendor) and reload.`,
      h('button', { type: 'button', class: 'ghost', onclick: (e) => e.currentTarget.parentElement.remove() }, 'Dismiss')));
  }
}

async function signIn(username, password) {
  await api.login(username, password);
  stream.start(api.token);
  tracker.start();
  shell();
  fleet.start().catch((error) => console.error('fleet', error));
  viewKey = '';
  view = null;
  const target = wanted && !wanted.startsWith('#/login') ? wanted : '#/fleet';
  wanted = null;
  if (location.hash === target) route();
  else location.hash = target;
}

async function signOut(message) {
  if (view) view.unmount();
  view = null;
  viewKey = '';
  stream.stop();
  fleet.stop();
  tracker.stop();
  await api.logout();
  showLogin(message);
  history.replaceState(null, '', '#/login');
}

api.onUnauthorized = () => signOut('Your session ended; sign in again.');
stream.on('unauthorized', () => signOut('Your session ended; sign in again.'));
stream.on('state', showState);
window.addEventListener('hashchange', route);
route();
