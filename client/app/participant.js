// The participant page: /c/{slug}. Reads the REST snapshot, subscribes to
// the live stream from the snapshot's seq, and sends every write through the
// offline-safe queue. User text is only ever set with textContent.
//
// This file only starts the page; each concern is a module of its own in
// participant/ (see docs/architecture.md, "The web client"): page.js (what
// they share), outbox.js, signup.js, conversation.js, items.js,
// comment-panel.js, comments.js, composer.js, ideas.js, polite.js and
// stream.js (the live events).

import { get, ApiError } from './api.js';
import { Live } from './live.js';
import { byId } from './dom.js';
import { fmt } from './tally.js';
import { stateOf } from './time.js';
import { draftKeys } from './drafts.js';
import { slug, API, page, me } from './participant/page.js';
import { queue } from './participant/outbox.js';
import { wireSignup } from './participant/signup.js';
import { renderConversation, setOpen } from './participant/conversation.js';
import { views, upsertItem, removeItem, sortLists, emptyStates, wireSort } from './participant/items.js';
import { forgetComments } from './participant/comments.js';
import { wireIdeas } from './participant/ideas.js';
import { onEvent, onTallies, onState } from './participant/stream.js';

byId('results-link').setAttribute('href', '/report/' + encodeURIComponent(slug));

/** Loads the snapshot and renders it. Returns its seq. */
async function loadSnapshot() {
  const s = await get(API);
  renderConversation(s.conversation);
  const m = s.me || {};
  me.participant = m.participant || null;
  me.votes = m.votes || {};
  me.ups = new Set(m.comment_votes || []);
  const seen = new Set();
  for (const it of s.items || []) { upsertItem(it); seen.add(it.id); }
  for (const id of Array.from(views.keys())) if (!seen.has(id)) removeItem(id);
  setOpen(stateOf(s.conversation));
  sortLists();
  emptyStates();
  return s.seq;
}

async function resync() {
  // Forget loaded comments; the expanded lists reload from the store.
  forgetComments();
  const seq = await loadSnapshot();
  for (const v of views.values()) {
    if (v.comments.expanded) v.comments.reload(false); else v.comments.loaded = false;
  }
  return seq;
}

/** A link from the report (`?item=ID#comment-ID`) opens that item's comments and shows the comment. */
async function showLinkedComment() {
  const item = views.get(new URLSearchParams(location.search).get('item') || '');
  if (!item) return;
  item.comments.toggle(true);
  for (let i = 0; i < 100 && !item.comments.loaded; i++) await new Promise((r) => setTimeout(r, 50));
  // The comment may be further down the order than the first page.
  const target = location.hash.startsWith('#comment-') ? await item.comments.find(location.hash.slice('#comment-'.length)) : null;
  const el = target || item.comments.toggleB;
  el.tabIndex = -1;
  el.scrollIntoView({ block: 'center' });
  el.focus({ preventScroll: true });
}

async function main() {
  wireSignup();
  wireIdeas();
  wireSort();
  let seq;
  for (let attempt = 0; ; attempt++) {
    try {
      seq = await loadSnapshot();
      break;
    } catch (e) {
      const err = /** @type {ApiError} */ (e);
      if (err.status === 404) {
        byId('title').textContent = 'Conversation not found';
        byId('introduction').textContent = 'There is no conversation at this address. Check the link you were given.';
        document.body.dataset.state = 'missing';
        return;
      }
      byId('title').textContent = err.network ? 'You seem to be offline' : 'The conversation could not be loaded';
      await new Promise((r) => setTimeout(r, Math.min(15000, 500 * 2 ** attempt)));
    }
  }
  // Open the comments of items with a draft or an unsent comment, so nothing typed is hidden.
  const pendingItems = new Set(queue.pending().filter((a) => a.kind === 'comment').map((a) => a.meta.item));
  for (const k of draftKeys(slug + ':')) {
    const parts = k.split(':');
    if (parts.length === 3 && views.has(parts[1])) pendingItems.add(parts[1]);
  }
  for (const id of pendingItems) views.get(id)?.comments.toggle(true);
  showLinkedComment();
  page.live = new Live({ slug, since: seq, onEvent, onTallies, onState, onResync: resync,
    onPresence: (p) => { byId('presence').textContent = fmt(p.participants || 0) + ' taking part now'; } }).start();
  queue.flush();
  document.body.classList.add('ready');
}

main();
