// Pledges and ideas on the participant page: one ItemView each (title,
// tally bar, Strong/Wrong), the two lists and their order. An item's
// comments are its CommentPanel (comment-panel.js).

import { seg, uuid, explain, get } from '../api.js';
import { h, byId, uid } from '../dom.js';
import { TallyBook, TallyBar } from '../tally.js';
import { SIGNUP_FIRST } from '../signup-wait.js';
import { API, page, me, setMsg } from './page.js';
import { queue, handle, whenChanged } from './outbox.js';
import { wait, canAct, showSignup } from './signup.js';
import { politeInsert } from './polite.js';
import { CommentPanel } from './comment-panel.js';
import { nameList } from '../support.js';

/** @type {Map<string, any>} */ const items = new Map();
/** @type {Map<string, ItemView>} */ export const views = new Map();
export const tallies = new TallyBook();

/** The vote the participant has now, including actions still in the outbox. @param {string} item */
function myVote(item) {
  let v = me.votes[item] || null;
  for (const a of queue.pending()) if (a.kind === 'vote' && a.meta.item === item) v = a.body.choice;
  return v;
}

export class ItemView {
  /** @param {any} it */
  constructor(it) {
    this.id = it.id;
    const hid = uid('it');
    this.title = h('h3', { attrs: { id: hid } });
    this.by = h('p', { className: 'by' });
    this.body = h('p', { className: 'body' });
    this.bar = new TallyBar();
    // In place of the bar while the conversation hides this tally (tallies_visible).
    this.veil = h('p', { className: 'tally-hidden', attrs: { hidden: '' } });
    this.strongB = h('button', { className: 'vote v-strong', text: 'Strong', attrs: { type: 'button', 'aria-pressed': 'false' }, on: { click: () => this.vote('strong') } });
    this.wrongB = h('button', { className: 'vote v-wrong', text: 'Wrong', attrs: { type: 'button', 'aria-pressed': 'false' }, on: { click: () => this.vote('wrong') } });
    this.mine = h('span', { className: 'mine' });
    this.msg = h('p', { className: 'msg' });
    this.comments = new CommentPanel(this);
    this.el = h('li', { className: 'item', attrs: { 'data-id': it.id, 'aria-labelledby': hid } }, [
      this.title, this.by, this.body, this.bar.el, this.veil,
      h('div', { className: 'votes', attrs: { role: 'group', 'aria-labelledby': hid } }, [this.strongB, this.wrongB, this.mine]),
      this.msg, this.comments.toggleB, this.comments.panel,
    ]);
    this.update(it);
  }

  /** @param {any} it */
  update(it) {
    this.item = it;
    this.title.textContent = it.deleted ? 'Deleted by its author' : it.title;
    this.by.textContent = it.kind === 'idea' && it.handle ? 'Suggested by ' + it.handle : '';
    if (it.edited && !it.deleted) this.by.textContent += (this.by.textContent ? ' · ' : '') + 'edited';
    // Only its author sees an idea awaiting approval (the snapshot adds it).
    if (it.status === 'pending') this.by.textContent += (this.by.textContent ? ' · ' : '') + 'Waiting for a facilitator to approve it. Only you can see it.';
    this.by.hidden = !this.by.textContent;
    this.body.textContent = it.body || '';
    this.body.hidden = !it.body;
    this.el.dataset.kind = it.kind;
    this.el.classList.toggle('deleted', !!it.deleted);
    this.renderVote();
    this.comments.renderCount();
  }

  renderVote() {
    // The server sends `null` counts for a tally this participant may not see yet.
    const hidden = !tallies.get(this.id) && this.item.strong === null;
    this.bar.el.hidden = hidden;
    this.veil.hidden = !hidden;
    this.veil.textContent = hidden ? (page.C && page.C.tallies_visible === 'after_voting'
      ? 'Vote to see how others voted' : 'Results appear when the conversation closes') : '';
    const t = tallies.get(this.id) || { strong: this.item.strong || 0, wrong: this.item.wrong || 0 };
    const confirmed = me.votes[this.id] || null;
    const now = myVote(this.id);
    let s = t.strong, w = t.wrong;
    if (now !== confirmed) { // optimistic: show our pending vote in the counts
      if (confirmed === 'strong') s--; else if (confirmed === 'wrong') w--;
      if (now === 'strong') s++; else if (now === 'wrong') w++;
    }
    this.bar.set(s, w);
    const kept = me.participant ? null : wait.vote(this.id);
    this.strongB.setAttribute('aria-pressed', String((kept || now) === 'strong'));
    this.wrongB.setAttribute('aria-pressed', String((kept || now) === 'wrong'));
    const pending = now !== confirmed;
    this.mine.textContent = kept ? 'Your ' + kept + ' vote is sent once you sign up'
      : now ? 'You voted ' + now + (pending ? ' (sending…)' : '') : pending ? 'Withdrawing your vote…' : '';
  }

