// The facilitator desk: /desk/{slug}. Every comment and idea arrives over the
// live stream (subscribed as a facilitator), newest first, in three queues;
// one key acts on the focused entry. Other facilitators' focus and actions
// are shown next to each entry. User text only ever goes in via textContent.
//
// Over 600 lines for now: one page's controller. Issue 13 splits it by
// concern (queue, selection, filters) before it grows further.

import { get, call, conv, seg, uuid, explain } from './api.js';
import { Live } from './live.js';
import { h, byId, Announcer } from './dom.js';
import { fmt } from './tally.js';
import { ago, when } from './time.js';
import { ensureStaff } from './staff.js';
import { opinionPanel } from './desk-opinion.js';
import { SeenStore, dwellWatcher } from './desk-seen.js';

const slug = decodeURIComponent(location.pathname.replace(/^\/desk\//, '').replace(/\/.*$/, ''));
const API = conv(slug);
const say = new Announcer(byId('announcer'));

/** @type {any} */ let C = null;
/** @type {string} */ let myName = '';
/** @type {Map<string, any>} */ const items = new Map();
/**
 * Every comment and idea the desk knows.
 * @type {Map<string, {kind: 'comment'|'idea', d: any, flagSeq: number, reviewSeq: number}>}
 */
const entries = new Map();
/** @type {Map<string, HTMLElement>} */ const els = new Map();
/** @type {Map<string, {who: string, action: string, reason: string}>} */ const actedBy = new Map();
/** @type {Map<string, string|null>} */ const looking = new Map(); // facilitator -> comment id
/** @type {Map<string, boolean>} */ const suspended = new Map(); // handle -> suspended
let queue = 'review';
/** @type {string|null} */ let current = null;
/** @type {Live|null} */ let live = null;
let auditSeq = 0;
let auditTimer = 0;
let auditBusy = false;
let ready = false;
/** What this facilitator has seen (set once logged in). @type {SeenStore|null} */ let seen = null;
/** Entries seen while the "New" tab is shown stay listed (unmarked) until the tab is left. @type {Set<string>} */
const keepNew = new Set();
/** Entries checked for a bulk action (only ever ones shown in the list). @type {Set<string>} */
const picked = new Set();
const dwell = dwellWatcher((id) => markSeen([id]));

// The server's queues, a page at a time: each tab's status and order, and
// how far it has been read (`after`: the cursor; `more`: not at the end).
const PAGE = 200;
const SERVER_QUEUE = /** @type {Record<string, [string, string]>} */ ({ new: ['all', 'newest'], review: ['review', 'oldest'], all: ['all', 'newest'], hidden: ['hidden', 'newest'] });
/** @type {Map<string, {after: number|null, more: boolean, busy: boolean}>} */
const cursors = new Map();
let filterItem = '';
let filterQ = '';
let pageGen = 0; // a reset (new filters, resync) ignores pages still on the way

const feed = byId('feed');
const list = h('ol', { className: 'entries' });
feed.append(list);

// ------------------------------------------------------------------ queues

/** @param {{kind: string, d: any, flagSeq: number, reviewSeq: number}} e */
function needsReview(e) {
  if (e.d.status === 'pending') return true;
  // Approving settles a comment's flags (the server sets them back to 0).
  return e.kind === 'comment' && e.d.flags > 0 && e.d.status === 'visible';
}

/** Whether an entry passes the pledge and text filters. @param {any} e */
function matchesFilters(e) {
  if (filterItem && (e.kind !== 'comment' || e.d.item_id !== filterItem)) return false;
  if (filterQ) {
    const text = ((e.kind === 'idea' ? (e.d.title || '') + '\n' : '') + (e.d.body || '')).toLowerCase();
    if (!text.includes(filterQ.toLowerCase())) return false;
  }
  return true;
}

/** Whether this facilitator has not seen an entry yet. @param {string} id */
const unread = (id) => !!seen && !seen.has(id);

/** @param {string} q @param {string} id */
function inQueue(q, /** @type {any} */ e, id) {
  if (q === 'new') return unread(id) || keepNew.has(id);
  if (q === 'review') return needsReview(e);
  if (q === 'hidden') return e.d.status === 'hidden';
  return true;
}

const timeOf = (/** @type {any} */ e) => Date.parse(e.d.created_at) || 0;

function counts() {
  let r = 0, a = 0, hd = 0, n = 0;
  for (const [id, e] of entries) {
    a++;
    if (unread(id)) n++;
    if (needsReview(e)) r++;
    if (e.d.status === 'hidden') hd++;
  }
  // "+" while the server holds more than the desk has read.
  const more = (/** @type {string} */ q) => (cursors.get(q)?.more ? '+' : '');
  byId('n-new').textContent = fmt(n);
  byId('n-review').textContent = fmt(r) + more('review');
  byId('n-all').textContent = fmt(a) + more('all');
  byId('n-hidden').textContent = fmt(hd) + more('hidden');
}

let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => { renderQueued = false; renderList(); });
}

