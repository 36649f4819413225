// tallies_visible on the participant page (issue 13): under "always" every
// pledge shows its bar; under "after_voting" a pledge's bar appears once you
// vote on it (and then moves live), the others say "Vote to see how others
// voted"; under "after_close" nothing shows until the conversation closes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import {
  startChorus, launchBrowser, newPage, assertClean, openConversation, signUp,
  itemCard, eventually, sleep, Api, SLUG,
} from './lib/harness.js';
import { loginOnPage } from './lib/staff.js';

const ADMIN = { name: 'ada', role: 'admin', password: 'ada-password-1234' };
const SHOTS = process.env.SHOTS_DIR || '';

let server, browser, admin, items;

before(async () => {
  server = await startChorus({ users: [ADMIN] });
  browser = await launchBrowser();
  admin = new Api(server.url);
  await admin.login(ADMIN.name, ADMIN.password);
  items = (await admin.snapshot()).items.filter((i) => i.kind === 'pledge').sort((x, y) => x.position - y.position);
  assert.ok(items.length >= 3, 'the demo conversation has pledges');
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

const setting = (value) => admin.ok('PATCH', `/api/conversations/${SLUG}`, { tallies_visible: value });

/** A participant signed up through the API, who votes on `item`. */
async function someoneVotes(item, choice = 'strong') {
  const p = new Api(server.url);
  await p.ok('POST', `/api/conversations/${SLUG}/participants`, {});
  await p.ok('PUT', `/api/conversations/${SLUG}/items/${item.id}/vote`, { request_id: crypto.randomUUID(), choice });
}

const staffCount = async (item) => (await admin.snapshot()).items.find((i) => i.id === item.id);

/** Whether the card shows its bar, and what it says instead. */
async function shown(card) {
  return {
    bar: await card.locator('.tally').isVisible(),
    note: (await card.locator('.tally-hidden').isVisible()) ? await card.locator('.tally-hidden').textContent() : null,
  };
}

async function shoot(page, name) {
  if (!SHOTS) return;
  for (const width of [360, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await page.locator('#pledges').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: `${SHOTS}/tallies-${name}-${width}.png` });
  }
  await page.setViewportSize({ width: 1000, height: 800 });
}

test('the admin page sets when participants see the counts', { timeout: 60000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await page.goto(`${server.url}/admin?c=${SLUG}`);
  await loginOnPage(page, ADMIN);
  await page.waitForSelector('#manage:not([hidden])');
  assert.equal(await page.inputValue('#o-tallies'), 'always');
  await page.selectOption('#o-tallies', 'after_voting');
  await page.click('#o-results-form button[type="submit"]');
  await eventually(async () => /when participants see the counts/.test(await page.textContent('#o-results-msg')), 'saved');
  assert.equal((await admin.snapshot()).conversation.tallies_visible, 'after_voting');
  await assertClean(page, problems);
  await context.close();
});

test('always: every pledge shows its tally', { timeout: 60000 }, async () => {
  await setting('always');
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url);
  for (const item of items.slice(0, 3)) {
    assert.deepEqual(await shown(itemCard(page, item.title)), { bar: true, note: null }, item.title);
  }
  await assertClean(page, problems);
  await context.close();
});

test('after_voting: your vote reveals that pledge\u2019s tally, which then moves live', { timeout: 90000 }, async () => {
  await setting('after_voting');
  const [first, second] = items;
  await someoneVotes(first);
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url);
  await signUp(page);
  const card = itemCard(page, first.title);
  const other = itemCard(page, second.title);
  assert.deepEqual(await shown(card), { bar: false, note: 'Vote to see how others voted' });
  assert.deepEqual(await shown(other), { bar: false, note: 'Vote to see how others voted' });
  // Someone else votes: nothing shows here.
  await someoneVotes(first);
  await sleep(700);
  assert.equal(await card.locator('.tally').isVisible(), false, 'still hidden after another vote');
  await shoot(page, 'after-voting-before');

  await card.locator('button.v-wrong').click();
  await eventually(async () => (await card.locator('.mine').textContent()) === 'You voted wrong', 'the vote is confirmed');
  await eventually(async () => (await shown(card)).bar, 'the bar appears');
  const stored = await staffCount(first);
  assert.equal(await card.locator('.tally').getAttribute('data-strong'), String(stored.strong));
  assert.equal(await card.locator('.tally').getAttribute('data-wrong'), String(stored.wrong));
  assert.equal((await shown(other)).bar, false, 'another pledge stays hidden');
  // Live: a later vote moves the bar.
  await someoneVotes(first);
  await eventually(async () => (await card.locator('.tally').getAttribute('data-strong')) === String(stored.strong + 1), 'the bar moves live');
  await shoot(page, 'after-voting-after');
  // A reload keeps it (the snapshot has it) and keeps the other hidden.
  await page.reload();
  await page.waitForSelector('body.ready');
  assert.equal((await shown(card)).bar, true);
  assert.equal((await shown(other)).bar, false);
  await assertClean(page, problems);
  await context.close();
});

test('after_close: no tallies until the conversation closes, then all of them', { timeout: 90000 }, async () => {
  await setting('after_close');
  const [first, second] = items;
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url);
  await signUp(page);
  const card = itemCard(page, first.title);
  const note = 'Results appear when the conversation closes';
  assert.deepEqual(await shown(card), { bar: false, note });
  await card.locator('button.v-strong').click();
  await eventually(async () => (await card.locator('.mine').textContent()) === 'You voted strong', 'the vote is confirmed');
  await sleep(700);
  assert.deepEqual(await shown(card), { bar: false, note }, 'a vote reveals nothing');
  await shoot(page, 'after-close-open');

  await admin.ok('PATCH', `/api/conversations/${SLUG}`, { closes_at: 'now' });
  await eventually(async () => (await shown(card)).bar && (await shown(itemCard(page, second.title))).bar, 'the bars appear on closing');
  const stored = await staffCount(first);
  assert.equal(await card.locator('.tally').getAttribute('data-strong'), String(stored.strong));
  await assertClean(page, problems);
  await context.close();
});
