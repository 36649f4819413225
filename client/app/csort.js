// The order of an item's comments on the participant page: "Most agreed"
// (the default), "Newest", or "Agreed across groups" (the top-level
// comments up-voted across the opinion groups first, then the most
// up-voted). Each is read from the server a page at a time (GET
// …/comments?sort=…); replies stay folded under their comment. The choice
// is kept for the next visit.

import { h, uid } from './dom.js';

const KEY = 'chorus:csort';
const SORTS = [['most_agreed', 'Most agreed'], ['newest', 'Newest'], ['across_groups', 'Agreed across groups']];

export class CommentSort {
  /** @param {() => void} onChange called when the reader picks another order */
  constructor(onChange) {
    const id = uid('cs');
    this.select = h('select', { attrs: { id }, on: { change: () => {
      try { localStorage.setItem(KEY, this.value); } catch (e) { /* blocked */ }
      this.renderHint();
      onChange();
    } } }, SORTS.map(([value, text]) => h('option', { text, attrs: { value } })));
    try { this.select.value = localStorage.getItem(KEY) || SORTS[0][0]; } catch (e) { /* blocked */ }
    if (!this.select.value) this.select.value = SORTS[0][0];
    this.hint = h('span', { className: 'hint', text: 'Agreed with across the opinion groups first, then the most agreed with.' });
    this.el = h('p', { className: 'csort' }, [h('label', { text: 'Sort comments', attrs: { for: id } }), ' ', this.select, ' ', this.hint]);
    this.renderHint();
  }

  /** 'most_agreed', 'newest' or 'across_groups'. */
  get value() { return this.select.value; }

  /** In words, for the announcement after a change. */
  get said() {
    return ({ most_agreed: 'Comments most agreed with come first.', newest: 'The newest comments come first.', across_groups: 'Comments agreed with across groups come first.' })[this.value] || '';
  }

  renderHint() { this.hint.hidden = this.value !== 'across_groups'; }
}