function renderList() {
  const hadFocus = feed.contains(document.activeElement) && document.activeElement?.classList.contains('entry');
  const sel = [...entries.entries()].filter(([id, e]) => inQueue(queue, e, id) && matchesFilters(e));
  sel.sort((x, y) => (timeOf(x[1]) - timeOf(y[1])) || ((x[1].d.seq || 0) - (y[1].d.seq || 0)));
  if (queue !== 'review') sel.reverse(); // newest first; review is oldest first
  const ids = sel.map(([id]) => id);
  // Where focus goes when the current entry leaves this queue: its neighbour.
  if (current && !ids.includes(current)) {
    const old = [...list.children].map((c) => /** @type {HTMLElement} */ (c).dataset.id);
    const at = old.indexOf(current);
    let next = null;
    for (let i = at + 1; i < old.length && !next; i++) if (ids.includes(old[i] || '')) next = old[i];
    for (let i = at - 1; i >= 0 && !next; i--) if (ids.includes(old[i] || '')) next = old[i];
    current = next || ids[0] || null;
  }
  if (!current && ids.length) current = ids[0];
  const nodes = ids.map((id) => { const el = els.get(id) || renderEntry(id); el.tabIndex = id === current ? 0 : -1; return el; });
  // Move only what must move, so the focused element keeps its focus.
  nodes.forEach((n, i) => { if (list.children[i] !== n) list.insertBefore(n, list.children[i] || null); });
  while (list.children.length > nodes.length) list.lastElementChild?.remove();
  // A bulk action only ever acts on what is shown.
  for (const id of [...picked]) if (!ids.includes(id)) { picked.delete(id); rerender(id); }
  updateBulk();
  byId('empty').hidden = ids.length > 0 || !!cursors.get(queue)?.more;
  updateMore();
  counts();
  if (hadFocus && current && document.activeElement !== els.get(current)) els.get(current)?.focus();
  renderCurrent();
}

// ------------------------------------------------------------------ entries

/** @param {string} id */
function renderEntry(id) {
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
  if (d.flags > 0) badges.push(h('span', { className: 'badge b-flag', text: d.flags === 1 ? '1 flag' : d.flags + ' flags' }));
  if (d.handle && suspended.get(d.handle)) badges.push(h('span', { className: 'badge b-hidden', text: 'Author suspended' }));
  const others = [];
  for (const [who, cid] of looking) if (cid === id && who !== myName) others.push(who);
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
    h('p', { className: 'text', text: d.body || '' }),
    h('p', { className: 'badges' }, badges),
    ...flagReasons(d),
    others.length ? h('p', { className: 'looking', text: others.join(', ') + (others.length === 1 ? ' is' : ' are') + ' looking at this' }) : null,
    acted ? h('p', { className: 'acted', text: actionText(acted.action) + ' by ' + acted.who + (acted.reason ? ' (' + acted.reason + ')' : '') }) : null,
  ].filter((x) => x != null));
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
function actionText(a) {
  return ({ hide: 'Hidden', restore: 'Restored', approve: 'Approved', pin: 'Pinned', unpin: 'Unpinned', edit: 'Edited',
    hide_all: 'Hidden (with everything by its author)', suspend: 'Author suspended', unsuspend: 'Author reinstated' })[a] || a;
}

