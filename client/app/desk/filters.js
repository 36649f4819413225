// The desk's filters: one pledge, and words in the text. The list shows
// only what passes them, and the server's pages are read again with them.

import { byId, h } from '../dom.js';
import { items } from './page.js';
import { renderList } from './feed.js';
import { sel } from './selection.js';
import { resetPages } from './paging.js';

/** The pledge (id, or '') and the words ('') filtered on. */
export const filters = { item: '', q: '' };

/** Whether an entry passes the pledge and text filters. @param {any} e */
export function matchesFilters(e) {
  if (filters.item && (e.kind !== 'comment' || e.d.item_id !== filters.item)) return false;
  if (filters.q) {
    const text = ((e.kind === 'idea' ? (e.d.title || '') + '\n' : '') + (e.d.body || '')).toLowerCase();
    if (!text.includes(filters.q.toLowerCase())) return false;
  }
  return true;
}

function describeFilters() {
  const parts = [];
  if (filters.item) parts.push('on “' + (items.get(filters.item)?.title || 'one pledge') + '”');
  if (filters.q) parts.push('containing “' + filters.q + '”');
  byId('filter-msg').textContent = parts.length ? 'Showing comments ' + parts.join(' ') + '.' : '';
}

function applyFilters() {
  const item = /** @type {HTMLSelectElement} */ (byId('f-item')).value;
  const q = /** @type {HTMLInputElement} */ (byId('f-q')).value.trim().slice(0, 200);
  if (item === filters.item && q === filters.q) return;
  filters.item = item;
  filters.q = q;
  describeFilters();
  sel.current = null;
  renderList();
  resetPages();
}

/** The pledge filter's choices (the visible pledges). @param {any[]} pledges */
export function fillPledgeFilter(pledges) {
  const f = /** @type {HTMLSelectElement} */ (byId('f-item'));
  f.replaceChildren(h('option', { text: 'All pledges and ideas', attrs: { value: '' } }),
    ...pledges.map((p) => h('option', { text: p.title, attrs: { value: p.id } })));
  f.value = filters.item;
}

export function wireFilters() {
  let searchTimer = 0;
  byId('f-item').addEventListener('change', applyFilters);
  byId('f-q').addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(applyFilters, 300); });
  byId('filters').addEventListener('submit', (ev) => { ev.preventDefault(); clearTimeout(searchTimer); applyFilters(); });
}
