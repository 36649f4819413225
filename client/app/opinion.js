// The opinion groups (issue 14) as the report and the desk show them: the
// map (the server's SVG), a table of the groups and what sets each apart, the
// comments each group up-voted most, common ground, common rejection and what
// divides the groups. It renders the `opinion` object of
// GET …/report and GET …/opinion (src/report/opinion.rs; the method is in
// docs/analysis-method.md). User text only through textContent (dom.js).

import { h } from './dom.js';

/** The map's group colours (src/report/opinion_map.rs), for the table's swatches. */
const COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00'];

/** @param {number|null|undefined} x */
const pct = (x) => (x == null ? '–' : Math.round(x * 100) + '%');
/** @param {number} n */
const num = (n) => Number(n).toLocaleString('en-GB');
/** @param {number} n @param {string} one @param {string} [many] */
const plural = (n, one, many) => num(n) + ' ' + (n === 1 ? one : many || one + 's');

/** Why there are no clear groups, in plain words. @param {any} o @param {number} [minGroup] */
function unclearReason(o, minGroup) {
  switch (o.unclear) {
    case 'too_few_placed':
      return 'Too few people are placed to look for groups: ' + num(o.placed) + ' so far' +
        (minGroup ? ', and it takes at least ' + num(2 * minGroup) + ' (twice the smallest group shown).' : '.');
    case 'no_spread':
      return 'Everyone placed voted alike, so there is nothing to divide them by.';
    case 'weak_separation':
      return 'The people placed do not fall into groups that stand clearly apart.';
    case 'groups_too_small':
      return 'Fewer than two groups are large enough to show without risking anyone’s anonymity.';
    case 'like_chance':
      return 'The groups found are no clearer than groups found in the same votes shuffled at random between people.';
    default:
      return 'The votes do not show distinct groups.';
  }
}

/** The group's name with its map colour. @param {any} g @param {number} i */
function groupName(g, i) {
  const swatch = h('span', { className: 'op-swatch', attrs: { 'aria-hidden': 'true' } });
  swatch.style.backgroundColor = COLOURS[i] || '#9aa0a6';
  return [swatch, 'Group ' + g.label];
}

/** A caption-labelled table that scrolls sideways on a phone. */
function table(id, caption, head, rows, className) {
  return h('div', { className: 'op-scroll', attrs: { tabindex: 0, role: 'region', 'aria-labelledby': id } }, [
    h('table', { className: 'op-table' + (className ? ' ' + className : '') }, [
      h('caption', { text: caption, attrs: { id } }),
      h('thead', {}, [h('tr', {}, head.map((c) => h('th', { text: c, attrs: { scope: 'col' } })))]),
      h('tbody', {}, rows),
    ]),
  ]);
}

/** A quoted comment with its handle, up-votes and a link to it in context. @param {any} c */
export function opinionQuote(c) {
  return h('li', { className: 'op-quote' }, [
    h('blockquote', {}, [h('p', { text: c.body })]),
    h('p', { className: 'op-by' }, [
      h('span', { text: '— ' + c.handle + (c.reply ? ' (reply)' : '') + ', ' + plural(c.up, 'up-vote') + ' · ' }),
      h('a', { text: 'Read in context', attrs: { href: c.link } }),
    ]),
  ]);
}

/** "What sets it apart": one line per representative item. @param {any} r */
function representative(r) {
  return h('li', {}, [
    h('span', { className: 'op-item', text: r.title }),
    ' — ' + pct(r.group_share) + ' of ' + num(r.group_voters) + ' said ',
    h('span', { className: 'op-dir op-' + r.direction, text: r.direction }),
    '; everyone else ' + pct(r.others_share),
  ]);
}

/**
 * Items with their consensus score (common ground or rejection), from `min` up.
 * @param {any[]} list @param {number} min @param {string} empty
 */
function consensusList(list, min, empty) {
  list = list.filter((x) => x.consensus >= min);
  if (!list.length) return h('p', { className: 'op-help', text: empty });
  return h('ol', { className: 'op-list' }, list.map((x) => h('li', {}, [
    h('span', { className: 'op-item', text: x.title }),
    h('span', { className: 'op-help', text: ' — score ' + x.consensus.toFixed(2) + ', ' + plural(x.voters, 'voter') }),
  ])));
}

/**
 * The opinion groups' view.
 * @param {any} o the `opinion` object
 * @param {{map: string, prefix: string, title: string, minGroup?: number}} opts the
 *   map's URL, a prefix for element ids, the conversation's title (for the
 *   map's text) and the smallest group shown, when known
 * @returns {HTMLElement}
 */
