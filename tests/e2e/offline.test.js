// Never lose what someone typed: actions taken offline are queued and sent
// once back online (exactly once), and a draft comment survives a reload.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChorus, launchBrowser, newPage, assertClean, openConversation, signUp,
  itemCard, openComments, eventually, sleep, Api,
} from './lib/harness.js';

const FAC = { name: 'fran', role: 'facilitator', password: 'fran-password-1234' };

let server, browser, fac, items;

before(async () => {
  server = await startChorus({ users: [FAC] });
  browser = await launchBrowser();
  fac = new Api(server.url);
  await fac.login(FAC.name, FAC.password);
  items = (await fac.snapshot()).items.filter((i) => i.kind === 'pledge').sort((x, y) => x.position - y.position);
  assert.ok(items.length >= 2, 'the demo conversation has pledges');
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

test('offline: a vote and a comment are queued and arrive once when back online', { timeout: 60000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url);
  await signUp(page);
  const item = items[1];
  const card = itemCard(page, item.title);
  await openComments(card);
  const before = (await fac.snapshot()).items.find((i) => i.id === item.id).strong;

  await context.setOffline(true);
  await eventually(async () => page.evaluate(() => navigator.onLine === false), 'the page knows it is offline');
  await card.locator('button.v-strong').click();
  const text = 'Written on a train with no signal ' + Date.now();
  await card.locator('.comments > form.cform textarea').fill(text);
  await card.locator('.comments > form.cform button[type="submit"]').click();
  // Shown at once, marked as waiting.
  await card.locator('.comment .text', { hasText: text }).waitFor();
  assert.equal(await card.locator('button.v-strong').getAttribute('aria-pressed'), 'true');
  assert.equal(Number(await card.locator('.tally').getAttribute('data-strong')), before + 1, 'the vote shows at once');
  assert.match(await card.locator('.comment', { hasText: text }).locator('.cstate').textContent(), /Waiting|Sending/);
  await sleep(1500); // a while offline: retries must not be lost or doubled
  const queued = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('chorus:queue:')).map((k) => JSON.parse(localStorage.getItem(k)).length));
  assert.deepEqual(queued, [2], 'both actions wait in the stored outbox');
  assert.equal((await fac.snapshot()).items.find((i) => i.id === item.id).strong, before, 'nothing reached the server while offline');

  await context.setOffline(false);
  await eventually(async () => (await fac.snapshot()).items.find((i) => i.id === item.id).strong === before + 1, 'the vote arrives', 15000);
  await eventually(async () => (await fac.comments(item.id)).filter((c) => c.body === text).length === 1, 'the comment arrives', 15000);
  await eventually(async () => (await card.locator('.comment', { hasText: text }).locator('.cstate').textContent()) === '', 'the comment is confirmed on the page', 15000);
  await eventually(async () => (await card.locator('.mine').textContent()) === 'You voted strong', 'the vote is confirmed on the page', 15000);
  await sleep(1000);
  // Exactly once.
  assert.equal((await fac.snapshot()).items.find((i) => i.id === item.id).strong, before + 1);
  assert.equal((await fac.comments(item.id)).filter((c) => c.body === text).length, 1);
  assert.equal(await card.locator('.comment .text', { hasText: text }).count(), 1, 'the page shows the comment once');
  await assertClean(page, problems);
  await context.close();
});

test('a draft comment survives a reload', { timeout: 60000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url);
  await signUp(page);
  const item = items[2];
  const card = itemCard(page, item.title);
  await openComments(card);
  const draft = 'Half-written thought,\nsecond line ' + Date.now();
  await card.locator('.comments > form.cform textarea').fill(draft);
  await page.reload();
  await page.waitForSelector('body.ready');
  const card2 = itemCard(page, item.title);
  // The panel with the draft reopens by itself and the text is back.
  await card2.locator('.comments > form.cform textarea').waitFor({ state: 'visible' });
  assert.equal(await card2.locator('.comments > form.cform textarea').inputValue(), draft);
  // Sending it clears the draft.
  await card2.locator('.comments > form.cform button[type="submit"]').click();
  await card2.locator('.comment .text', { hasText: 'Half-written thought' }).waitFor();
  await eventually(async () => (await fac.comments(item.id)).some((c) => c.body === draft), 'the draft is posted');
  await page.reload();
  await page.waitForSelector('body.ready');
  const card3 = itemCard(page, item.title);
  await openComments(card3);
  assert.equal(await card3.locator('.comments > form.cform textarea').inputValue(), '', 'a sent draft is gone');
  await assertClean(page, problems);
  await context.close();
});
