// Inserting politely: something new that would move what the reader is
// looking at waits behind the "Show N new comments" pill at the top of the
// screen. A pledge's new comments wait behind its own "N new comments:
// show" button (comment-panel.js); the pill offers them too while that
// button is out of sight.

import { byId } from '../dom.js';

/** Inserts that wait, each with its kind. @type {{kind: 'comment'|'idea', insert: () => Element|null}[]} */
let deferred = [];
/** Comment panels with new comments waiting: how many, and how to show them. @type {Map<object, {n: number, show: () => Element|null}>} */
const owners = new Map();
const pill = /** @type {HTMLButtonElement} */ (byId('pill'));

/** Whether anything waits behind the pill. */
export const anyDeferred = () => deferred.length > 0 || owners.size > 0;

function render() {
  let comments = 0, ideas = 0;
  for (const d of deferred) if (d.kind === 'comment') comments++; else ideas++;
  for (const o of owners.values()) comments += o.n;
  const parts = [];
  if (comments) parts.push(comments + ' new comment' + (comments === 1 ? '' : 's'));
  if (ideas) parts.push(ideas + ' new idea' + (ideas === 1 ? '' : 's'));
  pill.textContent = parts.length ? 'Show ' + parts.join(' and ') : '';
  pill.hidden = !parts.length;
}

/**
 * Inserts a node now if that would not move what the reader is looking at;
 * otherwise keeps it for the pill.
 * @param {Element} list the list the node goes into
 * @param {() => Element} insert inserts and returns the node
 * @param {'comment'|'idea'} kind
 * @param {boolean} [atStart] whether the node goes at the start of the list
 */
export function politeInsert(list, insert, kind, atStart) {
  const r = list.getBoundingClientRect();
  const point = atStart ? r.top : r.bottom;
  if (list.closest('[hidden]') || point >= 0) {
    insert();
    return;
  }
  deferred.push({ kind, insert });
  render();
}

/**
 * A panel's new comments, offered on the pill too while its own button is
 * above the screen (0 withdraws the offer).
 * @param {object} owner @param {number} n @param {() => Element|null} show
 */
export function offerOnPill(owner, n, show) {
  if (n > 0) owners.set(owner, { n, show }); else owners.delete(owner);
  render();
}

pill.addEventListener('click', () => {
  const run = deferred;
  const shows = [...owners.values()];
  deferred = [];
  owners.clear();
  render();
  const els = [...shows.map((o) => o.show()), ...run.map((d) => d.insert())].filter(Boolean);
  const first = /** @type {HTMLElement|undefined} */ (els[0]);
  if (first) {
    first.tabIndex = -1;
    first.scrollIntoView({ block: 'center', behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
    first.focus({ preventScroll: true });
  }
});