export function opinionView(o, opts) {
  const id = (/** @type {string} */ s) => opts.prefix + '-' + s;
  const parts = [];
  const groups = o.groups || [];
  const clear = o.clear && groups.length > 0;

  parts.push(h('p', { className: 'op-summary', text:
    plural(o.participants, 'person', 'people') + ' voted; ' + num(o.placed) + ' of them voted on at least ' + num(o.min_votes) +
    ' pledges or ideas and ' + (o.placed === 1 ? 'is' : 'are') + ' placed by how they voted.' +
    (clear ? ' They fall into ' + groups.length + ' opinion groups.' : '') }));
  if (!clear) {
    parts.push(h('div', { className: 'op-unclear' }, [
      h('p', {}, [h('strong', { text: 'No clear groups.' }), ' ' + unclearReason(o, opts.minGroup)]),
      h('p', { className: 'op-help', text: 'Common ground and rejection below are then those of everyone placed.' }),
    ]));
  }

  if (clear) {
    const sizes = groups.map((g) => g.label + ' (' + plural(g.size, 'person', 'people') + ')').join(', ');
    const img = h('img', { attrs: {
      src: opts.map, width: 640, height: 440,
      alt: 'Map of ' + groups.length + ' opinion groups in “' + opts.title + '”: ' + sizes + '. Each dot is one person; the table “Opinion groups and what sets each apart” gives the same information.',
    } });
    const figure = h('figure', { className: 'op-map' }, [
      img,
      h('figcaption', { text: 'Each dot is one person, placed so that people who voted alike are close together; a circled letter marks each group’s centre. The axes have no fixed meaning.' +
        (o.silhouette != null ? ' How clearly the groups stand apart (silhouette, up to 1): ' + o.silhouette.toFixed(2) + '.' : '') }),
    ]);
    const rows = groups.map((g, i) => h('tr', {}, [
      h('th', { attrs: { scope: 'row' } }, [...groupName(g, i), ' ', h('span', { className: 'op-size', text: plural(g.size, 'person', 'people') })]),
      h('td', { className: 'op-wrap' }, [g.representative.length
        ? h('ul', { className: 'op-reps' }, g.representative.map(representative))
        : h('span', { className: 'op-help', text: 'No pledge or idea sets it clearly apart.' })]),
    ]));
    parts.push(h('div', { className: 'op-top' }, [
      figure,
      table(id('groups'), 'Opinion groups and what sets each apart', ['Group', 'Voted differently from everyone else on: the group’s share, against everyone else’s'], rows, 'op-groups'),
    ]));

    const liked = groups.filter((g) => g.top_comments.length);
    parts.push(h('h3', { text: 'Comments each group up-voted most' }));
    parts.push(h('p', { className: 'op-help', text: 'The comments most up-voted by each group’s members, with their up-votes from everyone.' }));
    parts.push(liked.length
      ? h('div', { className: 'op-cols' }, groups.map((g, i) => h('div', { className: 'op-liked' }, [
        h('h4', {}, groupName(g, i)),
        g.top_comments.length
          ? h('ol', { className: 'op-quotes' }, g.top_comments.map(opinionQuote))
          : h('p', { className: 'op-help', text: 'No comment up-voted by this group yet.' }),
      ])))
      : h('p', { className: 'op-help', text: 'No comment has been up-voted by the groups yet.' }));
  }

  // The score multiplies each group's (smoothed) share, so half of every
  // group gives 0.5 to the power of the number of groups: the bar to be listed.
  const k = clear ? groups.length : 1;
  const bar = Math.pow(0.5, k);
  const barText = ' Listed from ' + bar.toFixed(2) + (clear ? ', the score of half of each of the ' + k + ' groups.' : ', the score of half of them.');
  parts.push(h('div', { className: 'op-cols' }, [
    h('div', {}, [
      h('h3', { text: 'Common ground' }),
      h('p', { className: 'op-help', text: (clear
        ? 'Supported in every group. The score multiplies each group’s share of “strong”, so it is high only when all groups agree (0 to 1).'
        : 'Supported by everyone placed: the score is their share of “strong” (0 to 1).') + barText }),
      consensusList(o.common_ground || [], bar, clear ? 'No pledge or idea is supported across the groups.' : 'No pledge or idea is supported by most people yet.'),
    ]),
    h('div', {}, [
      h('h3', { text: 'Common rejection' }),
      h('p', { className: 'op-help', text: (clear
        ? 'Rejected in every group: the same score for “wrong”.'
        : 'Rejected by everyone placed: their share of “wrong”.') + barText }),
      consensusList(o.common_rejection || [], bar, clear ? 'No pledge or idea is rejected across the groups.' : 'No pledge or idea is rejected by most people yet.'),
    ]),
  ]));

  if (clear) {
    parts.push(h('h3', { text: 'What divides the groups' }));
    parts.push(h('p', { className: 'op-help', text: 'The pledges and ideas on which the groups’ support differs most. Support is the share who said strong, smoothed so that small numbers do not give extreme shares; the spread is the gap between the most and the least supportive group.' }));
    parts.push((o.divisive || []).length
      ? table(id('divisive'), 'Support in each group, most divisive first', ['Pledge or idea', 'Spread', ...groups.map((g) => 'Group ' + g.label)],
        o.divisive.map((d) => h('tr', {}, [
          h('th', { text: d.title, attrs: { scope: 'row' } }),
          h('td', { className: 'op-n', text: Math.round(d.spread * 100) + ' points' }),
          ...d.support.map((s) => h('td', { className: 'op-n', text: pct(s) })),
        ])), 'op-divisive')
      : h('p', { className: 'op-help', text: 'Nothing divides the groups yet.' }));
  }
  return h('div', { className: 'op-view', attrs: { 'data-clear': String(clear) } }, parts);
}
