// Comments and replies on the participant page: what is known of them
// (`comments`, and `removed` for those a facilitator took away), one
// CommentView each (Agree, Reply, Flag), and how a comment from the server,
// the live stream or the outbox finds its place.

import { get, seg, uuid, explain } from '../api.js';
import { h, byId, uid } from '../dom.js';
import { TallyBook, fmt } from '../tally.js';
import { ago } from '../time.js';
import { readDraft, writeDraft } from '../drafts.js';
import { API, say, me, setMsg, draftKey, isMine } from './page.js';
import { queue, handle, whenChanged } from './outbox.js';
import { canAct } from './signup.js';
import { views } from './items.js';
import { politeInsert, anyDeferred } from './polite.js';
import { commentForm } from './composer.js';

/** @type {Map<string, any>} */ export const comments = new Map();
/** @type {Map<string, CommentView>} */ export const cviews = new Map();
/** @type {Set<string>} */ export const removed = new Set();
/** @type {Set<string>} */ const known = new Set(); // comment ids counted in an item's total
const ctallies = new TallyBook();

/** @param {string} item */
const panelOf = (item) => views.get(item)?.comments;

/** @param {string} cid */
function myUp(cid) {
  let v = me.ups.has(cid);
  for (const a of queue.pending()) if (a.kind === 'up' && a.meta.comment === cid) v = a.body.up;
  return v;
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
    // Replies are folded under "3 replies" and read when unfolded.
    this.replyCount = 0;
    this.repliesOpen = false;
    this.repliesLoaded = false;
    this.repliesLoading = false;
    const rid = uid('rp');
    this.replies = h('ol', { className: 'replies', attrs: { id: rid, hidden: true } });
    this.repliesB = h('button', { className: 'link rcount', attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': rid, hidden: true }, on: { click: () => this.toggleReplies() } });
    this.extra = h('div', { className: 'extra' });
    this.actions = h('div', { className: 'cactions' }, [this.upB, this.upN, c.parent_id ? null : this.replyB, this.flagB]);
    this.el = h('li', { className: 'comment', attrs: { 'data-id': c.id, id: 'comment-' + c.id } }, [
      h('p', { className: 'meta' }, [this.handle, ' ', this.time, ' ', this.state]),
      this.text,
      this.actions,
      this.msg, this.extra, c.parent_id ? null : this.repliesB, c.parent_id ? null : this.replies,
    ]);
    /** @type {import('./composer.js').CommentForm|null} */ this.replyForm = null;
    /** @type {{el: HTMLElement, field: HTMLInputElement}|null} */ this.flagForm = null;
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
    if (c.edited) st = st ? st + ' · edited' : 'Edited';
    // Deleted by its author: only the place its replies hang off stays.
    if (c.deleted) {
      this.handle.textContent = '';
      this.text.textContent = 'Deleted by its author';
      st = '';
    }
    this.el.classList.toggle('deleted', !!c.deleted);
    this.state.textContent = st;
    this.el.classList.toggle('sending', !!st && c.local && !c.sent && !hidden);
    this.el.classList.toggle('pinned', !!c.pinned && !hidden);
    this.el.classList.toggle('hidden-own', hidden);
    this.actions.hidden = hidden || !!c.deleted;
    this.renderUp();
    this.renderReplies();
  }

  /** @param {number} n how many visible replies the server counts */
  setReplyCount(n) {
    this.replyCount = Math.max(0, n);
    this.renderReplies();
  }

  renderReplies() {
    if (this.data.parent_id) return;
    const n = Math.max(this.replyCount, this.replies.childElementCount);
    this.repliesB.hidden = n === 0;
    this.repliesB.textContent = (this.repliesOpen ? 'Hide ' : '') + fmt(n) + (n === 1 ? ' reply' : ' replies');
    this.repliesB.setAttribute('aria-expanded', String(this.repliesOpen));
  }

  /** @param {boolean} [force] */
  toggleReplies(force) {
    this.repliesOpen = force !== undefined ? force : !this.repliesOpen;
    this.replies.hidden = !this.repliesOpen;
    this.renderReplies();
    if (this.repliesOpen) this.loadReplies();
  }

  async loadReplies() {
    if (this.repliesLoaded || this.repliesLoading) return;
    this.repliesLoading = true;
    try {
      let after = 0;
      for (let guard = 0; guard < 50; guard++) {
        const r = await get(API + '/items/' + seg(this.data.item_id) + '/comments?parent=' + seg(this.data.id) + '&after=' + after + '&limit=100');
        for (const c of r.comments || []) {
          if (removed.has(c.id) || cviews.has(c.id)) continue;
          const known = comments.get(c.id);
          if (!known) upsertComment(c, false);
          this.addReply(known || c, true);
        }
        if (r.next == null) break;
        after = r.next;
      }
      this.repliesLoaded = true;
      for (const a of queue.pending()) if (a.kind === 'comment' && a.body.parent_id === this.data.id) showQueuedComment(a);
    } catch (e) {
      this.say('The replies could not be loaded. Please try again.', true);
    } finally {
      this.repliesLoading = false;
      this.renderReplies();
    }
  }

  /** A reply under this comment: now, or politely when it arrived live. @param {any} c @param {boolean} now */
  addReply(c, now) {
    if (cviews.has(c.id)) return;
    const v = newCommentView(c);
    const insert = () => { this.replies.append(v.el); this.renderReplies(); return v.el; };
    if (now) insert(); else politeInsert(this.replies, insert, 'comment');
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

/** A view for a comment, known by its id. @param {any} c */
export function newCommentView(c) {
  const v = new CommentView(c);
  cviews.set(c.id, v);
  return v;
}

/** Shows a comment from the outbox optimistically: at the top, or a reply under its comment (unfolded). @param {any} a */
export function showQueuedComment(a) {
  if (comments.has(a.body.id) || cviews.has(a.body.id)) return;
  const c = { id: a.body.id, item_id: a.meta.item, parent_id: a.body.parent_id, handle: me.participant ? me.participant.handle : 'You', body: a.body.body, status: 'visible', up: 0, up_version: 0, created_at: new Date().toISOString(), local: true };
  const panel = panelOf(c.item_id);
  if (!panel) return;
  if (c.parent_id) {
    const parent = cviews.get(c.parent_id);
    if (!parent) return;
    parent.toggleReplies(true);
    parent.addReply(c, true);
  } else {
    panel.prepend(c);
  }
}

/**
 * Applies a comment (from the server): upsert, or removal when not visible.
 * @param {any} c @param {boolean} live whether it arrived live or as an answer (counts it, and places it as news)
 */
export function upsertComment(c, live) {
  if (c.status === 'hidden') { removeComment(c.id); return; }
  removed.delete(c.id);
  const isNew = !comments.has(c.id);
  comments.set(c.id, c);
  ctallies.apply(c.id, { up: c.up || 0, version: c.up_version || 0 });
  const iv = views.get(c.item_id);
  const counted = isNew && live && !known.has(c.id) && c.status === 'visible';
  if (counted && iv) iv.item.comments = (iv.item.comments || 0) + 1;
  known.add(c.id);
  const v = cviews.get(c.id);
  if (v) {
    v.data = Object.assign(c, { local: v.data.local, sent: true });
    v.render();
  } else if (live) {
    placeLive(c);
  }
  if (counted && c.parent_id) cviews.get(c.parent_id)?.setReplyCount((cviews.get(c.parent_id)?.replyCount || 0) + 1);
  if (iv) iv.comments.renderCount();
}

/**
 * A comment that arrived live, where the list is shown: one's own at the
 * top; someone else's behind "N new comments: show"; a reply under its
 * comment when its replies are unfolded (otherwise only its count moves).
 * @param {any} c
 */
function placeLive(c) {
  const panel = panelOf(c.item_id);
  if (!panel || !panel.loaded) return; // read with the first page when opened
  if (c.parent_id) {
    const parent = cviews.get(c.parent_id);
    if (parent && parent.repliesOpen && parent.repliesLoaded) {
      parent.addReply(c, false);
      announceNew();
    }
    return;
  }
  if (isMine(c)) { panel.prepend(c); return; }
  panel.announce(c);
  // Its button says so, politely, where the reader can see it; out of sight, the announcer does.
  if (panel.outOfSight()) announceNew();
}

let newCount = 0, newTimer = 0;
/** One polite announcement per batch of live comments, at most every 3 s. */
function announceNew() {
  newCount++;
  if (newTimer) return;
  newTimer = setTimeout(() => {
    say.say(newCount + ' new comment' + (newCount === 1 ? '' : 's') + (anyDeferred() ? ' above: use the button at the top to show them.' : '.'));
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
  const panel = panelOf(v.data.item_id);
  if (!panel) return;
  const main = panel.form.field;
  main.value = main.value ? main.value + '\n\n' + text : text;
  writeDraft(draftKey(v.data.item_id, null), main.value);
  setMsg(panel.form.msg, 'The comment you were replying to was removed. Your reply has been kept here.', false);
}

/** @param {string} id */
export function removeComment(id) {
  removed.add(id);
  const v = cviews.get(id);
  const c = comments.get(id) || (v && v.data);
  // It no longer counts: in its item's total, and in its parent's replies.
  if (c && c.status === 'visible' && comments.has(id)) {
    const iv = views.get(c.item_id);
    if (iv) iv.item.comments = Math.max(0, (iv.item.comments || 0) - 1);
    const parent = c.parent_id ? cviews.get(c.parent_id) : null;
    if (parent) parent.setReplyCount(parent.replyCount - 1);
  }
  if (c) panelOf(c.item_id)?.dropPending(id);
  if (v && c && isMine(c)) {
    // Its author keeps seeing it, marked hidden (participants are not told why).
    c.status = 'hidden';
    rescueReply(v);
    v.closeReply();
    v.render();
    panelOf(c.item_id)?.renderCount();
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
  if (c) panelOf(c.item_id)?.renderCount();
}

/** Forgets the views of an item's comments (before its list is read again). @param {string} item */
export function forgetItemComments(item) {
  for (const [id, v] of cviews) {
    if (v.data.item_id !== item) continue;
    v.el.remove();
    cviews.delete(id);
  }
}

/** Forgets every loaded comment (before a resync reloads the open lists). */
export function forgetComments() {
  comments.clear();
  for (const v of cviews.values()) v.el.remove();
  cviews.clear();
}

/** Renders every comment again (after signing up: which are one's own may change). */
export function renderAllComments() {
  for (const v of cviews.values()) v.render();
}

/** Renders again the own comments not yet sent ("Sending…" or "Waiting for a connection…"). */
export function renderUnsent() {
  for (const v of cviews.values()) if (v.data.local && !v.data.sent) v.render();
}

/** A `tallies` frame's comment entries. @param {any[]} list */
export function applyCommentTallies(list) {
  for (const t of list) if (ctallies.apply(t.id, t)) cviews.get(t.id)?.renderUp();
}

// ------------------------------------------------------------------ comments, up-votes and flags in the outbox

handle('comment', {
  done(a, data) {
    const c = data && data.comment ? data.comment : null;
    // The live stream may already have removed it (hidden by a facilitator): that is newer.
    if (c && !removed.has(c.id)) upsertComment(c, true);
    const panel = panelOf(a.meta.item);
    const form = a.body.parent_id ? cviews.get(a.body.parent_id)?.replyForm : panel && panel.form;
    if (form && !form.msg.classList.contains('bad')) setMsg(form.msg, '', false);
    const v = cviews.get(a.body.id);
    if (v) {
      v.data.sent = true;
      v.render();
    }
    if (c && c.status === 'pending') say.say('Your comment was received and awaits review by a facilitator.');
  },
  refused(a, e) {
    // Never lose the text: put it back in its form and draft.
    const dk = draftKey(a.meta.item, a.body.parent_id);
    if (!readDraft(dk)) writeDraft(dk, a.body.body);
    const cv = cviews.get(a.body.id);
    if (cv && !comments.has(a.body.id)) { cv.el.remove(); cviews.delete(a.body.id); }
    const iv = views.get(a.meta.item);
    if (iv) {
      const form = a.body.parent_id ? cviews.get(a.body.parent_id)?.openReply() : iv.comments.form;
      if (form && !form.field.value) form.field.value = a.body.body;
      if (form) setMsg(form.msg, explain(e, 'Your comment'), true); else iv.say(explain(e, 'Your comment'), true);
    }
    say.say(explain(e, 'Your comment'));
  },
  wait(a, e, text) {
    const cv = cviews.get(a.body.id);
    if (cv) cv.render();
    const panel = panelOf(a.meta.item);
    const form = a.body.parent_id ? cviews.get(a.body.parent_id)?.replyForm : panel && panel.form;
    if (form && e.status === 429) setMsg(form.msg, text, false);
  },
});

handle('up', {
  done(a, data) {
    if (data && data.up !== undefined ? data.up : a.body.up) me.ups.add(a.meta.comment); else me.ups.delete(a.meta.comment);
    if (data && data.tally) ctallies.apply(a.meta.comment, data.tally);
    cviews.get(a.meta.comment)?.renderUp();
  },
  refused(a, e) {
    const v = cviews.get(a.meta.comment);
    if (v) { v.renderUp(); v.say(explain(e, 'Your agreement'), true); }
  },
});

handle('flag', {
  done(a) { cviews.get(a.meta.comment)?.say('Thank you. A facilitator will look at this comment.', false); },
  refused(a, e) { cviews.get(a.meta.comment)?.say(explain(e, 'Your flag'), true); },
});

whenChanged(() => { for (const v of cviews.values()) { v.renderUp(); v.render(); } });
