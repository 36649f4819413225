// The participant page: /c/{slug}. Reads the REST snapshot, subscribes to
// the live stream from the snapshot's seq, and sends every write through the
// offline-safe queue. User text is only ever set with textContent.
//
// Over 600 lines for now: one page's controller. Issue 13 splits it by
// concern (comments list, composer, tallies, sign-up) before it grows.

import { get, call, conv, seg, uuid, explain, ApiError } from './api.js';
import { Live } from './live.js';
import { Queue } from './queue.js';
import { h, byId, Announcer, uid } from './dom.js';
import { TallyBook, TallyBar, fmt } from './tally.js';
import { Countdown, stateOf, ago } from './time.js';
import { bindDraft, readDraft, writeDraft, draftKeys } from './drafts.js';
import { CommentSort } from './csort.js';
import { SignupWait, SIGNUP_FIRST } from './signup-wait.js';
import { SignIn } from './signin.js';

const slug = decodeURIComponent(location.pathname.replace(/^\/c\//, '').replace(/\/.*$/, ''));
byId('results-link').setAttribute('href', '/report/' + encodeURIComponent(slug));
const API = conv(slug);
const say = new Announcer(byId('announcer'));

/** @type {any} */ let C = null;               // the conversation
/** @type {Map<string, any>} */ const items = new Map();
/** @type {Map<string, ItemView>} */ const views = new Map();
/** @type {Map<string, any>} */ const comments = new Map();
/** @type {Map<string, CommentView>} */ const cviews = new Map();
/** @type {Set<string>} */ const removed = new Set();
/** @type {Set<string>} */ const known = new Set(); // comment ids counted in an item's total
const tallies = new TallyBook();
const ctallies = new TallyBook();
let me = { participant: /** @type {any} */ (null), votes: /** @type {Record<string, string|null>} */ ({}), ups: new Set() };
let open = false;
/** @type {Live|null} */ let live = null;
const wait = new SignupWait();

// ---------------------------------------------------------------- the outbox

const queue = new Queue('chorus:queue:' + slug, {
  onDone(a, data) {
    if (a.kind === 'vote') {
      me.votes[a.meta.item] = data && 'choice' in data ? data.choice : a.body.choice;
      if (data && data.tally) tallies.apply(a.meta.item, data.tally);
      views.get(a.meta.item)?.renderVote();
    } else if (a.kind === 'up') {
      if (data && data.up !== undefined ? data.up : a.body.up) me.ups.add(a.meta.comment); else me.ups.delete(a.meta.comment);
      if (data && data.tally) ctallies.apply(a.meta.comment, data.tally);
      cviews.get(a.meta.comment)?.renderUp();
    } else if (a.kind === 'comment') {
      const c = data && data.comment ? data.comment : null;
      // The live stream may already have removed it (hidden by a facilitator): that is newer.
      if (c && !removed.has(c.id)) upsertComment(c, true);
      const iv = views.get(a.meta.item);
      const form = a.body.parent_id ? cviews.get(a.body.parent_id)?.replyForm : iv && iv.form;
      if (form && !form.msg.classList.contains('bad')) setMsg(form.msg, '', false);
      const v = cviews.get(a.body.id);
      if (v) {
        v.data.sent = true;
        v.render();
      }
      if (c && c.status === 'pending') say.say('Your comment was received and awaits review by a facilitator.');
    } else if (a.kind === 'idea') {
      const it = data && data.item;
      const msg = it && it.status === 'pending'
        ? 'Thank you. Your idea will appear once a facilitator has looked at it.'
        : 'Thank you. Your idea is now visible to everyone.';
      setMsg(byId('idea-msg'), msg, false);
      if (it && it.status === 'visible') upsertItem(it);
    } else if (a.kind === 'flag') {
      const v = cviews.get(a.meta.comment);
      if (v) v.say('Thank you. A facilitator will look at this comment.', false);
    }
  },
  onRefused(a, e) {
    if (e.status === 401) showSignup();
    if (a.kind === 'vote') {
      const v = views.get(a.meta.item);
      if (v) { v.renderVote(); v.say(explain(e, 'Your vote'), true); }
    } else if (a.kind === 'up') {
      const v = cviews.get(a.meta.comment);
      if (v) { v.renderUp(); v.say(explain(e, 'Your agreement'), true); }
    } else if (a.kind === 'comment') {
      // Never lose the text: put it back in its form and draft.
      const dk = draftKey(a.meta.item, a.body.parent_id);
      if (!readDraft(dk)) writeDraft(dk, a.body.body);
      const cv = cviews.get(a.body.id);
      if (cv && !comments.has(a.body.id)) { cv.el.remove(); cviews.delete(a.body.id); }
      const iv = views.get(a.meta.item);
      if (iv) {
        const form = a.body.parent_id ? cviews.get(a.body.parent_id)?.openReply() : iv.form;
        if (form && !form.field.value) form.field.value = a.body.body;
        if (form) setMsg(form.msg, explain(e, 'Your comment'), true); else iv.say(explain(e, 'Your comment'), true);
      }
      say.say(explain(e, 'Your comment'));
    } else if (a.kind === 'idea') {
      const t = byId('idea-title');
      if (t instanceof HTMLInputElement && !t.value) { t.value = a.body.title; writeDraft(slug + ':idea:title', t.value); }
      const b = byId('idea-body');
      if (b instanceof HTMLTextAreaElement && !b.value) { b.value = a.body.body || ''; writeDraft(slug + ':idea:body', b.value); }
      setMsg(byId('idea-msg'), explain(e, 'Your idea'), true);
      say.say(explain(e, 'Your idea'));
    } else if (a.kind === 'flag') {
      cviews.get(a.meta.comment)?.say(explain(e, 'Your flag'), true);
    }
  },
  onWait(a, e) {
    const text = explain(e, a.kind === 'vote' ? 'Your vote' : a.kind === 'comment' ? 'Your comment' : 'Your action');
    if (a.kind === 'vote') views.get(a.meta.item)?.say(text, false);
    else if (a.kind === 'comment') {
      const cv = cviews.get(a.body.id);
      if (cv) cv.render();
      const iv = views.get(a.meta.item);
      const form = a.body.parent_id ? cviews.get(a.body.parent_id)?.replyForm : iv && iv.form;
      if (form && e.status === 429) setMsg(form.msg, text, false);
    } else if (a.kind === 'idea') setMsg(byId('idea-msg'), text, false);
    if (e.status === 429) say.say(text);
  },
  onChange() {
    for (const v of views.values()) v.renderVote();
    for (const v of cviews.values()) { v.renderUp(); v.render(); }
  },
});

/** @param {string} item @param {string|null|undefined} parent */
const draftKey = (item, parent) => slug + ':' + item + ':' + (parent || '');

/** The vote the participant has now, including actions still in the outbox. @param {string} item */
function myVote(item) {
  let v = me.votes[item] || null;
  for (const a of queue.pending()) if (a.kind === 'vote' && a.meta.item === item) v = a.body.choice;
  return v;
}
/** @param {string} cid */
function myUp(cid) {
  let v = me.ups.has(cid);
  for (const a of queue.pending()) if (a.kind === 'up' && a.meta.comment === cid) v = a.body.up;
  return v;
}

/**
 * Whether a comment is this participant's own: shown from their outbox, or
 * under their handle (handles are unique in a conversation). @param {any} c
 */
function isMine(c) {
  return !!c.local || !!(me.participant && c.handle && c.handle === me.participant.handle);
}

/** @param {HTMLElement} el @param {string} text @param {boolean} bad */
function setMsg(el, text, bad) {
  el.textContent = text;
  el.classList.toggle('bad', bad);
}

/** Whether the participant may act now; otherwise explains why in `el`. @param {HTMLElement} el */
function canAct(el) {
  if (!open) {
    setMsg(el, stateOf(C) === 'upcoming' ? 'This conversation has not opened yet.' : 'This conversation is closed: you can still read it.', true);
    return false;
  }
  if (!me.participant) {
    wait.note(el, SIGNUP_FIRST);
    showSignup(true);
    return false;
  }
  if (me.participant.suspended) {
    setMsg(el, 'Your participation has been paused by a facilitator.', true);
    return false;
  }
  return true;
}

// ------------------------------------------------------- inserting politely

/** @type {(() => Element)[]} */ let deferred = [];
let deferredComments = 0, deferredIdeas = 0;
const pill = /** @type {HTMLButtonElement} */ (byId('pill'));

/**
 * Inserts a node now if that would not move what the reader is looking at;
 * otherwise keeps it for the "N new comments" pill.
 * @param {Element} list the list the node goes into
 * @param {() => Element} insert inserts and returns the node
 * @param {'comment'|'idea'} kind
 * @param {boolean} [atStart] whether the node goes at the start of the list
 */
function politeInsert(list, insert, kind, atStart) {
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

// ------------------------------------------------------------------- items

class ItemView {
  /** @param {any} it */
  constructor(it) {
    this.id = it.id;
    this.loaded = false;
    this.loading = false;
    const hid = uid('it');
    this.title = h('h3', { attrs: { id: hid } });
    this.by = h('p', { className: 'by' });
    this.body = h('p', { className: 'body' });
    this.bar = new TallyBar();
    this.strongB = h('button', { className: 'vote v-strong', text: 'Strong', attrs: { type: 'button', 'aria-pressed': 'false' }, on: { click: () => this.vote('strong') } });
    this.wrongB = h('button', { className: 'vote v-wrong', text: 'Wrong', attrs: { type: 'button', 'aria-pressed': 'false' }, on: { click: () => this.vote('wrong') } });
    this.mine = h('span', { className: 'mine' });
    this.msg = h('p', { className: 'msg' });
    const panelId = uid('cm');
    this.toggleB = h('button', { className: 'toggle', attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': panelId }, on: { click: () => this.toggle() } });
    this.list = h('ol', { className: 'clist' });
    this.empty = h('p', { className: 'empty', text: 'No comments yet. Be the first.' });
    this.form = commentForm(it.id, null, 'Your comment', 'Post comment');
    this.sort = new CommentSort(API + '/items/' + seg(it.id) + '/comments', this.list, (t, bad) => { if (bad) this.say(t, true); else say.say(t); });
    this.panel = h('div', { className: 'comments', attrs: { id: panelId, hidden: true } }, [this.sort.el, this.list, this.empty, this.form.el]);
    this.el = h('li', { className: 'item', attrs: { 'data-id': it.id, 'aria-labelledby': hid } }, [
      this.title, this.by, this.body, this.bar.el,
      h('div', { className: 'votes', attrs: { role: 'group', 'aria-labelledby': hid } }, [this.strongB, this.wrongB, this.mine]),
      this.msg, this.toggleB, this.panel,
    ]);
    this.update(it);
  }

  /** @param {any} it */
  update(it) {
    this.item = it;
    this.title.textContent = it.title;
    this.by.textContent = it.kind === 'idea' && it.handle ? 'Suggested by ' + it.handle : '';
    this.by.hidden = !this.by.textContent;
    this.body.textContent = it.body || '';
    this.body.hidden = !it.body;
    this.el.dataset.kind = it.kind;
    this.renderVote();
    this.renderCount();
  }

  renderVote() {
    const t = tallies.get(this.id) || { strong: this.item.strong || 0, wrong: this.item.wrong || 0 };
    const confirmed = me.votes[this.id] || null;
    const now = myVote(this.id);
    let s = t.strong, w = t.wrong;
    if (now !== confirmed) { // optimistic: show our pending vote in the counts
      if (confirmed === 'strong') s--; else if (confirmed === 'wrong') w--;
      if (now === 'strong') s++; else if (now === 'wrong') w++;
    }
    this.bar.set(s, w);
    const kept = me.participant ? null : wait.vote(this.id);
    this.strongB.setAttribute('aria-pressed', String((kept || now) === 'strong'));
    this.wrongB.setAttribute('aria-pressed', String((kept || now) === 'wrong'));
    const pending = now !== confirmed;
    this.mine.textContent = kept ? 'Your ' + kept + ' vote is sent once you sign up'
      : now ? 'You voted ' + now + (pending ? ' (sending…)' : '') : pending ? 'Withdrawing your vote…' : '';
  }

  renderCount() {
    let n = this.item.comments || 0;
    if (this.loaded) {
      n = 0;
      for (const c of comments.values()) if (c.item_id === this.id && c.status === 'visible') n++;
    }
    const exp = this.toggleB.getAttribute('aria-expanded') === 'true';
    this.toggleB.textContent = (exp ? 'Hide comments' : 'Comments') + ' (' + fmt(n) + ')';
    this.el.dataset.comments = String(n);
    this.empty.hidden = this.list.childElementCount > 0;
    // A closed conversation takes no more comments: inviting one would mislead.
    this.empty.textContent = open ? 'No comments yet. Be the first.' : 'No comments were made on this.';
  }

  /** @param {string} text @param {boolean} bad */
  say(text, bad) { setMsg(this.msg, text, bad); }

  /** @param {'strong'|'wrong'} choice */
  vote(choice) {
    if (open && !me.participant) { // kept, and sent once signed up
      const kept = wait.vote(this.id) === choice ? null : choice;
      wait.keepVote(this.id, kept);
      wait.note(this.msg, SIGNUP_FIRST + (kept ? ' Your vote is kept until then.' : ''));
      showSignup(true);
      this.renderVote();
      return;
    }
    if (!canAct(this.msg)) return;
    const next = myVote(this.id) === choice ? null : choice;
    this.say('', false);
    queue.add({ key: uuid(), kind: 'vote', method: 'PUT', path: API + '/items/' + seg(this.id) + '/vote', body: { request_id: uuid(), choice: next }, meta: { item: this.id } });
    this.renderVote();
  }

  toggle(force) {
    const exp = force !== undefined ? force : this.toggleB.getAttribute('aria-expanded') !== 'true';
    this.toggleB.setAttribute('aria-expanded', String(exp));
    this.panel.hidden = !exp;
    this.renderCount();
    if (exp) this.load();
  }

  async load() {
    if (this.loaded || this.loading) return;
    this.loading = true;
    try {
      let after = 0;
      for (let guard = 0; guard < 50; guard++) {
        const r = await get(API + '/items/' + seg(this.id) + '/comments?after=' + after + '&limit=500');
        for (const c of r.comments || []) {
          if (removed.has(c.id)) continue;
          // One that arrived live while the panel was closed is known but not shown yet; its live copy is the newer.
          if (comments.has(c.id)) { if (!cviews.has(c.id)) placeComment(comments.get(c.id), true); } else upsertComment(c, false);
        }
        if (r.next == null) break;
        after = r.next;
      }
      this.loaded = true;
      // Our own comments still waiting in the outbox.
      for (const a of queue.pending()) if (a.kind === 'comment' && a.meta.item === this.id) showQueuedComment(a);
      this.renderCount();
      if (this.sort.across) this.sort.arrange();
    } catch (e) {
      this.say(e instanceof ApiError && e.network ? 'Comments could not be loaded: you seem to be offline.' : 'Comments could not be loaded. Please try again.', true);
    } finally {
      this.loading = false;
    }
  }
}

/** @param {any} it */
function upsertItem(it) {
  if (it.status !== 'visible') { removeItem(it.id); return; }
  items.set(it.id, it);
  tallies.apply(it.id, { strong: it.strong || 0, wrong: it.wrong || 0, version: it.version || 0 });
  let v = views.get(it.id);
  if (v) { v.update(it); return; }
  v = new ItemView(it);
  views.set(it.id, v);
  const list = byId(it.kind === 'idea' ? 'ideas' : 'pledges');
  const view = v;
  if (it.kind === 'idea' && sortKey() === 'newest') {
    politeInsert(list, () => { list.prepend(view.el); return view.el; }, 'idea', true);
  } else {
    list.append(view.el);
  }
  emptyStates();
}

function emptyStates() {
  byId('no-ideas').hidden = byId('ideas').childElementCount > 0;
  byId('no-pledges').hidden = byId('pledges').childElementCount > 0;
}

/** @param {string} id */
function removeItem(id) {
  const v = views.get(id);
  items.delete(id);
  if (!v) return;
  const hadFocus = v.el.contains(document.activeElement);
  v.el.remove();
  views.delete(id);
  if (hadFocus) byId('main').focus({ preventScroll: true });
  emptyStates();
}

// ---------------------------------------------------------------- comments

/**
 * A comment (or reply) form with a draft that survives reloads.
 * @param {string} item @param {string|null} parent @param {string} label @param {string} submit
 * @param {() => void} [onPosted] called once a comment is in the outbox (a reply form closes)
 */
function commentForm(item, parent, label, submit, onPosted) {
  const fid = uid('cf');
  const field = h('textarea', { attrs: { id: fid, name: 'body', rows: 3, maxlength: 2000, required: true } });
  const count = h('span', { className: 'chars', attrs: { 'aria-hidden': 'true' } });
  const msg = h('p', { className: 'msg' });
  const el = h('form', { className: 'cform', attrs: { novalidate: true } }, [
    h('label', { text: label, attrs: { for: fid } }),
    field,
    h('div', { className: 'row' }, [count, h('button', { text: submit, attrs: { type: 'submit' } })]),
    msg,
  ]);
  const key = draftKey(item, parent);
  bindDraft(field, key);
  const showCount = () => { count.textContent = field.value.length > 1800 ? (2000 - field.value.length) + ' characters left' : ''; };
  field.addEventListener('input', showCount);
  showCount();
  el.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = field.value;
    if (!canAct(msg)) return;
    if (!text.trim()) { setMsg(msg, 'Please write something first.', true); field.focus(); return; }
    if (text.length > 2000) { setMsg(msg, 'Comments can be at most 2,000 characters.', true); return; }
    const a = { key: uuid(), kind: 'comment', method: 'POST', path: API + '/items/' + seg(item) + '/comments', body: { id: uuid(), body: text, parent_id: parent }, meta: { item } };
    field.value = '';
    writeDraft(key, '');
    showCount();
    setMsg(msg, navigator.onLine === false ? 'You are offline: your comment will be sent when you are back online.' : '', false);
    showQueuedComment(a);
    queue.add(a);
    if (onPosted) onPosted();
  });
  return { el, field, msg };
}

/** Shows a comment from the outbox optimistically. @param {any} a */
function showQueuedComment(a) {
  if (comments.has(a.body.id) || cviews.has(a.body.id)) return;
  const c = { id: a.body.id, item_id: a.meta.item, parent_id: a.body.parent_id, handle: me.participant ? me.participant.handle : 'You', body: a.body.body, status: 'visible', up: 0, up_version: 0, created_at: new Date().toISOString(), local: true };
  placeComment(c, true);
}

class CommentView {
  /** @param {any} c */
  constructor(c) {
    this.data = c;
    this.handle = h('span', { className: 'handle' });
    this.time = h('time');
    this.state = h('span', { className: 'cstate' });
    this.text = h('p', { className: 'text' });
    this.upB = h('button', { className: 'up', attrs: { type: 'button', 'aria-pressed': 'false' }, on: { click: () => this.up() } });
    this.upN = h('span', { className: 'upcount' }); // instead of Agree on your own comment
    this.replyB = h('button', { className: 'link', text: 'Reply', attrs: { type: 'button', 'aria-expanded': 'false' }, on: { click: () => { const f = this.openReply(); if (f) f.field.focus(); } } });
    this.flagB = h('button', { className: 'link', text: 'Flag', attrs: { type: 'button', 'aria-expanded': 'false' }, on: { click: () => this.openFlag() } });
    this.msg = h('p', { className: 'msg' });
    this.replies = h('ol', { className: 'replies' });
    this.extra = h('div', { className: 'extra' });
    this.actions = h('div', { className: 'cactions' }, [this.upB, this.upN, c.parent_id ? null : this.replyB, this.flagB]);
    this.el = h('li', { className: 'comment', attrs: { 'data-id': c.id, id: 'comment-' + c.id } }, [
      h('p', { className: 'meta' }, [this.handle, ' ', this.time, ' ', this.state]),
      this.text,
      this.actions,
      this.msg, this.extra, this.replies,
    ]);
    /** @type {any} */ this.replyForm = null;
    /** @type {any} */ this.flagForm = null;
    this.render();
    // A reply being written before a reload comes back with its form.
    if (!c.parent_id && readDraft(draftKey(c.item_id, c.id))) this.openReply();
  }

  render() {
    const c = this.data;
    this.handle.textContent = c.handle || 'Someone';
    this.time.textContent = c.created_at ? ago(c.created_at) : '';
    if (c.created_at) this.time.dateTime = c.created_at;
    this.text.textContent = c.body;
    let st = '';
    if (c.local && !c.sent) {
      const waiting = queue.pending().some((a) => a.kind === 'comment' && a.body.id === c.id);
      st = waiting ? (navigator.onLine === false ? 'Waiting for a connection…' : 'Sending…') : '';
    }
    if (c.status === 'pending') st = 'Awaiting review';
    if (c.pinned) st = 'Pinned by a facilitator';
    const hidden = c.status === 'hidden'; // only ever your own: see removeComment
    if (hidden) st = 'Hidden by a facilitator' + (c.hidden_reason ? ': ' + c.hidden_reason : '') + '. Only you can see it.';
    this.state.textContent = st;
    this.el.classList.toggle('sending', !!st && c.local && !c.sent && !hidden);
    this.el.classList.toggle('pinned', !!c.pinned && !hidden);
    this.el.classList.toggle('hidden-own', hidden);
    this.actions.hidden = hidden;
    this.renderUp();
  }

  renderUp() {
    const t = ctallies.get(this.data.id) || { up: this.data.up || 0 };
    const confirmed = me.ups.has(this.data.id);
    const now = myUp(this.data.id);
    const n = t.up + (now === confirmed ? 0 : now ? 1 : -1);
    this.upB.textContent = 'Agree ' + fmt(Math.max(0, n));
    this.upB.setAttribute('aria-pressed', String(now));
    const own = isMine(this.data);
    this.upB.hidden = own;
    this.upN.hidden = !own;
    this.upN.textContent = own ? (n > 0 ? fmt(n) + (n === 1 ? ' person agrees' : ' people agree') : 'No agreements yet') : '';
  }

  /** @param {string} text @param {boolean} bad */
  say(text, bad) { setMsg(this.msg, text, bad); }

  up() {
    if (isMine(this.data)) return; // the button is hidden: nobody agrees with themselves
    if (!canAct(this.msg)) return;
    if (this.data.local && !comments.has(this.data.id)) { this.say('Wait until your comment has been sent.', true); return; }
    const next = !myUp(this.data.id);
    queue.add({ key: uuid(), kind: 'up', method: 'PUT', path: API + '/comments/' + seg(this.data.id) + '/vote', body: { request_id: uuid(), up: next }, meta: { comment: this.data.id } });
    this.renderUp();
  }

  openReply() {
    if (this.data.parent_id) return null;
    if (!this.replyForm) {
      this.replyForm = commentForm(this.data.item_id, this.data.id, 'Your reply to ' + (this.data.handle || 'this comment'), 'Post reply', () => {
        this.closeReply(true);
        if (navigator.onLine === false) this.say('You are offline: your reply will be sent when you are back online.', false);
        else say.say('Your reply was posted.');
      });
      this.extra.append(this.replyForm.el);
      this.replyB.setAttribute('aria-expanded', 'true');
    }
    return this.replyForm;
  }

  /** @param {boolean} [focus] whether to put the focus back on Reply */
  closeReply(focus) {
    if (!this.replyForm) return;
    this.replyForm.el.remove();
    this.replyForm = null;
    this.replyB.setAttribute('aria-expanded', 'false');
    if (focus) this.replyB.focus();
  }

  openFlag() {
    if (this.flagForm) { this.flagForm.field.focus(); return; }
    const fid = uid('fl');
    const field = h('input', { attrs: { id: fid, maxlength: 500, autocomplete: 'off' } });
    const cancel = h('button', { text: 'Cancel', className: 'link', attrs: { type: 'button' } });
    const el = h('form', { className: 'flag-form', attrs: { novalidate: true } }, [
      h('label', { text: 'Why should a facilitator look at this comment?', attrs: { for: fid } }),
      field,
      h('div', { className: 'row' }, [cancel, h('button', { text: 'Send flag', attrs: { type: 'submit' } })]),
    ]);
    const close = () => { el.remove(); this.flagForm = null; this.flagB.setAttribute('aria-expanded', 'false'); this.flagB.focus(); };
    cancel.addEventListener('click', close);
    el.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!canAct(this.msg)) return;
      const reason = field.value.trim();
      if (!reason) { this.say('Please say briefly why.', true); field.focus(); return; }
      queue.add({ key: uuid(), kind: 'flag', method: 'POST', path: API + '/comments/' + seg(this.data.id) + '/flags', body: { id: uuid(), reason }, meta: { comment: this.data.id } });
      this.say('Sending your flag…', false);
      close();
    });
    this.flagForm = { el, field };
    this.extra.prepend(el);
    this.flagB.setAttribute('aria-expanded', 'true');
    field.focus();
  }
}

