// Planted opinion camps for the opinion-group tests (issue 14): three camps
// of 15 people vote alike within a camp and differently between camps, with
// a pledge everyone supports and one everyone rejects; on the first pledge,
// one comment is up-voted in every camp (it bridges), one by camp A only and
// one by nobody.

import { randomUUID } from 'node:crypto';
import { Api } from './harness.js';

export const PLEDGES = [
  'Protected time for training',
  'Charge staff for parking',
  'Four-day working week',
  'Self-rostering on every ward',
  'A staff wellbeing hub on each site',
  'Pay for overtime at time and a half',
  'Mentors for every new starter',
  'Hot food on night shifts',
];

/** Each camp's vote (true: strong) on pledges 2..7. */
const CAMPS = [
  [true, true, false, false, true, false],
  [false, false, true, true, true, false],
  [true, false, false, true, false, true],
];
export const PER_CAMP = 15;

export const SAYS = {
  partisan: 'A four-day week is the only thing that would keep me here.',
  quiet: 'Training time should be written into every job plan.',
  bridge: 'Whatever else we disagree on, protected training time helps patients and staff alike.',
  reply: 'Agreed, and it should count towards revalidation.',
};

/**
 * Creates an open conversation with the planted camps.
 * @param {Api} admin a logged-in admin
 * @param {string} base the server's URL
 * @param {string} slug
 * @returns {Promise<{pledges: string[], camps: Api[][], comments: Record<string, string>}>}
 */
export async function seedCamps(admin, base, slug) {
  const now = Date.now();
  await admin.ok('POST', '/api/conversations', {
    slug, title: 'Opinion groups test', introduction: 'Three planted camps.',
    opens_at: new Date(now - 3600e3).toISOString(), closes_at: new Date(now + 7 * 86400e3).toISOString(),
  });
  const pledges = [];
  for (const [n, title] of PLEDGES.entries()) {
    const id = randomUUID();
    await admin.ok('POST', `/api/conversations/${slug}/items`, { id, title, body: 'A pledge.', position: n });
    pledges.push(id);
  }
  const vote = (p, item, strong) => p.ok('PUT', `/api/conversations/${slug}/items/${item}/vote`, { request_id: randomUUID(), choice: strong ? 'strong' : 'wrong' });
  const camps = [];
  for (const [camp, pattern] of CAMPS.entries()) {
    const people = [];
    for (let n = 0; n < PER_CAMP; n++) {
      const p = new Api(base);
      await p.ok('POST', `/api/conversations/${slug}/participants`, {});
      people.push(p);
    }
    await Promise.all(people.map(async (p, n) => {
      await vote(p, pledges[0], true);
      await vote(p, pledges[1], false);
      for (const [j, strong] of pattern.entries()) {
        // About one vote in eleven goes against the camp's line.
        const noisy = (n * 3 + j + camp) % 11 === 0;
        await vote(p, pledges[j + 2], noisy ? !strong : strong);
      }
    }));
    camps.push(people);
  }
  const say = async (p, body, parent_id) => (await p.ok('POST', `/api/conversations/${slug}/items/${pledges[0]}/comments`, { id: randomUUID(), body, parent_id })).comment.id;
  const up = (p, id) => p.ok('PUT', `/api/conversations/${slug}/comments/${id}/vote`, { request_id: randomUUID(), up: true });
  const [a, b, c] = camps;
  const comments = {};
  comments.partisan = await say(a[0], SAYS.partisan);
  comments.quiet = await say(b[0], SAYS.quiet);
  comments.bridge = await say(c[0], SAYS.bridge);
  comments.reply = await say(a[13], SAYS.reply, comments.bridge);
  await Promise.all(a.slice(1, 10).map((p) => up(p, comments.partisan)));
  await Promise.all([...a.slice(10, 13), ...b.slice(1, 4), ...c.slice(1, 4)].map((p) => up(p, comments.bridge)));
  return { pledges, camps, comments };
}
