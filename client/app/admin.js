// Conversation admin: /admin. Create conversations, write and reorder
// pledges, set the window and sign-up, extend or close early, make display
// links and manage facilitator accounts. User text only via textContent.

import { get, call, conv, seg, uuid } from './api.js';
import { explainForm as explain } from './form-errors.js';
import * as organise from './admin-organise.js';
import { h, byId, Announcer } from './dom.js';
import { Countdown, stateOf } from './time.js';
import { ensureStaff } from './staff.js';
import { loadMailStatus, wireWays, wireWaysForm, showWays, waysOf, domainsOf } from './admin-ways.js';

const say = new Announcer(byId('announcer'));
/** @type {any} */ let C = null;
/** @type {any[]} */ let pledges = [];
const countdown = new Countdown(/** @type {HTMLTimeElement} */ (byId('m-countdown')));

/** @param {string} id */
const val = (id) => /** @type {HTMLInputElement} */ (byId(id)).value;
/** @param {string} id @param {string} v */
const setVal = (id, v) => { /** @type {HTMLInputElement} */ (byId(id)).value = v; };

/** @param {string} id @param {string} text @param {boolean} [bad] */
function msg(id, text, bad) {
  const el = byId(id);
  el.textContent = text;
  el.classList.toggle('bad', !!bad);
  el.classList.toggle('good', !bad && !!text);
}

/** An RFC 3339 time as a datetime-local value (local time). @param {string} iso */
function toLocal(iso) {
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
}
/** @param {string} v a datetime-local value */
const fromLocal = (v) => { const d = new Date(v); return isNaN(d.getTime()) ? '' : d.toISOString(); };

// ------------------------------------------------------------------ conversations

async function loadList(select) {
  const r = await get('/api/conversations');
  const list = byId('convs');
  const cs = (r && r.conversations) || [];
  list.replaceChildren(...cs.map((c) => h('li', {}, [
    h('button', { attrs: { type: 'button', 'data-slug': c.slug, 'aria-current': C && C.slug === c.slug ? 'true' : 'false' }, on: { click: () => open(c.slug) } }, [
      h('span', { text: c.title }), h('span', { className: 'state', text: c.archived ? 'archived' : stateOf(c) }),
    ]),
    organise.pageLinks(c.slug),
  ])));
  byId('no-convs').hidden = cs.length > 0;
  if (select) await open(select);
}

/** @param {string} slug */
async function open(slug) {
  const snap = await get(conv(slug) + '');
  setConversation(snap.conversation);
  pledges = snap.items.filter((/** @type {any} */ i) => i.kind === 'pledge' || i.kind === 'topic').sort((/** @type {any} */ a, /** @type {any} */ b) => a.position - b.position);
  renderPledges();
  for (const b of document.querySelectorAll('#convs button')) b.setAttribute('aria-current', String(/** @type {HTMLElement} */ (b).dataset.slug === slug));
  byId('manage').hidden = false;
  byId('token-out').textContent = '';
  history.replaceState(null, '', '/admin?c=' + encodeURIComponent(slug));
  joinLink();
}

/** @param {any} c */
function setConversation(c) {
  C = c;
  byId('m-title').textContent = c.title;
  byId('m-state').textContent = stateOf(c);
  countdown.set(c);
  setVal('m-opens', toLocal(c.opens_at));
  setVal('m-closes', toLocal(c.closes_at));
  setVal('m-title-in', c.title);
  setVal('m-intro', c.introduction || '');
  setVal('m-moderation', c.moderation);
  /** @type {HTMLInputElement} */ (byId('m-ideas')).checked = !!c.ideas_need_approval;
  byId('m-code-field').hidden = !(c.ways_in || []).includes('code');
  showWays(c);
  /** @type {HTMLAnchorElement} */ (byId('m-page')).href = '/c/' + seg(c.slug);
  /** @type {HTMLAnchorElement} */ (byId('m-desk')).href = '/desk/' + seg(c.slug);
  /** @type {HTMLAnchorElement} */ (byId('m-report')).href = '/report/' + seg(c.slug);
  /** @type {HTMLAnchorElement} */ (byId('m-display')).href = '/display/' + seg(c.slug);
  organise.show(c);
  const b = document.querySelector('#convs button[data-slug="' + CSS.escape(c.slug) + '"] .state');
  if (b) b.textContent = stateOf(c);
}

