// One of the participant's own comments or ideas on "My contributions":
// its text, where it is, its status (and the facilitators' reason when they
// hid it), and Edit / Delete while those are allowed. User text only ever
// goes in through textContent.

import { h, uid } from './dom.js';

/** @param {any} status @param {string} kind 'comment'|'idea' */
export function statusText(status, kind) {
  switch (status) {
    case 'visible': return 'Visible to everyone';
    case 'pending': return kind === 'idea' ? 'Waiting for a facilitator to approve it' : 'Waiting for a facilitator to review it';
    case 'hidden': return 'Hidden by a facilitator';
    default: return String(status);
  }
}

/** "in 12 min" / "closed" for an editable_until instant. @param {string|null} until */
export function editLeft(until) {
  if (!until) return '';
  const ms = Date.parse(until) - Date.now();
  if (ms <= 0) return '';
  const min = Math.ceil(ms / 60000);
  return 'You can edit it for ' + (min <= 1 ? 'less than a minute' : min + ' more minutes') + '.';
}

/**
 * Builds an entry.
 * @param {{kind: 'comment'|'idea', data: any, where: string, editableUntil: string|null, answered: number,
 *          onEdit: (fields: {title?: string, body: string}) => Promise<void>, onDelete: () => Promise<void>,
 *          explain: (e: any, what: string) => string}} o
 */
export function entry(o) {
  const d = o.data;
  const li = h('li', { className: 'item mine-entry', attrs: { 'data-id': d.id, 'data-kind': o.kind, 'data-status': d.status } });
  const status = h('p', { className: 'mine-status', attrs: { 'data-status': d.status } }, [statusText(d.status, o.kind)]);
  if (d.status === 'hidden' && d.hidden_reason) {
    status.append(h('span', { className: 'reason', text: ': ' + d.hidden_reason }));
  }
  const where = h('p', { className: 'meta', text: o.where });
  const title = o.kind === 'idea' ? h('h3', { className: 'mine-title', text: d.title }) : null;
  const text = h('p', { className: 'body', text: d.body || '' });
  if (!d.body) text.hidden = true;
  const flags = h('p', { className: 'meta' });
  const notes = [];
  if (d.edited) notes.push('Edited');
  if (o.answered > 0) notes.push(o.kind === 'idea'
    ? o.answered + (o.answered === 1 ? ' response' : ' responses')
    : o.answered + (o.answered === 1 ? ' reply' : ' replies'));
  const left = editLeft(o.editableUntil);
  if (left) notes.push(left);
  flags.textContent = notes.join(' · ');
  const msg = h('p', { className: 'msg', attrs: { role: 'status' } });
  const actions = h('div', { className: 'row mine-actions' });
  const editB = h('button', { text: 'Edit', attrs: { type: 'button' } });
  const delB = h('button', { text: 'Delete', attrs: { type: 'button', 'aria-describedby': '' } });
  delB.className = 'danger-button';
  if (left) actions.append(editB);
  actions.append(delB);

  /** @param {string} text @param {boolean} [bad] */
  const say = (text, bad) => { msg.textContent = text; msg.classList.toggle('bad', !!bad); };

  editB.addEventListener('click', () => {
    const form = h('form', { className: 'cform mine-edit', attrs: { novalidate: true } });
    /** @type {HTMLInputElement|null} */
    let titleF = null;
    if (o.kind === 'idea') {
      const id = uid('title');
      titleF = h('input', { attrs: { id, maxlength: 120, autocomplete: 'off' } });
      titleF.value = d.title;
      form.append(h('div', { className: 'field' }, [h('label', { text: 'Your idea in a line', attrs: { for: id } }), titleF]));
    }
    const bid = uid('body');
    const bodyF = h('textarea', { attrs: { id: bid, rows: 4, maxlength: 2000 } });
    bodyF.value = d.body || '';
    form.append(h('div', { className: 'field' }, [h('label', { text: o.kind === 'idea' ? 'More detail' : 'Your comment', attrs: { for: bid } }), bodyF]));
    const save = h('button', { text: 'Save', attrs: { type: 'submit' } });
    const cancel = h('button', { text: 'Cancel', attrs: { type: 'button' } });
    form.append(h('div', { className: 'row' }, [cancel, save]));
    cancel.addEventListener('click', () => { form.remove(); actions.hidden = false; editB.focus(); });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      save.disabled = true;
      try {
        await o.onEdit(titleF ? { title: titleF.value, body: bodyF.value } : { body: bodyF.value });
      } catch (e) {
        say(o.explain(e, 'Your change'), true);
        save.disabled = false;
      }
    });
    actions.hidden = true;
    li.insertBefore(form, msg);
    (titleF || bodyF).focus();
  });

  delB.addEventListener('click', async () => {
    if (delB.dataset.armed !== 'yes') {
      delB.dataset.armed = 'yes';
      delB.textContent = 'Delete for good';
      say(o.answered > 0
        ? 'Press again to delete it. Its text goes; “deleted by its author” stays in its place so the ' + (o.kind === 'idea' ? 'comments on it' : 'replies') + ' still make sense.'
        : 'Press again to delete it. It disappears for everyone.');
      return;
    }
    delB.disabled = true;
    try {
      await o.onDelete();
    } catch (e) {
      say(o.explain(e, 'Deleting it'), true);
      delB.disabled = false;
    }
  });

  li.append(...[status, where, title, text, flags, actions, msg].filter((x) => x !== null));
  return li;
}
