// An item's comments on the participant page: the "Comments (n)" toggle and
// the panel it opens (sort, list, empty state, comment form), loaded from
// the server the first time it opens.

import { get, seg, ApiError } from '../api.js';
import { h, uid } from '../dom.js';
import { fmt } from '../tally.js';
import { CommentSort } from '../csort.js';
import { API, say, page } from './page.js';
import { queue } from './outbox.js';
import { comments, cviews, removed, upsertComment, placeComment, showQueuedComment } from './comments.js';
import { commentForm } from './composer.js';

export class CommentPanel {
  /** @param {import('./items.js').ItemView} iv */
  constructor(iv) {
    this.iv = iv;
    this.id = iv.id;
    this.loaded = false;
    this.loading = false;
    const panelId = uid('cm');
    this.toggleB = h('button', { className: 'toggle', attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': panelId }, on: { click: () => this.toggle() } });
    this.list = h('ol', { className: 'clist' });
    this.empty = h('p', { className: 'empty', text: 'No comments yet. Be the first.' });
    this.form = commentForm(iv.id, null, 'Your comment', 'Post comment');
    this.sort = new CommentSort(API + '/items/' + seg(iv.id) + '/comments', this.list, (t, bad) => { if (bad) iv.say(t, true); else say.say(t); });
    this.panel = h('div', { className: 'comments', attrs: { id: panelId, hidden: true } }, [this.sort.el, this.list, this.empty, this.form.el]);
  }

  get expanded() { return this.toggleB.getAttribute('aria-expanded') === 'true'; }

  renderCount() {
    let n = this.iv.item.comments || 0;
    if (this.loaded) {
      n = 0;
      for (const c of comments.values()) if (c.item_id === this.id && c.status === 'visible') n++;
    }
    this.toggleB.textContent = (this.expanded ? 'Hide comments' : 'Comments') + ' (' + fmt(n) + ')';
    this.iv.el.dataset.comments = String(n);
    this.empty.hidden = this.list.childElementCount > 0;
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
      this.iv.say(e instanceof ApiError && e.network ? 'Comments could not be loaded: you seem to be offline.' : 'Comments could not be loaded. Please try again.', true);
    } finally {
      this.loading = false;
    }
  }
}
