// The return phrase, shown once (issue 12): after sign-up on the
// participant page, and when "My contributions" makes a new one. Copy and
// "Save as a note" keep it; nothing else ever shows it again.

import { h } from './dom.js';

/** Sets a message line: text, and whether it is an error. @param {HTMLElement} el @param {string} text @param {boolean} bad */
function say(el, text, bad) {
  el.textContent = text;
  el.classList.toggle('bad', bad);
}

/**
 * Shows a new return phrase once, after `anchor`, and moves focus to it.
 * @param {string} phrase @param {HTMLElement} anchor @param {string} [pagePath] the participant page the note names
 */
export function showPhrase(phrase, anchor, pagePath) {
  document.getElementById('phrase-panel')?.remove();
  const copyMsg = h('p', { className: 'msg', attrs: { role: 'status', 'aria-live': 'polite' } });
  const copy = async () => {
    try { await navigator.clipboard.writeText(phrase); say(copyMsg, 'Copied.', false); }
    catch (e) { say(copyMsg, 'Could not copy: select the words and copy them yourself.', true); }
  };
  const note = 'chorus return phrase for ' + location.origin + (pagePath || location.pathname) + '\n\n' + phrase +
    '\n\nType these five words under "I have a return phrase" to carry on as yourself on another device.\n';
  const save = h('a', { className: 'button', text: 'Save as a note', attrs: { download: 'chorus-return-phrase.txt', href: 'data:text/plain;charset=utf-8,' + encodeURIComponent(note) } });
  const heading = h('h2', { text: 'Your return phrase', attrs: { id: 'phrase-h', tabindex: '-1' } });
  const panel = h('section', { className: 'card phrase-panel', attrs: { id: 'phrase-panel', 'aria-labelledby': 'phrase-h' } }, [
    heading,
    h('p', { text: 'Keep this to come back on another device. It is shown only now: copy it or save it as a note.' }),
    h('p', { className: 'phrase', text: phrase, attrs: { id: 'phrase-text' } }),
    h('div', { className: 'btn-row' }, [
      h('button', { text: 'Copy', attrs: { type: 'button' }, on: { click: copy } }),
      save,
      h('button', { text: 'Done', attrs: { type: 'button' }, on: { click: () => panel.remove() } }),
    ]),
    copyMsg,
  ]);
  anchor.after(panel);
  heading.focus();
}