/** @param {string} id */
function rerender(id) {
  if (els.has(id)) renderEntry(id);
}

/** @param {'comment'|'idea'} kind @param {any} d */
function upsert(kind, d) {
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

// ------------------------------------------------------------------ current entry and focus sharing

let focusTimer = 0;
/** @param {string|null} id */
function setCurrent(id) {
  if (id) markSeen([id]);
  if (current === id) { renderCurrent(); return; }
  const prev = current;
  current = id;
  // An open hide or edit form belongs to the entry it was opened for.
  if (reasonFor && reasonFor.id !== id) { reasonFor = null; reasonForm.hidden = true; }
  if (!editForm.hidden && editForm.dataset.id !== id) editForm.hidden = true;
  if (prev) { const p = els.get(prev); if (p) p.tabIndex = -1; }
  if (id) { const n = els.get(id); if (n) n.tabIndex = 0; }
  renderCurrent();
  clearTimeout(focusTimer);
  focusTimer = setTimeout(() => {
    const e = current ? entries.get(current) : null;
    live?.send({ type: 'focus', comment_id: e && e.kind === 'comment' ? current : null });
  }, 120);
}

function renderCurrent() {
  const e = current ? entries.get(current) : null;
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

// ------------------------------------------------------------------ actions

const actMsg = byId('act-msg');
/** @param {string} text @param {boolean} [bad] */
function msg(text, bad) { actMsg.textContent = text; actMsg.classList.toggle('bad', !!bad); }

/**
 * One moderation request (its own request_id), applied to the desk when it
 * succeeds; throws what the server answered otherwise.
 * @param {string} id @param {string} action @param {string} [reason]
 */
async function moderateOne(id, action, reason) {
  const e = entries.get(id);
  if (!e) return;
  const body = /** @type {any} */ ({ request_id: uuid(), action });
  if (reason) body.reason = reason;
  if (e.kind === 'idea') {
    const r = await call('POST', API + '/items/' + seg(id) + '/moderation', body);
    const it = r && (r.item || r);
    if (it && it.id) upsert('idea', it);
  } else {
    const r = await call('POST', API + '/comments/' + seg(id) + '/moderation', body);
    const c = r && (r.comment || r);
    if (c && c.id) upsert('comment', c);
  }
  actedBy.set(id, { who: myName, action, reason: reason || '' });
  rerender(id);
}

/** @param {string} id @param {string} action @param {string} [reason] */
async function moderate(id, action, reason) {
  const e = entries.get(id);
  if (!e) return;
  try {
    await moderateOne(id, action, reason);
    rerender(id);
    scheduleRender();
    msg(actionText(action) + '.');
    say.say(actionText(action) + '.');
  } catch (err) {
    msg(explain(/** @type {any} */ (err), 'The action'), true);
  }
}

/** @param {string} id @param {string} action @param {string} [reason] */
async function author(id, action, reason) {
  const body = /** @type {any} */ ({ request_id: uuid(), action });
  if (reason) body.reason = reason;
  try {
    const r = await call('POST', API + '/comments/' + seg(id) + '/author', body);
    if (r && r.comment) upsert('comment', r.comment);
    const e = entries.get(id);
    if (e && action !== 'hide_all') suspended.set(e.d.handle, action === 'suspend');
    actedBy.set(id, { who: myName, action, reason: reason || '' });
    for (const [cid, x] of entries) if (x.d.handle === e?.d.handle) rerender(cid);
    scheduleRender();
    const t = action === 'hide_all' ? 'Hid ' + (r && typeof r.events === 'number' ? r.events : 'every') + ' comment(s) by this participant.' : actionText(action) + '.';
    msg(t);
    say.say(t);
  } catch (err) {
    msg(explain(/** @type {any} */ (err), 'The action'), true);
  }
}

let reasonFor = /** @type {{id: string, action: string}|null} */ (null);
const reasonForm = /** @type {HTMLFormElement} */ (byId('reason-form'));
const editForm = /** @type {HTMLFormElement} */ (byId('edit-form'));

/** @param {string} action */
function act(action) {
  const id = current;
  const e = id ? entries.get(id) : null;
  if (!id || !e) return;
  const btn = /** @type {HTMLButtonElement|null} */ (document.querySelector('#buttons button[data-act="' + action + '"]'));
  if (btn && btn.disabled) { msg('That does not apply to this entry.', true); return; }
  editForm.hidden = true;
  reasonForm.hidden = true;
  if (action === 'hide' || action === 'hide_all') {
    reasonFor = { id, action };
    byId('reason-h').textContent = action === 'hide' ? 'Why hide it?' : 'Why hide everything by this participant?';
    byId('reason-ok').textContent = action === 'hide' ? 'Hide' : 'Hide all';
    reasonForm.hidden = false;
    byId('reason').focus();
  } else if (action === 'edit') {
    /** @type {HTMLTextAreaElement} */ (byId('edit-body')).value = e.d.body;
    editForm.dataset.id = id;
    editForm.hidden = false;
    byId('edit-body').focus();
  } else if (action === 'pin') {
    moderate(id, e.d.pinned ? 'unpin' : 'pin');
  } else if (action === 'suspend') {
    author(id, suspended.get(e.d.handle) ? 'unsuspend' : 'suspend');
  } else {
    moderate(id, action);
  }
}

function backToFeed() {
  const el = current ? els.get(current) : null;
  if (el && el.isConnected) el.focus(); else list.querySelector('.entry')?.focus();
}

reasonForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (!reasonFor) return;
  const sel = /** @type {HTMLSelectElement} */ (byId('reason'));
  const free = /** @type {HTMLInputElement} */ (byId('reason-text')).value.trim();
  const reason = free || sel.value;
  if (!reason) { msg('Please give a reason.', true); byId('reason-text').focus(); return; }
  const { id, action } = reasonFor;
  reasonFor = null;
  reasonForm.hidden = true;
  /** @type {HTMLInputElement} */ (byId('reason-text')).value = '';
  backToFeed();
  if (action === 'hide') moderate(id, 'hide', reason); else author(id, 'hide_all', reason);
});
// Enter on the reason list hides at once (the select would otherwise swallow it).
byId('reason').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') { ev.preventDefault(); reasonForm.requestSubmit(); }
});
for (const [form, cancel] of [[reasonForm, 'reason-cancel'], [editForm, 'edit-cancel']]) {
  const close = () => { /** @type {HTMLElement} */ (form).hidden = true; reasonFor = null; backToFeed(); };
  byId(/** @type {string} */ (cancel)).addEventListener('click', close);
  /** @type {HTMLElement} */ (form).addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { ev.preventDefault(); close(); } });
}
editForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const id = editForm.dataset.id || '';
  const body = /** @type {HTMLTextAreaElement} */ (byId('edit-body')).value;
  try {
    const r = await call('POST', API + '/comments/' + seg(id) + '/edit', { request_id: uuid(), body });
    const c = r && (r.comment || r);
    if (c && c.id) upsert('comment', c);
    actedBy.set(id, { who: myName, action: 'edit', reason: '' });
    rerender(id);
    editForm.hidden = true;
    msg('Edited.');
    backToFeed();
  } catch (err) {
    msg(explain(/** @type {any} */ (err), 'The edit'), true);
  }
});

