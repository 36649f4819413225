// The ways in on the participant page (issue 12): the open button and the
// access code stay in the sign-up form; this adds an invite code field, a
// work email sign-in (address, then the 6-digit code; the link in the
// email signs in by itself), "I have a return phrase" for coming back on
// another device, and the return phrase shown once after sign-up, with
// Copy and Save as a note.

import { call, conv } from '../api.js';
import { h, byId } from '../dom.js';
import { showPhrase } from '../phrase-panel.js';

/** @typedef {{ participant: any, return_phrase?: string }} SignedUp */

/** A problem's message for a field, if the server named it. @param {any} e @param {string} field */
function fieldMessage(e, field) {
  const errs = e && e.problem && Array.isArray(e.problem.errors) ? e.problem.errors : [];
  const hit = errs.find((/** @type {any} */ x) => x.field === field) || errs[0];
  if (e && e.status === 429) return 'Too many tries from here just now. Please wait a minute and try again.';
  if (e && e.status === 0) return 'You are offline. Please try again when you are back online.';
  // Messages name their field's value ("is not a return phrase: …"): say "This".
  if (hit && hit.message) return /^is /.test(hit.message) ? 'This ' + hit.message + '.' : hit.message.charAt(0).toUpperCase() + hit.message.slice(1) + '.';
  return (e && e.problem && e.problem.detail) || 'That did not work. Please try again.';
}

/** Sets a message line: text, and whether it is an error. @param {HTMLElement} el @param {string} text @param {boolean} bad */
function say(el, text, bad) {
  el.textContent = text;
  el.classList.toggle('bad', bad);
}

export class SignIn {
  /**
   * @param {string} slug
   * @param {(r: SignedUp, restored: boolean) => void} onJoined called once signed in:
   *   `restored` when this is a participant who already existed (their votes must be loaded).
   */
  constructor(slug, onJoined) {
    this.slug = slug;
    this.onJoined = onJoined;
    /** @type {string[]} */ this.ways = [];
    /** @type {string} */ this.attempt = '';
    this.form = /** @type {HTMLFormElement} */ (byId('signup'));
    this.build();
    // A link pasted into this tab changes only the fragment: no page load.
    window.addEventListener('hashchange', () => { this.inviteFromLink(); this.fromLink(); });
  }

