// The participant page with many comments (issue 13): a page of 20 with
// "Show more comments", three orders read from the server, the comment box
// above the list, replies folded under their comment with a count, new
// comments announced ("2 new comments: show") instead of moving the list,
// and what someone was typing kept when the deadline passes. Also the
// desk at 390×844: the selected entry's actions sit under it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  startChorus, launchBrowser, newPage, assertClean, openConversation, signUp,
  itemCard, openComments, eventually, Api,
} from './lib/harness.js';
import { openDesk } from './lib/staff.js';

const ADMIN = { name: 'ada', role: 'admin', password: 'ada-password-1234' };
const SHOTS = process.env.SHOTS_DIR || '';

let server, browser, admin, people;

before(async () => {
  server = await startChorus({ users: [ADMIN], env: { CHORUS_RATE__COMMENT_BURST: '1000' } });
  browser = await launchBrowser();
  admin = new Api(server.url);
  await admin.login(ADMIN.name, ADMIN.password);
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

/** A new open conversation (closing `closesIn` ms from now) with one pledge; its slug and pledge. */
async function conversation(closesIn = 14 * 24 * 3600e3) {
  const slug = 'many-' + randomUUID().slice(0, 8);
  const now = Date.now();
  await admin.ok('POST', '/api/conversations', {
    slug, title: 'A big conversation', introduction: 'Many comments.',
    opens_at: new Date(now - 3600e3).toISOString(), closes_at: new Date(now + closesIn).toISOString(),
  });
  const pledge = { id: randomUUID(), title: 'Protected time for training' };
  await admin.ok('POST', `/api/conversations/${slug}/items`, { ...pledge, body: 'An hour a week.', position: 1 });
  return { slug, pledge };
}

/** `n` participants signed up through the API. */
async function signUps(slug, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const p = new Api(server.url);
    await p.ok('POST', `/api/conversations/${slug}/participants`, {});
    out.push(p);
  }
  return out;
}

const say = (p, slug, item, body, parent_id = null) =>
  p.ok('POST', `/api/conversations/${slug}/items/${item}/comments`, { id: randomUUID(), body, parent_id }).then((r) => r.comment.id);

const top = (card) => card.locator('.clist > li.comment > p.text').allTextContents();

test('comments come 20 at a time, in three orders, with replies folded and new ones announced', { timeout: 180000 }, async () => {
  const { slug, pledge } = await conversation();
  people = await signUps(slug, 3);
  const ids = [];
  for (let i = 0; i < 45; i++) ids.push(await say(people[i % 3], slug, pledge.id, `Comment number ${i}.`));
  for (const r of ['First reply.', 'Second reply.', 'Third reply.']) await say(people[1], slug, pledge.id, r, ids[9]);
  // c5 (by the third participant) gets two up-votes, c30 (by the first) one.
  for (const [c, voters] of [[5, [0, 1]], [30, [1]]]) {
    for (const v of voters) await people[v].ok('PUT', `/api/conversations/${slug}/comments/${ids[c]}/vote`, { request_id: randomUUID(), up: true });
  }

  const { context, page, problems } = await newPage(browser, { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  await openConversation(page, server.url, slug);
  await signUp(page);
  const card = itemCard(page, pledge.title);
  assert.equal(await card.locator('> button.toggle').textContent(), 'Comments (48)');
  await openComments(card);
  // The box comes first, then the order, then the list.
  const order = await card.locator('> .comments > *').evaluateAll((els) => els.filter((e) => !e.hidden).map((e) => e.className));
  assert.deepEqual(order.slice(0, 4), ['cform', 'csort', 'cnew', 'clist'], 'the comment box sits above the list');
  assert.equal(await card.locator('.csort select').inputValue(), 'most_agreed');
  await eventually(async () => (await top(card)).length === 20, 'a first page of 20');
  const first = await top(card);
  assert.deepEqual(first.slice(0, 3), ['Comment number 5.', 'Comment number 30.', 'Comment number 0.'], 'most agreed first, then oldest');
  const more = card.locator('> .comments > button.more');
  await more.click();
  await eventually(async () => (await top(card)).length === 40, 'Show more: 40');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), (await card.locator('.clist > li.comment').nth(20).textContent()), 'the focus goes to the first comment read');
  await more.click();
  await eventually(async () => (await top(card)).length === 45, 'all 45');
  assert.equal(await more.isVisible(), false, 'no "Show more" at the end');
  assert.equal(new Set(await top(card)).size, 45, 'none twice');

  // Replies are folded under their comment, with a count.
  const c9 = card.locator('.clist > li.comment', { has: page.locator(':scope > p.text', { hasText: 'Comment number 9.' }) });
  const count = c9.locator(':scope > button.rcount');
  assert.equal(await count.textContent(), '3 replies');
  assert.equal(await count.getAttribute('aria-expanded'), 'false');
  assert.equal(await c9.locator('.replies').isVisible(), false);
  await count.click();
  await eventually(async () => (await c9.locator('.replies > li.comment > p.text').allTextContents()).join('|') === 'First reply.|Second reply.|Third reply.', 'the replies, in order');
  assert.equal(await count.getAttribute('aria-expanded'), 'true');
  assert.equal(await card.locator('.clist li.comment button.rcount:not([hidden])').count(), 1, 'only c9 has replies');

  // Newest first, read from the server again.
  await card.locator('.csort select').selectOption('newest');
  await eventually(async () => (await top(card))[0] === 'Comment number 44.' && (await top(card)).length === 20, 'newest first, a page of 20');
  assert.deepEqual((await top(card)).slice(0, 3), ['Comment number 44.', 'Comment number 43.', 'Comment number 42.']);

  // New comments wait behind "2 new comments: show" (a polite live region); the list does not move.
  await card.locator('.clist > li.comment').nth(3).scrollIntoViewIfNeeded();
  const y = await card.locator('.clist > li.comment').nth(3).evaluate((el) => el.getBoundingClientRect().top);
  await say(people[2], slug, pledge.id, 'Arrived while reading, one.');
  await say(people[0], slug, pledge.id, 'Arrived while reading, two.');
  const button = card.locator('> .comments > .cnew > button');
  await eventually(async () => (await button.isVisible()) && (await button.textContent()) === '2 new comments: show', '"2 new comments: show"', 10000);
  assert.equal(await card.locator('> .comments > .cnew').getAttribute('aria-live'), 'polite');
  assert.equal((await top(card))[0], 'Comment number 44.', 'nothing was inserted');
  assert.equal(await card.locator('.clist > li.comment').nth(3).evaluate((el) => el.getBoundingClientRect().top), y, 'the list did not move');
  assert.equal(await card.locator('> button.toggle').textContent(), 'Hide comments (50)', 'the count is up to date');
  await button.click();
  assert.deepEqual((await top(card)).slice(0, 3), ['Arrived while reading, two.', 'Arrived while reading, one.', 'Comment number 44.'], 'shown at the top, newest first');
  assert.equal(await button.isVisible(), false);
  assert.ok(await page.evaluate(() => document.activeElement?.classList.contains('comment')), 'the focus goes to the first new comment');

  // One's own comment goes at the top at once, under the box.
  await card.locator('.comments > form.cform textarea').fill('My own, straight away.');
  await card.locator('.comments > form.cform button[type="submit"]').click();
  await eventually(async () => (await top(card))[0] === 'My own, straight away.', 'own comment at the top');
  await assertClean(page, problems);
  await context.close();
});

test('160 comments: the phone page stays short (figure in the log)', { timeout: 180000 }, async () => {
  const { slug, pledge } = await conversation();
  const ps = await signUps(slug, 2);
  for (let i = 0; i < 160; i++) await say(ps[i % 2], slug, pledge.id, `Comment ${i}: ` + 'a sentence or two about protected time, as people write them. '.repeat(1 + (i % 3)));
  const { context, page, problems } = await newPage(browser, { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  await openConversation(page, server.url, slug);
  const card = itemCard(page, pledge.title);
  await openComments(card);
  await eventually(async () => (await top(card)).length === 20, 'a first page of 20');
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  console.log(`# participant page at 360 px with 160 comments, comments open: ${height} px high`);
  assert.ok(height < 9000, `the page is ${height} px high`);
  await assertClean(page, problems);
  await context.close();
});

test('the deadline passes while someone types: the text is kept and they are told', { timeout: 120000 }, async () => {
  const { slug, pledge } = await conversation(12000);
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url, slug);
  await signUp(page);
  const card = itemCard(page, pledge.title);
  await openComments(card);
  const text = 'I was halfway through saying that protected time';
  await card.locator('.comments > form.cform textarea').fill(text);
  await page.waitForSelector('body[data-state="closed"]', { timeout: 20000 });
  const kept = card.locator('.comments > .kept');
  await kept.waitFor({ timeout: 5000 });
  assert.match(await kept.locator('.msg').textContent(), /^This conversation closed at \d\d:\d\d\. Your comment was not posted; it is kept below so you can copy it\.$/);
  assert.equal(await kept.locator('textarea').inputValue(), text);
  assert.equal(await kept.locator('textarea').getAttribute('readonly'), '');
  assert.equal(await card.locator('.comments > form.cform').isVisible(), false, 'no form on a closed conversation');
  assert.equal((await admin.comments(pledge.id, slug)).length, 0, 'nothing was posted');
  // Still there after a reload (the draft is kept).
  await page.reload();
  await page.waitForSelector('body.ready');
  await card.locator('.comments > .kept textarea').waitFor();
  assert.equal(await card.locator('.comments > .kept textarea').inputValue(), text);
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/participant-closed-while-typing-1440.png` });
  await assertClean(page, problems);
  await context.close();
});

test('the desk at 390×844: the selected entry\u2019s actions sit under it, and work by touch', { timeout: 180000 }, async () => {
  const { slug, pledge } = await conversation();
  const ps = await signUps(slug, 2);
  for (let i = 0; i < 60; i++) await say(ps[i % 2], slug, pledge.id, `Desk comment ${i}.`);
  const desk = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await openDesk(desk.page, server.url, ADMIN, slug);
  await desk.page.click('#tab-all');
  const target = desk.page.locator('.entry', { hasText: 'Desk comment 12.' });
  await target.waitFor();
  await target.scrollIntoViewIfNeeded();
  await target.locator('.text').tap();
  const hide = target.locator('#buttons button[data-act="hide"]');
  await hide.waitFor();
  const box = await hide.boundingBox();
  assert.ok(box && box.y >= 0 && box.y + box.height <= 844, `Hide is on screen under the entry: ${JSON.stringify(box)}`);
  await hide.tap();
  await target.locator('#reason-form').waitFor();
  await target.locator('#reason-text').fill('off topic');
  await target.locator('#reason-ok').tap();
  await eventually(async () => (await admin.comments(pledge.id, slug)).find((c) => c.body === 'Desk comment 12.')?.status === 'hidden', 'hidden by touch', 10000);
  assert.ok(await desk.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth + 1), 'fits 390 px');
  // Wide again: the actions go back to the tools column.
  await desk.page.setViewportSize({ width: 1440, height: 900 });
  await eventually(async () => desk.page.evaluate(() => document.querySelector('section.actions')?.parentElement?.tagName === 'ASIDE'), 'back in the column');
  await assertClean(desk.page, desk.problems);
  await desk.context.close();
});
