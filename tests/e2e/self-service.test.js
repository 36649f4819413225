// "My contributions": participant A edits, deletes, downloads and leaves
// from their page in one browser context; participant B, in another,
// sees each change arrive live without reloading. Set SHOTS_DIR to also
// save screenshots of the page at 360 and 1440 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startChorus, launchBrowser, newPage, assertClean, openConversation, signUp,
  itemCard, openComments, eventually, Api, SLUG,
} from './lib/harness.js';

const FAC = { name: 'fran', role: 'facilitator', password: 'fran-password-1234' };

let server, browser, a, b, fac, item, other;

/** A participant's own REST call, with the page's cookie. */
async function as(p, method, path, body) {
  const r = await p.context.request.fetch(server.url + path, {
    method, data: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
  });
  assert.ok(r.status() < 300, `${method} ${path}: ${r.status()} ${await r.text()}`);
  return r.json();
}

const api = (path) => `/api/conversations/${SLUG}${path}`;

before(async () => {
  server = await startChorus({ users: [FAC], env: { CHORUS_RATE__COMMENT_BURST: '100' } });
  browser = await launchBrowser();
  fac = new Api(server.url);
  await fac.login(FAC.name, FAC.password);
  const snap = await new Api(server.url).snapshot();
  const pledges = snap.items.filter((i) => i.kind === 'pledge').sort((x, y) => x.position - y.position);
  [item, other] = pledges;
  a = await newPage(browser);
  b = await newPage(browser);
  for (const p of [a, b]) {
    await openConversation(p.page, server.url);
    await signUp(p.page);
  }
  await b.page.evaluate(() => { window.__sameDocument = true; });
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

async function openMine() {
  await a.page.click('#mine-link');
  await a.page.waitForSelector('body.mine-page[data-state="ready"]');
}

test('edit, delete, export and leave in A each reach B live', { timeout: 120000 }, async () => {
  // A contributes: a vote, a comment B will reply to, one alone, an idea, and one a facilitator hides.
  await as(a, 'PUT', api(`/items/${item.id}/vote`), { request_id: randomUUID(), choice: 'strong' });
  const edited = randomUUID(), answered = randomUUID(), alone = randomUUID(), hidden = randomUUID();
  await as(a, 'POST', api(`/items/${item.id}/comments`), { id: edited, body: 'Protected time for training, first draft' });
  await as(a, 'POST', api(`/items/${item.id}/comments`), { id: answered, body: 'Rotas are published too late' });
  await as(a, 'POST', api(`/items/${other.id}/comments`), { id: alone, body: 'A thought nobody answered' });
  await as(a, 'POST', api(`/items/${other.id}/comments`), { id: hidden, body: 'Sister Jones on ward 4 shouted at me' });
  await as(a, 'POST', api('/ideas'), { id: randomUUID(), title: 'Quiet rooms on every ward', body: 'Somewhere to decompress after a hard shift.' });
  await fac.hide(hidden, 'names a colleague');
  await as(b, 'POST', api(`/items/${item.id}/comments`), { id: randomUUID(), body: 'Yes, and swaps are hard', parent_id: answered });

  const cardB = itemCard(b.page, item.title);
  const otherB = itemCard(b.page, other.title);
  await openComments(cardB);
  await openComments(otherB);
  const strongBefore = Number(await cardB.locator('.tally').getAttribute('data-strong'));
  assert.ok(strongBefore >= 1);

  await openMine();
  const entries = a.page.locator('#comments > li');
  await eventually(async () => (await entries.count()) === 4, 'A sees their four comments');
  const hiddenEntry = a.page.locator(`#comments > li[data-id="${hidden}"]`);
  assert.match(await hiddenEntry.locator('.mine-status').textContent(), /Hidden by a facilitator: names a colleague/);
  assert.equal(await a.page.locator('#votes > li').count(), 1);
  assert.equal(await a.page.locator('#ideas > li').count(), 1);

  if (process.env.SHOTS_DIR) {
    for (const width of [360, 1440]) {
      await a.page.setViewportSize({ width, height: 900 });
      await a.page.screenshot({ path: join(process.env.SHOTS_DIR, `mine-${width}.png`), fullPage: true });
    }
    await a.page.setViewportSize({ width: 1000, height: 800 });
  }

  // Edit: B sees the new text, marked edited.
  const entry = a.page.locator(`#comments > li[data-id="${edited}"]`);
  await entry.getByRole('button', { name: 'Edit' }).click();
  await entry.locator('textarea').fill('Protected time for training, an hour a week');
  await entry.getByRole('button', { name: 'Save' }).click();
  const commentB = b.page.locator(`li.comment[data-id="${edited}"]`);
  await eventually(async () => (await commentB.locator('.text').first().textContent()) === 'Protected time for training, an hour a week',
    'B sees the edited text');
  assert.match(await commentB.locator('.meta').first().textContent(), /[Ee]dited/);

  // Delete with a reply: B sees "deleted by its author" and the reply stays.
  const answeredA = a.page.locator(`#comments > li[data-id="${answered}"]`);
  await answeredA.getByRole('button', { name: 'Delete' }).click();
  await answeredA.getByRole('button', { name: 'Delete for good' }).click();
  const answeredB = b.page.locator(`li.comment[data-id="${answered}"]`);
  await eventually(async () => (await answeredB.locator('.text').first().textContent()) === 'Deleted by its author',
    'B sees the placeholder');
  assert.match(await answeredB.textContent(), /1 reply/, 'the reply stays (folded under its count)');

  // Delete without replies: gone from B's screen.
  const aloneA = a.page.locator(`#comments > li[data-id="${alone}"]`);
  await aloneA.getByRole('button', { name: 'Delete' }).click();
  await aloneA.getByRole('button', { name: 'Delete for good' }).click();
  await eventually(async () => (await b.page.locator(`li.comment[data-id="${alone}"]`).count()) === 0, 'B no longer sees it');

  // Export: a download holding A's data.
  const [download] = await Promise.all([a.page.waitForEvent('download'), a.page.click('#export')]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(download.suggestedFilename(), `chorus-${SLUG}-my-data.json`);
  assert.equal(exported.votes.length, 1);
  assert.equal(exported.comments.length, 2, 'the two comments A still has');
  assert.ok(!JSON.stringify(exported).includes('swaps are hard'), 'nothing of B');

  // Leave, keeping comments without the handle: B's tally drops by one, the comment loses its handle.
  await a.page.check('input[name="comments"][value="keep_without_handle"]');
  await a.page.click('#leave-button');
  assert.match(await a.page.locator('#leave-msg').textContent(), /Type “leave”/);
  await a.page.fill('#leave-confirm', 'leave');
  await a.page.click('#leave-button');
  await a.page.waitForSelector('body[data-state="left"]');
  await eventually(async () => Number(await cardB.locator('.tally').getAttribute('data-strong')) === strongBefore - 1,
    'B sees the tally drop', 10000);
  await eventually(async () => (await commentB.locator('.handle').first().textContent()) === 'a former participant',
    'B sees the comment without its handle');

  // A is signed out of the conversation.
  await a.page.goto(`${server.url}/c/${SLUG}`);
  await a.page.waitForSelector('body.ready');
  assert.equal(await a.page.locator('#signup').isHidden(), false, 'A is asked to sign up again');

  assert.equal(await b.page.evaluate(() => window.__sameDocument), true, 'B never reloaded');
  await assertClean(b.page, b.problems);
});

// Found by CI: a reload the live feed had made due could land after the
// leave's answer and turn the page from "left" to "not taking part" (a 401)
// or back to the list (an answer sent before the leave). The routes below
// force that order: the leave's answer is held until the page has asked
// for its list again, and that request is held until the page says "left".
test('a reload due while leaving does not undo the left page', { timeout: 60000 }, async () => {
  const c = await newPage(browser);
  await openConversation(c.page, server.url);
  await signUp(c.page);
  const mine = randomUUID();
  await as(c, 'POST', api(`/items/${item.id}/comments`), { id: mine, body: 'Handover notes get lost between shifts' });
  await c.page.click('#mine-link');
  await c.page.waitForSelector('body.mine-page[data-state="ready"]');
  await c.page.waitForSelector(`#comments > li[data-id="${mine}"]`);

  const heldLoads = [];
  await c.page.route('**/me/contributions', (route) => { heldLoads.push(route); });
  await c.page.route('**/me/leave', async (route) => {
    const answer = await route.fetch();
    // Leaving keeps the comment without its handle: the live feed says so
    // and the page makes a reload due.
    await eventually(async () => heldLoads.length > 0, 'a reload was due while leaving', 5000).catch(() => {});
    await route.fulfill({ response: answer });
  });

  await c.page.check('input[name="comments"][value="keep_without_handle"]');
  await c.page.fill('#leave-confirm', 'leave');
  await c.page.click('#leave-button');
  await c.page.waitForSelector('body[data-state="left"]');
  assert.ok(heldLoads.length > 0, 'the live feed made a reload due while leaving (else this test proves nothing)');
  await c.page.unroute('**/me/contributions');
  for (const route of heldLoads) await route.continue();
  // Longer than the reload delay and a round trip on loopback.
  await c.page.waitForTimeout(1000);
  assert.equal(await c.page.evaluate(() => document.body.dataset.state), 'left');
  assert.equal(await c.page.locator('.left-note').isVisible(), true);
  assert.equal(await c.page.locator('#who').isVisible(), false, 'the erased handle is no longer shown');
  assert.doesNotMatch(await c.page.locator('main').textContent(), /not taking part/);
  await c.context.close();
});
