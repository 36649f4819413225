// What every part of the participant page shares: which conversation this
// is, the participant (`me`), whether it is open, the screen-reader
// announcer, and two small helpers. No part keeps a copy of these.

import { conv } from '../api.js';
import { byId, Announcer } from '../dom.js';

export const slug = decodeURIComponent(location.pathname.replace(/^\/c\//, '').replace(/\/.*$/, ''));
export const API = conv(slug);
export const say = new Announcer(byId('announcer'));

/**
 * The conversation (`C`), whether it takes contributions now (`open`) and
 * the live stream once started.
 * @type {{C: any, open: boolean, live: import('../live.js').Live|null}}
 */
export const page = { C: null, open: false, live: null };

/** The participant as the snapshot says: signed up or not, their votes and up-votes. */
export const me = { participant: /** @type {any} */ (null), votes: /** @type {Record<string, string|null>} */ ({}), ups: new Set() };

/** @param {HTMLElement} el @param {string} text @param {boolean} bad */
export function setMsg(el, text, bad) {
  el.textContent = text;
  el.classList.toggle('bad', bad);
}

/** The draft key of a comment (parent null) or reply being written. @param {string} item @param {string|null|undefined} parent */
export const draftKey = (item, parent) => slug + ':' + item + ':' + (parent || '');

/**
 * Whether a comment is this participant's own: shown from their outbox, or
 * under their handle (handles are unique in a conversation). @param {any} c
 */
export function isMine(c) {
  return !!c.local || !!(me.participant && c.handle && c.handle === me.participant.handle);
}