  build() {
    const invite = h('div', { className: 'field invite-in', attrs: { id: 'invite-field', hidden: true } }, [
      h('label', { text: 'Or with an invite code', attrs: { for: 'invite-code' } }),
      h('input', { attrs: { id: 'invite-code', name: 'invite_code', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', 'aria-describedby': 'invite-hint' } }),
      h('p', { className: 'hint', text: 'The code on the card you were given, such as ABCDE-12345.', attrs: { id: 'invite-hint' } }),
    ]);
    const email = h('fieldset', { className: 'email-in', attrs: { id: 'email-in', hidden: true } }, [
      h('legend', { text: 'With your work email' }),
      h('p', { className: 'hint', attrs: { id: 'email-hint' } }),
      h('div', { className: 'field' }, [
        h('label', { text: 'Work email address', attrs: { for: 'email-address' } }),
        h('input', { attrs: { id: 'email-address', type: 'email', autocomplete: 'email', inputmode: 'email', spellcheck: 'false', 'aria-describedby': 'email-hint' } }),
      ]),
      h('button', { text: 'Email me a code', attrs: { type: 'button', id: 'email-send' }, on: { click: () => this.sendCode() } }),
      h('div', { className: 'field', attrs: { id: 'email-code-field', hidden: true } }, [
        h('label', { text: 'The 6-digit code from the email', attrs: { for: 'email-code' } }),
        h('input', { attrs: { id: 'email-code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '7', pattern: '[0-9 ]*' } }),
        h('button', { text: 'Sign in with the code', attrs: { type: 'button', id: 'email-verify' }, on: { click: () => this.verify() } }),
      ]),
      h('p', { className: 'msg', attrs: { id: 'email-msg', role: 'status', 'aria-live': 'polite' } }),
    ]);
    const back = h('details', { className: 'come-back', attrs: { id: 'come-back' } }, [
      h('summary', { text: 'I have a return phrase' }),
      h('p', { className: 'hint', text: 'Took part on another device? Type the five words you were given to carry on as yourself here.', attrs: { id: 'phrase-hint' } }),
      h('div', { className: 'field' }, [
        h('label', { text: 'Return phrase', attrs: { for: 'phrase-in' } }),
        h('input', { attrs: { id: 'phrase-in', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', 'aria-describedby': 'phrase-hint' } }),
      ]),
      h('button', { text: 'Come back', attrs: { type: 'button', id: 'phrase-go' }, on: { click: () => this.comeBack() } }),
      h('p', { className: 'msg', attrs: { id: 'phrase-msg', role: 'status', 'aria-live': 'polite' } }),
    ]);
    const submit = this.form.querySelector('button[type=submit]');
    this.form.insertBefore(email, submit);
    this.form.insertBefore(invite, submit);
    this.form.append(back);
    for (const [input, go] of [['email-address', () => this.sendCode()], ['email-code', () => this.verify()], ['phrase-in', () => this.comeBack()]]) {
      byId(/** @type {string} */ (input)).addEventListener('keydown', (ev) => {
        if (/** @type {KeyboardEvent} */ (ev).key === 'Enter') { ev.preventDefault(); /** @type {() => void} */ (go)(); }
      });
    }
  }

  /** Shows the fields of the ways this conversation takes. @param {any} c */
  conversation(c) {
    this.ways = Array.isArray(c.ways_in) ? c.ways_in : [];
    const has = (/** @type {string} */ w) => this.ways.includes(w);
    byId('code-field').hidden = !has('code');
    byId('invite-field').hidden = !has('invite');
    byId('email-in').hidden = !has('email');
    const domains = (c.email_domains || []).join(', ');
    byId('email-hint').textContent = 'We send a code to a work address at ' + domains + '. Nobody sees your address and chorus does not keep it.';
    const oneClick = has('open') || has('code') || has('invite');
    const submit = /** @type {HTMLElement} */ (this.form.querySelector('button[type=submit]'));
    submit.hidden = !oneClick;
    submit.textContent = has('open') || has('code') ? 'Sign up' : 'Sign up with the invite code';
    byId('invite-field').querySelector('label').textContent = has('email') ? 'Or with an invite code' : 'Invite code';
    const hint = /** @type {HTMLElement} */ (this.form.querySelector('.hint'));
    hint.textContent = has('open') ? 'Sign up to vote, comment and suggest ideas. It takes one click.'
      : has('email') && !oneClick ? 'Sign in with your work email to vote, comment and suggest ideas.'
        : 'Sign up to vote, comment and suggest ideas.';
  }

  /**
   * Adds the codes the sign-up form carries to `body`; returns what to fix, if anything.
   * @param {any} body
   * @returns {{ text: string, field: HTMLElement } | null}
   */
  fill(body) {
    const code = /** @type {HTMLInputElement} */ (byId('access-code'));
    const invite = /** @type {HTMLInputElement} */ (byId('invite-code'));
    if (this.ways.includes('invite') && invite.value.trim()) { body.invite_code = invite.value.trim(); return null; }
    if (this.ways.includes('code') && code.value.trim()) { body.access_code = code.value.trim(); return null; }
    if (this.ways.includes('open')) return null;
    if (this.ways.includes('code')) return { text: 'Please enter the access code you were given.', field: code };
    if (this.ways.includes('invite')) return { text: 'Please enter the invite code you were given.', field: invite };
    return null;
  }

  /** The profile answers chosen in the sign-up form. */
  profile() {
    /** @type {Record<string, string>} */
    const out = {};
    for (const sel of this.form.querySelectorAll('select[data-key]')) {
      const s = /** @type {HTMLSelectElement} */ (sel);
      if (s.value) out[s.dataset.key || ''] = s.value;
    }
    return out;
  }

  async sendCode() {
    const msg = byId('email-msg');
    const address = /** @type {HTMLInputElement} */ (byId('email-address'));
    if (!address.value.trim()) { say(msg, 'Please type your work email address.', true); address.focus(); return; }
    say(msg, 'Sending…', false);
    try {
      const r = await call('POST', conv(this.slug) + '/email-codes', { address: address.value.trim() });
      this.attempt = r.attempt;
      byId('email-code-field').hidden = false;
      say(msg, r.detail + ' Type the code here, or open the link in the email on this device.', false);
      byId('email-code').focus();
    } catch (e) {
      say(msg, fieldMessage(e, 'address'), true);
      address.focus();
    }
  }

  async verify() {
    const msg = byId('email-msg');
    const code = /** @type {HTMLInputElement} */ (byId('email-code'));
    if (!/^\s*\d{3}\s?\d{3}\s*$/.test(code.value)) { say(msg, 'Please type the 6 digits from the email.', true); code.focus(); return; }
    await this.verifyWith({ attempt: this.attempt, code: code.value.trim() }, msg, code);
  }

  /** The link in the email: `#signin=ATTEMPT.CODE` signs in by itself. */
  async fromLink() {
    const m = /^#signin=([0-9a-f]{32})\.(\d{6})$/.exec(location.hash);
    if (!m) return;
    history.replaceState(null, '', location.pathname + location.search);
    byId('email-in').hidden = false;
    byId('email-code-field').hidden = false;
    /** @type {HTMLInputElement} */ (byId('email-code')).value = m[2];
    const attempt = m[1].replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    await this.verifyWith({ attempt, code: m[2] }, byId('email-msg'), byId('email-code'));
  }

  /** The link on an invite card: `#invite=CODE` fills in the code. */
  inviteFromLink() {
    const m = /^#invite=([0-9A-Za-z-]{10,12})$/.exec(location.hash);
    if (!m) return;
    history.replaceState(null, '', location.pathname + location.search);
    /** @type {HTMLInputElement} */ (byId('invite-code')).value = m[1];
  }

  /** @param {any} body @param {HTMLElement} msg @param {HTMLElement} field */
  async verifyWith(body, msg, field) {
    say(msg, 'Checking the code…', false);
    try {
      const profile = this.profile();
      if (Object.keys(profile).length) body.profile = profile;
      const r = await call('POST', conv(this.slug) + '/email-codes/verify', body);
      say(msg, '', false);
      this.onJoined(r, !r.return_phrase);
    } catch (e) {
      say(msg, fieldMessage(e, 'code'), true);
      field.focus();
    }
  }

  async comeBack() {
    const msg = byId('phrase-msg');
    const input = /** @type {HTMLInputElement} */ (byId('phrase-in'));
    if (!input.value.trim()) { say(msg, 'Please type your return phrase.', true); input.focus(); return; }
    say(msg, 'Checking…', false);
    try {
      const r = await call('POST', conv(this.slug) + '/return', { phrase: input.value });
      say(msg, '', false);
      this.onJoined(r, true);
    } catch (e) {
      say(msg, fieldMessage(e, 'phrase'), true);
      input.focus();
    }
  }

  /**
   * Shows a new return phrase once, after `anchor`, and moves focus to it.
   * @param {string} phrase @param {HTMLElement} anchor
   */
  showPhrase(phrase, anchor) {
    showPhrase(phrase, anchor);
  }
}
