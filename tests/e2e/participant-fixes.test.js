// Participant-page defects from issue 13: a live comment into a closed panel,
// a vote tapped before signing up, agreeing with your own comment, a reply box
// that stays open, and your own comment hidden by a facilitator.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import {
  startChorus, launchBrowser, newPage, assertClean, openConversation, signUp,
  itemCard, openComments, eventually, Api, SLUG,
} from './lib/harness.js';

const FAC = { name: 'fran', role: 'facilitator', password: 'fran-password-1234' };
const SHOTS = process.env.SHOTS_DIR || '';

let server, browser, fac, other, items;

before(async () => {
  server = await startChorus({ users: [FAC], env: { CHORUS_RATE__COMMENT_BURST: '100' } });
  browser = await launchBrowser();
  fac = new Api(server.url);
  await fac.login(FAC.name, FAC.password);
  // Another participant, through the API.
  other = new Api(server.url);
  await other.ok('POST', `/api/conversations/${SLUG}/participants`, {});
  items = (await fac.snapshot()).items.filter((i) => i.kind === 'pledge').sort((x, y) => x.position - y.position);
  assert.ok(items.length >= 5, 'the demo conversation has pledges');
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

/** Posts a comment as the other participant. */
function otherComments(item, body, parent = null) {
  return other.ok('POST', `/api/conversations/${SLUG}/items/${item.id}/comments`, { id: randomUUID(), body, parent_id: parent });
}

/** Posts a comment through the page and waits until it is confirmed. */
async function postComment(card, text) {
  await openComments(card);
  await card.locator('.comments > form.cform textarea').fill(text);
  await card.locator('.comments > form.cform button[type="submit"]').click();
  const el = card.locator('.comment', { has: card.page().locator('.text', { hasText: text }) });
  await el.waitFor();
  await eventually(async () => (await el.locator(':scope > .meta .cstate').textContent()) === '', 'the comment is confirmed');
  return el;
}

/** Screenshots at 360 and 1440 px wide, when SHOTS_DIR is set. */
async function shoot(page, locator, name) {
  if (!SHOTS) return;
  for (const width of [360, 1440]) {
    await page.setViewportSize({ width, height: 800 });
    await locator.scrollIntoViewIfNeeded();
    await locator.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await page.screenshot({ path: `${SHOTS}/part-${name}-${width}.png` });
  }
  await page.setViewportSize({ width: 1000, height: 800 });
}

test('a comment that arrives live while the comments are closed shows when they are opened', { timeout: 60000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url);
  await signUp(page);
  const item = items[0];
  const card = itemCard(page, item.title);
  const toggle = card.locator('> button.toggle');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false', 'the comments are closed');
  const n = Number(await card.getAttribute('data-comments'));
  const text = 'Arrived while the panel was closed ' + Date.now();
  await otherComments(item, text);
  await eventually(async () => (await toggle.textContent()) === `Comments (${n + 1})`, 'the count goes up live');
  await openComments(card);
  await card.locator('.comment .text', { hasText: text }).waitFor({ timeout: 5000 });
  assert.equal(await card.locator('.comments > .empty').isHidden(), true, '"No comments yet" is not shown');
  assert.equal(await toggle.textContent(), `Hide comments (${n + 1})`);
  await assertClean(page, problems);
  await context.close();
});

test('a vote tapped before signing up is kept and sent once signed up', { timeout: 60000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url);
  const item = items[1];
  const card = itemCard(page, item.title);
  const before = (await fac.snapshot()).items.find((i) => i.id === item.id).strong;
  await card.locator('button.v-strong').click();
  await card.locator('> .msg.bad').waitFor();
  assert.match(await card.locator('> .msg').textContent(), /sign up first/);
  assert.equal(await card.locator('button.v-strong').getAttribute('aria-pressed'), 'true', 'the kept vote shows as chosen');
  await shoot(page, card, 'kept-vote');
  await signUp(page);
  await eventually(async () => (await card.locator('.mine').textContent()) === 'You voted strong', 'the kept vote is confirmed');
  assert.equal((await fac.snapshot()).items.find((i) => i.id === item.id).strong, before + 1, 'the vote reached the server once');
  assert.equal(await card.locator('> .msg').textContent(), '', '"Please sign up first" is gone');
  assert.equal(await card.locator('button.v-strong').getAttribute('aria-pressed'), 'true');
  await shoot(page, card, 'kept-vote-sent');
  await assertClean(page, problems);
  await context.close();
});

