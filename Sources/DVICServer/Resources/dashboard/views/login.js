// Sign in: POST /v1/login; the token stays in memory (app.js), the role is shown.

import { h, setText } from '../util.js';

export function createLoginView(ctx) {
  let root;

  function mount(container) {
    const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, testid: 'login-username', autofocus: true });
    const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, testid: 'login-password' });
    const submit = h('button', { type: 'submit', class: 'primary', testid: 'login-submit' }, 'Sign in');
    const note = h('div', { class: 'form-note', role: 'alert', testid: 'login-error' });
    const form = h('form', {
      class: 'login-form',
      onsubmit: async (e) => {
        e.preventDefault();
        submit.disabled = true;
        setText(note, '');
        try {
          await ctx.signIn(username.value.trim(), password.value);
        } catch (error) {
          setText(note, error.status === 401 ? 'Wrong user name or password.' : error.message);
          password.select();
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('div', { class: 'brand big' }, h('span', { class: 'logo' }, 'DVIC'), ' Demo Monitoring'),
    h('label', {}, 'User name', username),
    h('label', {}, 'Password', password),
    submit,
    note,
    h('p', { class: 'muted small' }, 'Roles: viewers watch; operators also run commands and open terminals; admins also add machines, devices and people.'));
    root = h('section', { class: 'view login' }, form);
    container.appendChild(root);
    username.focus();
  }

  return { mount, unmount() { root = null; }, title: 'Sign in' };
}
