// Tallies: version-guarded state (an older version never overwrites a newer
// one) and a bar renderer that moves smoothly without changing layout.

import { h } from './dom.js';

/** Latest known tallies by id, each with its version. */
export class TallyBook {
  constructor() {
    /** @type {Map<string, any>} */
    this.map = new Map();
  }
  /**
   * Applies `t` (with a numeric `version`) if it is newer than what we hold.
   * @param {string} id @param {any} t @returns {boolean} whether it was applied
   */
  apply(id, t) {
    if (!t || typeof t.version !== 'number') return false;
    const cur = this.map.get(id);
    if (cur && cur.version >= t.version) return false;
    this.map.set(id, Object.assign({}, t));
    return true;
  }
  /** @param {string} id */
  get(id) { return this.map.get(id); }
}

/** Formats a count for display. @param {number} n */
export const fmt = (n) => new Intl.NumberFormat().format(n);

/**
 * A two-sided bar (strong on the left, wrong on the right) with its counts.
 * Widths change through transforms so nothing around it moves.
 */
export class TallyBar {
  /** @param {{strongLabel?: string, wrongLabel?: string, className?: string}} [opts] */
  constructor(opts = {}) {
    this.strong = h('span', { className: 'bar-strong' });
    this.wrong = h('span', { className: 'bar-wrong' });
    this.strongN = h('b', { className: 'n', text: '0' });
    this.wrongN = h('b', { className: 'n', text: '0' });
    this.el = h('div', { className: 'tally ' + (opts.className || '') }, [
      h('div', { className: 'bar', attrs: { 'aria-hidden': 'true' } }, [this.strong, this.wrong]),
      h('p', { className: 'counts' }, [
        h('span', { className: 'c-strong' }, [this.strongN, ' ' + (opts.strongLabel || 'strong')]),
        h('span', { className: 'c-wrong' }, [this.wrongN, ' ' + (opts.wrongLabel || 'wrong')]),
      ]),
    ]);
    this.set(0, 0);
  }
  /** @param {number} strong @param {number} wrong */
  set(strong, wrong) {
    strong = Math.max(0, strong | 0);
    wrong = Math.max(0, wrong | 0);
    const total = strong + wrong;
    // CSSOM writes are allowed by a strict CSP (style attributes in markup are not).
    this.strong.style.transform = 'scaleX(' + (total ? strong / total : 0) + ')';
    this.wrong.style.transform = 'scaleX(' + (total ? wrong / total : 0) + ')';
    this.strongN.textContent = fmt(strong);
    this.wrongN.textContent = fmt(wrong);
    this.el.dataset.strong = String(strong);
    this.el.dataset.wrong = String(wrong);
  }
}