test('a participant cannot agree with their own comment, even after a reload', { timeout: 60000 }, async () => {
  const item = items[2];
  const theirs = 'Someone else said this ' + Date.now();
  await otherComments(item, theirs);
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url);
  await signUp(page);
  const card = itemCard(page, item.title);
  const text = 'My own comment ' + Date.now();
  const mine = await postComment(card, text);
  assert.equal(await mine.locator(':scope > .cactions button.up').isVisible(), false, 'no Agree button on my comment');
  const other = card.locator('.comment', { has: page.locator('.text', { hasText: theirs }) });
  assert.equal(await other.locator(':scope > .cactions button.up').isVisible(), true, 'Agree on someone else\u2019s comment');
  await shoot(page, mine, 'own-comment');

  await page.reload();
  await page.waitForSelector('body.ready');
  await openComments(card);
  const again = card.locator('.comment', { has: page.locator('.text', { hasText: text }) });
  await again.waitFor();
  assert.equal(await again.locator(':scope > .cactions button.up').isVisible(), false, 'no Agree button on my comment after a reload');
  const stored = (await fac.comments(item.id)).find((c) => c.body === text);
  assert.equal(stored.up, 0);
  await assertClean(page, problems);
  await context.close();
});

test('a reply box closes once its reply is posted', { timeout: 60000 }, async () => {
  const item = items[3];
  const parent = 'Reply to me ' + Date.now();
  await otherComments(item, parent);
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url);
  await signUp(page);
  const card = itemCard(page, item.title);
  await openComments(card);
  const c = card.locator('.comment', { has: page.locator('.text', { hasText: parent }) });
  await c.locator(':scope > .cactions button', { hasText: 'Reply' }).click();
  const reply = 'My reply ' + Date.now();
  await c.locator(':scope > .extra form.cform textarea').fill(reply);
  await c.locator(':scope > .extra form.cform button[type="submit"]').click();
  await c.locator('.replies .comment .text', { hasText: reply }).waitFor();
  await eventually(async () => (await c.locator(':scope > .extra form.cform').count()) === 0, 'the reply box closes');
  const replyB = c.locator(':scope > .cactions button', { hasText: 'Reply' });
  assert.equal(await replyB.getAttribute('aria-expanded'), 'false');
  assert.equal(await replyB.evaluate((el) => el === document.activeElement), true, 'focus goes back to the Reply button');
  await eventually(async () => (await fac.comments(item.id)).some((x) => x.body === reply), 'the reply is stored');
  await assertClean(page, problems);
  await context.close();
});

test('a participant sees their own comment marked hidden when a facilitator hides it', { timeout: 60000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url);
  await signUp(page);
  const item = items[4];
  const card = itemCard(page, item.title);
  const text = 'Names a colleague, my own ' + Date.now();
  const mine = await postComment(card, text);
  const n = Number(await card.getAttribute('data-comments'));
  const stored = await eventually(async () => (await fac.comments(item.id)).find((c) => c.body === text), 'the comment is stored');
  await fac.hide(stored.id, 'names a colleague');
  await eventually(async () => /Hidden by a facilitator/.test(await mine.locator(':scope > .meta .cstate').textContent()), 'the comment is marked hidden', 10000);
  assert.equal(await mine.locator('.text').textContent(), text, 'its text is still shown to its author');
  assert.equal(await mine.locator(':scope > .cactions').isVisible(), false, 'no actions on a hidden comment');
  await eventually(async () => Number(await card.getAttribute('data-comments')) === n - 1, 'the count no longer includes it');
  await shoot(page, mine, 'own-hidden');
  await assertClean(page, problems);
  await context.close();
});
