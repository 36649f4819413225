// Staff pages (desk, admin): who is logged in, and the login form when
// nobody (or somebody without the needed role) is.

import { get, call, explain } from './api.js';
import { byId } from './dom.js';

const RANK = /** @type {Record<string, number>} */ ({ facilitator: 1, admin: 2 });

/**
 * Resolves with the logged-in user once they have at least `role`; shows the
 * page's #login form until then.
 * @param {'facilitator'|'admin'} role
 * @returns {Promise<{name: string, role: string}>}
 */
export async function ensureStaff(role) {
  let user = null;
  try { user = (await get('/api/me')).user; } catch (e) { /* treated as logged out */ }
  if (user && (RANK[user.role] || 0) >= RANK[role]) return user;
  const form = /** @type {HTMLFormElement} */ (byId('login'));
  const out = byId('login-msg');
  form.hidden = false;
  if (user) out.textContent = 'You are logged in as ' + user.name + ', who is not ' + (role === 'admin' ? 'an admin' : 'a facilitator') + '. Log in with another account.';
  document.body.classList.add('ready', 'login');
  byId('login-name').focus();
  return new Promise((resolve) => {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const name = /** @type {HTMLInputElement} */ (byId('login-name')).value.trim();
      const password = /** @type {HTMLInputElement} */ (byId('login-password')).value;
      if (!name || !password) { out.textContent = 'Please enter your name and password.'; return; }
      try {
        const r = await call('POST', '/api/login', { name, password });
        const u = r && r.user;
        if (!u || (RANK[u.role] || 0) < RANK[role]) { out.textContent = 'This account is not ' + (role === 'admin' ? 'an admin' : 'a facilitator') + '.'; return; }
        out.textContent = '';
        form.hidden = true;
        document.body.classList.remove('ready', 'login');
        resolve(u);
      } catch (e) {
        const err = /** @type {any} */ (e);
        out.textContent = err && err.status === 401 ? 'That name and password do not match an account.' : explain(err, 'Logging in');
      }
    });
  });
}
