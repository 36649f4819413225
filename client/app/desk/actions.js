// Acting on the current entry: hide (with a reason), restore, approve, pin,
// edit, hide everything by its author, suspend. Buttons and keys both come
// here (`act`); each request has its own request_id.

import { call, seg, uuid, explain } from '../api.js';
import { byId } from '../dom.js';
import { API, say, desk } from './page.js';
import { entries, actedBy, suspended, actionText, rerender, upsert } from './entries.js';
import { scheduleRender } from './feed.js';
import { sel, backToFeed } from './selection.js';

/** Keys that act on the focused entry. */
export const KEYS = /** @type {Record<string, string>} */ ({ h: 'hide', r: 'restore', a: 'approve', p: 'pin', e: 'edit', x: 'hide_all', s: 'suspend' });

const actMsg = byId('act-msg');
/** @param {string} text @param {boolean} [bad] */
function msg(text, bad) { actMsg.textContent = text; actMsg.classList.toggle('bad', !!bad); }

/**
 * One moderation request (its own request_id), applied to the desk when it
 * succeeds; throws what the server answered otherwise.
 * @param {string} id @param {string} action @param {string} [reason]
 */
export async function moderateOne(id, action, reason) {
  const e = entries.get(id);
  if (!e) return;
  const body = /** @type {any} */ ({ request_id: uuid(), action });
  if (reason) body.reason = reason;
  if (e.kind === 'idea') {
    const r = await call('POST', API + '/items/' + seg(id) + '/moderation', body);
    const it = r && (r.item || r);
    if (it && it.id) upsert('idea', it);
  } else {
    const r = await call('POST', API + '/comments/' + seg(id) + '/moderation', body);
    const c = r && (r.comment || r);
    if (c && c.id) upsert('comment', c);
  }
  actedBy.set(id, { who: desk.myName, action, reason: reason || '' });
  rerender(id);
}

/** @param {string} id @param {string} action @param {string} [reason] */
async function moderate(id, action, reason) {
  const e = entries.get(id);
  if (!e) return;
  try {
    await moderateOne(id, action, reason);
    rerender(id);
    scheduleRender();
    msg(actionText(action) + '.');
    say.say(actionText(action) + '.');
  } catch (err) {
    msg(explain(/** @type {any} */ (err), 'The action'), true);
  }
}

/** @param {string} id @param {string} action @param {string} [reason] */
async function author(id, action, reason) {
  const body = /** @type {any} */ ({ request_id: uuid(), action });
  if (reason) body.reason = reason;
  try {
    const r = await call('POST', API + '/comments/' + seg(id) + '/author', body);
    if (r && r.comment) upsert('comment', r.comment);
    const e = entries.get(id);
    if (e && action !== 'hide_all') suspended.set(e.d.handle, action === 'suspend');
    actedBy.set(id, { who: desk.myName, action, reason: reason || '' });
    for (const [cid, x] of entries) if (x.d.handle === e?.d.handle) rerender(cid);
    scheduleRender();
    const t = action === 'hide_all' ? 'Hid ' + (r && typeof r.events === 'number' ? r.events : 'every') + ' comment(s) by this participant.' : actionText(action) + '.';
    msg(t);
    say.say(t);
  } catch (err) {
    msg(explain(/** @type {any} */ (err), 'The action'), true);
  }
}

let reasonFor = /** @type {{id: string, action: string}|null} */ (null);
const reasonForm = /** @type {HTMLFormElement} */ (byId('reason-form'));
const editForm = /** @type {HTMLFormElement} */ (byId('edit-form'));

/** An open hide or edit form belongs to the entry it was opened for: closes it when another becomes current. @param {string|null} id */
export function closeFormsNotFor(id) {
  if (reasonFor && reasonFor.id !== id) { reasonFor = null; reasonForm.hidden = true; }
  if (!editForm.hidden && editForm.dataset.id !== id) editForm.hidden = true;
}

/** @param {string} action */
export function act(action) {
  const id = sel.current;
  const e = id ? entries.get(id) : null;
  if (!id || !e) return;
  const btn = /** @type {HTMLButtonElement|null} */ (document.querySelector('#buttons button[data-act="' + action + '"]'));
  if (btn && btn.disabled) { msg('That does not apply to this entry.', true); return; }
  editForm.hidden = true;
  reasonForm.hidden = true;
  if (action === 'hide' || action === 'hide_all') {
    reasonFor = { id, action };
    byId('reason-h').textContent = action === 'hide' ? 'Why hide it?' : 'Why hide everything by this participant?';
    byId('reason-ok').textContent = action === 'hide' ? 'Hide' : 'Hide all';
    reasonForm.hidden = false;
    byId('reason').focus();
  } else if (action === 'edit') {
    /** @type {HTMLTextAreaElement} */ (byId('edit-body')).value = e.d.body;
    editForm.dataset.id = id;
    editForm.hidden = false;
    byId('edit-body').focus();
  } else if (action === 'pin') {
    moderate(id, e.d.pinned ? 'unpin' : 'pin');
  } else if (action === 'suspend') {
    author(id, suspended.get(e.d.handle) ? 'unsuspend' : 'suspend');
  } else {
    moderate(id, action);
  }
}

export function wireActions() {
  reasonForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!reasonFor) return;
    const choice = /** @type {HTMLSelectElement} */ (byId('reason'));
    const free = /** @type {HTMLInputElement} */ (byId('reason-text')).value.trim();
    const reason = free || choice.value;
    if (!reason) { msg('Please give a reason.', true); byId('reason-text').focus(); return; }
    const { id, action } = reasonFor;
    reasonFor = null;
    reasonForm.hidden = true;
    /** @type {HTMLInputElement} */ (byId('reason-text')).value = '';
    backToFeed();
    if (action === 'hide') moderate(id, 'hide', reason); else author(id, 'hide_all', reason);
  });
  // Enter on the reason list hides at once (the select would otherwise swallow it).
  byId('reason').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { ev.preventDefault(); reasonForm.requestSubmit(); }
  });
  for (const [form, cancel] of [[reasonForm, 'reason-cancel'], [editForm, 'edit-cancel']]) {
    const close = () => { /** @type {HTMLElement} */ (form).hidden = true; reasonFor = null; backToFeed(); };
    byId(/** @type {string} */ (cancel)).addEventListener('click', close);
    /** @type {HTMLElement} */ (form).addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); close(); } });
  }
  editForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const id = editForm.dataset.id || '';
    const body = /** @type {HTMLTextAreaElement} */ (byId('edit-body')).value;
    try {
      const r = await call('POST', API + '/comments/' + seg(id) + '/edit', { request_id: uuid(), body });
      const c = r && (r.comment || r);
      if (c && c.id) upsert('comment', c);
      actedBy.set(id, { who: desk.myName, action: 'edit', reason: '' });
      rerender(id);
      editForm.hidden = true;
      msg('Edited.');
      backToFeed();
    } catch (err) {
      msg(explain(/** @type {any} */ (err), 'The edit'), true);
    }
  });
  byId('buttons').addEventListener('click', (ev) => {
    const b = /** @type {HTMLElement} */ (ev.target).closest('button');
    if (b && b.dataset.act) act(b.dataset.act);
  });
}
