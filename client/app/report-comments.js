// The report page's "All comments" section: every visible comment of each
// pledge, topic and idea, 20 at a time with "Show more comments", read
// from the comments endpoint (docs/api.md: GET …/items/{id}/comments,
// paged by `after` and `limit`). Staff are sent hidden and pending
// comments too; the report never shows their text (docs/report.md), so
// only visible ones are listed here.

import { get, seg, ApiError } from './api.js';
import { h } from './dom.js';

const PAGE = 20;

/** @param {number} n @param {string} one @param {string} many */
const count = (n, one, many) => Number(n).toLocaleString('en-GB') + ' ' + (n === 1 ? one : many);

/**
 * One item's comments, paged.
 * @param {string} api the conversation's API base
 * @param {any} item a report item
 */
function itemComments(api, item) {
  const total = (item.comments || 0) + (item.replies || 0);
  const list = h('ol', { className: 'r-quotes r-all' });
  const more = h('button', { text: 'Show more comments', attrs: { type: 'button' } });
  const note = h('p', { className: 'r-help', attrs: { role: 'status' } });
  /** @type {number|null} */ let after = 0;
  let shown = 0;
  const load = async () => {
    if (after == null) return;
    more.disabled = true;
    try {
      const r = await get(api + '/items/' + seg(item.id) + '/comments?limit=' + PAGE + '&after=' + after);
      for (const c of r.comments || []) {
        if (c.status && c.status !== 'visible') continue;
        shown++;
        list.append(h('li', { className: 'r-quote', attrs: { 'data-id': c.id } }, [
          h('blockquote', {}, [h('p', { text: c.body })]),
          h('p', { className: 'r-by', text: '— ' + c.handle + (c.parent_id ? ' (reply)' : '') + ', ' + count(c.up || 0, 'up-vote', 'up-votes') }),
        ]));
      }
      after = r.next == null ? null : r.next;
      note.textContent = 'Showing ' + count(shown, 'comment', 'comments') + (after == null ? '.' : ' of ' + count(total, 'comment', 'comments') + '.');
    } catch (e) {
      note.textContent = 'The comments could not be loaded' + (e instanceof ApiError && e.problem.detail ? ': ' + e.problem.detail : '') + '.';
    }
    more.disabled = false;
    more.hidden = after == null;
  };
  more.addEventListener('click', load);
  const details = h('details', { className: 'r-all-item', attrs: { 'data-id': item.id } }, [
    h('summary', { text: item.title + ' (' + count(total, 'comment', 'comments') + ')' }),
    list, note, more,
  ]);
  let started = false;
  details.addEventListener('toggle', () => { if (details.open && !started) { started = true; load(); } });
  return details;
}

/** @param {HTMLElement} el @param {string} api @param {any} report */
export function renderAllComments(el, api, report) {
  const items = report.items.filter((/** @type {any} */ i) => i.status === 'visible' && (i.comments || i.replies));
  el.replaceChildren(...(items.length
    ? items.map((/** @type {any} */ i) => itemComments(api, i))
    : [h('p', { className: 'r-help', text: 'No comments yet.' })]));
}