/**
 * Applies a comment (from the server): upsert, or removal when not visible.
 * @param {any} c @param {boolean} live whether it arrived live (affects counts and the pill)
 */
function upsertComment(c, live) {
  if (c.status === 'hidden') { removeComment(c.id); return; }
  removed.delete(c.id);
  const isNew = !comments.has(c.id);
  comments.set(c.id, c);
  ctallies.apply(c.id, { up: c.up || 0, version: c.up_version || 0 });
  const iv = views.get(c.item_id);
  if (isNew && live && !known.has(c.id) && iv && !iv.loaded && c.status === 'visible') {
    iv.item.comments = (iv.item.comments || 0) + 1;
  }
  known.add(c.id);
  const v = cviews.get(c.id);
  if (v) {
    v.data = Object.assign(c, { local: v.data.local, sent: true });
    v.render();
  } else if (iv && (iv.loaded || iv.loading)) {
    placeComment(c, !live);
  }
  if (iv) iv.renderCount();
}

/** Puts a comment's view in its list. @param {any} c @param {boolean} now insert without the pill */
function placeComment(c, now) {
  const iv = views.get(c.item_id);
  if (!iv) return;
  const v = new CommentView(c);
  cviews.set(c.id, v);
  const parent = c.parent_id ? cviews.get(c.parent_id) : null;
  const list = parent ? parent.replies : iv.list;
  const insert = () => { list.append(v.el); iv.renderCount(); return v.el; };
  if (now) insert(); else politeInsert(list, insert, 'comment');
  if (!now) announceNew();
}

