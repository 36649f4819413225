// The event display screen: /display/{slug}?token=... Full screen, no
// interaction: pledges with live tallies as large bars, a ticker of the newest
// approved comments, presence, time left and a QR code to join. Follows the
// conversation's display mode live. User text only ever via textContent.

import { get, conv } from './api.js';
import { Live } from './live.js';
import { h, byId } from './dom.js';
import { TallyBook, TallyBar, fmt } from './tally.js';
import { Countdown } from './time.js';

const slug = decodeURIComponent(location.pathname.replace(/^\/display\//, '').replace(/\/.*$/, ''));
const token = new URLSearchParams(location.search).get('token') || '';
/** `?item=ID`: this screen shows the comment wall of that one pledge or topic. */
const only = new URLSearchParams(location.search).get('item') || null;
const API = conv(slug);
const TICKER = 3;
const WALL = 9;
const FOCUS_COMMENTS = 4;
/** How far back the live stream replays at start, to fill the ticker. */
const REPLAY = 400;

/** @type {any} */ let C = null;
/** @type {Map<string, any>} */ const items = new Map();
/** @type {Map<string, TallyBar>} */ const bars = new Map();
/** @type {Map<string, any>} */ const comments = new Map(); // visible comments only
const tallies = new TallyBook();
const countdown = new Countdown(/** @type {HTMLTimeElement} */ (byId('countdown')), (st) => { document.body.dataset.state = st; });
let focusBar = new TallyBar({ className: 'big' });
byId('focus-bar').append(focusBar.el);

// ------------------------------------------------------------------ pledges

const pledges = () => [...items.values()].filter((i) => i.kind === 'pledge' && i.status === 'visible').sort((a, b) => a.position - b.position);

function renderPledges() {
  const list = byId('pledges');
  const ps = pledges();
  const nodes = ps.map((p) => {
    let bar = bars.get(p.id);
    if (!bar) { bar = new TallyBar({ className: 'big' }); bars.set(p.id, bar); }
    let li = /** @type {HTMLElement|null} */ (list.querySelector('li[data-id="' + CSS.escape(p.id) + '"]'));
    if (!li) li = h('li', { className: 'd-pledge', attrs: { 'data-id': p.id } }, [h('h3', { className: 'd-ptitle' }), bar.el]);
    /** @type {HTMLElement} */ (li.firstChild).textContent = p.title;
    const t = tallies.get(p.id) || p;
    bar.set(t.strong, t.wrong);
    return li;
  });
  list.replaceChildren(...nodes);
  // More than eight pledges: two columns.
  const many = nodes.length > 8;
  document.body.dataset.many = String(many);
  document.body.style.setProperty('--rows', String(Math.max(1, many ? Math.ceil(nodes.length / 2) : nodes.length)));
  renderFocus();
}

function renderTally(/** @type {string} */ id) {
  const t = tallies.get(id);
  if (!t) return;
  bars.get(id)?.set(t.strong, t.wrong);
  if (C && C.display && C.display.item_id === id) focusBar.set(t.strong, t.wrong);
}

// ------------------------------------------------------------------ comments

/** Newest first. @param {string|null} [itemId] */
function newest(itemId) {
  const all = [...comments.values()].filter((c) => !itemId || c.item_id === itemId);
  all.sort((a, b) => (b.seq || 0) - (a.seq || 0) || Date.parse(b.created_at) - Date.parse(a.created_at));
  return all;
}

/** @param {any} c */
function card(c) {
  const it = items.get(c.item_id);
  return h('li', { className: 'd-card' + (c.pinned ? ' pinned' : ''), attrs: { 'data-id': c.id } }, [
    h('p', { className: 'd-ctext', text: c.body }),
    h('p', { className: 'd-cmeta', text: c.handle + (it ? ' on “' + it.title + '”' : '') }),
  ]);
}

/** Replaces a list's cards, keeping existing nodes so new ones animate in. @param {HTMLElement} ul @param {any[]} cs */
function fill(ul, cs) {
  const old = new Map([...ul.children].map((n) => [/** @type {HTMLElement} */ (n).dataset.id, n]));
  ul.replaceChildren(...cs.map((c) => {
    const n = old.get(c.id);
    if (n && n.dataset.body === c.body && n.classList.contains('pinned') === !!c.pinned) { n.classList.add('seen'); return n; }
    const m = card(c);
    m.dataset.body = c.body;
    if (n) m.classList.add('seen');
    return m;
  }));
}

/** The item whose comments the wall shows: the screen's own `?item=`, or the desk's choice. */
function wallItem() {
  if (only) return only;
  return C && C.display && C.display.mode === 'comments' ? C.display.item_id || null : null;
}

function renderComments() {
  const all = newest(wallItem());
  const it = wallItem() ? items.get(/** @type {string} */ (wallItem())) : null;
  byId('wall-h').textContent = it ? 'What people are saying about “' + it.title + '”' : 'What people are saying';
  fill(byId('ticker'), all.slice(0, TICKER));
  byId('ticker-empty').hidden = all.length > 0;
  const wall = [...all.filter((c) => c.pinned), ...all.filter((c) => !c.pinned)].slice(0, WALL);
  fill(byId('wall'), wall);
  renderFocus();
}

function renderFocus() {
  const id = C && C.display && C.display.mode === 'focus' ? C.display.item_id : null;
  const p = id ? items.get(id) : null;
  if (!p) return;
  byId('focus-title').textContent = p.title;
  byId('focus-body').textContent = p.body || '';
  // A discussion topic takes no votes: no bar.
  focusBar.el.hidden = p.kind === 'topic';
  const t = tallies.get(p.id) || p;
  focusBar.set(t.strong, t.wrong);
  fill(byId('focus-comments'), newest(p.id).slice(0, FOCUS_COMMENTS));
}

// ------------------------------------------------------------------ mode

/** @param {any} c */
function setConversation(c) {
  const prevMode = C && C.display ? C.display.mode + ':' + C.display.item_id : '';
  C = c;
  byId('title').textContent = c.title;
  document.title = c.title + ' · live results';
  countdown.set(c);
  const d = c.display || { mode: 'all', item_id: null };
  let mode = d.mode;
  if (mode === 'focus' && !items.get(d.item_id)) mode = 'all';
  if (only) mode = 'comments';
  if (prevMode !== d.mode + ':' + d.item_id) {
    // A new focus pledge gets a fresh bar, so it grows from nothing.
    const old = focusBar.el;
    focusBar = new TallyBar({ className: 'big' });
    old.replaceWith(focusBar.el);
  }
  document.body.dataset.mode = mode;
  byId('pledges-sec').hidden = mode !== 'all';
  byId('focus-sec').hidden = mode !== 'focus';
  byId('wall-sec').hidden = mode !== 'comments';
  renderComments();
}

// ------------------------------------------------------------------ live

/** The snapshot's seq: older conversation and item events (replayed to fill the ticker) are already in it. */
let snapSeq = 0;

/** @param {any} m */
function onEvent(m) {
  if ((m.type === 'conversation' || m.type === 'item' || m.type === 'item_removed') && m.seq <= snapSeq) return;
  switch (m.type) {
    case 'comment':
      // A comment its author deleted leaves the wall (its replies stay readable on phones).
      if (m.comment.status === 'visible' && !m.comment.deleted) comments.set(m.comment.id, m.comment);
      else comments.delete(m.comment.id);
      renderComments();
      break;
    case 'comment_removed':
      comments.delete(m.id);
      renderComments();
      break;
    case 'item':
      if (m.item.status === 'visible' && !m.item.deleted) {
        const prev = items.get(m.item.id);
        items.set(m.item.id, m.item);
        tallies.apply(m.item.id, m.item);
        if (!prev || prev.title !== m.item.title || prev.position !== m.item.position || m.item.kind === 'pledge') renderPledges();
      } else if (items.delete(m.item.id)) renderPledges();
      break;
    case 'item_removed':
      if (items.delete(m.id)) renderPledges();
      break;
    case 'conversation':
      setConversation(m.conversation);
      break;
  }
}

/** @param {any} m */
function onTallies(m) {
  for (const t of m.items || []) if (tallies.apply(t.id, t)) renderTally(t.id);
}

async function snapshot() {
  const snap = await get(API);
  items.clear();
  for (const it of snap.items) { if (it.status === 'visible') { items.set(it.id, it); tallies.apply(it.id, it); } }
  comments.clear();
  renderPledges();
  setConversation(snap.conversation);
  renderComments();
  snapSeq = snap.seq;
  return snap.seq;
}

async function joinInfo() {
  const url = API + '/qr.svg' + (token ? '?token=' + encodeURIComponent(token) : '');
  const img = /** @type {HTMLImageElement} */ (byId('qr'));
  try {
    const res = await fetch(url, { credentials: 'same-origin' });
    if (!res.ok) { img.hidden = true; return; }
    const link = res.headers.get('X-Join-Link') || '';
    img.src = url;
    if (!link) return;
    let u;
    try { u = new URL(link); } catch (e) { byId('join-link').textContent = link; return; }
    const code = u.searchParams.get('code');
    // Line breaks, if needed, after a slash rather than mid-word.
    const parts = (u.host + u.pathname).split(/(?<=\/)/);
    byId('join-link').replaceChildren(...parts.flatMap((x, i) => (i ? [h('wbr'), x] : [x])));
    byId('join-link').dataset.link = link;
    img.alt = 'QR code to join: ' + link;
    if (code) {
      byId('join-code').hidden = false;
      byId('join-code').replaceChildren('Access code ', h('strong', { text: code }));
    }
  } catch (e) {
    setTimeout(joinInfo, 5000);
  }
}

async function main() {
  joinInfo();
  let seq;
  for (let i = 0; ; i++) {
    try { seq = await snapshot(); break; } catch (e) {
      byId('title').textContent = 'Waiting for the conversation…';
      await new Promise((r) => setTimeout(r, Math.min(15000, 500 * 2 ** i)));
    }
  }
  const conn = byId('conn');
  new Live({
    slug, since: Math.max(0, seq - REPLAY), as: 'display', displayToken: token || undefined, onEvent, onTallies,
    onState: (s) => { conn.dataset.state = s; conn.textContent = s === 'live' ? 'Live' : s === 'forbidden' ? 'This display link is not valid' : 'Reconnecting…'; },
    onResync: async () => { const s = await snapshot(); return Math.max(0, s - REPLAY); },
    onPresence: (p) => { byId('presence').textContent = fmt(p.participants || 0) + ' taking part now'; },
  }).start();
  document.body.classList.add('ready');
}

main();
