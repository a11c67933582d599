// Add a machine: a one-time enrollment token and the install one-liner to copy, and the SSH
// install (IP, user, password, source node) with its steps live (Spec/install.md).

import { h, clear, setText, fmtTime, copyText } from '../util.js';
import { KIND } from '../stream.js';

/** The six steps of an install, in order (Spec/install.md, section 4). */
const STEPS = ['connecting', 'authenticated', 'downloading', 'installed', 'started', 'online'];

export function createEnrollView(ctx) {
  const { api, fleet, stream } = ctx;
  let root;
  const cleanups = [];

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
    const ip = h('input', { type: 'text', placeholder: 'IP address or host name', 'aria-label': 'IP address', testid: 'ssh-ip', required: true });
    const port = h('input', { type: 'number', value: '22', min: '1', max: '65535', 'aria-label': 'SSH port', testid: 'ssh-port', class: 'narrow' });
    const user = h('input', { type: 'text', placeholder: 'user (e.g. pi)', 'aria-label': 'SSH user', testid: 'ssh-user', required: true });
    const password = h('input', { type: 'password', placeholder: 'password', 'aria-label': 'SSH password', autocomplete: 'off', testid: 'ssh-password', required: true });
    const via = h('select', { 'aria-label': 'Source node', testid: 'ssh-via' },
      h('option', { value: 'server' }, 'from the server'),
      ...sources.map((n) => h('option', { value: n.id }, `from ${n.name}`)));
    const name = h('input', { type: 'text', placeholder: 'name (optional)', 'aria-label': 'Name', testid: 'ssh-name' });
    const tags = h('input', { type: 'text', placeholder: 'tags, comma separated', 'aria-label': 'Tags', testid: 'ssh-tags' });
    const prefix = h('input', { type: 'text', placeholder: 'install under (optional, absolute path)', 'aria-label': 'Install prefix', testid: 'ssh-prefix' });
    const submit = h('button', { type: 'submit', class: 'primary', testid: 'ssh-install' }, 'Install over SSH');
    const note = h('div', { class: 'form-note', testid: 'ssh-note' });
    const progress = h('div', { class: 'job-progress', hidden: true, testid: 'install-progress' });
    const fieldset = h('fieldset', { testid: 'ssh-form' }, ip, port, user, password, via, name, tags, prefix, submit);

    // One job at a time from this form: the stream says when something happened, the job's
    // REST answer carries every step with its message.
    let current = null;
    function render(job) {
      const reached = new Map(job.steps.map((s) => [s.step, s]));
      const rows = STEPS.map((step) => {
        const seen = reached.get(step);
        const state = seen ? 'done' : (job.state === 'failed' ? 'skipped' : 'pending');
        return h('li', { class: `job-step ${state}`, 'data-step': step, 'data-state': state, testid: 'install-step' },
          h('span', { class: 'job-step-name' }, step), h('span', { class: 'muted' }, seen ? seen.message : ''));
      });
      const verdict = job.state === 'succeeded'
        ? h('p', { class: 'good', testid: 'install-verdict' }, `Installed: ${job.name || job.host} is online as ${job.nodeID}.`)
        : job.state === 'failed'
          ? h('p', { class: 'bad', testid: 'install-verdict' }, `Failed (${job.failure}): ${job.message}`)
          : h('p', { class: 'muted', testid: 'install-verdict' }, `Running… ${job.done}/${job.total}`);
      clear(progress).append(
        h('p', {}, `Job ${job.id}: ${job.user}@${job.host}:${job.port}`, job.hostKeyFingerprint ? h('span', { class: 'muted mono' }, ` host key ${job.hostKeyFingerprint}`) : ''),
        h('ol', { class: 'job-steps' }, ...rows), verdict);
      progress.dataset.state = job.state;
      progress.hidden = false;
    }
    async function poll(id) {
      while (current === id && root) {
        try {
          const job = await api.get(`/v1/installs/${encodeURIComponent(id)}`);
          render(job);
          if (job.state !== 'running') {
            fieldset.disabled = false;
            current = null;
            return;
          }
        } catch (error) {
          setText(note, `Lost the job: ${error.message}`);
        }
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, 1000);
          wake = () => { clearTimeout(timer); resolve(); };
        });
      }
    }
    let wake = () => {};
    const subscription = stream.subscribe({ kinds: KIND.jobs });
    const unlisten = stream.on('jobProgress', (m) => { if (m.jobID === current) wake(); });
    cleanups.push(() => { subscription.close(); unlisten(); });

    const form = h('form', { class: 'inline-form ssh-form', onsubmit: async (e) => {
      e.preventDefault();
      setText(note, '');
      fieldset.disabled = true;
      try {
        const job = await api.post('/v1/installs', {
          ip: ip.value.trim(), port: Number(port.value) || 22, user: user.value.trim(), password: password.value,
          via: via.value, name: name.value.trim() || undefined, tags: tags.value.split(',').map((t) => t.trim()).filter(Boolean),
          prefix: prefix.value.trim() || undefined,
        });
        // The password has done its job: it does not stay in the page.
        password.value = '';
        current = job.id;
        render(job);
        poll(job.id);
      } catch (error) {
        fieldset.disabled = false;
        setText(note, `Not started: ${error.message}`);
      }
    } }, fieldset);
    return h('div', { class: 'card-panel' }, h('h3', {}, 'Install over SSH'),
      h('p', { class: 'muted' }, 'The server, or a node near the machine, logs in with this password once, records the machine\'s host key, installs the agent with sudo and enrolls it. The password is not stored.'),
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

  return { mount, unmount() { root = null; while (cleanups.length) cleanups.pop()(); }, title: 'Add a machine' };
}