/** The join link (with the access code) as the QR code carries it. */
async function joinLink() {
  const out = byId('m-join');
  out.textContent = '';
  try {
    const res = await fetch(conv(C.slug) + '/qr.svg', { credentials: 'same-origin' });
    const link = res.ok ? res.headers.get('X-Join-Link') : null;
    if (link) out.replaceChildren('Join link: ', h('a', { text: link, attrs: { href: link } }));
  } catch (e) { /* optional */ }
}

/** @param {any} body @param {string} out @param {string} done */
async function patch(body, out, done) {
  try {
    const r = await call('PATCH', conv(C.slug), body);
    if (r && r.conversation) setConversation(r.conversation);
    msg(out, done);
    say.say(done);
    if ('access_code' in body) { setVal('m-code', ''); joinLink(); }
    return true;
  } catch (e) {
    msg(out, explain(/** @type {any} */ (e), 'The change'), true);
    return false;
  }
}

byId('win-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const opens = fromLocal(val('m-opens')), closes = fromLocal(val('m-closes'));
  if (!opens || !closes) { msg('win-msg', 'Please give both times.', true); return; }
  patch({ opens_at: opens, closes_at: closes }, 'win-msg', 'Window saved: closes ' + new Date(closes).toLocaleString() + '.');
});
/** @param {number} days */
function extend(days) {
  const base = Math.max(Date.parse(C.closes_at), Date.now());
  const closes = new Date(base + days * 86400e3).toISOString();
  patch({ closes_at: closes }, 'win-msg', 'Extended: now closes ' + new Date(closes).toLocaleString() + '.');
}
byId('extend-day').addEventListener('click', () => extend(1));
byId('extend-week').addEventListener('click', () => extend(7));
const closeBtn = /** @type {HTMLButtonElement} */ (byId('close-now'));
closeBtn.addEventListener('click', () => {
  // Two steps: the first click asks, the second closes.
  if (closeBtn.dataset.armed !== 'true') {
    closeBtn.dataset.armed = 'true';
    closeBtn.textContent = 'Really close now?';
    msg('win-msg', 'Press again to close the conversation now. Participants can no longer take part.', true);
    setTimeout(() => { closeBtn.dataset.armed = 'false'; closeBtn.textContent = 'Close now'; }, 8000);
    return;
  }
  closeBtn.dataset.armed = 'false';
  closeBtn.textContent = 'Close now';
  patch({ closes_at: 'now' }, 'win-msg', 'The conversation is closed.');
});

byId('set-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  /** @type {any} */
  const body = {};
  if (val('m-title-in').trim() !== C.title) body.title = val('m-title-in').trim();
  if (val('m-intro') !== (C.introduction || '')) body.introduction = val('m-intro');
  if (val('m-moderation') !== C.moderation) body.moderation = val('m-moderation');
  const ideas = /** @type {HTMLInputElement} */ (byId('m-ideas')).checked;
  if (ideas !== !!C.ideas_need_approval) body.ideas_need_approval = ideas;
  if (val('m-code').trim()) body.access_code = val('m-code').trim();
  if (!Object.keys(body).length) { msg('set-msg', 'Nothing changed.'); return; }
  patch(body, 'set-msg', 'Settings saved.');
});

// ------------------------------------------------------------------ new conversation

