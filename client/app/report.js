// The report page (/report/{slug}): organisers see the full report,
// participants and visitors the public results when the conversation allows
// it. Everything comes from GET /api/conversations/{slug}/report (docs/report.md);
// user text only ever goes in through textContent (dom.js).

import { get, conv, ApiError } from './api.js';
import { h, byId } from './dom.js';
import { opinionView } from './opinion.js';
import { renderAllComments } from './report-comments.js';
import { refusal } from './report-access.js';

const slug = decodeURIComponent(location.pathname.split('/')[2] || '');
const API = conv(slug);

/** A share as a percentage with one decimal, or an en dash. @param {number|null|undefined} x */
const pct = (x) => (x == null ? '–' : (x * 100).toFixed(1) + '%');
/** @param {number} n */
const num = (n) => Number(n).toLocaleString('en-GB');
/** "1 reply", "2 replies": a count with its noun in the right number. */
const count = (n, one, many) => num(n) + ' ' + (Number(n) === 1 ? one : many);
/** @param {string} iso */
const when = (iso) => new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC';
/** @param {string} iso */
const day = (iso) => new Date(iso).toLocaleDateString('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });

/** A small bar for a share, drawn with a CSSOM width (allowed by the CSP). */
function bar(share, interval) {
  const fill = h('span', { className: 'r-fill' });
  fill.style.width = ((share || 0) * 100).toFixed(1) + '%';
  const ci = h('span', { className: 'r-ci' });
  if (interval) {
    ci.style.left = (interval[0] * 100).toFixed(1) + '%';
    ci.style.width = ((interval[1] - interval[0]) * 100).toFixed(1) + '%';
  }
  return h('span', { className: 'r-bar', attrs: { 'aria-hidden': 'true' } }, [fill, interval ? ci : null]);
}

/** "70.6% (46.9–86.7%)" with its bar. */
function supportCell(share, interval) {
  const text = share == null ? 'no votes' : pct(share) + (interval ? ' (' + pct(interval[0]) + '–' + pct(interval[1]) + ')' : '');
  return h('td', { className: 'r-support' }, [h('span', { text }), share == null ? null : bar(share, interval)]);
}

function kindLabel(item) {
  if (item.kind === 'pledge' || item.kind === 'topic') {
    const k = item.kind === 'pledge' ? 'Pledge' : 'Topic';
    return item.status === 'removed' ? k + ' (removed)' : k;
  }
  return item.status === 'visible' ? 'Idea' : 'Idea (' + item.status + ')';
}

function renderTotals(r) {
  const t = r.totals;
  const rows = [
    ['People taking part', num(t.participants)],
    ['People who voted', num(t.voters)],
    ['Votes', num(t.votes) + ' (' + num(t.strong) + ' strong, ' + num(t.wrong) + ' wrong)'],
    ['Comments', count(t.comments, 'comment', 'comments') + ' and ' + count(t.replies, 'reply', 'replies') + ', by ' + count(t.commenters, 'person', 'people')],
    ['Pledges, topics and ideas', count(t.pledges, 'pledge', 'pledges') + ', ' + (t.topics ? count(t.topics, 'topic', 'topics') + ', ' : '') + count(t.ideas, 'idea', 'ideas')],
  ];
  if (t.hidden_comments != null) rows.push(['Hidden by moderators', count(t.hidden_comments, 'comment', 'comments') + ' (not counted above)']);
  if (t.pending_comments != null) rows.push(['Awaiting approval', count(t.pending_comments, 'comment', 'comments') + ' (not counted above)']);
  if (r.ways_in) rows.push(['How people came in', waysInText(r.ways_in)]);
  byId('totals').replaceChildren(...rows.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]));
}

/** The report's statement of ways in (docs/report.md, "How people came in"). */
function waysInText(w) {
  const names = { open: 'the open link', code: 'an access code', email: 'a verified work email', invite: 'a single-use invite' };
  const used = Object.entries(w.used || {}).map(([way, n]) => num(n) + ' by ' + (names[way] || way));
  const verified = num(w.verified) + ' verified (work email or invite), ' + num(w.unverified) + ' not';
  const voice = w.one_person_one_voice
    ? 'One person, one voice: each participant is one person.'
    : 'Not one person, one voice: by the open link or an access code one person can sign up more than once, so figures count sign-ups.';
  return (used.length ? used.join(', ') + '; ' : '') + verified + '. ' + voice;
}