let newCount = 0, newTimer = 0;
/** One polite announcement per batch of live comments, at most every 3 s. */
function announceNew() {
  newCount++;
  if (newTimer) return;
  newTimer = setTimeout(() => {
    say.say(newCount + ' new comment' + (newCount === 1 ? '' : 's') + (deferred.length ? ' above: use the button at the top to show them.' : '.'));
    newCount = 0;
    newTimer = 0;
  }, 3000);
}

/**
 * A reply being written to a comment that disappears is moved to the item's
 * own comment field, so nothing typed is lost. @param {CommentView} v
 */
function rescueReply(v) {
  const f = v.replyForm;
  const text = f ? f.field.value : readDraft(draftKey(v.data.item_id, v.data.id));
  if (!text) return;
  writeDraft(draftKey(v.data.item_id, v.data.id), '');
  const iv = views.get(v.data.item_id);
  if (!iv) return;
  const main = iv.form.field;
  main.value = main.value ? main.value + '\n\n' + text : text;
  writeDraft(draftKey(v.data.item_id, null), main.value);
  setMsg(iv.form.msg, 'The comment you were replying to was removed. Your reply has been kept here.', false);
}

/** @param {string} id */
function removeComment(id) {
  removed.add(id);
  const v = cviews.get(id);
  const c = comments.get(id) || (v && v.data);
  if (v && c && isMine(c)) {
    // Its author keeps seeing it, marked hidden (participants are not told why).
    c.status = 'hidden';
    rescueReply(v);
    v.closeReply();
    v.render();
    views.get(c.item_id)?.renderCount();
    say.say('A facilitator has hidden one of your comments.');
    return;
  }
  comments.delete(id);
  if (v) {
    rescueReply(v);
    const hadFocus = v.el.contains(document.activeElement);
    const next = /** @type {HTMLElement|null} */ (v.el.nextElementSibling || v.el.previousElementSibling);
    v.el.remove();
    cviews.delete(id);
    if (hadFocus) {
      const target = next && next.querySelector('button');
      if (target) target.focus(); else byId('main').focus({ preventScroll: true });
    }
  }
  const iv = c ? views.get(c.item_id) : null;
  if (iv) iv.renderCount();
}

