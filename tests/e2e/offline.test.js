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

  assert.equal(await page.locator('#conn').getAttribute('data-state'), 'offline', 'the page says it is offline');
  await context.setOffline(false);
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 15000 });
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

test('refusals are explained: 429 waits for Retry-After, 409 closed and 422 keep the text', { timeout: 60000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url);
  await signUp(page);
  const item = items[3];
  const card = itemCard(page, item.title);
  const before = (await fac.snapshot()).items.find((i) => i.id === item.id).strong;
  const problem = (status, type, title, extra = {}) => ({
    status,
    headers: { 'Content-Type': 'application/problem+json', ...(extra.headers || {}) },
    body: JSON.stringify({ type, title, status, detail: extra.detail, errors: extra.errors }),
  });

  // 429: the vote waits Retry-After seconds, says so, then goes through by itself.
  let refused = 0;
  await page.route('**/vote', (route) => {
    if (refused++ === 0) return route.fulfill(problem(429, '/problems/rate-limited', 'Too many requests', { headers: { 'Retry-After': '2' } }));
    return route.continue();
  });
  const t0 = Date.now();
  await card.locator('button.v-strong').click();
  await eventually(async () => /2 seconds/.test(await card.locator('> .msg').textContent()), 'the wait is explained');
  await eventually(async () => (await fac.snapshot()).items.find((i) => i.id === item.id).strong === before + 1, 'the vote goes through after the wait', 10000);
  assert.ok(Date.now() - t0 >= 1900, 'it waited Retry-After');
  await page.unroute('**/vote');

  // 409 closed: nothing recorded, a clear message, the comment text comes back into its field.
  await openComments(card);
  const form = card.locator('.comments > form.cform');
  await page.route('**/comments', (route) => route.request().method() === 'POST'
    ? route.fulfill(problem(409, '/problems/conversation-closed', 'The conversation is closed'))
    : route.continue());
  await form.locator('textarea').fill('Too late for this one');
  await form.locator('button[type="submit"]').click();
  await eventually(async () => /closed/i.test(await form.locator('.msg').textContent()), 'the refusal is explained');
  assert.equal(await form.locator('textarea').inputValue(), 'Too late for this one', 'the text is not lost');
  assert.equal(await card.locator('.comment .text', { hasText: 'Too late for this one' }).count(), 0, 'the optimistic comment is withdrawn');
  await page.unroute('**/comments');

  // 422 validation: the server's field message is shown.
  await page.route('**/comments', (route) => route.request().method() === 'POST'
    ? route.fulfill(problem(422, '/problems/validation', 'Invalid input', { detail: 'body: must be between 1 and 2000 characters', errors: [{ field: 'body', message: 'must be between 1 and 2000 characters' }] }))
    : route.continue());
  await form.locator('button[type="submit"]').click();
  await eventually(async () => /must be between 1 and 2000 characters/.test(await form.locator('.msg').textContent()), 'the validation message is shown');
  assert.equal(await form.locator('textarea').inputValue(), 'Too late for this one');
  await page.unroute('**/comments');
  // Those refusals were simulated; what remains is a real successful post.
  await form.locator('button[type="submit"]').click();
  await eventually(async () => (await fac.comments(item.id)).filter((c) => c.body === 'Too late for this one').length === 1, 'posted once for real');
  await assertClean(page, problems);
  await context.close();
});

test('the real rate limit: the sixth quick comment waits for Retry-After and is then sent, once', { timeout: 60000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url);
  await signUp(page);
  const item = items[4] || items[0];
  const card = itemCard(page, item.title);
  await openComments(card);
  const form = card.locator('.comments > form.cform');
  const texts = [1, 2, 3, 4, 5, 6, 7].map((n) => `Quick comment ${n} ${Date.now()}`);
  const refusals = [];
  page.on('response', (r) => { if (r.status() === 429) refusals.push(r.headers()['retry-after']); });
  for (const t of texts) {
    await form.locator('textarea').fill(t);
    await form.locator('button[type="submit"]').click();
  }
  await eventually(async () => refusals.length > 0, 'chorus answers 429 once the burst is spent', 10000);
  assert.match(String(refusals[0]), /^\d+$/, 'with Retry-After in seconds');
  await eventually(async () => /going a little fast/.test(await page.locator('#announcer').textContent()), 'the wait is announced', 5000);
  await eventually(async () => {
    const stored = (await fac.comments(item.id)).filter((c) => c.body.startsWith('Quick comment'));
    return stored.length === texts.length;
  }, 'every comment arrives after the wait', 40000, 500);
  const stored = (await fac.comments(item.id)).filter((c) => c.body.startsWith('Quick comment')).map((c) => c.body);
  assert.deepEqual(stored, texts, 'each once, in order');
  await assertClean(page, problems);
  await context.close();
});

test('sorting: most supported, most discussed, and back to the organisers\' order', { timeout: 60000 }, async () => {
  const voter = new Api(server.url);
  await voter.ok('POST', '/api/conversations/best-place-to-work/participants', {});
  const target = items[items.length - 1];
  await voter.ok('PUT', `/api/conversations/best-place-to-work/items/${target.id}/vote`, { request_id: crypto.randomUUID(), choice: 'strong' });
  const talky = items[items.length - 2];
  await voter.ok('POST', `/api/conversations/best-place-to-work/items/${talky.id}/comments`, { id: crypto.randomUUID(), body: 'Talking about this one', parent_id: null });
  await voter.ok('POST', `/api/conversations/best-place-to-work/items/${talky.id}/comments`, { id: crypto.randomUUID(), body: 'And again', parent_id: null });
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url);
  const firstTitle = () => page.locator('#pledges > li.item h3').first().textContent();
  assert.equal(await firstTitle(), items[0].title);
  const supported = (await fac.snapshot()).items.filter((i) => i.kind === 'pledge').sort((x, y) => y.strong - x.strong || x.position - y.position)[0];
  await page.selectOption('#sort', 'supported');
  assert.equal(await firstTitle(), supported.title);
  const discussed = (await fac.snapshot()).items.filter((i) => i.kind === 'pledge').sort((x, y) => y.comments - x.comments || x.position - y.position)[0];
  await page.selectOption('#sort', 'discussed');
  assert.equal(await firstTitle(), discussed.title);
  await page.selectOption('#sort', 'position');
  assert.equal(await firstTitle(), items[0].title);
  await assertClean(page, problems);
  await context.close();
});
