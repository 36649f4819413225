// The landing page: the list of conversations.

import { get, seg } from './api.js';
import { h, byId } from './dom.js';
import { when, stateOf } from './time.js';

const LABEL = { upcoming: 'Opens soon', open: 'Open now', closed: 'Closed' };

async function main() {
  const status = byId('status');
  try {
    const r = await get('/api/conversations');
    const list = byId('convs');
    const cs = (r && r.conversations) || [];
    for (const c of cs) {
      const st = stateOf(c);
      list.append(h('li', {}, [
        h('a', { text: c.title, attrs: { href: '/c/' + seg(c.slug) } }),
        h('p', {}, [
          h('span', { className: 'state', text: LABEL[st] || st }), ' ',
          st === 'upcoming' ? 'Opens ' + when(c.opens_at) : st === 'open' ? 'Open until ' + when(c.closes_at) : 'Closed ' + when(c.closes_at),
        ]),
      ]));
    }
    status.textContent = cs.length ? cs.length + (cs.length === 1 ? ' conversation' : ' conversations') : 'There are no conversations yet.';
  } catch (e) {
    status.textContent = 'The conversations could not be loaded. Please reload the page.';
  }
}

main();
