// The conversation itself on the participant page: title, introduction,
// countdown, whether it is open, and what a change to it (an extension, an
// early close) does to the page.

import { byId, h } from '../dom.js';
import { Countdown, stateOf } from '../time.js';
import { say, page } from './page.js';
import { renderMe, renderSignupFields } from './signup.js';
import { views, revealTallies } from './items.js';
import { keepUnsent } from './composer.js';

const countdown = new Countdown(/** @type {HTMLTimeElement} */ (byId('countdown')), (st) => { if (page.C) setOpen(st); });

/** @param {any} c */
export function renderConversation(c) {
  page.C = c;
  document.title = c.title + ' · chorus';
  byId('title').textContent = c.title;
  const intro = byId('introduction');
  intro.textContent = '';
  for (const para of String(c.introduction || '').split(/\n{2,}/)) if (para.trim()) intro.append(h('p', { text: para }));
  countdown.set(c);
  renderSignupFields(c);
}

/** "23:59 on 9 May": a deadline as people say it. @param {string} iso */
export function deadline(iso) {
  const d = new Date(iso);
  const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' }).format(d);
  const day = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long' }).format(d);
  return time + ' on ' + day;
}

/** @param {string} st */
export function setOpen(st) {
  const wasOpen = page.open;
  page.open = st === 'open';
  document.body.dataset.state = st;
  const note = byId('closed-note');
  note.hidden = page.open;
  note.textContent = st === 'upcoming' ? 'This conversation has not opened yet.' : st === 'closed' ? 'This conversation is closed. Thank you to everyone who took part; you can still read it.' : '';
  for (const v of views.values()) v.comments.renderCount();
  if (st === 'closed' && wasOpen && page.C && page.C.tallies_visible !== 'always') revealTallies();
  renderMe();
  // Closed forms are not shown: what was being typed is shown instead, with why.
  if (st === 'closed' && page.C && keepUnsent(new Date(page.C.closes_at).toISOString()) && wasOpen) {
    say.say('This conversation has closed. What you were writing was not posted; it is kept on the page so you can copy it.');
  }
}

/** A `conversation` event: the conversation changed (settings, deadline, an early close). @param {any} conversation */
export function conversationChanged(conversation) {
  const before = page.C && page.C.closes_at;
  renderConversation(conversation);
  setOpen(stateOf(conversation));
  if (before && before !== conversation.closes_at) {
    say.say('The deadline has changed. ' + byId('countdown').textContent + '.');
    // A later deadline is news worth more than a changed countdown.
    const later = Date.parse(conversation.closes_at) > Date.parse(before);
    const notice = byId('deadline-note');
    notice.hidden = !later;
    if (later) notice.textContent = 'Extended until ' + deadline(conversation.closes_at) + '.';
  }
}
