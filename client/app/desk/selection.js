// The desk's current entry (the one the buttons and keys act on), moving it
// with the keyboard, telling the other facilitators which comment this one
// is looking at, and marking entries seen.

import { byId } from '../dom.js';
import { desk } from './page.js';
import { entries, els, needsReview, suspended, rerender } from './entries.js';
import { feed, list, shown, keepNew, counts } from './feed.js';
import { act, closeFormsNotFor, KEYS } from './actions.js';
import { togglePick } from './bulk.js';

/** The entry acted on (its id), or null. */
export const sel = { current: /** @type {string|null} */ (null) };

// On a phone or a tablet the tools column comes after the whole list, so
// the selected entry's actions (and its hide and edit forms) move into the
// entry itself, right under what they act on.
const narrow = matchMedia('(max-width: 63.99rem)');
const actionsCard = /** @type {HTMLElement} */ (document.querySelector('section.actions'));
const actionsHome = /** @type {HTMLElement} */ (actionsCard.parentElement);

/** Puts the actions under the current entry (narrow screens) or back in the tools column. */
export function placeActions() {
  const el = sel.current ? els.get(sel.current) : null;
  if (narrow.matches && el && el.isConnected) {
    if (actionsCard.parentElement !== el) el.append(actionsCard);
  } else if (actionsCard.parentElement !== actionsHome) {
    actionsHome.prepend(actionsCard);
  }
}

let focusTimer = 0;
/** @param {string|null} id */
export function setCurrent(id) {
  if (id) markSeen([id]);
  if (sel.current === id) { renderCurrent(); return; }
  const prev = sel.current;
  sel.current = id;
  closeFormsNotFor(id);
  if (prev) { const p = els.get(prev); if (p) p.tabIndex = -1; }
  if (id) { const n = els.get(id); if (n) n.tabIndex = 0; }
  renderCurrent();
  clearTimeout(focusTimer);
  focusTimer = setTimeout(sendFocus, 120);
}

/** Tells the other facilitators which comment this one is on (none for an idea). */
export function sendFocus() {
  const e = sel.current ? entries.get(sel.current) : null;
  desk.live?.send({ type: 'focus', comment_id: e && e.kind === 'comment' ? sel.current : null });
}

export function renderCurrent() {
  placeActions();
  const e = sel.current ? entries.get(sel.current) : null;
  const cur = byId('current');
  const btns = /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll('#buttons button'));
  if (!e) {
    cur.textContent = 'Focus an entry in the list to act on it.';
    btns.forEach((b) => { b.disabled = true; });
    return;
  }
  const d = e.d;
  cur.textContent = (e.kind === 'idea' ? 'Idea: ' + d.title : 'Comment by ' + d.handle + ': ' + d.body).slice(0, 140);
  const isC = e.kind === 'comment';
  const allowed = {
    hide: d.status !== 'hidden', restore: d.status === 'hidden', approve: d.status === 'pending' || (isC && needsReview(e)),
    pin: isC && d.status === 'visible', edit: isC, hide_all: isC, suspend: isC,
  };
  btns.forEach((b) => {
    const a = /** @type {keyof typeof allowed} */ (b.dataset.act || '');
    b.disabled = !allowed[a];
    if (a === 'pin') b.firstChild && (b.firstChild.textContent = d.pinned ? 'Unpin ' : 'Pin ');
    if (a === 'suspend') b.firstChild && (b.firstChild.textContent = suspended.get(d.handle) ? 'Reinstate author ' : 'Suspend author ');
  });
}

/** Marks entries seen (see desk-seen.js for when that happens). @param {string[]} ids */
export function markSeen(ids) {
  if (!desk.seen || !desk.seen.add(ids)) return;
  for (const id of ids) { if (shown.queue === 'new') keepNew.add(id); rerender(id); }
  counts();
}

/** Puts the focus back on the current entry (after a form closes). */
export function backToFeed() {
  const el = sel.current ? els.get(sel.current) : null;
  if (el && el.isConnected) el.focus(); else /** @type {HTMLElement|null} */ (list.querySelector('.entry'))?.focus();
}

/** Keys on the list: arrows, j/k, Home/End move; Space selects; a letter acts (KEYS). */
export function wireSelection() {
  feed.addEventListener('keydown', (ev) => {
    const el = /** @type {HTMLElement} */ (ev.target).closest('.entry');
    if (!el || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.target !== el) return; // the entry's checkbox keeps its own keys
    if (ev.key === ' ') { ev.preventDefault(); togglePick(/** @type {HTMLElement} */ (el).dataset.id || ''); return; }
    const all = /** @type {HTMLElement[]} */ ([...list.children]);
    const i = all.indexOf(/** @type {HTMLElement} */ (el));
    let to = -1;
    if (ev.key === 'ArrowDown' || ev.key === 'j') to = Math.min(all.length - 1, i + 1);
    else if (ev.key === 'ArrowUp' || ev.key === 'k') to = Math.max(0, i - 1);
    else if (ev.key === 'Home') to = 0;
    else if (ev.key === 'End') to = all.length - 1;
    else if (KEYS[ev.key.toLowerCase()]) { ev.preventDefault(); act(KEYS[ev.key.toLowerCase()]); return; }
    else return;
    ev.preventDefault();
    all[to]?.focus();
  });
  feed.addEventListener('focusin', (ev) => {
    const el = /** @type {HTMLElement} */ (ev.target).closest('.entry');
    if (el) setCurrent(/** @type {HTMLElement} */ (el).dataset.id || null);
  });
  feed.addEventListener('click', (ev) => {
    // The actions inside an entry (narrow screens) keep the focus they take.
    if (/** @type {HTMLElement} */ (ev.target).closest('section.actions')) return;
    const el = /** @type {HTMLElement} */ (ev.target).closest('.entry');
    if (el) /** @type {HTMLElement} */ (el).focus();
  });
  narrow.addEventListener('change', placeActions);
}
