// What every part of the desk shares: which conversation this is, who is
// logged in, the live stream, the announcer and the pledges and ideas
// (`items`, by id). No part keeps a copy of these.

import { conv } from '../api.js';
import { byId, Announcer } from '../dom.js';

export const slug = decodeURIComponent(location.pathname.replace(/^\/desk\//, '').replace(/\/.*$/, ''));
export const API = conv(slug);
export const say = new Announcer(byId('announcer'));

/**
 * The conversation (`C`), this facilitator's name, what they have seen (set
 * once logged in), the live stream, and whether the first load is done
 * (arrivals are announced only after it).
 * @type {{C: any, myName: string, seen: import('../desk-seen.js').SeenStore|null, live: import('../live.js').Live|null, ready: boolean}}
 */
export const desk = { C: null, myName: '', seen: null, live: null, ready: false };

/** Pledges and ideas by id. @type {Map<string, any>} */
export const items = new Map();