// ------------------------------------------------------------------- page

function sortKey() {
  return /** @type {HTMLSelectElement} */ (byId('sort')).value;
}

function sortLists() {
  const key = sortKey();
  /** @param {ItemView} v */
  const val = (v) => {
    const t = tallies.get(v.id) || {};
    if (key === 'newest') return -Date.parse(v.item.created_at || 0);
    if (key === 'supported') return -((t.strong || 0) * 1e6 - (t.wrong || 0));
    if (key === 'discussed') return -Number(v.el.dataset.comments || 0);
    return v.item.position || 0;
  };
  for (const id of ['pledges', 'ideas']) {
    const list = byId(id);
    const vs = Array.from(views.values()).filter((v) => v.el.parentElement === list);
    vs.sort((a, b) => val(a) - val(b) || (a.item.position || 0) - (b.item.position || 0));
    for (const v of vs) list.append(v.el);
  }
}

/** @param {boolean} [focus] */
function showSignup(focus) {
  const f = byId('signup');
  f.hidden = false;
  if (focus) {
    f.scrollIntoView({ block: 'center' });
    const first = /** @type {HTMLElement|null} */ (f.querySelector('input:not([hidden]), select, button'));
    const code = byId('code-field');
    if (!code.hidden) byId('access-code').focus(); else if (first) first.focus();
  }
}

