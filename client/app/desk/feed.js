// The desk's list: which tab (queue) is shown — New, Needs review, All,
// Hidden — what is in it, in which order, and the counts on the tabs.

import { h, byId } from '../dom.js';
import { fmt } from '../tally.js';
import { entries, els, renderEntry, needsReview, unread, rerender } from './entries.js';
import { matchesFilters } from './filters.js';
import { cursors, loadPage, updateMore } from './paging.js';
import { sel, renderCurrent } from './selection.js';
import { picked, updateBulk } from './bulk.js';

/** The tab shown ('new', 'review', 'all' or 'hidden'). */
export const shown = { queue: 'review' };
/** Entries seen while the "New" tab is shown stay listed (unmarked) until the tab is left. @type {Set<string>} */
export const keepNew = new Set();

export const feed = byId('feed');
export const list = h('ol', { className: 'entries' });
feed.append(list);

/** @param {string} q @param {any} e @param {string} id */
function inQueue(q, e, id) {
  if (q === 'new') return unread(id) || keepNew.has(id);
  if (q === 'review') return needsReview(e);
  if (q === 'hidden') return e.d.status === 'hidden';
  return true;
}

const timeOf = (/** @type {any} */ e) => Date.parse(e.d.created_at) || 0;

export function counts() {
  let r = 0, a = 0, hd = 0, n = 0;
  for (const [id, e] of entries) {
    a++;
    if (unread(id)) n++;
    if (needsReview(e)) r++;
    if (e.d.status === 'hidden') hd++;
  }
  // "+" while the server holds more than the desk has read. "New" is
  // worked out from what the desk has read, so unseen entries may lie
  // beyond it as long as "All" has more.
  const more = (/** @type {string} */ q) => (cursors.get(q)?.more ? '+' : '');
  byId('n-new').textContent = fmt(n) + more('all');
  byId('n-review').textContent = fmt(r) + more('review');
  byId('n-all').textContent = fmt(a) + more('all');
  byId('n-hidden').textContent = fmt(hd) + more('hidden');
}

let renderQueued = false;
export function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => { renderQueued = false; renderList(); });
}

export function renderList() {
  const hadFocus = feed.contains(document.activeElement) && document.activeElement?.classList.contains('entry');
  const chosen = [...entries.entries()].filter(([id, e]) => inQueue(shown.queue, e, id) && matchesFilters(e));
  chosen.sort((x, y) => (timeOf(x[1]) - timeOf(y[1])) || ((x[1].d.seq || 0) - (y[1].d.seq || 0)));
  if (shown.queue !== 'review') chosen.reverse(); // newest first; review is oldest first
  const ids = chosen.map(([id]) => id);
  // Where focus goes when the current entry leaves this queue: its neighbour.
  if (sel.current && !ids.includes(sel.current)) {
    const old = [...list.children].map((c) => /** @type {HTMLElement} */ (c).dataset.id);
    const at = old.indexOf(sel.current);
    let next = null;
    for (let i = at + 1; i < old.length && !next; i++) if (ids.includes(old[i] || '')) next = old[i];
    for (let i = at - 1; i >= 0 && !next; i--) if (ids.includes(old[i] || '')) next = old[i];
    sel.current = next || ids[0] || null;
  }
  if (!sel.current && ids.length) sel.current = ids[0];
  const nodes = ids.map((id) => { const el = els.get(id) || renderEntry(id); el.tabIndex = id === sel.current ? 0 : -1; return el; });
  // Move only what must move, so the focused element keeps its focus.
  nodes.forEach((n, i) => { if (list.children[i] !== n) list.insertBefore(n, list.children[i] || null); });
  while (list.children.length > nodes.length) list.lastElementChild?.remove();
  // A bulk action only ever acts on what is shown.
  for (const id of [...picked]) if (!ids.includes(id)) { picked.delete(id); rerender(id); }
  updateBulk();
  byId('empty').hidden = ids.length > 0 || !!cursors.get(shown.queue)?.more;
  updateMore();
  counts();
  if (hadFocus && sel.current && document.activeElement !== els.get(sel.current)) els.get(sel.current)?.focus();
  renderCurrent();
}

/** The ids of the entries shown, in order. */
export function shownIds() {
  return [...list.children].map((c) => /** @type {HTMLElement} */ (c).dataset.id || '').filter(Boolean);
}

/** Tabs: arrow keys move between them (WAI-ARIA tabs pattern). */
export function wireTabs() {
  const tabs = /** @type {HTMLButtonElement[]} */ ([...document.querySelectorAll('[role="tab"]')]);
  /** @param {HTMLButtonElement} t */
  const selectTab = (t) => {
    for (const x of tabs) { const on = x === t; x.setAttribute('aria-selected', String(on)); x.tabIndex = on ? 0 : -1; }
    feed.setAttribute('aria-labelledby', t.id);
    shown.queue = t.dataset.queue || 'all';
    keepNew.clear();
    sel.current = null;
    renderList();
    if (!cursors.has(shown.queue)) loadPage(shown.queue);
  };
  for (const t of tabs) {
    t.addEventListener('click', () => selectTab(t));
    t.addEventListener('keydown', (ev) => {
      const i = tabs.indexOf(t);
      let n = -1;
      if (ev.key === 'ArrowRight') n = (i + 1) % tabs.length;
      else if (ev.key === 'ArrowLeft') n = (i + tabs.length - 1) % tabs.length;
      if (n < 0) return;
      ev.preventDefault();
      tabs[n].focus();
      selectTab(tabs[n]);
    });
  }
}