function renderItems(r) {
  const organisers = r.view === 'organisers';
  const cols = ['Pledge or idea', 'Strong', 'Wrong', 'Voters', 'Support (95% interval)', 'Split', 'Groups differ most', 'Comments', 'Replies'];
  if (organisers) cols.push('Hidden', 'Pending');
  byId('items-head').replaceChildren(...cols.map((c) => h('th', { text: c, attrs: { scope: 'col' } })));
  const body = byId('items').tBodies[0];
  body.replaceChildren(...r.items.map((i) => {
    const gap = i.divisiveness.group_gap;
    const gapText = gap ? (gap.gap * 100).toFixed(1) + ' points' + ': ' + gap.highest + ' ' + pct(gap.highest_support) + ', ' + gap.lowest + ' ' + pct(gap.lowest_support) : '–';
    // A discussion topic takes no votes: no vote figures at all.
    const topic = i.kind === 'topic';
    const votes = topic ? [
      h('td', { className: 'r-novote', text: 'comments only', attrs: { colspan: 6 } }),
    ] : [
      h('td', { text: num(i.strong) }),
      h('td', { text: num(i.wrong) }),
      h('td', { text: num(i.voters) }),
      supportCell(i.support, i.interval),
      h('td', { text: pct(i.divisiveness.split) }),
      h('td', { className: 'r-gap', text: gapText }),
    ];
    const cells = [
      h('th', { attrs: { scope: 'row' } }, [h('span', { className: 'r-kind', text: kindLabel(i) }), h('span', { text: i.title })]),
      ...votes,
      h('td', { text: num(i.comments) }),
      h('td', { text: num(i.replies) }),
    ];
    if (organisers) cells.push(h('td', { text: num(i.hidden_comments || 0) }), h('td', { text: num(i.pending_comments || 0) }));
    return h('tr', { attrs: { 'data-id': i.id } }, cells);
  }));
  const ranked = (list, fmt) => list.map((x) => h('li', {}, [h('span', { text: x.title }), h('span', { className: 'r-value', text: ' ' + fmt(x.value) })]));
  byId('by-support').replaceChildren(...ranked(r.rankings.by_support, pct));
  byId('by-engagement').replaceChildren(...ranked(r.rankings.by_engagement, num));
  if (!r.rankings.by_support.length) byId('by-support').replaceChildren(h('li', { text: 'No votes yet.' }));

  const ups = (c) => c.up + ' up-vote' + (c.up === 1 ? '' : 's');
  const top = r.items.filter((i) => i.top_comments.length || (i.bridging_comments || []).length);
  byId('top-comments').replaceChildren(...(top.length ? top.map((i) => h('div', { className: 'r-top', attrs: { 'data-id': i.id } }, [
    h('h4', { text: i.title }),
    i.top_comments.length ? h('ol', { className: 'r-quotes' }, i.top_comments.map((c) => quote(c, ups(c)))) : null,
    // Up-voted in every opinion group (docs/analysis-method.md, bridging).
    (i.bridging_comments || []).length ? h('div', { className: 'r-bridging' }, [
      h('h5', { text: 'Agreed across groups' }),
      h('ol', { className: 'r-quotes' }, i.bridging_comments.map((c) => quote(c, ups(c) + ', from every opinion group'))),
    ]) : null,
  ])) : [h('p', { className: 'r-help', text: 'No comment has been up-voted yet.' })]));
}

function renderOpinion(r) {
  byId('opinion-help').textContent = 'People placed by how they voted, not by who they are: people who voted alike form a group. ' +
    'Nobody’s group is given out, only counts and shares, and no group of fewer than ' + r.suppression.min_group_size + ' people is shown. ' +
    '“Agreed across groups” under each pledge’s comments marks comments up-voted in every group.';
  const o = r.opinion;
  if (!o) {
    byId('opinion').replaceChildren(h('p', { className: 'r-note', text: 'The opinion groups are published when the conversation closes.' }));
    return;
  }
  byId('opinion').replaceChildren(opinionView(o, { map: API + '/report/opinion.svg', prefix: 'opinion', title: r.conversation.title, minGroup: r.suppression.min_group_size }));
}

/** A quoted comment: its text, handle, a detail and a link to it in context. */
function quote(c, detail) {
  return h('li', { className: 'r-quote' }, [
    h('blockquote', {}, [h('p', { text: c.body })]),
    h('p', { className: 'r-by' }, [
      h('span', { text: '— ' + c.handle + (c.reply ? ' (reply)' : '') + ', ' + detail + ' · ' }),
      h('a', { text: 'Read in context', attrs: { href: c.link } }),
    ]),
  ]);
}