function renderMe() {
  const el = byId('me');
  if (me.participant) {
    el.textContent = 'You are taking part as ' + me.participant.handle + '.';
    el.hidden = false;
    byId('signup').hidden = true;
  } else {
    el.hidden = true;
    byId('signup').hidden = !open;
  }
  document.body.dataset.joined = String(!!me.participant);
}

/** @param {any} c */
function renderConversation(c) {
  C = c;
  document.title = c.title + ' · chorus';
  byId('title').textContent = c.title;
  const intro = byId('introduction');
  intro.textContent = '';
  for (const para of String(c.introduction || '').split(/\n{2,}/)) if (para.trim()) intro.append(h('p', { text: para }));
  countdown.set(c);
  signIn.conversation(c);
  const qs = Array.isArray(c.profile_questions) ? c.profile_questions : [];
  const pf = byId('profile-fields');
  if (!pf.childElementCount && qs.length) {
    for (const q of qs) {
      const id = uid('pq');
      const sel = h('select', { attrs: { id, 'data-key': q.key } }, [h('option', { text: 'Prefer not to say', attrs: { value: '' } })]);
      for (const ch of q.choices || []) sel.append(h('option', { text: ch, attrs: { value: ch } }));
      pf.append(h('div', { className: 'field' }, [h('label', { text: q.label, attrs: { for: id } }), sel]));
    }
  }
  byId('profile').hidden = !qs.length;
}

