// What organisers do (issue 13): reordering and removing pledges on the
// admin page reaches a participant page live; a discussion topic has no
// vote buttons; the support contact shows on the participant page; the
// landing page lists open and upcoming conversations first and hides
// archived ones; the report pages an item's comments with "Show more".

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  startChorus, launchBrowser, newPage, assertClean, openConversation, eventually, Api, itemCard,
} from './lib/harness.js';
import { ADMIN, loginOnPage } from './lib/staff.js';

let server, browser, admin;

before(async () => {
  server = await startChorus({ users: [ADMIN] });
  browser = await launchBrowser();
  admin = new Api(server.url);
  await admin.login(ADMIN.name, ADMIN.password);
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

const iso = (ms) => new Date(Date.now() + ms).toISOString();
const DAY = 86400e3;

/** A conversation made through the API, with pledges titled as given. */
async function conversation(slug, titles, extra = {}) {
  await admin.ok('POST', '/api/conversations', {
    slug, title: 'Talk ' + slug, opens_at: iso(-DAY), closes_at: iso(7 * DAY), ...extra,
  });
  const ids = [];
  for (const [n, t] of titles.entries()) {
    const kind = t.startsWith('Topic:') ? 'topic' : 'pledge';
    const id = randomUUID();
    await admin.ok('POST', `/api/conversations/${slug}/items`, { id, kind, title: t, body: 'About ' + t, position: n + 1 });
    ids.push(id);
  }
  return ids;
}

const titles = (page) => page.$$eval('#pledges > li.item h3', (hs) => hs.map((x) => x.textContent));

test('reordering and removing on the admin page reach a participant page live', { timeout: 90000 }, async () => {
  const slug = 'reorder-talk';
  await conversation(slug, ['Alpha', 'Bravo', 'Charlie']);
  const part = await newPage(browser);
  await openConversation(part.page, server.url, slug);
  assert.deepEqual(await titles(part.page), ['Alpha', 'Bravo', 'Charlie']);
  await part.page.evaluate(() => { window.__same = true; });

  const adm = await newPage(browser, { viewport: { width: 1440, height: 900 } });
  await adm.page.goto(`${server.url}/admin?c=${slug}`);
  await loginOnPage(adm.page, ADMIN);
  await adm.page.waitForSelector('#manage:not([hidden])');
  // Each conversation links to its pages.
  const links = await adm.page.$$eval(`#convs li:has(button[data-slug="${slug}"]) .conv-links a`, (as) => as.map((a) => a.getAttribute('href')));
  assert.deepEqual(links, [`/c/${slug}`, `/report/${slug}`, `/desk/${slug}`, `/display/${slug}`]);

  // Charlie up one: Alpha, Charlie, Bravo, on both pages.
  await adm.page.click('#pledges li:nth-child(3) button[aria-label="Move up: Charlie"]');
  await eventually(async () => JSON.stringify(await titles(part.page)) === JSON.stringify(['Alpha', 'Charlie', 'Bravo']), 'the participant page reorders live', 5000);
  const snap = await admin.snapshot(slug);
  assert.deepEqual(snap.items.map((i) => [i.title, i.position]), [['Alpha', 1], ['Charlie', 2], ['Bravo', 3]]);

  // Remove Alpha (it asks first): gone from the participant page.
  const remove = adm.page.locator('#pledges button[aria-label="Remove: Alpha"]');
  await remove.click();
  assert.equal((await titles(part.page)).length, 3, 'one click only asks');
  await remove.click();
  await adm.page.waitForSelector('#pl-msg:text("Removed")');
  await eventually(async () => JSON.stringify(await titles(part.page)) === JSON.stringify(['Charlie', 'Bravo']), 'the removed pledge leaves the participant page', 5000);
  assert.equal(await part.page.evaluate(() => window.__same), true, 'no reload');

  // An error names the form's field: "Address", not "slug".
  await adm.page.click('#new-details summary');
  await adm.page.fill('#new-title', 'Again');
  await adm.page.fill('#new-slug', 'x');
  await adm.page.click('#new-form button[type="submit"]');
  await adm.page.waitForSelector('#new-msg.bad');
  const text = await adm.page.textContent('#new-msg');
  assert.match(text, /Address: /);
  assert.doesNotMatch(text, /slug/);

  await assertClean(part.page, part.problems);
  await assertClean(adm.page, adm.problems);
  await part.context.close();
  await adm.context.close();
});

test('a topic has no vote buttons, and the support contact is on the participant page', { timeout: 60000 }, async () => {
  const slug = 'topic-talk';
  await conversation(slug, ['A pledge', 'Topic: What gets in the way?'], { support_contact: 'help@example.org' });
  const part = await newPage(browser, { viewport: { width: 360, height: 740 } });
  await openConversation(part.page, server.url, slug);
  const topic = itemCard(part.page, 'Topic: What gets in the way?');
  assert.equal(await topic.getAttribute('data-kind'), 'topic');
  assert.equal(await topic.locator('button.vote').first().isVisible(), false, 'no vote buttons');
  assert.equal(await topic.locator('.tally').first().isVisible(), false, 'no tally');
  assert.equal(await itemCard(part.page, 'A pledge').locator('button.vote').first().isVisible(), true);
  assert.equal(await part.page.textContent('#pledges-h'), 'Pledges and topics');
  // Comments work on a topic.
  await part.page.click('#signup button[type="submit"]');
  await part.page.waitForSelector('#me:not([hidden])');
  await topic.locator('> button.toggle').click();
  await topic.locator('textarea').fill('Rotas that change at a day’s notice.');
  await topic.locator('.cform button[type="submit"]').click();
  await topic.locator('.clist li', { hasText: 'Rotas that change' }).waitFor({ timeout: 5000 });

  const support = part.page.locator('#support');
  assert.equal(await support.isVisible(), true);
  assert.match(await support.textContent(), /Problems signing up.*help@example\.org/);
  assert.equal(await support.locator('a').getAttribute('href'), 'mailto:help@example.org');
  // A sentence is shown as written, live.
  await admin.ok('PATCH', `/api/conversations/${slug}`, { support_contact: 'Ask at the staff hub on level 2.' });
  await eventually(async () => /staff hub on level 2/.test(await support.textContent()), 'the new contact shows live', 5000);
  assert.equal(await support.locator('a').count(), 0);
  await assertClean(part.page, part.problems);
  await part.context.close();
});

test('the landing page lists open and upcoming first, hides archived, and links staff to sign in', { timeout: 60000 }, async () => {
  await conversation('land-closed', []);
  await admin.ok('PATCH', '/api/conversations/land-closed', { closes_at: 'now' });
  await conversation('land-upcoming', [], { opens_at: iso(2 * DAY), closes_at: iso(9 * DAY) });
  await conversation('land-open', []);
  await conversation('land-archived', []);
  await admin.ok('PATCH', '/api/conversations/land-archived', { archived: true });
  const v = await newPage(browser);
  await v.page.goto(server.url + '/');
  await v.page.waitForSelector('#convs li');
  const slugs = await v.page.$$eval('#convs > li > a', (as) => as.map((a) => a.getAttribute('href').replace('/c/', '')));
  const mine = slugs.filter((s) => s.startsWith('land-'));
  assert.deepEqual(mine, ['land-open', 'land-upcoming', 'land-closed']);
  assert.ok(slugs.indexOf('land-closed') > slugs.indexOf('land-upcoming'));
  assert.equal(await v.page.getAttribute('a.staff-link', 'href'), '/admin');
  // Archived: still readable by its link.
  await openConversation(v.page, server.url, 'land-archived');
  await assertClean(v.page, v.problems);
  await v.context.close();
});

test('the report reads all of an item\'s comments, 20 at a time', { timeout: 90000 }, async () => {
  const slug = 'paging-talk';
  const [pledge] = await conversation(slug, ['Protected time']);
  for (let p = 0; p < 5; p++) {
    const person = new Api(server.url);
    await person.ok('POST', `/api/conversations/${slug}/participants`, {});
    for (let k = 0; k < 5; k++) {
      await person.ok('POST', `/api/conversations/${slug}/items/${pledge}/comments`, { id: randomUUID(), body: `Comment ${p * 5 + k + 1}` });
    }
  }
  const v = await newPage(browser, { viewport: { width: 1440, height: 900 } });
  await v.page.goto(`${server.url}/report/${slug}`);
  await v.page.waitForSelector('body[data-state="ready"]');
  const details = v.page.locator(`#all-comments details[data-id="${pledge}"]`);
  await details.locator('summary').click();
  await eventually(async () => (await details.locator('li.r-quote').count()) === 20, 'the first 20 comments', 5000);
  await details.locator('button', { hasText: 'Show more comments' }).click();
  await eventually(async () => (await details.locator('li.r-quote').count()) === 25, 'all 25 comments', 5000);
  assert.equal(await details.locator('button', { hasText: 'Show more comments' }).isVisible(), false);
  const bodies = await details.locator('blockquote').allTextContents();
  assert.equal(new Set(bodies).size, 25, 'each comment once');
  await assertClean(v.page, v.problems);
  await v.context.close();
});