function renderGroups(r) {
  byId('suppression').textContent = r.suppression.note;
  const titles = new Map(r.items.map((i) => [i.id, i.title]));
  const parts = [];
  for (const b of r.groups) {
    parts.push(h('h3', { text: b.label }));
    if (!b.groups.length) {
      parts.push(h('p', { className: 'r-help', text: 'No group is large enough to show.' }));
      continue;
    }
    const capId = 'groups-' + b.question;
    const head = h('tr', {}, [
      h('th', { text: 'Group', attrs: { scope: 'col' } }),
      h('th', { text: 'People', attrs: { scope: 'col' } }),
      h('th', { text: 'Voted', attrs: { scope: 'col' } }),
      ...r.items.map((i) => h('th', { text: i.title, attrs: { scope: 'col' } })),
    ]);
    // A withheld figure (too few voters, or it would give a small group
    // away by subtraction: docs/report.md) is an en dash.
    const count = (n) => (n == null ? '–' : num(n));
    const rows = b.groups.map((g) => h('tr', {}, [
      h('th', { text: g.name, attrs: { scope: 'row' } }),
      h('td', { text: count(g.participants) }),
      h('td', { text: count(g.voters) }),
      ...g.items.map((c) => h('td', {
        text: !c.suppressed && c.voters ? pct(c.support) + ' of ' + num(c.voters) : '–',
        attrs: { title: (titles.get(c.item_id) || '') + (c.suppressed ? ' (withheld to protect anonymity)' : '') },
      })),
    ]));
    parts.push(h('div', { className: 'r-scroll', attrs: { tabindex: 0, role: 'region', 'aria-labelledby': capId } }, [
      h('table', { className: 'r-table r-groups', attrs: { 'data-question': b.question } }, [
        h('caption', { text: 'Support per pledge and idea, by ' + b.label.replace(/\?$/, '').toLowerCase(), attrs: { id: capId } }),
        h('thead', {}, [head]),
        h('tbody', {}, rows),
      ]),
    ]));
  }
  byId('groups').replaceChildren(...parts);
}

function renderTimeline(r) {
  const t = r.timeline;
  const img = /** @type {HTMLImageElement} */ (byId('chart'));
  img.alt = 'Bar charts of sign-ups, votes and comments per day' +
    (t.days.length ? ' from ' + t.days[0].date + ' to ' + t.days[t.days.length - 1].date : '') +
    '. The numbers are in the table “The numbers per day” below.';
  img.src = API + '/report/chart.svg';
  const caption = [];
  if (t.display_days.length) caption.push('Shaded: event days when a display screen showed the conversation live (' + t.display_days.join(', ') + ').');
  for (const e of t.extensions) caption.push('Dashed line: on ' + day(e.at) + ' the deadline was extended' + (e.from ? ' from ' + when(e.from) : '') + ' to ' + when(e.to) + '.');
  if (!caption.length) caption.push('No event days and no deadline extension so far.');
  byId('chart-caption').textContent = caption.join(' ');

  const cmp = t.comparison;
  if (cmp) {
    // A rate over less than a day says nothing: show the count alone.
    const cell = (p, key) => num(p[key]) + (p.days >= 1 ? ' (' + p[key + '_per_day'].toFixed(1) + ' a day)' : '');
    const span = (p) => (p.days >= 1 ? p.days.toFixed(1) + ' days' : 'less than a day');
    const row = (label, key) => h('tr', {}, [
      h('th', { text: label, attrs: { scope: 'row' } }),
      h('td', { text: cell(cmp.before, key) }),
      h('td', { text: cell(cmp.after, key) }),
    ]);
    byId('comparison').replaceChildren(h('div', { className: 'r-scroll', attrs: { tabindex: 0, role: 'region', 'aria-labelledby': 'cmp-caption' } }, [
      h('table', { className: 'r-table', attrs: { id: 'comparison-table' } }, [
        h('caption', { text: 'Before and after the deadline was extended (' + when(cmp.split_at) + ')', attrs: { id: 'cmp-caption' } }),
        h('thead', {}, [h('tr', {}, [
          h('th', { text: 'Activity', attrs: { scope: 'col' } }),
          h('th', { text: 'Before: ' + span(cmp.before), attrs: { scope: 'col' } }),
          h('th', { text: 'After: ' + span(cmp.after), attrs: { scope: 'col' } }),
        ])]),
        h('tbody', {}, [row('Sign-ups', 'signups'), row('Votes', 'votes'), row('Comments', 'comments')]),
      ]),
    ]));
  } else {
    byId('comparison').replaceChildren();
  }
  byId('days').tBodies[0].replaceChildren(...t.days.map((d) => h('tr', {}, [
    h('th', { text: d.date, attrs: { scope: 'row' } }),
    h('td', { text: num(d.signups) }),
    h('td', { text: num(d.votes) }),
    h('td', { text: num(d.comments) }),
    h('td', { text: [d.display ? 'event day' : '', d.extended ? 'deadline extended' : ''].filter(Boolean).join(', ') }),
  ])));
}

