// The desk's audit log: the conversation's events (GET …/events), newest
// first, read on after each live event. What it says about an entry (who
// acted, why) also goes on the entry.

import { get } from '../api.js';
import { h, byId } from '../dom.js';
import { when } from '../time.js';
import { API } from './page.js';
import { entries, actedBy, actionText, rerender } from './entries.js';
import { scheduleRender } from './feed.js';

let auditSeq = 0;
let auditTimer = 0;
let auditBusy = false;
const auditBody = byId('audit');

/** Where the log starts: the last 2,000 events before `seq`. @param {number} seq */
export function startAuditAt(seq) { auditSeq = Math.max(0, seq - 2000); }

export function scheduleAudit() {
  clearTimeout(auditTimer);
  auditTimer = setTimeout(loadAudit, 150);
}

export async function loadAudit() {
  if (auditBusy) { scheduleAudit(); return; }
  auditBusy = true;
  try {
    for (let i = 0; i < 50; i++) {
      const r = await get(API + '/events?after=' + auditSeq + '&limit=500');
      const evs = (r && r.events) || [];
      for (const ev of evs) applyAudit(ev);
      if (!evs.length || evs.length < 500) break;
    }
  } catch (e) { /* the log catches up on the next event */ }
  finally { auditBusy = false; }
}

/** @param {any} ev */
function applyAudit(ev) {
  if (ev.seq <= auditSeq) return;
  auditSeq = ev.seq;
  const d = ev.data || {};
  const kind = d.kind || '';
  const action = d.action || '';
  const target = d.comment || d.item || null;
  const targetId = (target && target.id) || d.comment_id || (d.flag && d.flag.comment_id) || null;
  let what = kind + (action ? ' ' + action : '');
  let reason = d.reason || (target && action === 'hide' ? target.hidden_reason : '') || '';
  if (kind === 'comment' && target) what = (action === 'created' ? 'commented' : actionText(action).toLowerCase()) + ': “' + String(target.body).slice(0, 80) + '”';
  else if (kind === 'item' && target) what = (action === 'created' ? 'added ' + (target.kind || 'item') : actionText(action).toLowerCase() + ' ' + (target.kind || 'item')) + ': “' + String(target.title).slice(0, 80) + '”';
  else if (kind === 'flag') what = 'flagged a comment';
  else if (kind === 'conversation') what = 'changed the conversation';
  else if (kind === 'participant') what = (d.participant && d.participant.suspended ? 'suspended ' : 'reinstated ') + (d.participant ? d.participant.handle : 'a participant');
  if (kind === 'flag' && d.flag) reason = d.flag.reason || reason;
  if (targetId && entries.has(targetId)) {
    const e = /** @type {any} */ (entries.get(targetId));
    if (kind === 'flag') e.flagSeq = Math.max(e.flagSeq, ev.seq);
    else if (action === 'approve' || action === 'restore' || action === 'hide') e.reviewSeq = Math.max(e.reviewSeq, ev.seq);
    if ((kind === 'comment' || kind === 'item') && action && action !== 'created') actedBy.set(targetId, { who: ev.actor, action, reason: action === 'hide' ? reason : '' });
    rerender(targetId);
    scheduleRender();
  }
  const row = h('tr', {}, [
    h('td', {}, [h('time', { text: when(ev.created_at), attrs: { datetime: ev.created_at } })]),
    h('td', { text: ev.actor || '' }),
    h('td', { text: what }),
    h('td', { text: reason }),
  ]);
  auditBody.prepend(row);
  while (auditBody.children.length > 300) auditBody.lastElementChild?.remove();
}
