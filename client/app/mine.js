// "My contributions" (/c/{slug}/mine): everything the participant gave
// this conversation, with edit, delete, download and leave (docs/api.md,
// "My contributions"). The list is read from the API and read again
// whenever a live event may have changed it (a facilitator hid one of
// ours, someone replied), so it is never stale for long.

import { call, conv, explain, get, uuid, ApiError } from './api.js';
import { byId, h, Announcer } from './dom.js';
import { Live } from './live.js';
import { entry } from './mine-view.js';
import { showPhrase } from './phrase-panel.js';

const slug = decodeURIComponent(location.pathname.split('/')[2] || '');
const base = conv(slug);
const say = new Announcer(byId('announcer'));
/** Ids of our comments and ideas, to tell which live events concern us. */
let ours = new Set();
let reloadTimer = 0;
/** Set once leaving succeeds: the page then says so, and no reload (one due
 * from the live feed, or one in flight) may turn it back into the list or
 * into "not taking part". */
let left = false;

/** @param {string} text @param {boolean} [bad] */
function loadMsg(text, bad) {
  const m = byId('load-msg');
  m.textContent = text;
  m.classList.toggle('bad', !!bad);
}

/** @param {any} data */
function render(data) {
  byId('who').textContent = 'You take part as ' + data.participant.handle + '.';
  const min = Math.round(data.edit_window_s / 60);
  for (const w of document.querySelectorAll('.window')) {
    w.textContent = data.edit_window_s < 120 ? data.edit_window_s + ' seconds' : min + ' minutes';
  }
  ours = new Set();
  const comments = byId('comments');
  comments.replaceChildren(...data.comments.map((/** @type {any} */ c) => {
    ours.add(c.comment.id);
    return entry({
      kind: 'comment', data: c.comment, answered: c.replies, editableUntil: c.editable_until,
      where: (c.comment.parent_id ? 'A reply on “' : 'On “') + c.item_title + '”',
      explain,
      onEdit: async (f) => {
        await call('PATCH', base + '/comments/' + c.comment.id, { request_id: uuid(), body: f.body });
        say.say('Your comment was changed.');
        await load();
      },
      onDelete: async () => {
        await call('DELETE', base + '/comments/' + c.comment.id, { request_id: uuid() });
        say.say('Your comment was deleted.');
        await load();
      },
    });
  }));
  byId('no-comments').hidden = data.comments.length > 0;

  const ideas = byId('ideas');
  ideas.replaceChildren(...data.ideas.map((/** @type {any} */ i) => {
    ours.add(i.item.id);
    return entry({
      kind: 'idea', data: i.item, answered: i.responses, editableUntil: i.editable_until,
      where: 'Suggested ' + new Date(i.item.created_at).toLocaleString(), explain,
      onEdit: async (f) => {
        await call('PATCH', base + '/ideas/' + i.item.id, { request_id: uuid(), title: f.title, body: f.body });
        say.say('Your idea was changed.');
        await load();
      },
      onDelete: async () => {
        await call('DELETE', base + '/ideas/' + i.item.id, { request_id: uuid() });
        say.say('Your idea was deleted.');
        await load();
      },
    });
  }));
  byId('no-ideas').hidden = data.ideas.length > 0;

  const votes = byId('votes');
  votes.replaceChildren(...data.votes.map((/** @type {any} */ v) => {
    ours.add(v.item_id);
    return h('li', { className: 'vote-row', attrs: { 'data-id': v.item_id } }, [
      h('span', { className: 'choice-' + v.choice, text: v.choice === 'strong' ? 'Strong' : 'Wrong' }),
      ' ',
      h('span', { text: v.title }),
    ]);
  }));
  byId('no-votes').hidden = data.votes.length > 0;
}

async function load() {
  if (left) return;
  try {
    const data = await get(base + '/me/contributions');
    if (left) return;
    render(data);
    document.body.dataset.state = 'ready';
    loadMsg('');
  } catch (e) {
    if (left) return;
    if (e instanceof ApiError && e.status === 401) {
      document.body.dataset.state = 'not-joined';
      loadMsg('You are not taking part in this conversation from this browser.', true);
      return;
    }
    loadMsg(explain(e, 'Loading your contributions'), true);
  }
}

function reloadSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(load, 300);
}

/** @param {any} msg */
function onEvent(msg) {
  const id = msg.id || (msg.comment && (ours.has(msg.comment.parent_id) ? msg.comment.parent_id : msg.comment.id))
    || (msg.item && msg.item.id);
  const onOurs = msg.comment && ours.has(msg.comment.item_id);
  if (ours.has(id) || onOurs) reloadSoon();
}

function wireLeave() {
  const form = /** @type {HTMLFormElement} */ (byId('leave-form'));
  const msg = byId('leave-msg');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const typed = /** @type {HTMLInputElement} */ (byId('leave-confirm')).value.trim().toLowerCase();
    if (typed !== 'leave') {
      msg.textContent = 'Type “leave” in the box to confirm. Nothing has changed yet.';
      msg.classList.add('bad');
      byId('leave-confirm').focus();
      return;
    }
    const choice = /** @type {HTMLInputElement} */ (form.querySelector('input[name="comments"]:checked')).value;
    const button = /** @type {HTMLButtonElement} */ (byId('leave-button'));
    button.disabled = true;
    const request = { request_id: uuid(), comments: choice };
    try {
      const r = await call('POST', base + '/me/leave', request);
      left = true;
      clearTimeout(reloadTimer);
      document.body.dataset.state = 'left';
      // The handle is erased: the page no longer says who you take part as.
      byId('who').hidden = true;
      for (const s of document.querySelectorAll('main > section.list')) /** @type {HTMLElement} */ (s).hidden = true;
      const done = h('section', { className: 'card left-note', attrs: { role: 'status' } }, [
        h('h2', { text: 'You have left this conversation' }),
        h('p', { text: 'Withdrawn: ' + r.left.votes_withdrawn + ' votes. ' + (choice === 'delete'
          ? 'Deleted: ' + (r.left.comments_deleted + r.left.ideas_deleted) + ' comments and ideas.'
          : 'Kept without your handle: ' + (r.left.comments_kept + r.left.ideas_kept) + ' comments and ideas.') }),
        h('p', { text: 'This browser is no longer signed in to the conversation, and nothing links what stays to you.' }),
      ]);
      byId('main').append(done);
      say.say('You have left the conversation.');
      if (live) live.stop();
    } catch (e) {
      msg.textContent = explain(e, 'Leaving');
      msg.classList.add('bad');
      button.disabled = false;
    }
  });
}

/** A new return phrase (the old one stops working), shown once. */
function wirePhrase() {
  const button = /** @type {HTMLButtonElement} */ (byId('phrase-new'));
  button.addEventListener('click', async () => {
    const msg = byId('phrase-msg');
    msg.textContent = '';
    msg.classList.remove('bad');
    button.disabled = true;
    try {
      const r = await call('POST', base + '/me/return-phrase', {});
      showPhrase(r.return_phrase, byId('phrase-row'), '/c/' + encodeURIComponent(slug));
      say.say('Your new return phrase is shown. The old one no longer works.');
    } catch (e) {
      msg.textContent = explain(e, 'Making a new return phrase');
      msg.classList.add('bad');
    } finally {
      button.disabled = false;
    }
  });
}

/** @type {Live|null} */
let live = null;

async function main() {
  byId('back').setAttribute('href', '/c/' + encodeURIComponent(slug));
  byId('export').setAttribute('href', base + '/me/export');
  try {
    const snap = await get(base);
    byId('conversation-title').textContent = snap.conversation.title;
    document.title = 'My contributions · ' + snap.conversation.title + ' · chorus';
  } catch (e) { /* the list below says what went wrong */ }
  wireLeave();
  wirePhrase();
  await load();
  if (document.body.dataset.state === 'ready') {
    live = new Live({ slug, as: 'participant', onEvent, onTallies: () => {}, onState: () => {} }).start();
  }
  document.body.classList.add('ready');
}

main();