byId('buttons').addEventListener('click', (ev) => {
  const b = /** @type {HTMLElement} */ (ev.target).closest('button');
  if (b && b.dataset.act) act(b.dataset.act);
});

const KEYS = /** @type {Record<string, string>} */ ({ h: 'hide', r: 'restore', a: 'approve', p: 'pin', e: 'edit', x: 'hide_all', s: 'suspend' });
feed.addEventListener('keydown', (ev) => {
  const el = /** @type {HTMLElement} */ (ev.target).closest('.entry');
  if (!el || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.target !== el) return; // the entry's checkbox keeps its own keys
  if (ev.key === ' ') { ev.preventDefault(); togglePick(el.dataset.id || ''); return; }
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
  const el = /** @type {HTMLElement} */ (ev.target).closest('.entry');
  if (el) /** @type {HTMLElement} */ (el).focus();
});

// ------------------------------------------------------------------ seen and bulk actions

/** Marks entries seen (see desk-seen.js for when that happens). @param {string[]} ids */
function markSeen(ids) {
  if (!seen || !seen.add(ids)) return;
  for (const id of ids) { if (queue === 'new') keepNew.add(id); rerender(id); }
  counts();
}

/** @param {string} id */
function togglePick(id) {
  if (!id || !entries.has(id)) return;
  if (picked.has(id)) picked.delete(id); else picked.add(id);
  rerender(id);
  updateBulk();
}

