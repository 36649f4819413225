// The server's queues, a page at a time (GET …/moderation/comments): each
// tab's status and order, and how far it has been read (`after`: the
// cursor; `more`: not at the end). "Load more" reads on.

import { get, explain } from '../api.js';
import { byId } from '../dom.js';
import { API } from './page.js';
import { upsert } from './entries.js';
import { shown, list, renderList, scheduleRender } from './feed.js';
import { filters } from './filters.js';

const PAGE = 200;
const SERVER_QUEUE = /** @type {Record<string, [string, string]>} */ ({ new: ['all', 'newest'], review: ['review', 'oldest'], all: ['all', 'newest'], hidden: ['hidden', 'newest'] });
/** @type {Map<string, {after: number|null, more: boolean, busy: boolean}>} */
export const cursors = new Map();
let pageGen = 0; // a reset (new filters, resync) ignores pages still on the way

const moreBtn = /** @type {HTMLButtonElement} */ (byId('more'));

export function updateMore() {
  const c = cursors.get(shown.queue);
  moreBtn.hidden = !c || !c.more;
  moreBtn.disabled = !!c?.busy;
  moreBtn.textContent = c?.busy ? 'Loading…' : 'Load more';
}

/**
 * Reads the next page of a queue (the first if it has not been read since
 * the last reset), with the current filters.
 * @param {string} q
 */
export async function loadPage(q) {
  let c = cursors.get(q);
  if (!c) { c = { after: null, more: true, busy: false }; cursors.set(q, c); }
  if (c.busy || !c.more) return;
  const [status, order] = SERVER_QUEUE[q] || ['all', 'newest'];
  const params = new URLSearchParams({ status, order, limit: String(PAGE) });
  if (c.after != null) params.set('after', String(c.after));
  if (filters.item) params.set('item_id', filters.item);
  if (filters.q) params.set('q', filters.q);
  const gen = pageGen;
  c.busy = true;
  updateMore();
  try {
    const r = await get(API + '/moderation/comments?' + params);
    if (gen !== pageGen) return;
    for (const d of (r && r.comments) || []) upsert('comment', d);
    c.after = r && r.next != null ? r.next : null;
    c.more = c.after != null;
  } catch (err) {
    if (gen === pageGen) byId('filter-msg').textContent = explain(/** @type {any} */ (err), 'Loading the queue');
  } finally {
    c.busy = false;
    if (gen === pageGen) { updateMore(); scheduleRender(); }
  }
}

/** Forgets how far each queue was read and reads the current one again. */
export function resetPages() {
  pageGen++;
  cursors.clear();
  return loadPage(shown.queue);
}

export function wireMore() {
  moreBtn.addEventListener('click', async () => {
    const before = list.children.length;
    await loadPage(shown.queue);
    renderList();
    // Continue where the new entries start; the button may be gone now.
    const next = /** @type {HTMLElement|undefined} */ (list.children[before]);
    if (next) next.focus();
    else if (moreBtn.hidden) /** @type {HTMLElement|null} */ (list.lastElementChild)?.focus();
  });
}