wireWays('new');
wireWaysForm(() => C, patch);
byId('new-title').addEventListener('input', () => {
  const slug = /** @type {HTMLInputElement} */ (byId('new-slug'));
  if (slug.dataset.touched) return;
  slug.value = val('new-title').toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
});
byId('new-slug').addEventListener('input', () => { byId('new-slug').dataset.touched = 'true'; });
{
  const now = new Date();
  now.setSeconds(0, 0);
  setVal('new-opens', toLocal(now.toISOString()));
  setVal('new-closes', toLocal(new Date(now.getTime() + 14 * 86400e3).toISOString()));
}
byId('new-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  /** @type {any} */
  const body = {
    slug: val('new-slug').trim(), title: val('new-title').trim(), introduction: val('new-intro'),
    opens_at: fromLocal(val('new-opens')), closes_at: fromLocal(val('new-closes')),
    ways_in: waysOf('new'), moderation: val('new-moderation'),
    ideas_need_approval: /** @type {HTMLInputElement} */ (byId('new-ideas')).checked,
  };
  if (body.ways_in.includes('code')) body.access_code = val('new-code').trim();
  if (body.ways_in.includes('email')) body.email_domains = domainsOf('new');
  try {
    const r = await call('POST', '/api/conversations', body);
    msg('new-msg', 'Created “' + body.title + '”.');
    say.say('Conversation created.');
    /** @type {HTMLFormElement} */ (byId('new-form')).reset();
    delete byId('new-slug').dataset.touched;
    /** @type {HTMLDetailsElement} */ (byId('new-details')).open = false;
    await loadList((r && r.conversation && r.conversation.slug) || body.slug);
    byId('m-title').focus();
  } catch (e) {
    msg('new-msg', explain(/** @type {any} */ (e), 'The new conversation'), true);
  }
});

// ------------------------------------------------------------------ pledges

function renderPledges() {
  const list = byId('pledges');
  list.replaceChildren(...pledges.map((p, i) => {
    const tId = 'pt-' + p.id, bId = 'pb-' + p.id, mId = 'pm-' + p.id;
    const title = h('input', { attrs: { id: tId, maxlength: 120 } });
    title.value = p.title;
    const body = h('textarea', { attrs: { id: bId, rows: 2, maxlength: 2000 } });
    body.value = p.body || '';
    const out = h('p', { className: 'msg', attrs: { id: mId, role: 'status' } });
    const kind = p.kind === 'topic' ? 'Topic' : 'Pledge';
    const remove = h('button', { className: 'danger', text: 'Remove', attrs: { type: 'button', 'aria-label': 'Remove: ' + p.title } });
    remove.addEventListener('click', async () => {
      // Two steps: the first click asks, the second removes.
      if (remove.dataset.armed !== 'true') {
        remove.dataset.armed = 'true';
        remove.textContent = 'Really remove?';
        out.textContent = 'Press again to remove this ' + kind.toLowerCase() + ' from every page. Its votes and comments stay in the organisers’ report.';
        setTimeout(() => { remove.dataset.armed = 'false'; remove.textContent = 'Remove'; }, 8000);
        return;
      }
      try {
        await call('DELETE', conv(C.slug) + '/items/' + seg(p.id), {});
        pledges = pledges.filter((x) => x.id !== p.id);
        renderPledges();
        msg('pl-msg', 'Removed “' + p.title + '”.');
        say.say('Removed ' + p.title + '.');
      } catch (e) { out.textContent = explain(/** @type {any} */ (e), 'Removing'); }
    });
    const save = async () => {
      try {
        const r = await call('PATCH', conv(C.slug) + '/items/' + seg(p.id), { title: title.value.trim(), body: body.value });
        Object.assign(p, (r && (r.item || r)) || {});
        out.textContent = 'Saved.';
      } catch (e) { out.textContent = explain(/** @type {any} */ (e), 'The pledge'); }
    };
    return h('li', { className: 'pledge', attrs: { 'data-id': p.id, 'data-kind': p.kind } }, [
      h('span', { className: 'kind', text: kind }),
      h('div', { className: 'field' }, [h('label', { text: 'Title', attrs: { for: tId } }), title]),
      h('div', { className: 'field' }, [h('label', { text: 'Text', attrs: { for: bId } }), body]),
      h('div', { className: 'btn-row' }, [
        h('button', { text: 'Save', attrs: { type: 'button', 'aria-describedby': tId }, on: { click: save } }),
        h('button', { text: 'Move up', attrs: { type: 'button', disabled: i === 0, 'aria-label': 'Move up: ' + p.title }, on: { click: () => move(i, -1) } }),
        h('button', { text: 'Move down', attrs: { type: 'button', disabled: i === pledges.length - 1, 'aria-label': 'Move down: ' + p.title }, on: { click: () => move(i, 1) } }),
        remove,
      ]),
      out,
    ]);
  }));
}

