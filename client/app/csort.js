// The order of an item's comments on the participant page: "In order" (as
// they were made, the default) or "Agreed across groups" (GET
// …/comments?sort=across_groups: the top-level comments up-voted across the
// opinion groups first, then the most up-voted). Only the top-level comments
// already shown move; replies stay folded under theirs, and comments that
// arrive live go at the end as they always do.

import { get } from './api.js';
import { h, uid } from './dom.js';

/** The time a comment's element was made (its <time datetime>). @param {Element} li */
const madeAt = (li) => Date.parse(li.querySelector(':scope > .meta > time')?.getAttribute('datetime') || '') || Infinity;

export class CommentSort {
  /**
   * @param {string} url the item's comments URL
   * @param {HTMLElement} list the item's list of top-level comments
   * @param {(text: string, bad: boolean) => void} tell a message for the reader
   */
  constructor(url, list, tell) {
    this.url = url;
    this.list = list;
    this.tell = tell;
    const id = uid('cs');
    this.select = h('select', { attrs: { id }, on: { change: () => this.arrange(true) } }, [
      h('option', { text: 'In order', attrs: { value: 'oldest' } }),
      h('option', { text: 'Agreed across groups', attrs: { value: 'across_groups' } }),
    ]);
    this.hint = h('span', { className: 'hint', text: 'Agreed with across the opinion groups first, then the most agreed with.', attrs: { hidden: true } });
    this.el = h('p', { className: 'csort' }, [h('label', { text: 'Sort comments', attrs: { for: id } }), ' ', this.select, ' ', this.hint]);
    this.turn = 0;
  }

  get across() { return this.select.value === 'across_groups'; }

  /**
   * Puts the shown comments in the chosen order (again, after a reload).
   * @param {boolean} [told] the reader chose it: say when it is done
   */
  async arrange(told) {
    const turn = ++this.turn;
    this.hint.hidden = !this.across;
    /** @type {Map<string, number>} */ const rank = new Map();
    if (this.across) {
      try {
        let after = 0;
        for (let guard = 0; guard < 50; guard++) {
          const r = await get(this.url + '?sort=across_groups&after=' + after + '&limit=500');
          for (const c of r.comments || []) rank.set(c.id, rank.size);
          if (r.next == null) break;
          after = r.next;
        }
      } catch (e) {
        if (turn === this.turn) this.tell('Comments could not be sorted. Please try again.', true);
        return;
      }
      if (turn !== this.turn) return; // chosen again meanwhile
    }
    const lis = [...this.list.children];
    const key = (/** @type {Element} */ li) => (this.across ? rank.get(/** @type {HTMLElement} */ (li).dataset.id || '') ?? Infinity : madeAt(li));
    const sorted = lis.map((li, i) => ({ li, i, k: key(li) })).sort((a, b) => (a.k - b.k) || (a.i - b.i) || 0);
    // Move only what must move, so nothing focused loses its focus needlessly.
    sorted.forEach(({ li }, i) => { if (this.list.children[i] !== li) this.list.insertBefore(li, this.list.children[i] || null); });
    if (told) this.tell(this.across ? 'Comments agreed with across groups come first.' : 'Comments are in the order they were made.', false);
  }
}
