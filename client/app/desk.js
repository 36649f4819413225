// The facilitator desk: /desk/{slug}. Every comment and idea arrives over the
// live stream (subscribed as a facilitator), newest first, in queues; one key
// acts on the focused entry. Other facilitators' focus and actions are shown
// next to each entry. User text only ever goes in via textContent.
//
// This file only starts the page; each concern is a module of its own in
// desk/ (see docs/architecture.md, "The web client"): page.js (what they
// share), entries.js, feed.js (tabs and list), paging.js, filters.js,
// selection.js, actions.js, bulk.js, audit.js, tools.js and stream.js (the
// live events).

import { get, explain } from './api.js';
import { Live } from './live.js';
import { byId } from './dom.js';
import { fmt } from './tally.js';
import { ensureStaff } from './staff.js';
import { opinionPanel } from './desk-opinion.js';
import { SeenStore } from './desk-seen.js';
import { slug, API, say, desk, items } from './desk/page.js';
import { upsert, keepTimesFresh } from './desk/entries.js';
import { renderList, wireTabs } from './desk/feed.js';
import { resetPages, wireMore } from './desk/paging.js';
import { wireFilters } from './desk/filters.js';
import { sel, sendFocus, wireSelection } from './desk/selection.js';
import { wireActions } from './desk/actions.js';
import { wireBulk } from './desk/bulk.js';
import { startAuditAt, loadAudit, scheduleAudit } from './desk/audit.js';
import { fillItems, setConversation, wireTools } from './desk/tools.js';
import { onEvent } from './desk/stream.js';

async function snapshotAndComments() {
  const snap = await get(API);
  desk.C = snap.conversation;
  items.clear();
  for (const it of snap.items) {
    items.set(it.id, it);
    if (it.kind === 'idea') upsert('idea', it);
  }
  /** @type {HTMLTextAreaElement} */ (byId('words')).value = (snap.word_list || []).join('\n');
  // The first page of the queue in view; "Load more" reads on.
  await resetPages();
  fillItems();
  setConversation(desk.C);
  return snap.seq;
}

async function main() {
  wireTabs();
  wireMore();
  wireFilters();
  wireSelection();
  wireActions();
  wireBulk();
  wireTools();
  keepTimesFresh();
  /** @type {HTMLAnchorElement} */ (byId('csv')).href = API + '/events.csv';
  const user = await ensureStaff('facilitator');
  if (!user) return;
  desk.myName = user.name;
  desk.seen = new SeenStore(slug, desk.myName);
  byId('who').textContent = 'Logged in as ' + user.name;
  byId('desk').hidden = false;
  opinionPanel(API, () => (desk.C ? desk.C.title : slug), say);
  let seq;
  try {
    seq = await snapshotAndComments();
  } catch (err) {
    byId('title').textContent = explain(/** @type {any} */ (err), 'Loading the conversation');
    return;
  }
  startAuditAt(seq);
  await loadAudit();
  renderList();
  const conn = byId('conn');
  desk.live = new Live({
    slug, since: seq, as: 'facilitator', onEvent,
    onState: (s) => { conn.dataset.state = s; conn.textContent = ({ connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline', forbidden: 'Not allowed', stopped: 'Stopped' })[s]; },
    onResync: async () => { const s = await snapshotAndComments(); scheduleAudit(); return s; },
    onPresence: (p) => { byId('presence').textContent = fmt(p.participants || 0) + ' taking part, ' + fmt(p.facilitators || 0) + ' facilitator(s), ' + fmt(p.displays || 0) + ' screen(s)'; },
    onSubscribed: () => { if (sel.current) sendFocus(); },
  }).start();
  desk.ready = true;
  document.body.classList.add('ready');
}

// Leaving the desk: other facilitators stop seeing us on the last comment.
addEventListener('pagehide', () => { desk.live?.send({ type: 'focus', comment_id: null }); });

main();
