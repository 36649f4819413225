// The admin page's organising sections: results visibility and series,
// the support contact, the "About you" questions (before opening), and
// archiving or deleting a conversation. admin.js owns the conversation
// list and calls show() whenever the selected conversation changes.

import { call, conv, seg } from './api.js';
import { h, byId } from './dom.js';
import { explainForm } from './form-errors.js';

/** @type {any} */ let C = null;
/** @type {(slug: string|null) => Promise<void>} */ let reload = async () => {};

/** @param {string} id */
const input = (id) => /** @type {HTMLInputElement} */ (byId(id));

/** @param {string} id @param {string} text @param {boolean} [bad] */
function msg(id, text, bad) {
  const el = byId(id);
  el.textContent = text;
  el.classList.toggle('bad', !!bad);
  el.classList.toggle('good', !bad && !!text);
}

/** Sends a change; shows the result under the form. @param {any} body @param {string} out @param {string} done */
async function patch(body, out, done) {
  try {
    const r = await call('PATCH', conv(C.slug), body);
    if (r && r.conversation) show(r.conversation);
    msg(out, done);
    return r && r.conversation;
  } catch (e) {
    msg(out, explainForm(e, 'The change'), true);
    return null;
  }
}

/** "About you" questions as text: one per line, "Question: choice, choice". @param {any[]} qs */
const questionsText = (qs) => (qs || []).map((q) => q.label + ': ' + q.choices.join(', ')).join('\n');

/** @param {string} text @param {any[]} before */
function parseQuestions(text, before) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((line, n) => {
    const at = line.lastIndexOf(':');
    const lab = (at > 0 ? line.slice(0, at) : line).trim();
    const choices = (at > 0 ? line.slice(at + 1) : '').split(',').map((c) => c.trim()).filter(Boolean);
    const old = (before || []).find((q) => q.label === lab) || null;
    const key = old ? old.key : (lab.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40) || 'question_' + (n + 1));
    return { key, label: lab, choices };
  });
}

/** Shows the selected conversation's organising settings. @param {any} c */
export function show(c) {
  C = c;
  input('o-visibility').value = c.results_visibility || 'public';
  input('o-while-open').checked = c.results_while_open !== false;
  input('o-tallies').value = c.tallies_visible || 'always';
  input('o-series').value = (c.series || []).join(', ');
  input('o-support').value = c.support_contact || '';
  const q = /** @type {HTMLTextAreaElement} */ (byId('o-questions'));
  q.value = questionsText(c.profile_questions);
  const upcoming = c.state === 'upcoming';
  q.readOnly = !upcoming;
  /** @type {HTMLButtonElement} */ (byId('o-questions-save')).disabled = !upcoming;
  byId('o-questions-hint').textContent = upcoming
    ? 'One question per line: the question, a colon, then the choices separated by commas. Participants may skip any question.'
    : 'The conversation has opened: the questions can no longer change, because answers already given would no longer match.';
  byId('o-archived').textContent = c.archived
    ? 'Archived: hidden from the list of conversations. Its link and its report still work.'
    : 'Listed on the front page.';
  byId('o-archive').textContent = c.archived ? 'Put back on the list' : 'Archive';
  /** @type {HTMLAnchorElement} */ (byId('o-export')).href = conv(c.slug) + '/export.json';
  input('o-confirm').value = '';
  /** @type {HTMLButtonElement} */ (byId('o-delete')).disabled = true;
  byId('o-confirm-hint').textContent = 'Type ' + c.slug + ' to confirm.';
  for (const id of ['o-results-msg', 'o-support-msg', 'o-questions-msg', 'o-archive-msg', 'o-delete-msg']) msg(id, '');
}

/** The links of one conversation: its pages for people, staff and screens. @param {string} slug */
export function pageLinks(slug) {
  const s = seg(slug);
  const a = (/** @type {string} */ text, /** @type {string} */ href) => h('a', { text, attrs: { href } });
  return h('p', { className: 'conv-links' }, [
    a('Participant page', '/c/' + s), ' · ', a('Report', '/report/' + s), ' · ',
    a('Desk', '/desk/' + s), ' · ', a('Display', '/display/' + s),
  ]);
}

/** @param {{reload: (slug: string|null) => Promise<void>}} hooks */
export function init(hooks) {
  reload = hooks.reload;
  byId('o-results-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const series = input('o-series').value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
    patch({
      results_visibility: input('o-visibility').value,
      results_while_open: input('o-while-open').checked,
      tallies_visible: input('o-tallies').value,
      series,
    }, 'o-results-msg', 'Saved: who can read the results, when participants see the counts, and the series.');
  });
  byId('o-support-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = input('o-support').value.trim();
    patch({ support_contact: v }, 'o-support-msg', v ? 'Saved: participants see “' + v + '”.' : 'Removed the support contact.');
  });
  byId('o-questions-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const qs = parseQuestions(/** @type {HTMLTextAreaElement} */ (byId('o-questions')).value, C.profile_questions);
    patch({ profile_questions: qs }, 'o-questions-msg', 'Saved the “About you” questions.');
  });
  byId('o-archive').addEventListener('click', async () => {
    const archived = !C.archived;
    const done = await patch({ archived }, 'o-archive-msg', archived ? 'Archived.' : 'Back on the list.');
    if (done) await reload(C.slug);
  });
  input('o-confirm').addEventListener('input', () => {
    /** @type {HTMLButtonElement} */ (byId('o-delete')).disabled = input('o-confirm').value.trim() !== C.slug;
  });
  byId('o-delete-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const slug = C.slug;
    try {
      await call('DELETE', conv(slug), { confirm: input('o-confirm').value.trim() });
      msg('o-delete-msg', 'Deleted ' + slug + '.');
      byId('manage').hidden = true;
      history.replaceState(null, '', '/admin');
      await reload(null);
      msg('new-msg', 'Deleted the conversation ' + slug + ' and everything in it.');
    } catch (e) {
      msg('o-delete-msg', explainForm(e, 'Deleting'), true);
    }
  });
}
