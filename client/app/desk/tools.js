// The desk's conversation tools: what the event screens show (display
// mode), the word list, display links; and the conversation's title.

import { call, explain } from '../api.js';
import { h, byId } from '../dom.js';
import { API, desk, items } from './page.js';
import { fillPledgeFilter } from './filters.js';

/** The visible pledges into the display and filter choices. */
export function fillItems() {
  const sel = /** @type {HTMLSelectElement} */ (byId('display-item'));
  const keep = sel.value || (desk.C && desk.C.display && desk.C.display.item_id) || '';
  const pledges = [...items.values()].filter((i) => i.kind === 'pledge' && i.status === 'visible').sort((a, b) => a.position - b.position);
  sel.replaceChildren(...pledges.map((p) => h('option', { text: p.title, attrs: { value: p.id } })));
  if (keep) sel.value = keep;
  fillPledgeFilter(pledges);
}

/** @param {any} c */
export function setConversation(c) {
  desk.C = c;
  byId('title').textContent = 'Desk: ' + c.title;
  document.title = 'Desk: ' + c.title + ' · chorus';
  const d = c.display || { mode: 'all', item_id: null };
  const mode = /** @type {HTMLSelectElement} */ (byId('display-mode'));
  if (document.activeElement !== mode) mode.value = d.mode;
  if (d.item_id) /** @type {HTMLSelectElement} */ (byId('display-item')).value = d.item_id;
  byId('display-item-field').hidden = mode.value !== 'focus';
  byId('display-msg').textContent = 'Screens now show: ' + ({ all: 'all pledges', focus: 'one pledge in focus', comments: 'the comments wall' })[/** @type {'all'} */ (d.mode)] + '.';
}

export function wireTools() {
  byId('display-mode').addEventListener('change', () => {
    byId('display-item-field').hidden = /** @type {HTMLSelectElement} */ (byId('display-mode')).value !== 'focus';
  });
  byId('display-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const mode = /** @type {HTMLSelectElement} */ (byId('display-mode')).value;
    const item_id = mode === 'focus' ? /** @type {HTMLSelectElement} */ (byId('display-item')).value || null : null;
    try {
      const r = await call('PATCH', API, { display: { mode, item_id } });
      if (r && r.conversation) setConversation(r.conversation);
    } catch (err) {
      byId('display-msg').textContent = explain(/** @type {any} */ (err), 'Switching screens');
    }
  });

  byId('words-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const words = /** @type {HTMLTextAreaElement} */ (byId('words')).value.split('\n').map((w) => w.trim()).filter(Boolean);
    try {
      const r = await call('PATCH', API, { word_list: words });
      if (r && Array.isArray(r.word_list)) /** @type {HTMLTextAreaElement} */ (byId('words')).value = r.word_list.join('\n');
      byId('words-msg').textContent = 'Saved: ' + (words.length ? words.length + ' word(s) or phrase(s).' : 'the list is empty.');
    } catch (err) {
      byId('words-msg').textContent = explain(/** @type {any} */ (err), 'The word list');
    }
  });

  byId('make-token').addEventListener('click', async () => {
    const out = byId('token-out');
    try {
      const r = await call('POST', API + '/display-tokens', {});
      const url = location.origin + r.url;
      out.replaceChildren('Open this on the event screen: ', h('a', { text: url, attrs: { href: r.url, target: '_blank', rel: 'noopener' } }));
    } catch (err) {
      out.textContent = explain(/** @type {any} */ (err), 'Creating a display link');
    }
  });
}
