// Ways in on the admin page (issue 12): which ways a conversation takes
// (open link, access code, work email from listed domains, single-use
// invites), why email may be unavailable, and making invite codes, shown
// once, with a CSV and a printable sheet to download.

import { get, call, conv, explain } from './api.js';
import { h, byId } from './dom.js';

/** Why the `email` way in cannot be chosen on this server, or '' if it can. */
let emailUnavailable = '';

/** Reads the server's mail status once (for staff, /api/me says). */
export async function loadMailStatus() {
  try {
    const me = await get('/api/me');
    const e = me && me.email_sign_in;
    emailUnavailable = e && !e.available ? (e.reason || 'This server cannot send email.') : '';
  } catch (err) { emailUnavailable = ''; }
  for (const prefix of ['new', 'm']) showEmailNote(prefix);
}

/** @param {string} prefix */
function boxes(prefix) {
  return /** @type {HTMLInputElement[]} */ (Array.from(document.querySelectorAll('#' + prefix + '-ways input[name="way"]')));
}

/** The ways ticked in a form. @param {string} prefix */
export function waysOf(prefix) {
  return boxes(prefix).filter((b) => b.checked).map((b) => b.value);
}

/** The domains typed, split on commas, spaces or new lines. @param {string} prefix */
export function domainsOf(prefix) {
  const el = /** @type {HTMLInputElement} */ (byId(prefix + '-domains'));
  return el.value.split(/[\s,;]+/).map((d) => d.trim()).filter(Boolean);
}

/** @param {string} prefix */
function showEmailNote(prefix) {
  const note = document.getElementById(prefix + '-email-note');
  const box = /** @type {HTMLInputElement|null} */ (document.querySelector('#' + prefix + '-ways input[value="email"]'));
  if (!note || !box) return;
  note.hidden = !emailUnavailable;
  note.textContent = emailUnavailable ? 'Work email is not available: ' + emailUnavailable + '.' : '';
  box.disabled = !!emailUnavailable && !box.checked;
}

/** Shows the fields the ticked ways need. @param {string} prefix */
function showFields(prefix) {
  const ways = waysOf(prefix);
  byId(prefix + '-domains-field').hidden = !ways.includes('email');
  const code = document.getElementById(prefix + '-ways-code-field') || document.getElementById(prefix + '-code-field');
  if (code) code.hidden = !ways.includes('code');
  showEmailNote(prefix);
}

/** Wires the ways-in checkboxes of a form (`new` or `m`). @param {string} prefix */
export function wireWays(prefix) {
  for (const b of boxes(prefix)) b.addEventListener('change', () => showFields(prefix));
  showFields(prefix);
}

/** Shows a conversation's ways in on the manage form. @param {any} c */
export function showWays(c) {
  const ways = Array.isArray(c.ways_in) ? c.ways_in : [];
  for (const b of boxes('m')) b.checked = ways.includes(b.value);
  /** @type {HTMLInputElement} */ (byId('m-domains')).value = (c.email_domains || []).join(', ');
  const summary = byId('m-ways-summary');
  const verified = ways.length > 0 && ways.every((/** @type {string} */ w) => w === 'email' || w === 'invite');
  summary.textContent = verified
    ? 'One person, one voice: everyone comes in by a work email or an invite.'
    : 'Not one person, one voice: by the open link or an access code, one person can sign up more than once.';
  showFields('m');
  byId('invites').hidden = !ways.includes('invite');
  if (ways.includes('invite')) loadCounts(c.slug);
}

/** @param {string} slug */
async function loadCounts(slug) {
  try {
    const r = await get(conv(slug) + '/invites');
    byId('inv-counts').textContent = r.issued + ' invite codes made, ' + r.used + ' used.';
  } catch (e) { byId('inv-counts').textContent = ''; }
}

/**
 * The manage form's ways: saves them (and the domains, and an access code
 * when one is typed) with `patch`.
 * @param {() => any} current the conversation shown
 * @param {(body: any, out: string, done: string) => Promise<boolean>} patch
 */
export function wireWaysForm(current, patch) {
  wireWays('m');
  byId('ways-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const ways = waysOf('m');
    const out = byId('ways-msg');
    if (!ways.length) { out.textContent = 'Please tick at least one way in.'; out.classList.add('bad'); return; }
    /** @type {any} */
    const body = { ways_in: ways, email_domains: domainsOf('m') };
    const code = /** @type {HTMLInputElement} */ (byId('m-ways-code')).value.trim();
    if (code) body.access_code = code;
    patch(body, 'ways-msg', 'Ways in saved.').then((ok) => {
      if (ok) { /** @type {HTMLInputElement} */ (byId('m-ways-code')).value = ''; showWays(current()); }
    });
  });
  byId('inv-form').addEventListener('submit', (ev) => { ev.preventDefault(); makeInvites(current()); });
}

/** Object URLs made for the last batch, released when the next is made. */
let urls = /** @type {string[]} */ ([]);

/** @param {any} c */
async function makeInvites(c) {
  const out = byId('inv-msg');
  const count = Number(/** @type {HTMLInputElement} */ (byId('inv-count')).value);
  if (!(count >= 1 && count <= 1000)) { out.textContent = 'Make between 1 and 1000 codes at a time.'; out.classList.add('bad'); return; }
  out.classList.remove('bad');
  out.textContent = 'Making ' + count + ' codes…';
  try {
    const r = await call('POST', conv(c.slug) + '/invites', { count });
    const codes = /** @type {string[]} */ (r.codes);
    byId('inv-codes').replaceChildren(...codes.map((code) => h('li', { text: code })));
    for (const u of urls) URL.revokeObjectURL(u);
    urls = [];
    for (const [kind, id, name] of [['csv', 'inv-csv', '.csv'], ['sheet', 'inv-sheet', '.html']]) {
      const res = await fetch(conv(c.slug) + '/invites/' + kind, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ codes }),
      });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const url = URL.createObjectURL(await res.blob());
      urls.push(url);
      const a = /** @type {HTMLAnchorElement} */ (byId(id));
      a.href = url;
      a.download = 'invites-' + c.slug + name;
    }
    byId('inv-out').hidden = false;
    byId('inv-counts').textContent = r.issued + ' invite codes made, ' + r.used + ' used.';
    out.textContent = 'Made ' + codes.length + ' codes. They are shown only now: download the CSV or the printable sheet before you leave this page.';
    /** @type {HTMLElement} */ (byId('inv-csv')).focus();
  } catch (e) {
    out.textContent = explain(/** @type {any} */ (e), 'Making invite codes');
    out.classList.add('bad');
  }
}
