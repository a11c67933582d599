// Add a machine: a one-time enrollment token and the install one-liner to copy; the
// SSH install form (IP, user, password, source node) waits for its endpoint (issue #8).

import { h, clear, setText, fmtTime, copyText } from '../util.js';

/** The SSH installer's endpoint; the form is enabled once the server has it. */
const SSH_INSTALL_ENDPOINT = '/v1/installs';

export function createEnrollView(ctx) {
  const { api, fleet } = ctx;
  let root;

  function enrollmentForm() {
    const name = h('input', { type: 'text', placeholder: 'optional: the machine name (else its hostname)', 'aria-label': 'Name', testid: 'enroll-name' });
    const tags = h('input', { type: 'text', placeholder: 'tags, comma separated (lab-a, camera)', 'aria-label': 'Tags', testid: 'enroll-tags' });
    const ttl = h('select', { 'aria-label': 'Valid for' },
      ...[[3600, '1 hour'], [86400, '1 day'], [7 * 86400, '7 days'], [30 * 86400, '30 days']].map(([v, t]) => h('option', { value: String(v) }, `valid ${t}`)));
    const note = h('div', { class: 'form-note' });
    const result = h('div', { class: 'result-box', hidden: true, testid: 'enrollment' });
    const form = h('form', { class: 'inline-form', onsubmit: async (e) => {
      e.preventDefault();
      setText(note, '');
      try {
        const body = { name: name.value.trim() || undefined, tags: tags.value.split(',').map((t) => t.trim()).filter(Boolean), ttlSeconds: Number(ttl.value) };
        const answer = await api.post('/v1/enrollments', body);
        const copy = h('button', { type: 'button', class: 'primary', testid: 'copy-install', onclick: (ev) => copyText(answer.installCommand, ev.currentTarget) }, 'Copy');
        clear(result).append(
          h('p', {}, 'Run this on the new machine (as root). The token works once, until ', h('strong', {}, fmtTime(answer.expiresAt, true)), '.'),
          h('div', { class: 'copy-row' }, h('pre', { class: 'mono', testid: 'install-command' }, answer.installCommand), copy),
          h('p', { class: 'muted' }, 'Or start an agent by hand: ',
            h('span', { class: 'mono' }, `dvic-agent --server ${location.origin} --enroll-token ${answer.token}${body.tags.map((t) => ` --tag ${t}`).join('')}`)),
          h('p', { class: 'muted' }, 'The machine shows up in the fleet as soon as its agent connects.'));
        result.hidden = false;
      } catch (error) {
        setText(note, `Not created: ${error.message}`);
      }
    } }, name, tags, ttl, h('button', { type: 'submit', class: 'primary', testid: 'enroll-create' }, 'Create install command'));
    return h('div', { class: 'card-panel' }, h('h3', {}, 'Install command'), form, note, result);
  }

  function sshForm() {
    const sources = fleet.list().filter((n) => n.kind === 'agent' && n.status === 'online');
    const fields = [
      h('input', { type: 'text', placeholder: 'IP address or host name', 'aria-label': 'IP address' }),
      h('input', { type: 'text', placeholder: 'user (e.g. pi)', 'aria-label': 'SSH user' }),
      h('input', { type: 'password', placeholder: 'password', 'aria-label': 'SSH password', autocomplete: 'off' }),
      h('select', { 'aria-label': 'Source node' },
        h('option', { value: '' }, 'from the server'),
        ...sources.map((n) => h('option', { value: n.id }, `from ${n.name}`))),
      h('button', { type: 'submit', class: 'primary' }, 'Install over SSH'),
    ];
    const progress = h('div', { class: 'job-progress', hidden: true });
    const note = h('div', { class: 'form-note', testid: 'ssh-note' },
      'The SSH installer is not in this server yet (issue #8). This form is wired to it once ',
      h('span', { class: 'mono' }, `POST ${SSH_INSTALL_ENDPOINT}`), ' exists; until then, copy the install command above.');
    const fieldset = h('fieldset', { disabled: true, testid: 'ssh-form' }, ...fields);
    const form = h('form', { class: 'inline-form', onsubmit: (e) => e.preventDefault() }, fieldset);
    return h('div', { class: 'card-panel' }, h('h3', {}, 'Install over SSH'),
      h('p', { class: 'muted' }, 'The server (or a node near the machine) logs in with this password once, installs the agent and enrolls it; the password is not stored.'),
      form, note, progress);
  }

  function mount(container) {
    root = h('section', { class: 'view enroll' }, h('h2', {}, 'Add a machine'));
    if (!api.can('admin')) {
      root.appendChild(h('p', { class: 'muted' }, 'Adding machines needs the admin role.'));
    } else {
      root.append(enrollmentForm(), sshForm());
    }
    container.appendChild(root);
  }

  return { mount, unmount() { root = null; }, title: 'Add a machine' };
}
