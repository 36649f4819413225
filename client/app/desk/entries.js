// The desk's entries: every comment and idea it knows (`entries`), each
// rendered once into its <li> (`els`) with its badges, flag reasons, who is
// looking at it and who last acted on it.

import { h } from '../dom.js';
import { ago, when } from '../time.js';
import { dwellWatcher } from '../desk-seen.js';
import { desk, items } from './page.js';
import { picked } from './bulk.js';
import { markSeen, placeActions, sel } from './selection.js';
import { scheduleRender } from './feed.js';

/**
 * Every comment and idea the desk knows.
 * @type {Map<string, {kind: 'comment'|'idea', d: any, flagSeq: number, reviewSeq: number}>}
 */
export const entries = new Map();
/** @type {Map<string, HTMLElement>} */ export const els = new Map();
/** @type {Map<string, {who: string, action: string, reason: string}>} */ export const actedBy = new Map();
/** @type {Map<string, string|null>} */ export const looking = new Map(); // facilitator -> comment id
/** @type {Map<string, boolean>} */ export const suspended = new Map(); // handle -> suspended
const dwell = dwellWatcher((id) => markSeen([id]));

/** @param {{kind: string, d: any, flagSeq: number, reviewSeq: number}} e */
export function needsReview(e) {
  if (e.d.status === 'pending') return true;
  // Approving settles a comment's flags (the server sets them back to 0).
  return e.kind === 'comment' && e.d.flags > 0 && e.d.status === 'visible';
}

/** Whether this facilitator has not seen an entry yet. @param {string} id */
export const unread = (id) => !!desk.seen && !desk.seen.has(id);

/** @param {string} id */
export function renderEntry(id) {
  const e = entries.get(id);
  let el = els.get(id);
  if (!el) {
    el = h('li', { className: 'entry', attrs: { 'data-id': id, tabindex: '-1' } });
    els.set(id, el);
    dwell.watch(el);
  }
  if (!e) return el;
  const d = e.d;
  const item = e.kind === 'comment' ? items.get(d.item_id) : d;
  const kind = e.kind === 'idea' ? 'Idea' : d.parent_id ? 'Reply' : 'Comment';
  const badges = [];
  if (d.status === 'pending') badges.push(h('span', { className: 'badge b-pending', text: 'Waiting for review' }));
  else if (d.status === 'hidden') badges.push(h('span', { className: 'badge b-hidden', text: 'Hidden' + (d.hidden_reason ? ': ' + d.hidden_reason : '') }));
  else badges.push(h('span', { className: 'badge b-visible', text: 'Public' }));
  if (d.pinned) badges.push(h('span', { className: 'badge b-pinned', text: 'Pinned' }));
  if (d.edited) badges.push(h('span', { className: 'badge b-pending', text: 'Edited by its author' }));
  if (d.deleted) badges.splice(0, badges.length, h('span', { className: 'badge b-hidden', text: 'Deleted by its author' }));
  if (d.flags > 0) badges.push(h('span', { className: 'badge b-flag', text: d.flags === 1 ? '1 flag' : d.flags + ' flags' }));
  if (d.handle && suspended.get(d.handle)) badges.push(h('span', { className: 'badge b-hidden', text: 'Author suspended' }));
  const others = [];
  for (const [who, cid] of looking) if (cid === id && who !== desk.myName) others.push(who);
  const acted = actedBy.get(id);
  if (unread(id)) badges.unshift(h('span', { className: 'badge b-new', text: 'New' }));
  el.dataset.status = d.status;
  el.classList.toggle('flagged', d.flags > 0);
  el.classList.toggle('unread', unread(id));
  el.classList.toggle('picked', picked.has(id));
  const box = h('input', { attrs: { type: 'checkbox', tabindex: '-1', 'aria-label': 'Select for a bulk action: ' + (e.kind === 'idea' ? d.title : d.body || '').slice(0, 60) } });
  /** @type {HTMLInputElement} */ (box).checked = picked.has(id);
  el.replaceChildren(...[
    h('label', { className: 'pick' }, [box]),
    h('p', { className: 'meta' }, [
      h('span', { className: 'kind', text: kind }), ' ',
      e.kind === 'comment' ? h('span', { className: 'on', text: 'on “' + (item ? item.title : 'a removed item') + '”' }) : null, ' ',
      h('span', { className: 'handle', text: d.handle || 'organisers' }), ' ',
      h('time', { text: ago(d.created_at), attrs: { datetime: d.created_at, title: when(d.created_at) } }),
    ]),
    e.kind === 'idea' ? h('p', { className: 'title', text: d.title }) : null,
    h('p', { className: 'text', text: d.deleted ? '(its text is gone)' : d.body || '' }),
    h('p', { className: 'badges' }, badges),
    ...flagReasons(d),
    others.length ? h('p', { className: 'looking', text: others.join(', ') + (others.length === 1 ? ' is' : ' are') + ' looking at this' }) : null,
    acted ? h('p', { className: 'acted', text: actionText(acted.action) + ' by ' + acted.who + (acted.reason ? ' (' + acted.reason + ')' : '') }) : null,
  ].filter((x) => x != null));
  if (id === sel.current) placeActions(); // the actions were inside it (narrow screens)
  return el;
}

/** The reasons given for a comment's open flags, newest first. @param {any} d */
function flagReasons(d) {
  const reasons = Array.isArray(d.flag_reasons) ? d.flag_reasons : [];
  if (!(d.flags > 0) || !reasons.length) return [];
  return [
    h('p', { className: 'reasons-h', text: reasons.length === 1 ? 'Flag reason:' : 'Flag reasons:' }),
    h('ul', { className: 'reasons' }, reasons.map((/** @type {string} */ r) => h('li', { text: r }))),
  ];
}

/** @param {string} a */
export function actionText(a) {
  return ({ hide: 'Hidden', restore: 'Restored', approve: 'Approved', pin: 'Pinned', unpin: 'Unpinned', edit: 'Edited',
    hide_all: 'Hidden (with everything by its author)', suspend: 'Author suspended', unsuspend: 'Author reinstated',
    author_edit: 'Edited by its author', author_delete: 'Deleted by its author', author_left: 'Its author left' })[a] || a;
}

/** @param {string} id */
export function rerender(id) {
  if (els.has(id)) renderEntry(id);
}

/** @param {'comment'|'idea'} kind @param {any} d */
export function upsert(kind, d) {
  const e = entries.get(d.id);
  const isNew = !e;
  if (e) e.d = Object.assign({}, e.d, d);
  else entries.set(d.id, { kind, d, flagSeq: 0, reviewSeq: 0 });
  const x = /** @type {any} */ (entries.get(d.id)).d;
  // Live comments carry no reasons: keep those known, as many as are open
  // (approving settles them all).
  if (kind === 'comment') x.flag_reasons = (x.flag_reasons || []).slice(0, Math.max(0, x.flags || 0));
  rerender(d.id);
  scheduleRender();
  return isNew;
}

/** Keeps "just now" / "5 min ago" true. */
export function keepTimesFresh() {
  setInterval(() => {
    for (const [id, el] of els) {
      const t = el.querySelector('.meta time');
      const e = entries.get(id);
      if (t && e) t.textContent = ago(e.d.created_at);
    }
  }, 30000);
}