const bulkAll = /** @type {HTMLInputElement} */ (byId('bulk-all'));
const bulkForm = /** @type {HTMLFormElement} */ (byId('bulk-form'));
const bulkMsg = byId('bulk-msg');
let bulkBusy = false;

function shownIds() {
  return [...list.children].map((c) => /** @type {HTMLElement} */ (c).dataset.id || '').filter(Boolean);
}

function updateBulk() {
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

// Tabs: arrow keys move between them (WAI-ARIA tabs pattern).
const tabs = /** @type {HTMLButtonElement[]} */ ([...document.querySelectorAll('[role="tab"]')]);
/** @param {HTMLButtonElement} t */
function selectTab(t) {
  for (const x of tabs) { const on = x === t; x.setAttribute('aria-selected', String(on)); x.tabIndex = on ? 0 : -1; }
  feed.setAttribute('aria-labelledby', t.id);
  queue = t.dataset.queue || 'all';
  keepNew.clear();
  current = null;
  renderList();
  if (!cursors.has(queue)) loadPage(queue);
}
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

// ------------------------------------------------------------------ paging and filters

const moreBtn = /** @type {HTMLButtonElement} */ (byId('more'));

function updateMore() {
  const c = cursors.get(queue);
  moreBtn.hidden = !c || !c.more;
  moreBtn.disabled = !!c?.busy;
  moreBtn.textContent = c?.busy ? 'Loading…' : 'Load more';
}

/**
 * Reads the next page of a queue (the first if it has not been read since
 * the last reset), with the current filters.
 * @param {string} q
 */
async function loadPage(q) {
  let c = cursors.get(q);
  if (!c) { c = { after: null, more: true, busy: false }; cursors.set(q, c); }
  if (c.busy || !c.more) return;
  const [status, order] = SERVER_QUEUE[q] || ['all', 'newest'];
  const params = new URLSearchParams({ status, order, limit: String(PAGE) });
  if (c.after != null) params.set('after', String(c.after));
  if (filterItem) params.set('item_id', filterItem);
  if (filterQ) params.set('q', filterQ);
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
function resetPages() {
  pageGen++;
  cursors.clear();
  return loadPage(queue);
}

moreBtn.addEventListener('click', async () => {
  const before = list.children.length;
  await loadPage(queue);
  renderList();
  // Continue where the new entries start; the button may be gone now.
  const next = /** @type {HTMLElement|undefined} */ (list.children[before]);
  if (next) next.focus();
  else if (moreBtn.hidden) /** @type {HTMLElement|null} */ (list.lastElementChild)?.focus();
});

function describeFilters() {
  const parts = [];
  if (filterItem) parts.push('on “' + (items.get(filterItem)?.title || 'one pledge') + '”');
  if (filterQ) parts.push('containing “' + filterQ + '”');
  byId('filter-msg').textContent = parts.length ? 'Showing comments ' + parts.join(' ') + '.' : '';
}

function applyFilters() {
  const item = /** @type {HTMLSelectElement} */ (byId('f-item')).value;
  const q = /** @type {HTMLInputElement} */ (byId('f-q')).value.trim().slice(0, 200);
  if (item === filterItem && q === filterQ) return;
  filterItem = item;
  filterQ = q;
  describeFilters();
  current = null;
  renderList();
  resetPages();
}

let searchTimer = 0;
byId('f-item').addEventListener('change', applyFilters);
byId('f-q').addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(applyFilters, 300); });
byId('filters').addEventListener('submit', (ev) => { ev.preventDefault(); clearTimeout(searchTimer); applyFilters(); });