/** "23:59 on 9 May": a deadline as people say it. @param {string} iso */
function deadline(iso) {
  const d = new Date(iso);
  const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' }).format(d);
  const day = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long' }).format(d);
  return time + ' on ' + day;
}

/** @param {string} st */
function setOpen(st) {
  open = st === 'open';
  document.body.dataset.state = st;
  const note = byId('closed-note');
  note.hidden = open;
  note.textContent = st === 'upcoming' ? 'This conversation has not opened yet.' : st === 'closed' ? 'This conversation is closed. Thank you to everyone who took part; you can still read it.' : '';
  for (const v of views.values()) v.renderCount();
  renderMe();
}

const countdown = new Countdown(/** @type {HTMLTimeElement} */ (byId('countdown')), (st) => { if (C) setOpen(st); });

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
  comments.clear();
  for (const v of cviews.values()) v.el.remove();
  cviews.clear();
  const seq = await loadSnapshot();
  for (const v of views.values()) {
    v.loaded = false;
    if (v.toggleB.getAttribute('aria-expanded') === 'true') v.load();
  }
  return seq;
}

/** @param {any} msg */
function onEvent(msg) {
  switch (msg.type) {
    case 'comment': upsertComment(msg.comment, true); break;
    case 'comment_removed': removeComment(msg.id); break;
    case 'item': upsertItem(msg.item); break;
    case 'item_removed': removeItem(msg.id); break;
    case 'conversation': {
      const before = C && C.closes_at;
      renderConversation(msg.conversation);
      setOpen(stateOf(msg.conversation));
      if (before && before !== msg.conversation.closes_at) {
        say.say('The deadline has changed. ' + byId('countdown').textContent + '.');
        // A later deadline is news worth more than a changed countdown.
        const later = Date.parse(msg.conversation.closes_at) > Date.parse(before);
        const notice = byId('deadline-note');
        notice.hidden = !later;
        if (later) notice.textContent = 'Extended until ' + deadline(msg.conversation.closes_at) + '.';
      }
      break;
    }
    default: break;
  }
}

