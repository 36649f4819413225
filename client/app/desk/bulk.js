// Bulk actions on the desk: entries checked (`picked`, only ever ones shown)
// approved, hidden with one reason, or marked seen, one request each.

import { explain } from '../api.js';
import { byId } from '../dom.js';
import { fmt } from '../tally.js';
import { say } from './page.js';
import { entries, needsReview, rerender } from './entries.js';
import { list, feed, shownIds, scheduleRender } from './feed.js';
import { markSeen } from './selection.js';
import { moderateOne } from './actions.js';

/** Entries checked for a bulk action. @type {Set<string>} */
export const picked = new Set();

const bulkAll = /** @type {HTMLInputElement} */ (byId('bulk-all'));
const bulkForm = /** @type {HTMLFormElement} */ (byId('bulk-form'));
const bulkMsg = byId('bulk-msg');
let bulkBusy = false;

/** @param {string} id */
export function togglePick(id) {
  if (!id || !entries.has(id)) return;
  if (picked.has(id)) picked.delete(id); else picked.add(id);
  rerender(id);
  updateBulk();
}

export function updateBulk() {
  const shown = shownIds();
  const n = picked.size;
  byId('bulk-n').textContent = n ? (n === 1 ? '1 selected' : fmt(n) + ' selected') : 'None selected';
  bulkAll.checked = n > 0 && n === shown.length;
  bulkAll.indeterminate = n > 0 && n < shown.length;
  bulkAll.disabled = !shown.length;
  for (const b of ['bulk-approve', 'bulk-hide', 'bulk-seen']) /** @type {HTMLButtonElement} */ (byId(b)).disabled = !n;
  // The buttons show only with a selection, so the bar stays one line otherwise.
  byId('bulk-btns').hidden = !n;
  if (!n && !bulkForm.hidden) { bulkForm.hidden = true; byId('bulk-hide').setAttribute('aria-expanded', 'false'); }
}

/**
 * Sends one moderation request per selected entry, one after the other,
 * and reports how many succeeded and failed. Entries the action does not
 * apply to (approving something public and unflagged, hiding something
 * hidden) are skipped and counted as such.
 * @param {'approve'|'hide'} action @param {string} [reason]
 */
async function bulk(action, reason) {
  if (bulkBusy) return;
  const ids = [...picked].filter((id) => entries.has(id));
  const applies = (/** @type {string} */ id) => {
    const e = /** @type {any} */ (entries.get(id));
    return action === 'hide' ? e.d.status !== 'hidden' : needsReview(e);
  };
  const todo = ids.filter(applies);
  const skipped = ids.length - todo.length;
  bulkBusy = true;
  updateBulk();
  let ok = 0;
  /** @type {string[]} */ const errors = [];
  const verb = action === 'hide' ? 'Hiding' : 'Approving';
  for (const id of todo) {
    bulkMsg.classList.remove('bad');
    bulkMsg.textContent = verb + ' ' + fmt(ok + errors.length + 1) + ' of ' + fmt(todo.length) + '…';
    try {
      await moderateOne(id, action, reason);
      ok++;
      picked.delete(id);
      rerender(id);
    } catch (err) {
      errors.push(explain(/** @type {any} */ (err), 'The action'));
    }
  }
  bulkBusy = false;
  scheduleRender();
  const done = action === 'hide' ? 'Hid' : 'Approved';
  let t = done + ' ' + fmt(ok) + ' of ' + fmt(todo.length) + '.';
  if (errors.length) t += ' ' + fmt(errors.length) + ' failed (' + errors[0] + '); they stay selected.';
  if (skipped) t += ' ' + fmt(skipped) + ' skipped (already ' + (action === 'hide' ? 'hidden' : 'public and unflagged') + ').';
  bulkMsg.textContent = t;
  bulkMsg.classList.toggle('bad', errors.length > 0);
  say.say(t);
  updateBulk();
  // The button pressed may be disabled now that nothing is selected.
  const a = /** @type {HTMLButtonElement|null} */ (document.activeElement);
  if (!a || a === document.body || a.disabled) (bulkAll.disabled ? /** @type {HTMLElement|null} */ (list.querySelector('.entry')) : bulkAll)?.focus();
}

export function wireBulk() {
  feed.addEventListener('change', (ev) => {
    const box = /** @type {HTMLInputElement} */ (ev.target);
    const el = box.closest('.entry');
    if (box.type === 'checkbox' && el) togglePick(/** @type {HTMLElement} */ (el).dataset.id || '');
  });
  bulkAll.addEventListener('change', () => {
    const shown = shownIds();
    const all = bulkAll.checked;
    picked.clear();
    if (all) for (const id of shown) picked.add(id);
    for (const id of shown) rerender(id);
    updateBulk();
    bulkMsg.textContent = all ? 'Selected all ' + fmt(shown.length) + ' shown.' : 'Selection cleared.';
  });
  byId('bulk-approve').addEventListener('click', () => bulk('approve'));
  byId('bulk-seen').addEventListener('click', () => {
    const ids = [...picked];
    markSeen(ids);
    picked.clear();
    for (const id of ids) rerender(id);
    updateBulk();
    bulkMsg.classList.remove('bad');
    bulkMsg.textContent = 'Marked ' + fmt(ids.length) + ' as seen.';
  });
  byId('bulk-hide').addEventListener('click', () => {
    const open = bulkForm.hidden;
    bulkForm.hidden = !open;
    byId('bulk-hide').setAttribute('aria-expanded', String(open));
    if (open) byId('bulk-reason').focus();
  });
  const closeBulkForm = () => { bulkForm.hidden = true; byId('bulk-hide').setAttribute('aria-expanded', 'false'); byId('bulk-hide').focus(); };
  byId('bulk-cancel').addEventListener('click', closeBulkForm);
  bulkForm.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); closeBulkForm(); } });
  byId('bulk-reason').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { ev.preventDefault(); bulkForm.requestSubmit(); }
  });
  bulkForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const free = /** @type {HTMLInputElement} */ (byId('bulk-reason-text')).value.trim();
    const reason = free || /** @type {HTMLSelectElement} */ (byId('bulk-reason')).value;
    if (!reason) { bulkMsg.textContent = 'Please give a reason.'; bulkMsg.classList.add('bad'); byId('bulk-reason-text').focus(); return; }
    /** @type {HTMLInputElement} */ (byId('bulk-reason-text')).value = '';
    bulkForm.hidden = true;
    byId('bulk-hide').setAttribute('aria-expanded', 'false');
    byId('bulk-hide').focus();
    bulk('hide', reason);
  });
}