// ------------------------------------------------------------------ live events

/** New arrivals are announced as a count every few seconds, never one by one. */
const arrivals = { comment: 0, idea: 0 };
let arrivalsTimer = 0;
/** @param {'comment'|'idea'} kind */
function announceNew(kind) {
  arrivals[kind]++;
  if (arrivalsTimer) return;
  arrivalsTimer = setTimeout(() => {
    arrivalsTimer = 0;
    const parts = [];
    if (arrivals.comment) parts.push(arrivals.comment === 1 ? '1 new comment' : arrivals.comment + ' new comments');
    if (arrivals.idea) parts.push(arrivals.idea === 1 ? '1 new idea' : arrivals.idea + ' new ideas');
    arrivals.comment = arrivals.idea = 0;
    if (parts.length) say.say(parts.join(' and ') + '.');
  }, 3000);
}

/** @param {any} m */
function onEvent(m) {
  switch (m.type) {
    case 'comment': {
      const isNew = upsert('comment', m.comment);
      if (isNew && ready) announceNew('comment');
      break;
    }
    case 'comment_removed': {
      const e = entries.get(m.id);
      if (e) { e.d.status = 'hidden'; rerender(m.id); scheduleRender(); }
      break;
    }
    case 'item':
      items.set(m.item.id, m.item);
      if (m.item.kind === 'idea') {
        const isNew = upsert('idea', m.item);
        if (isNew && ready) announceNew('idea');
      } else fillItems();
      break;
    case 'item_removed': {
      const e = entries.get(m.id);
      if (e) { e.d.status = 'hidden'; rerender(m.id); scheduleRender(); }
      break;
    }
    case 'flag': {
      const e = entries.get(m.flag.comment_id);
      if (e) {
        e.d.flag_reasons = [m.flag.reason, ...(e.d.flag_reasons || [])].slice(0, Math.max(0, m.flag.flags));
        e.d.flags = m.flag.flags; e.flagSeq = m.seq; rerender(m.flag.comment_id); scheduleRender();
      }
      break;
    }
    case 'participant':
      suspended.set(m.participant.handle, !!m.participant.suspended);
      for (const [id, e] of entries) if (e.d.handle === m.participant.handle) rerender(id);
      renderCurrent();
      break;
    case 'conversation':
      setConversation(m.conversation);
      break;
    case 'focus': {
      const prev = looking.get(m.who);
      looking.set(m.who, m.comment_id || null);
      if (prev) rerender(prev);
      if (m.comment_id) rerender(m.comment_id);
      return;
    }
    default:
      return;
  }
  scheduleAudit();
}

// ------------------------------------------------------------------ audit log

function scheduleAudit() {
  clearTimeout(auditTimer);
  auditTimer = setTimeout(loadAudit, 150);
}

async function loadAudit() {
  if (auditBusy) { scheduleAudit(); return; }
  auditBusy = true;
  try {
    for (let i = 0; i < 50; i++) {
      const r = await get(API + '/events?after=' + auditSeq + '&limit=500');
      const evs = (r && r.events) || [];
      for (const ev of evs) applyAudit(ev);
      if (!evs.length || evs.length < 500) break;
    }
  } catch (e) { /* the log catches up on the next event */ }
  finally { auditBusy = false; }
}