/** @param {any} msg */
function onTallies(msg) {
  for (const t of msg.items || []) if (tallies.apply(t.id, t)) views.get(t.id)?.renderVote();
  for (const t of msg.comments || []) if (ctallies.apply(t.id, t)) cviews.get(t.id)?.renderUp();
}

let connTimer = 0;
/** @param {string} st */
function onState(st) {
  const el = byId('conn');
  clearTimeout(connTimer);
  const show = () => {
    el.dataset.state = st;
    el.textContent = st === 'live' ? 'Live' : st === 'offline' ? 'Offline: your actions will be sent when you are back' : st === 'forbidden' ? 'Sign up to see updates live' : st === 'stopped' ? '' : 'Reconnecting…';
  };
  // Don't flicker for a quick reconnect.
  if (st === 'live' || st === 'offline' || st === 'forbidden') show(); else connTimer = setTimeout(show, 1500);
  for (const v of cviews.values()) if (v.data.local && !v.data.sent) v.render();
}

/**
 * Signed in, by any way in (signin.js calls this too). A participant who
 * already existed (email again, a return phrase) brings their votes: the
 * page reloads the snapshot. A new one is shown their return phrase once.
 * @param {{participant: any, return_phrase?: string}} r @param {boolean} restored
 */
async function joined(r, restored) {
  if (restored) await resync();
  me.participant = r.participant;
  renderMe();
  say.say('You are signed in as ' + r.participant.handle + '. You can now vote and comment.');
  const meEl = byId('me');
  meEl.tabIndex = -1;
  meEl.focus();
  if (live) live.restart();
  wait.done((item, choice) => views.get(item)?.vote(/** @type {'strong'|'wrong'} */ (choice)));
  for (const v of cviews.values()) v.render();
  queue.flush();
  if (r.return_phrase) signIn.showPhrase(r.return_phrase, meEl);
}

