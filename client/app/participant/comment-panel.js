// An item's comments on the participant page: the "Comments (n)" toggle and
// the panel it opens: the comment box first, then the order, then the
// top-level comments about 20 at a time ("Show more comments"), each with
// its replies folded under a "3 replies" button. Comments others make while
// the reader reads wait behind "N new comments: show" (announced politely)
// instead of moving the list.

import { get, seg, ApiError } from '../api.js';
import { h, uid } from '../dom.js';
import { fmt } from '../tally.js';
import { CommentSort } from '../csort.js';
import { API, say, page } from './page.js';
import { queue } from './outbox.js';
import { comments, cviews, removed, upsertComment, showQueuedComment, forgetItemComments, newCommentView } from './comments.js';
import { commentForm } from './composer.js';
import { offerOnPill } from './polite.js';

/** Top-level comments read at a time. */
export const PAGE = 20;

export class CommentPanel {
  /** @param {import('./items.js').ItemView} iv */
  constructor(iv) {
    this.iv = iv;
    this.id = iv.id;
    this.loaded = false;
    /** The reload (turn) whose page is being read, or 0. */
    this.loading = 0;
    /** The `after` of the next page, and whether there is one. @type {number|null} */ this.next = null;
    this.more = false;
    this.turn = 0;
    /** Comments by others that arrived while the list was shown, oldest first. @type {any[]} */
    this.pending = [];
    const panelId = uid('cm');
    this.toggleB = h('button', { className: 'toggle', attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': panelId }, on: { click: () => this.toggle() } });
    this.form = commentForm(iv.id, null, 'Your comment', 'Post comment');
    this.sort = new CommentSort(() => this.reload(true));
    this.newB = h('button', { className: 'newc', attrs: { type: 'button', hidden: true }, on: { click: () => this.showNew() } });
    // Polite: the count is read out when it changes, without taking focus.
    this.newRegion = h('div', { className: 'cnew', attrs: { 'aria-live': 'polite' } }, [this.newB]);
    this.list = h('ol', { className: 'clist' });
    this.empty = h('p', { className: 'empty', text: 'No comments yet. Be the first.' });
    this.moreB = h('button', { className: 'more', text: 'Show more comments', attrs: { type: 'button', hidden: true }, on: { click: () => this.loadMore(true) } });
    this.panel = h('div', { className: 'comments', attrs: { id: panelId, hidden: true } }, [this.form.el, this.sort.el, this.newRegion, this.list, this.empty, this.moreB]);
  }

  get expanded() { return this.toggleB.getAttribute('aria-expanded') === 'true'; }

  get url() { return API + '/items/' + seg(this.id) + '/comments'; }

  renderCount() {
    const n = this.iv.item.comments || 0;
    this.toggleB.textContent = (this.expanded ? 'Hide comments' : 'Comments') + ' (' + fmt(n) + ')';
    this.iv.el.dataset.comments = String(n);
    this.empty.hidden = this.list.childElementCount > 0 || this.pending.length > 0 || (!this.loaded && n > 0);
    // A closed conversation takes no more comments: inviting one would mislead.
    this.empty.textContent = page.open ? 'No comments yet. Be the first.' : 'No comments were made on this.';
  }

  /** @param {boolean} [force] */
  toggle(force) {
    const exp = force !== undefined ? force : !this.expanded;
    this.toggleB.setAttribute('aria-expanded', String(exp));
    this.panel.hidden = !exp;
    this.renderCount();
    if (exp) this.load();
    this.renderNew();
  }

  /** Reads the first page, once. */
  load() {
    if (this.loaded || this.loading) return Promise.resolve();
    return this.reload(false);
  }

  /** Forgets what is shown and reads the first page in the chosen order. @param {boolean} told the reader changed the order */
  async reload(told) {
    const turn = ++this.turn;
    forgetItemComments(this.id);
    this.pending = [];
    this.renderNew();
    this.next = null;
    this.more = true;
    this.loaded = false;
    await this.loadMore(false, turn);
    if (turn !== this.turn) return;
    this.loaded = true;
    // Our own comments still waiting in the outbox.
    for (const a of queue.pending()) if (a.kind === 'comment' && a.meta.item === this.id) showQueuedComment(a);
    this.renderCount();
    if (told) say.say(this.sort.said);
  }

  /**
   * Reads the next page and puts it at the end of the list.
   * @param {boolean} focus move the focus to the first comment read (Show more)
   * @param {number} [turn] the reload this page belongs to
   */
  async loadMore(focus, turn = this.turn) {
    if (this.loading === turn || !this.more) return;
    this.loading = turn;
    this.moreB.disabled = true;
    this.moreB.textContent = 'Loading…';
    try {
      const q = '?sort=' + this.sort.value + '&limit=' + PAGE + (this.next != null ? '&after=' + this.next : '');
      const r = await get(this.url + q);
      if (turn !== this.turn) return;
      const before = this.list.childElementCount;
      for (const c of r.comments || []) {
        if (removed.has(c.id) || cviews.has(c.id)) continue; // the order moved while reading: shown already
        // One that arrived live is known already; its live copy is the newer.
        const known = comments.get(c.id);
        if (!known) upsertComment(c, false);
        this.append(known || c, r.replies ? r.replies[c.id] || 0 : 0);
      }
      this.next = r.next != null ? r.next : null;
      this.more = this.next != null;
      if (focus) {
        const first = /** @type {HTMLElement|undefined} */ (this.list.children[before]);
        if (first) { first.tabIndex = -1; first.focus(); }
      }
    } catch (e) {
      this.iv.say(e instanceof ApiError && e.network ? 'Comments could not be loaded: you seem to be offline.' : 'Comments could not be loaded. Please try again.', true);
    } finally {
      if (this.loading === turn) this.loading = 0;
      this.moreB.disabled = false;
      this.moreB.textContent = 'Show more comments';
      this.moreB.hidden = !this.more;
      this.renderCount();
    }
  }

  /** A comment from a page, at the end of the list. @param {any} c @param {number} replies */
  append(c, replies) {
    const v = newCommentView(c);
    v.setReplyCount(replies);
    this.list.append(v.el);
  }

  /** One's own comment: at the top of the list, at once. @param {any} c */
  prepend(c) {
    const v = newCommentView(c);
    this.list.prepend(v.el);
    this.renderCount();
    return v;
  }

  /** Someone else's comment, arrived live: it waits for "show". @param {any} c */
  announce(c) {
    if (cviews.has(c.id) || this.pending.some((p) => p.id === c.id)) return;
    this.pending.push(c);
    this.renderNew();
  }

  /** A waiting comment was removed before it was shown. @param {string} id */
  dropPending(id) {
    const n = this.pending.length;
    this.pending = this.pending.filter((c) => c.id !== id);
    if (this.pending.length !== n) this.renderNew();
  }

  renderNew() {
    const n = this.pending.length;
    this.newB.hidden = !n;
    this.newB.textContent = n ? fmt(n) + ' new comment' + (n === 1 ? '' : 's') + ': show' : '';
    // While this button is above the screen, the pill offers them too.
    offerOnPill(this, n > 0 && this.outOfSight() ? n : 0, () => this.showNew());
    this.renderCount();
  }

  /** Whether the "N new comments" button is above the screen (the reader has scrolled past it). */
  outOfSight() { return this.expanded && this.newRegion.getBoundingClientRect().bottom < 0; }

  /** Puts the waiting comments at the top of the list, newest first; returns the first. */
  showNew() {
    const shown = this.pending.filter((c) => !removed.has(c.id) && !cviews.has(c.id));
    this.pending = [];
    let first = null;
    for (const c of shown) first = this.prepend(comments.get(c.id) || c).el;
    this.renderNew();
    if (first) {
      first.tabIndex = -1;
      first.focus();
      say.say(shown.length === 1 ? 'The new comment is shown at the top.' : 'The ' + shown.length + ' new comments are shown at the top.');
    }
    return first;
  }

  /** Reads pages until the comment is shown (a link from the report); returns its element. @param {string} id */
  async find(id) {
    for (let i = 0; i < 50 && !cviews.has(id) && this.more; i++) await this.loadMore(false);
    return cviews.get(id)?.el || null;
  }
}