const auditBody = byId('audit');
/** @param {any} ev */
function applyAudit(ev) {
  if (ev.seq <= auditSeq) return;
  auditSeq = ev.seq;
  const d = ev.data || {};
  const kind = d.kind || '';
  const action = d.action || '';
  const target = d.comment || d.item || null;
  const targetId = (target && target.id) || d.comment_id || (d.flag && d.flag.comment_id) || null;
  let what = kind + (action ? ' ' + action : '');
  let reason = d.reason || (target && action === 'hide' ? target.hidden_reason : '') || '';
  if (kind === 'comment' && target) what = (action === 'created' ? 'commented' : actionText(action).toLowerCase()) + ': “' + String(target.body).slice(0, 80) + '”';
  else if (kind === 'item' && target) what = (action === 'created' ? 'added ' + (target.kind || 'item') : actionText(action).toLowerCase() + ' ' + (target.kind || 'item')) + ': “' + String(target.title).slice(0, 80) + '”';
  else if (kind === 'flag') what = 'flagged a comment';
  else if (kind === 'conversation') what = 'changed the conversation';
  else if (kind === 'participant') what = (d.participant && d.participant.suspended ? 'suspended ' : 'reinstated ') + (d.participant ? d.participant.handle : 'a participant');
  if (kind === 'flag' && d.flag) reason = d.flag.reason || reason;
  if (targetId && entries.has(targetId)) {
    const e = /** @type {any} */ (entries.get(targetId));
    if (kind === 'flag') e.flagSeq = Math.max(e.flagSeq, ev.seq);
    else if (action === 'approve' || action === 'restore' || action === 'hide') e.reviewSeq = Math.max(e.reviewSeq, ev.seq);
    if ((kind === 'comment' || kind === 'item') && action && action !== 'created') actedBy.set(targetId, { who: ev.actor, action, reason: action === 'hide' ? reason : '' });
    rerender(targetId);
    scheduleRender();
  }
  const row = h('tr', {}, [
    h('td', {}, [h('time', { text: when(ev.created_at), attrs: { datetime: ev.created_at } })]),
    h('td', { text: ev.actor || '' }),
    h('td', { text: what }),
    h('td', { text: reason }),
  ]);
  auditBody.prepend(row);
  while (auditBody.children.length > 300) auditBody.lastElementChild?.remove();
}

// ------------------------------------------------------------------ conversation tools

function fillItems() {
  const sel = /** @type {HTMLSelectElement} */ (byId('display-item'));
  const keep = sel.value || (C && C.display && C.display.item_id) || '';
  const pledges = [...items.values()].filter((i) => (i.kind === 'pledge' || i.kind === 'topic') && i.status === 'visible').sort((a, b) => a.position - b.position);
  sel.replaceChildren(h('option', { text: 'All of them (comments wall only)', attrs: { value: '' } }),
    ...pledges.map((p) => h('option', { text: (p.kind === 'topic' ? 'Topic: ' : '') + p.title, attrs: { value: p.id } })));
  if (keep) sel.value = keep;
  const f = /** @type {HTMLSelectElement} */ (byId('f-item'));
  f.replaceChildren(h('option', { text: 'All pledges and ideas', attrs: { value: '' } }),
    ...pledges.map((p) => h('option', { text: p.title, attrs: { value: p.id } })));
  f.value = filterItem;
}

/** @param {any} c */
function setConversation(c) {
  C = c;
  byId('title').textContent = 'Desk: ' + c.title;
  document.title = 'Desk: ' + c.title + ' · chorus';
  const d = c.display || { mode: 'all', item_id: null };
  const mode = /** @type {HTMLSelectElement} */ (byId('display-mode'));
  if (document.activeElement !== mode) mode.value = d.mode;
  if (d.item_id) /** @type {HTMLSelectElement} */ (byId('display-item')).value = d.item_id;
  byId('display-item-field').hidden = mode.value === 'all';
  byId('display-msg').textContent = 'Screens now show: ' + ({ all: 'all pledges', focus: 'one pledge in focus', comments: 'the comments wall' })[/** @type {'all'} */ (d.mode)] + '.';
}

