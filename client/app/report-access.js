// Why the report page shows no results, and what the reader can do: when
// they are for participants, sign in to this conversation or to a later
// one in its series (docs/report.md, "Who sees what"), with links.

import { get, seg } from './api.js';
import { h } from './dom.js';

/**
 * @param {HTMLElement} el
 * @param {string} slug
 * @param {import('./api.js').ApiError} e a 401 or 403
 */
export async function refusal(el, slug, e) {
  if (e.status === 403) {
    el.textContent = /organisers only/.test(e.problem.detail || '')
      ? 'The results of this conversation are for its organisers only.'
      : 'The results of this conversation are published when it closes.';
    return;
  }
  /** @type {{slug: string, title: string}[]} */
  const ways = [];
  // Only a conversation still taking sign-ups can let someone new in.
  try {
    const snap = await get('/api/conversations/' + seg(slug));
    if (snap.conversation.state !== 'closed') ways.push({ slug, title: snap.conversation.title });
  } catch (x) { /* the list below may still help */ }
  try {
    const r = await get('/api/conversations');
    for (const c of (r && r.conversations) || []) {
      if ((c.series || []).includes(slug) && c.state !== 'closed') ways.push({ slug: c.slug, title: c.title });
    }
  } catch (x) { /* shown without */ }
  const links = [];
  for (const w of ways) {
    if (links.length) links.push(' or ');
    links.push(h('a', { text: w.title, attrs: { href: '/c/' + seg(w.slug) } }));
  }
  el.replaceChildren('The results of this conversation are for its participants. ',
    ...(links.length ? ['Sign in to ', ...links, ' (with the same browser), then come back to this page.'] : ['They can be read by the participants of this conversation and of the later conversations in its series, in the browser they took part with.']));
}
