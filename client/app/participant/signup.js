// Signing up on the participant page: the sign-up form, "You are taking part
// as …", and the rule every action goes through (`canAct`): open, signed up,
// not suspended. Votes tapped before signing up wait in `wait`
// (../signup-wait.js) and are sent right after.

import { call, explain, ApiError } from '../api.js';
import { showSupport } from '../support.js';
import { byId, h, uid } from '../dom.js';
import { stateOf } from '../time.js';
import { SignupWait, SIGNUP_FIRST } from '../signup-wait.js';
import { API, slug, say, page, me, setMsg } from './page.js';
import { queue, whenUnauthorized } from './outbox.js';
import { views } from './items.js';
import { renderAllComments } from './comments.js';
import { SignIn } from './signin.js';

export const wait = new SignupWait();
whenUnauthorized(() => showSignup());

/** Whether the participant may act now; otherwise explains why in `el`. @param {HTMLElement} el */
export function canAct(el) {
  if (!page.open) {
    setMsg(el, stateOf(page.C) === 'upcoming' ? 'This conversation has not opened yet.' : 'This conversation is closed: you can still read it.', true);
    return false;
  }
  if (!me.participant) {
    wait.note(el, SIGNUP_FIRST);
    showSignup(true);
    return false;
  }
  if (me.participant.suspended) {
    setMsg(el, 'Your participation has been paused by a facilitator.', true);
    return false;
  }
  return true;
}

/** @param {boolean} [focus] */
export function showSignup(focus) {
  const f = byId('signup');
  f.hidden = false;
  if (focus) {
    f.scrollIntoView({ block: 'center' });
    const first = /** @type {HTMLElement|null} */ (f.querySelector('input:not([hidden]), select, button'));
    const code = byId('code-field');
    if (!code.hidden) byId('access-code').focus(); else if (first) first.focus();
  }
}

export function renderMe() {
  const el = byId('me');
  if (me.participant) {
    el.textContent = 'You are taking part as ' + me.participant.handle + '. ';
    el.append(h('a', { text: 'My contributions', attrs: { href: '/c/' + encodeURIComponent(slug) + '/mine', id: 'mine-link' } }));
    el.hidden = false;
    byId('signup').hidden = true;
  } else {
    el.hidden = true;
    byId('signup').hidden = !page.open;
  }
  document.body.dataset.joined = String(!!me.participant);
}

/** The sign-up form's parts that depend on the conversation: access code and profile questions. @param {any} c */
export function renderSignupFields(c) {
  signIn.conversation(c);
  showSupport(byId('support'), c.support_contact);
  const qs = Array.isArray(c.profile_questions) ? c.profile_questions : [];
  const pf = byId('profile-fields');
  if (!pf.childElementCount && qs.length) {
    for (const q of qs) {
      const id = uid('pq');
      const sel = h('select', { attrs: { id, 'data-key': q.key } }, [h('option', { text: 'Prefer not to say', attrs: { value: '' } })]);
      for (const ch of q.choices || []) sel.append(h('option', { text: ch, attrs: { value: ch } }));
      pf.append(h('div', { className: 'field' }, [h('label', { text: q.label, attrs: { for: id } }), sel]));
    }
  }
  byId('profile').hidden = !qs.length;
}

/**
 * Signed in, by any way in (signin.js calls this too). A participant who
 * already existed (email again, a return phrase) brings their votes and
 * comments: the page loads again, signed in. A new one is shown their
 * return phrase once.
 * @param {{participant: any, return_phrase?: string}} r @param {boolean} restored
 */
function joined(r, restored) {
  if (restored) { location.replace(location.pathname + location.search); return; }
  me.participant = r.participant;
  renderMe();
  say.say('You are signed up as ' + r.participant.handle + '. You can now vote and comment.');
  const meEl = byId('me');
  meEl.tabIndex = -1;
  meEl.focus();
  if (page.live) page.live.restart();
  wait.done((item, choice) => views.get(item)?.vote(/** @type {'strong'|'wrong'} */ (choice)));
  renderAllComments();
  queue.flush();
  if (r.return_phrase) signIn.showPhrase(r.return_phrase, meEl);
}

/** The ways in beyond the one-click form: invite, work email, return phrase. */
export const signIn = new SignIn(slug, joined);

export function wireSignup() {
  const params = new URLSearchParams(location.search);
  const code = /** @type {HTMLInputElement} */ (byId('access-code'));
  if (params.get('code')) code.value = params.get('code') || '';
  const signup = /** @type {HTMLFormElement} */ (byId('signup'));
  signup.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const msg = byId('signup-msg');
    /** @type {any} */
    const body = {};
    const missing = signIn.fill(body);
    if (missing) { setMsg(msg, missing.text, true); missing.field.focus(); return; }
    /** @type {Record<string, string>} */
    const profile = {};
    for (const sel of signup.querySelectorAll('select[data-key]')) {
      const s = /** @type {HTMLSelectElement} */ (sel);
      if (s.value) profile[s.dataset.key || ''] = s.value;
    }
    if (Object.keys(profile).length) body.profile = profile;
    setMsg(msg, 'Signing you up…', false);
    const btn = /** @type {HTMLButtonElement} */ (signup.querySelector('button[type=submit]'));
    btn.disabled = true;
    try {
      const r = await call('POST', API + '/participants', body);
      setMsg(msg, '', false);
      joined(r, false);
    } catch (e) {
      const err = /** @type {ApiError} */ (e);
      const problem = JSON.stringify(err.problem || {});
      const invite = err.status === 422 && /"invite_code"/.test(problem) ? err.problem.errors[0].message : '';
      const text = invite ? (/^is /.test(invite) ? 'This ' + invite : invite.charAt(0).toUpperCase() + invite.slice(1)) + '.'
        : err.status === 403 || err.status === 401 || err.status === 422 && /access/i.test(problem)
          ? 'That access code was not accepted. Please check it and try again.'
          : explain(err, 'Signing up');
      setMsg(msg, text, true);
      say.say(text);
    } finally {
      btn.disabled = false;
    }
  });
}