byId('display-mode').addEventListener('change', () => {
  byId('display-item-field').hidden = /** @type {HTMLSelectElement} */ (byId('display-mode')).value === 'all';
});
byId('display-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const mode = /** @type {HTMLSelectElement} */ (byId('display-mode')).value;
  const item_id = mode !== 'all' ? /** @type {HTMLSelectElement} */ (byId('display-item')).value || null : null;
  try {
    const r = await call('PATCH', API, { display: { mode, item_id } });
    if (r && r.conversation) setConversation(r.conversation);
  } catch (err) {
    byId('display-msg').textContent = explain(/** @type {any} */ (err), 'Switching screens');
  }
});

byId('words-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const words = /** @type {HTMLTextAreaElement} */ (byId('words')).value.split('\n').map((w) => w.trim()).filter(Boolean);
  try {
    const r = await call('PATCH', API, { word_list: words });
    if (r && Array.isArray(r.word_list)) /** @type {HTMLTextAreaElement} */ (byId('words')).value = r.word_list.join('\n');
    byId('words-msg').textContent = 'Saved: ' + (words.length ? words.length + ' word(s) or phrase(s).' : 'the list is empty.');
  } catch (err) {
    byId('words-msg').textContent = explain(/** @type {any} */ (err), 'The word list');
  }
});

byId('make-token').addEventListener('click', async () => {
  const out = byId('token-out');
  try {
    const r = await call('POST', API + '/display-tokens', {});
    const url = location.origin + r.url;
    out.replaceChildren('Open this on the event screen: ', h('a', { text: url, attrs: { href: r.url, target: '_blank', rel: 'noopener' } }));
  } catch (err) {
    out.textContent = explain(/** @type {any} */ (err), 'Creating a display link');
  }
});

// ------------------------------------------------------------------ start

async function snapshotAndComments() {
  const snap = await get(API);
  C = snap.conversation;
  items.clear();
  for (const it of snap.items) {
    items.set(it.id, it);
    if (it.kind === 'idea') upsert('idea', it);
  }
  /** @type {HTMLTextAreaElement} */ (byId('words')).value = (snap.word_list || []).join('\n');
  // The first page of the queue in view; "Load more" reads on.
  await resetPages();
  fillItems();
  setConversation(C);
  return snap.seq;
}

async function main() {
  /** @type {HTMLAnchorElement} */ (byId('csv')).href = API + '/events.csv';
  const user = await ensureStaff('facilitator');
  if (!user) return;
  myName = user.name;
  seen = new SeenStore(slug, myName);
  byId('who').textContent = 'Logged in as ' + user.name;
  byId('desk').hidden = false;
  opinionPanel(API, () => (C ? C.title : slug), say);
  let seq;
  try {
    seq = await snapshotAndComments();
  } catch (err) {
    byId('title').textContent = explain(/** @type {any} */ (err), 'Loading the conversation');
    return;
  }
  auditSeq = Math.max(0, seq - 2000);
  await loadAudit();
  renderList();
  const conn = byId('conn');
  live = new Live({
    slug, since: seq, as: 'facilitator', onEvent,
    onState: (s) => { conn.dataset.state = s; conn.textContent = ({ connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline', forbidden: 'Not allowed', stopped: 'Stopped' })[s]; },
    onResync: async () => { const s = await snapshotAndComments(); scheduleAudit(); return s; },
    onPresence: (p) => { byId('presence').textContent = fmt(p.participants || 0) + ' taking part, ' + fmt(p.facilitators || 0) + ' facilitator(s), ' + fmt(p.displays || 0) + ' screen(s)'; },
    onSubscribed: () => { if (current) setCurrentSend(); },
  }).start();
  ready = true;
  document.body.classList.add('ready');
}

// Keep "just now" / "5 min ago" true.
setInterval(() => {
  for (const [id, el] of els) {
    const t = el.querySelector('.meta time');
    const e = entries.get(id);
    if (t && e) t.textContent = ago(e.d.created_at);
  }
}, 30000);

// Leaving the desk: other facilitators stop seeing us on the last comment.
addEventListener('pagehide', () => { live?.send({ type: 'focus', comment_id: null }); });

function setCurrentSend() {
  const e = current ? entries.get(current) : null;
  live?.send({ type: 'focus', comment_id: e && e.kind === 'comment' ? current : null });
}

main();