const signIn = new SignIn(slug, joined);

function wireForms() {
  const params = new URLSearchParams(location.search);
  const code = /** @type {HTMLInputElement} */ (byId('access-code'));
  if (params.get('code')) code.value = params.get('code') || '';
  const signup = /** @type {HTMLFormElement} */ (byId('signup'));
  signup.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const msg = byId('signup-msg');
    /** @type {any} */
    const body = {};
    const missing = signIn.fill(body);
    if (missing) { setMsg(msg, missing.text, true); missing.field.focus(); return; }
    /** @type {Record<string, string>} */
    const profile = {};
    for (const sel of signup.querySelectorAll('select[data-key]')) {
      const s = /** @type {HTMLSelectElement} */ (sel);
      if (s.value) profile[s.dataset.key || ''] = s.value;
    }
    if (Object.keys(profile).length) body.profile = profile;
    setMsg(msg, 'Signing you up…', false);
    const btn = /** @type {HTMLButtonElement} */ (signup.querySelector('button[type=submit]'));
    btn.disabled = true;
    try {
      const r = await call('POST', API + '/participants', body);
      setMsg(msg, '', false);
      joined(r, false);
    } catch (e) {
      const err = /** @type {ApiError} */ (e);
      const problem = JSON.stringify(err.problem || {});
      const text = err.status === 422 && /"invite_code"/.test(problem)
        ? (err.problem.errors[0].message.charAt(0).toUpperCase() + err.problem.errors[0].message.slice(1) + '.')
        : err.status === 403 || err.status === 401 || err.status === 422 && /access/i.test(problem)
          ? 'That access code was not accepted. Please check it and try again.'
          : explain(err, 'Signing up');
      setMsg(msg, text, true);
      say.say(text);
    } finally {
      btn.disabled = false;
    }
  });

  const ideaForm = /** @type {HTMLFormElement} */ (byId('idea-form'));
  const title = /** @type {HTMLInputElement} */ (byId('idea-title'));
  const ibody = /** @type {HTMLTextAreaElement} */ (byId('idea-body'));
  bindDraft(title, slug + ':idea:title');
  bindDraft(ibody, slug + ':idea:body');
  ideaForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const msg = byId('idea-msg');
    if (!canAct(msg)) return;
    const t = title.value.trim();
    if (!t) { setMsg(msg, 'Please write your idea in a line.', true); title.focus(); return; }
    if (t.length > 120) { setMsg(msg, 'Please keep the idea\u2019s line to 120 characters; add detail below.', true); return; }
    queue.add({ key: uuid(), kind: 'idea', method: 'POST', path: API + '/ideas', body: { id: uuid(), title: t, body: ibody.value }, meta: {} });
    title.value = ''; ibody.value = '';
    writeDraft(slug + ':idea:title', ''); writeDraft(slug + ':idea:body', '');
    setMsg(msg, navigator.onLine === false ? 'You are offline: your idea will be sent when you are back online.' : 'Sending your idea…', false);
  });

  const sort = /** @type {HTMLSelectElement} */ (byId('sort'));
  try { sort.value = localStorage.getItem('chorus:sort') || 'position'; } catch (e) { /* blocked */ }
  if (!sort.value) sort.value = 'position';
  sort.addEventListener('change', () => {
    try { localStorage.setItem('chorus:sort', sort.value); } catch (e) { /* blocked */ }
    sortLists();
  });
}

/** A link from the report (`?item=ID#comment-ID`) opens that item's comments and shows the comment. */
async function showLinkedComment() {
  const item = views.get(new URLSearchParams(location.search).get('item') || '');
  if (!item) return;
  item.toggle(true);
  for (let i = 0; i < 100 && !item.loaded; i++) await new Promise((r) => setTimeout(r, 50));
  const target = location.hash.startsWith('#comment-') ? document.getElementById(location.hash.slice(1)) : null;
  const el = target || item.toggleB;
  el.tabIndex = -1;
  el.scrollIntoView({ block: 'center' });
  el.focus({ preventScroll: true });
}

async function main() {
  wireForms();
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
  for (const id of pendingItems) views.get(id)?.toggle(true);
  showLinkedComment();
  signIn.inviteFromLink();
  if (!me.participant) await signIn.fromLink();
  live = new Live({ slug, since: seq, onEvent, onTallies, onState, onResync: resync,
    onPresence: (p) => { byId('presence').textContent = fmt(p.participants || 0) + ' taking part now'; } }).start();
  queue.flush();
  document.body.classList.add('ready');
}

main();
