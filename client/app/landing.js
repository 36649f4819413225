// The landing page: the list of conversations (open and upcoming first,
// as the server orders them; archived ones are not listed), each with
// links to the reports of the earlier conversations in its series that
// the reader may read.

import { get, seg } from './api.js';
import { h, byId } from './dom.js';
import { when, stateOf } from './time.js';

const LABEL = { upcoming: 'Opens soon', open: 'Open now', closed: 'Closed' };

/** Links to the earlier conversations' reports this reader may read. @param {any} c */
function earlier(c) {
  const reports = c.earlier_reports || [];
  if (!reports.length) return null;
  const links = [];
  for (const r of reports) {
    if (links.length) links.push(', ');
    links.push(h('a', { text: r.title, attrs: { href: '/report/' + seg(r.slug) } }));
  }
  return h('p', { className: 'earlier' }, ['Results of earlier conversations in this series: ', ...links]);
}

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
        earlier(c),
      ]));
    }
    status.textContent = cs.length ? cs.length + (cs.length === 1 ? ' conversation' : ' conversations') : 'There are no conversations yet.';
  } catch (e) {
    status.textContent = 'The conversations could not be loaded. Please reload the page.';
  }
}

main();
