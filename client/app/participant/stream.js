// What the live stream (../live.js) does to the participant page: one
// handler per event type (docs/protocol.md), the tally frames, and the
// connection line ("Live", "Reconnecting…").

import { byId } from '../dom.js';
import { upsertItem, removeItem, applyItemTallies } from './items.js';
import { upsertComment, removeComment, applyCommentTallies, renderUnsent } from './comments.js';
import { conversationChanged } from './conversation.js';

/**
 * Event type → what it does. Types not listed (flags, focus: staff only)
 * are ignored.
 * @type {Record<string, (msg: any) => void>}
 */
export const onEventType = {
  comment: (msg) => upsertComment(msg.comment, true),
  comment_removed: (msg) => removeComment(msg.id),
  item: (msg) => upsertItem(msg.item),
  item_removed: (msg) => removeItem(msg.id),
  conversation: (msg) => conversationChanged(msg.conversation),
};

/** @param {any} msg */
export function onEvent(msg) {
  const f = onEventType[msg.type];
  if (f) f(msg);
}

/** @param {any} msg */
export function onTallies(msg) {
  applyItemTallies(msg.items || []);
  applyCommentTallies(msg.comments || []);
}

let connTimer = 0;
/** @param {string} st */
export function onState(st) {
  const el = byId('conn');
  clearTimeout(connTimer);
  const show = () => {
    el.dataset.state = st;
    el.textContent = st === 'live' ? 'Live' : st === 'offline' ? 'Offline: your actions will be sent when you are back' : st === 'forbidden' ? 'Sign up to see updates live' : st === 'stopped' ? '' : 'Reconnecting…';
  };
  // Don't flicker for a quick reconnect.
  if (st === 'live' || st === 'offline' || st === 'forbidden') show(); else connTimer = setTimeout(show, 1500);
  renderUnsent();
}
