// The comment and reply forms of the participant page: a textarea whose
// draft survives reloads, a character count near the limit, and a submit
// that puts the comment in the outbox and shows it at once.

import { seg, uuid } from '../api.js';
import { h, uid } from '../dom.js';
import { bindDraft, writeDraft } from '../drafts.js';
import { API, setMsg, draftKey } from './page.js';
import { queue } from './outbox.js';
import { canAct } from './signup.js';
import { showQueuedComment } from './comments.js';

/**
 * @typedef {{el: HTMLFormElement, field: HTMLTextAreaElement, msg: HTMLElement}} CommentForm
 */

/** Every comment and reply form made, to find the unsent text when the conversation closes. @type {Set<CommentForm>} */
const forms = new Set();

/**
 * A comment (or reply) form with a draft that survives reloads.
 * @param {string} item @param {string|null} parent @param {string} label @param {string} submit
 * @param {() => void} [onPosted] called once a comment is in the outbox (a reply form closes)
 * @returns {CommentForm}
 */
export function commentForm(item, parent, label, submit, onPosted) {
  const fid = uid('cf');
  const field = h('textarea', { attrs: { id: fid, name: 'body', rows: 3, maxlength: 2000, required: true } });
  const count = h('span', { className: 'chars', attrs: { 'aria-hidden': 'true' } });
  const msg = h('p', { className: 'msg' });
  const el = h('form', { className: 'cform', attrs: { novalidate: true } }, [
    h('label', { text: label, attrs: { for: fid } }),
    field,
    h('div', { className: 'row' }, [count, h('button', { text: submit, attrs: { type: 'submit' } })]),
    msg,
  ]);
  const key = draftKey(item, parent);
  bindDraft(field, key);
  const showCount = () => { count.textContent = field.value.length > 1800 ? (2000 - field.value.length) + ' characters left' : ''; };
  field.addEventListener('input', showCount);
  showCount();
  el.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = field.value;
    if (!canAct(msg)) return;
    if (!text.trim()) { setMsg(msg, 'Please write something first.', true); field.focus(); return; }
    if (text.length > 2000) { setMsg(msg, 'Comments can be at most 2,000 characters.', true); return; }
    const a = { key: uuid(), kind: 'comment', method: 'POST', path: API + '/items/' + seg(item) + '/comments', body: { id: uuid(), body: text, parent_id: parent }, meta: { item } };
    field.value = '';
    writeDraft(key, '');
    showCount();
    setMsg(msg, navigator.onLine === false ? 'You are offline: your comment will be sent when you are back online.' : '', false);
    showQueuedComment(a);
    queue.add(a);
    if (onPosted) onPosted();
  });
  const form = { el, field, msg };
  forms.add(form);
  return form;
}

/**
 * The conversation has closed: each form with text in it (its draft is
 * kept too) gets a plain notice and the text, read-only, where the form
 * was, since closed conversations show no forms. Returns how many.
 * @param {string} closedAt the time it closed (ISO)
 */
export function keepUnsent(closedAt) {
  let n = 0;
  for (const f of forms) {
    if (!f.el.isConnected) { forms.delete(f); continue; }
    if (f.field.value.trim() && keptNotice(f.el, f.field.value, 'comment', closedAt)) n++;
  }
  const title = /** @type {HTMLInputElement} */ (document.getElementById('idea-title'));
  const body = /** @type {HTMLTextAreaElement} */ (document.getElementById('idea-body'));
  const idea = [title.value.trim(), body.value.trim()].filter(Boolean).join('\n\n');
  if (idea && keptNotice(/** @type {HTMLElement} */ (title.form), idea, 'idea', closedAt)) n++;
  return n;
}

/**
 * Puts (or updates) the notice after a form; true if it is new.
 * @param {HTMLElement} form @param {string} text @param {'comment'|'idea'} what @param {string} closedAt
 */
function keptNotice(form, text, what, closedAt) {
  const next = form.nextElementSibling;
  const old = next && next.classList.contains('kept') ? next : null;
  const at = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' }).format(new Date(closedAt));
  const id = uid('kept');
  const box = h('textarea', { attrs: { id, readonly: true, rows: Math.min(8, text.split('\n').length + 1) } });
  box.value = text;
  const notice = h('div', { className: 'kept' }, [
    h('p', { className: 'msg bad', text: 'This conversation closed at ' + at + '. Your ' + what + ' was not posted; it is kept below so you can copy it.' }),
    h('label', { text: 'Your ' + what + ' (not posted)', attrs: { for: id } }),
    box,
  ]);
  if (old) old.replaceWith(notice); else form.after(notice);
  return !old;
}
