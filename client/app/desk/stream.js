// What the live stream (../live.js, subscribed as a facilitator) does to the
// desk: one handler per event type (docs/protocol.md). New arrivals are
// announced as a count every few seconds, never one by one.

import { desk, say, items } from './page.js';
import { entries, looking, suspended, rerender, upsert } from './entries.js';
import { scheduleRender } from './feed.js';
import { renderCurrent } from './selection.js';
import { fillItems, setConversation } from './tools.js';
import { scheduleAudit } from './audit.js';

const arrivals = { comment: 0, idea: 0 };
let arrivalsTimer = 0;
/** @param {'comment'|'idea'} kind */
function announceNew(kind) {
  arrivals[kind]++;
  if (arrivalsTimer) return;
  arrivalsTimer = setTimeout(() => {
    arrivalsTimer = 0;
    const parts = [];
    if (arrivals.comment) parts.push(arrivals.comment === 1 ? '1 new comment' : arrivals.comment + ' new comments');
    if (arrivals.idea) parts.push(arrivals.idea === 1 ? '1 new idea' : arrivals.idea + ' new ideas');
    arrivals.comment = arrivals.idea = 0;
    if (parts.length) say.say(parts.join(' and ') + '.');
  }, 3000);
}

/** A removed comment or idea stays on the desk, hidden. @param {string} id */
function markHidden(id) {
  const e = entries.get(id);
  if (e) { e.d.status = 'hidden'; rerender(id); scheduleRender(); }
}

/**
 * Event type → what it does. Each is also an audit log line, except
 * `focus` (where another facilitator is looking), which is not logged.
 * @type {Record<string, (m: any) => void>}
 */
const onEventType = {
  comment(m) {
    const isNew = upsert('comment', m.comment);
    if (isNew && desk.ready) announceNew('comment');
  },
  comment_removed(m) { markHidden(m.id); },
  item(m) {
    items.set(m.item.id, m.item);
    if (m.item.kind === 'idea') {
      const isNew = upsert('idea', m.item);
      if (isNew && desk.ready) announceNew('idea');
    } else fillItems();
  },
  item_removed(m) { markHidden(m.id); },
  flag(m) {
    const e = entries.get(m.flag.comment_id);
    if (!e) return;
    e.d.flag_reasons = [m.flag.reason, ...(e.d.flag_reasons || [])].slice(0, Math.max(0, m.flag.flags));
    e.d.flags = m.flag.flags; e.flagSeq = m.seq; rerender(m.flag.comment_id); scheduleRender();
  },
  participant(m) {
    suspended.set(m.participant.handle, !!m.participant.suspended);
    for (const [id, e] of entries) if (e.d.handle === m.participant.handle) rerender(id);
    renderCurrent();
  },
  conversation(m) { setConversation(m.conversation); },
};

/** @param {any} m */
export function onEvent(m) {
  if (m.type === 'focus') {
    const prev = looking.get(m.who);
    looking.set(m.who, m.comment_id || null);
    if (prev) rerender(prev);
    if (m.comment_id) rerender(m.comment_id);
    return;
  }
  const f = onEventType[m.type];
  if (!f) return;
  f(m);
  scheduleAudit();
}
