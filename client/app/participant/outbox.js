// The participant page's outbox (../queue.js): one queue per conversation.
// Each part of the page registers what happens when its kind of action
// ('vote', 'up', 'comment', 'idea', 'flag') is done, refused or held back,
// instead of one handler that knows every kind. It imports no other part
// of the page, so it is ready before any of them registers.

import { Queue } from '../queue.js';
import { explain } from '../api.js';
import { slug, say } from './page.js';

/**
 * @typedef {import('../queue.js').Action} Action
 * @typedef {{
 *   done?: (a: Action, data: any) => void,
 *   refused?: (a: Action, e: import('../api.js').ApiError) => void,
 *   wait?: (a: Action, e: import('../api.js').ApiError, text: string) => void,
 * }} KindHandlers
 */

/** @type {Record<string, KindHandlers>} */
const byKind = {};
/** @type {(() => void)[]} */
const onChange = [];
/** What a 401 does (signup.js shows the sign-up form). */
let unauthorized = () => {};

/** Registers the handlers of one kind of action. @param {string} kind @param {KindHandlers} handlers */
export function handle(kind, handlers) { byKind[kind] = handlers; }

/** Sets what a refusal for want of a session does. @param {() => void} f */
export function whenUnauthorized(f) { unauthorized = f; }

/** Calls `f` whenever the outbox changes (to show what is still sending). @param {() => void} f */
export function whenChanged(f) { onChange.push(f); }

export const queue = new Queue('chorus:queue:' + slug, {
  onDone(a, data) { byKind[a.kind]?.done?.(a, data); },
  onRefused(a, e) {
    if (e.status === 401) unauthorized();
    byKind[a.kind]?.refused?.(a, e);
  },
  onWait(a, e) {
    const text = explain(e, a.kind === 'vote' ? 'Your vote' : a.kind === 'comment' ? 'Your comment' : 'Your action');
    byKind[a.kind]?.wait?.(a, e, text);
    if (e.status === 429) say.say(text);
  },
  onChange() { for (const f of onChange) f(); },
});
