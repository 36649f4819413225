// Refusals in a form's own words: the API names fields as docs/api.md does
// ("slug", "closes_at"); a person filling in the admin form sees "Address"
// and "Closes". Used by the admin page's forms.

import { ApiError, explain } from './api.js';

/** The admin form's label for each API field name. */
export const LABELS = {
  slug: 'Address',
  title: 'Title',
  introduction: 'Introduction',
  opens_at: 'Opens',
  closes_at: 'Closes',
  signup_mode: 'Who can sign up',
  access_code: 'Access code',
  moderation: 'Comments',
  ideas_need_approval: 'Ideas wait for approval',
  results_visibility: 'Who can read the results',
  results_while_open: 'Results while it runs',
  series: 'Earlier conversations in the series',
  support_contact: 'Support contact',
  profile_questions: '“About you” questions',
  archived: 'Archived',
  confirm: 'Type the address to confirm',
  order: 'Order',
  kind: 'Kind',
  body: 'Text',
  position: 'Position',
  name: 'Name',
  role: 'Role',
  password: 'Password',
  word_list: 'Word list',
};

/** @param {string} field */
export function label(field) {
  const head = field.split('.')[0];
  return /** @type {Record<string,string>} */ (LABELS)[head] || field;
}

/**
 * Like api.js's explain, but a 422 names each field by its label.
 * @param {any} e @param {string} what
 */
export function explainForm(e, what) {
  if (e instanceof ApiError && e.status === 422) {
    const errs = Array.isArray(e.problem.errors) ? e.problem.errors : [];
    if (errs.length) {
      return what + ' was not accepted: ' + errs.map((/** @type {any} */ x) => (x.field ? label(x.field) + ': ' : '') + x.message).join('; ') + '.';
    }
  }
  return explain(e, what);
}
