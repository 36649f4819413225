// The support contact on the participant page ("Problems signing up?
// Email …"): an address becomes a mailto: link, a sentence is shown as
// written. And the list heading names what the organisers published:
// pledges, discussion topics, or both.

import { h } from './dom.js';

const ADDRESS = /^[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]+$/;

/** @param {HTMLElement} el @param {string|null|undefined} contact */
export function showSupport(el, contact) {
  const text = (contact || '').trim();
  el.hidden = !text;
  if (!text) { el.textContent = ''; return; }
  if (ADDRESS.test(text)) {
    el.replaceChildren('Problems signing up or taking part? Email ', h('a', { text, attrs: { href: 'mailto:' + text } }), '.');
  } else {
    el.replaceChildren('Problems signing up or taking part? ', text);
  }
}

/**
 * Names the organisers' list by what is in it.
 * @param {HTMLElement} heading @param {HTMLElement} empty @param {HTMLElement} list
 */
export function nameList(heading, empty, list) {
  const kinds = new Set(Array.from(list.children, (li) => /** @type {HTMLElement} */ (li).dataset.kind));
  const topics = kinds.has('topic'), pledges = kinds.has('pledge');
  heading.textContent = topics && pledges ? 'Pledges and topics' : topics ? 'Topics for discussion' : 'Pledges';
  empty.textContent = 'No pledges yet.';
}