/** Swaps a pledge with its neighbour (both get their new position). @param {number} i @param {number} by */
async function move(i, by) {
  const a = pledges[i], b = pledges[i + by];
  if (!a || !b) return;
  // The whole new order in one request: every screen gets exact positions.
  const order = pledges.map((p) => p.id);
  [order[i], order[i + by]] = [order[i + by], order[i]];
  try {
    const r = await call('PUT', conv(C.slug) + '/order', { request_id: uuid(), order });
    pledges = (r && r.items) || pledges;
    renderPledges();
    const btn = /** @type {HTMLElement|null} */ (document.querySelector('#pledges li[data-id="' + CSS.escape(a.id) + '"] button[aria-label^="Move ' + (by < 0 ? 'up' : 'down') + '"]'));
    if (btn && !(/** @type {HTMLButtonElement} */ (btn).disabled)) btn.focus();
    else /** @type {HTMLElement|null} */ (document.querySelector('#pledges li[data-id="' + CSS.escape(a.id) + '"] input'))?.focus();
    say.say('Moved “' + a.title + '” to position ' + (pledges.findIndex((x) => x.id === a.id) + 1) + '.');
  } catch (e) {
    msg('pl-msg', explain(/** @type {any} */ (e), 'Reordering'), true);
  }
}

byId('pl-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const title = val('pl-title').trim();
  const kind = val('pl-kind');
  if (!title) { msg('pl-msg', 'Please give the ' + kind + ' a title.', true); return; }
  const position = pledges.reduce((m, p) => Math.max(m, p.position), 0) + 1;
  try {
    const r = await call('POST', conv(C.slug) + '/items', { id: uuid(), kind, title, body: val('pl-body'), position });
    const it = (r && (r.item || r)) || { title, body: val('pl-body'), position };
    pledges.push(it);
    pledges.sort((x, y) => x.position - y.position);
    renderPledges();
    /** @type {HTMLFormElement} */ (byId('pl-form')).reset();
    msg('pl-msg', 'Added “' + title + '”.');
  } catch (e) {
    msg('pl-msg', explain(/** @type {any} */ (e), 'The pledge'), true);
  }
});

// ------------------------------------------------------------------ display links

byId('make-token').addEventListener('click', async () => {
  const out = byId('token-out');
  try {
    const r = await call('POST', conv(C.slug) + '/display-tokens', {});
    out.replaceChildren('Open this on the event screen: ', h('a', { text: location.origin + r.url, attrs: { href: r.url } }));
  } catch (e) {
    out.textContent = explain(/** @type {any} */ (e), 'Creating a display link');
  }
});

// ------------------------------------------------------------------ accounts

async function loadUsers() {
  const r = await get('/api/users');
  byId('users').replaceChildren(...((r && r.users) || []).map((/** @type {any} */ u) => h('tr', {}, [h('td', { text: u.name }), h('td', { text: u.role })])));
}

byId('user-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = val('u-name').trim(), role = val('u-role'), password = val('u-password');
  if (!name) { msg('u-msg', 'Please give a name.', true); return; }
  if (password.length < 8) { msg('u-msg', 'The password needs at least 8 characters.', true); return; }
  try {
    await call('POST', '/api/users', { name, role, password });
    /** @type {HTMLFormElement} */ (byId('user-form')).reset();
    msg('u-msg', 'Added ' + role + ' ' + name + '.');
    await loadUsers();
  } catch (e) {
    const err = /** @type {any} */ (e);
    msg('u-msg', err && err.status === 409 ? 'An account called ' + name + ' already exists.' : explain(err, 'The new account'), true);
  }
});

byId('logout').addEventListener('click', async () => {
  try { await call('POST', '/api/logout', {}); } catch (e) { /* gone anyway */ }
  location.reload();
});

organise.init({ reload: (slug) => loadList(slug) });

async function main() {
  const user = await ensureStaff('admin');
  byId('who').textContent = 'Logged in as ' + user.name;
  byId('logout').hidden = false;
  byId('admin').hidden = false;
  const want = new URLSearchParams(location.search).get('c');
  try {
    await Promise.all([loadMailStatus(), loadList(want || null), loadUsers()]);
  } catch (e) {
    msg('new-msg', explain(/** @type {any} */ (e), 'Loading'), true);
  }
  document.body.classList.add('ready');
}

main();
