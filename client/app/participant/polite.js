// Inserting politely: something new that would move what the reader is
// looking at waits behind the "Show N new comments" pill at the top.

import { byId } from '../dom.js';

/** @type {(() => Element)[]} */ let deferred = [];
let deferredComments = 0, deferredIdeas = 0;
const pill = /** @type {HTMLButtonElement} */ (byId('pill'));

/** Whether anything waits behind the pill. */
export const anyDeferred = () => deferred.length > 0;

/**
 * Inserts a node now if that would not move what the reader is looking at;
 * otherwise keeps it for the "N new comments" pill.
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
  deferred.push(insert);
  if (kind === 'comment') deferredComments++; else deferredIdeas++;
  const parts = [];
  if (deferredComments) parts.push(deferredComments + ' new comment' + (deferredComments === 1 ? '' : 's'));
  if (deferredIdeas) parts.push(deferredIdeas + ' new idea' + (deferredIdeas === 1 ? '' : 's'));
  pill.textContent = 'Show ' + parts.join(' and ');
  pill.hidden = false;
}

pill.addEventListener('click', () => {
  const run = deferred;
  deferred = [];
  deferredComments = deferredIdeas = 0;
  pill.hidden = true;
  const els = run.map((f) => f());
  const first = /** @type {HTMLElement|undefined} */ (els[0]);
  if (first) {
    first.tabIndex = -1;
    first.scrollIntoView({ block: 'center', behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
    first.focus({ preventScroll: true });
  }
});