  /** @param {string} text @param {boolean} bad */
  say(text, bad) { setMsg(this.msg, text, bad); }

  /** @param {'strong'|'wrong'} choice */
  vote(choice) {
    if (page.open && !me.participant) { // kept, and sent once signed up
      const kept = wait.vote(this.id) === choice ? null : choice;
      wait.keepVote(this.id, kept);
      wait.note(this.msg, SIGNUP_FIRST + (kept ? ' Your vote is kept until then.' : ''));
      showSignup(true);
      this.renderVote();
      return;
    }
    if (!canAct(this.msg)) return;
    const next = myVote(this.id) === choice ? null : choice;
    this.say('', false);
    queue.add({ key: uuid(), kind: 'vote', method: 'PUT', path: API + '/items/' + seg(this.id) + '/vote', body: { request_id: uuid(), choice: next }, meta: { item: this.id } });
    this.renderVote();
  }
}

/** @param {any} it */
export function upsertItem(it) {
  if (it.status !== 'visible') { removeItem(it.id); return; }
  items.set(it.id, it);
  if (it.strong !== null) tallies.apply(it.id, { strong: it.strong || 0, wrong: it.wrong || 0, version: it.version || 0 });
  let v = views.get(it.id);
  if (v) { v.update(it); if (it.kind !== 'idea') sortLists(); return; }
  v = new ItemView(it);
  views.set(it.id, v);
  const list = byId(it.kind === 'idea' ? 'ideas' : 'pledges');
  const view = v;
  if (it.kind === 'idea' && sortKey() === 'newest') {
    politeInsert(list, () => { list.prepend(view.el); return view.el; }, 'idea', true);
  } else {
    list.append(view.el);
  }
  emptyStates();
}

export function emptyStates() {
  byId('no-ideas').hidden = byId('ideas').childElementCount > 0;
  byId('no-pledges').hidden = byId('pledges').childElementCount > 0;
  nameList(byId('pledges-h'), byId('no-pledges'), byId('pledges'));
}

/** @param {string} id */
export function removeItem(id) {
  const v = views.get(id);
  items.delete(id);
  if (!v) return;
  const hadFocus = v.el.contains(document.activeElement);
  v.el.remove();
  views.delete(id);
  if (hadFocus) byId('main').focus({ preventScroll: true });
  emptyStates();
}

/** A `tallies` frame's item entries. @param {any[]} list */
export function applyItemTallies(list) {
  for (const t of list) if (tallies.apply(t.id, t)) views.get(t.id)?.renderVote();
}

/** The conversation closed while tallies were hidden: fetch them all. */
export async function revealTallies() {
  try {
    const s = await get(API);
    for (const it of s.items || []) if (items.has(it.id)) upsertItem(it);
  } catch (e) { /* the next reload shows them */ }
}

// ------------------------------------------------------------------ order

function sortKey() {
  return /** @type {HTMLSelectElement} */ (byId('sort')).value;
}

export function sortLists() {
  const key = sortKey();
  /** @param {ItemView} v */
  const val = (v) => {
    const t = tallies.get(v.id) || {};
    if (key === 'newest') return -Date.parse(v.item.created_at || 0);
    if (key === 'supported') return -((t.strong || 0) * 1e6 - (t.wrong || 0));
    if (key === 'discussed') return -Number(v.el.dataset.comments || 0);
    return v.item.position || 0;
  };
  for (const id of ['pledges', 'ideas']) {
    const list = byId(id);
    const vs = Array.from(views.values()).filter((v) => v.el.parentElement === list);
    vs.sort((a, b) => val(a) - val(b) || (a.item.position || 0) - (b.item.position || 0));
    for (const v of vs) list.append(v.el);
  }
}

export function wireSort() {
  const sort = /** @type {HTMLSelectElement} */ (byId('sort'));
  try { sort.value = localStorage.getItem('chorus:sort') || 'position'; } catch (e) { /* blocked */ }
  if (!sort.value) sort.value = 'position';
  sort.addEventListener('change', () => {
    try { localStorage.setItem('chorus:sort', sort.value); } catch (e) { /* blocked */ }
    sortLists();
  });
}

// ------------------------------------------------------------------ votes in the outbox

handle('vote', {
  done(a, data) {
    me.votes[a.meta.item] = data && 'choice' in data ? data.choice : a.body.choice;
    if (data && data.tally) tallies.apply(a.meta.item, data.tally);
    // Under after_voting the stream then lets this pledge's tally through.
    if (page.C && page.C.tallies_visible === 'after_voting') page.live?.send({ type: 'voted', item_id: a.meta.item });
    views.get(a.meta.item)?.renderVote();
  },
  refused(a, e) {
    const v = views.get(a.meta.item);
    if (v) { v.renderVote(); v.say(explain(e, 'Your vote'), true); }
  },
  wait(a, e, text) { views.get(a.meta.item)?.say(text, false); },
});
whenChanged(() => { for (const v of views.values()) v.renderVote(); });
