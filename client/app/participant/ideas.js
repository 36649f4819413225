// "Suggest an idea" on the participant page: the form (its draft kept) and
// what the outbox says about a suggestion.

import { uuid, explain } from '../api.js';
import { byId } from '../dom.js';
import { bindDraft, writeDraft } from '../drafts.js';
import { API, slug, say, setMsg } from './page.js';
import { queue, handle } from './outbox.js';
import { canAct } from './signup.js';
import { upsertItem } from './items.js';

export function wireIdeas() {
  const ideaForm = /** @type {HTMLFormElement} */ (byId('idea-form'));
  const title = /** @type {HTMLInputElement} */ (byId('idea-title'));
  const ibody = /** @type {HTMLTextAreaElement} */ (byId('idea-body'));
  bindDraft(title, slug + ':idea:title');
  bindDraft(ibody, slug + ':idea:body');
  ideaForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const msg = byId('idea-msg');
    if (!canAct(msg)) return;
    const t = title.value.trim();
    if (!t) { setMsg(msg, 'Please write your idea in a line.', true); title.focus(); return; }
    if (t.length > 120) { setMsg(msg, 'Please keep the idea\u2019s line to 120 characters; add detail below.', true); return; }
    queue.add({ key: uuid(), kind: 'idea', method: 'POST', path: API + '/ideas', body: { id: uuid(), title: t, body: ibody.value }, meta: {} });
    title.value = ''; ibody.value = '';
    writeDraft(slug + ':idea:title', ''); writeDraft(slug + ':idea:body', '');
    setMsg(msg, navigator.onLine === false ? 'You are offline: your idea will be sent when you are back online.' : 'Sending your idea…', false);
  });
}

handle('idea', {
  done(a, data) {
    const it = data && data.item;
    const msg = it && it.status === 'pending'
      ? 'Thank you. Your idea will appear once a facilitator has looked at it.'
      : 'Thank you. Your idea is now visible to everyone.';
    setMsg(byId('idea-msg'), msg, false);
    if (it && it.status === 'visible') upsertItem(it);
  },
  refused(a, e) {
    const t = byId('idea-title');
    if (t instanceof HTMLInputElement && !t.value) { t.value = a.body.title; writeDraft(slug + ':idea:title', t.value); }
    const b = byId('idea-body');
    if (b instanceof HTMLTextAreaElement && !b.value) { b.value = a.body.body || ''; writeDraft(slug + ':idea:body', b.value); }
    setMsg(byId('idea-msg'), explain(e, 'Your idea'), true);
    say.say(explain(e, 'Your idea'));
  },
  wait(a, e, text) { setMsg(byId('idea-msg'), text, false); },
});