function renderThemes(r) {
  const parts = r.themes.map((p) => {
    const body = p.terms.length
      ? h('ul', { className: 'r-terms' }, p.terms.map((t) => h('li', {}, [
        h('p', { className: 'r-term' }, [h('strong', { text: t.term }), h('span', { text: ' — in ' + num(t.comments) + ' of ' + count(p.comments, 'comment', 'comments') })]),
        h('ul', { className: 'r-quotes' }, t.examples.map((c) => quote(c, c.up + ' up-vote' + (c.up === 1 ? '' : 's')))),
      ])))
      : h('p', { className: 'r-help', text: p.comments ? 'No word or phrase comes up in more than one comment yet.' : 'No comments yet.' });
    return h('div', { className: 'r-theme' }, [h('h3', { text: p.title }), body]);
  });
  byId('themes').replaceChildren(...(parts.length ? parts : [h('p', { className: 'r-help', text: 'No pledges yet.' })]));
}

function renderDownloads() {
  const links = [
    ['report.csv?table=items', 'Pledges and ideas (CSV)'],
    ['report.csv?table=comments', 'Comments (CSV)'],
    ['report.csv?table=groups', 'Groups (CSV)'],
    ['report.csv?table=days', 'Participation per day (CSV)'],
    ['export.json', 'Everything (JSON)'],
  ];
  byId('downloads').replaceChildren(...links.map(([path, label]) => h('li', {}, [h('a', { text: label, attrs: { href: API + '/' + path, download: '' } })])));
}

function render(r) {
  const c = r.conversation;
  document.title = 'Report: ' + c.title + ' · chorus';
  byId('title').textContent = (r.view === 'organisers' ? 'Report: ' : 'Results: ') + c.title;
  byId('status').textContent = c.is_final
    ? 'Final results. The conversation closed on ' + when(c.closes_at) + '.'
    : c.state === 'open'
      ? 'Live results as of ' + when(r.generated_at) + '. The conversation is open until ' + when(c.closes_at) + '; figures will change.'
      : 'The conversation opens on ' + when(c.opens_at) + '.';
  const note = byId('view-note');
  if (r.view === 'organisers') {
    note.textContent = 'Organisers’ view: it includes hidden and pending ideas and counts hidden and pending comments separately. Participants see the results without them.';
    note.hidden = false;
  } else {
    note.hidden = true;
  }
  renderTotals(r);
  renderItems(r);
  renderGroups(r);
  renderOpinion(r);
  renderTimeline(r);
  renderThemes(r);
  renderAllComments(byId('all-comments'), API, r);
  renderDownloads();
  byId('generated').textContent = 'Report generated ' + when(r.generated_at) + '.';
  byId('report').hidden = false;
}

async function main() {
  byId('to-conversation').setAttribute('href', '/c/' + encodeURIComponent(slug));
  byId('print').addEventListener('click', () => window.print());
  // Closed details print as nothing: open them for printing.
  window.addEventListener('beforeprint', () => { for (const d of document.querySelectorAll('details')) d.open = true; });
  try {
    render(await get(API + '/report'));
    document.body.dataset.state = 'ready';
  } catch (e) {
    const status = e instanceof ApiError ? e.status : 0;
    byId('title').textContent = status === 404 ? 'No such conversation' : 'Results not available';
    if (status === 401 || status === 403) {
      await refusal(byId('status'), slug, /** @type {ApiError} */ (e));
    } else {
      byId('status').textContent = status === 404
        ? 'There is no conversation at this address.'
        : 'The report could not be loaded (' + (e instanceof Error ? e.message : String(e)) + '). Please try again.';
    }
    document.body.dataset.state = 'error';
  }
  document.body.classList.add('ready');
}

main();
