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
  return { el, field, msg };
}
