// Opinion groups (issue 14) in the web client: with three planted camps the
// report shows the map, the groups' table, common ground and rejection, what
// divides and the comments agreed across groups (organisers while open, the
// public once closed); the desk's panel shows the same live and refreshes;
// the participant page sorts a pledge's comments "agreed across groups"
// first. Every view passes axe-core and keeps the CSP.
//
// E2E_SHOTS=/tmp/shots also saves screenshots at 360 and 1440 px wide.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  startChorus, launchBrowser, newPage, assertClean, openConversation, itemCard, openComments,
  showLive, eventually, Api,
} from './lib/harness.js';
import { ADMIN, SAM, axe, openDesk } from './lib/staff.js';
import { seedCamps, PLEDGES, PER_CAMP, SAYS } from './lib/camps.js';

const SLUG = 'opinion-e2e-' + Date.now().toString(36);
const SHOTS = process.env.E2E_SHOTS || '';
if (SHOTS) mkdirSync(SHOTS, { recursive: true });
let server, browser, admin, seed;

before(async () => {
  // The live analysis is recomputed at most every second here, not every minute.
  server = await startChorus({ users: [ADMIN, SAM], env: { CHORUS_REPORT__OPINION_REFRESH_SECS: '1' } });
  browser = await launchBrowser();
  admin = new Api(server.url);
  await admin.login(ADMIN.name, ADMIN.password);
  seed = await seedCamps(admin, server.url, SLUG);
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

/** Screenshots of one element at 360 and 1440 px wide, when asked for. */
async function shots(page, selector, name) {
  if (!SHOTS) return;
  const size = page.viewportSize();
  for (const width of [360, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(200);
    const el = page.locator(selector);
    await el.screenshot({ path: join(SHOTS, `${name}-${width}.png`) });
    if (width > 400) continue;
    // A long phone screenshot is also saved in screen-sized parts, to look at.
    await el.scrollIntoViewIfNeeded();
    const box = await page.evaluate((sel) => { const r = document.querySelector(sel).getBoundingClientRect(); return { x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height }; }, selector);
    for (let y = 0, n = 1; y < box.height; y += 800, n++) {
      await page.screenshot({ path: join(SHOTS, `${name}-${width}-part${n}.png`), fullPage: true, clip: { x: 0, y: box.y + y, width, height: Math.min(800, box.height - y) } });
    }
  }
  await page.setViewportSize(size);
}

/** Opens the report with a session cookie (or none). */
async function openReport(cookie, options = {}) {
  const { context, page, problems } = await newPage(browser, options);
  if (cookie) {
    const [name, value] = cookie.split('=');
    await context.addCookies([{ name, value, url: server.url }]);
  }
  await page.goto(`${server.url}/report/${SLUG}`);
  await page.waitForSelector('body.ready');
  return { context, page, problems };
}

/** The report's or the desk's opinion view shows the three planted camps. */
async function checkGroups(page, root) {
  const view = page.locator(`${root} .op-view[data-clear="true"]`);
  await view.waitFor();
  const rows = view.locator('table.op-groups tbody tr');
  assert.equal(await rows.count(), 3, 'a row per group');
  const sizes = await rows.locator('th .op-size').allTextContents();
  assert.equal(sizes.map((t) => parseInt(t, 10)).reduce((a, b) => a + b, 0), 3 * PER_CAMP, 'everyone is in a group');
  for (const [i, label] of ['A', 'B', 'C'].entries()) {
    assert.match(await rows.nth(i).locator('th').textContent(), new RegExp(`^Group ${label} \\d+ people$`));
    // What sets each camp apart: pledges with a direction and both shares.
    assert.match(await rows.nth(i).locator('td').first().textContent(), / — \d+% of \d+ said (strong|wrong); everyone else \d+%/);
  }
  const img = view.locator('.op-map img');
  await page.waitForFunction((sel) => { const i = document.querySelector(sel); return i && i.complete && i.naturalWidth > 0; }, `${root} .op-map img`);
  assert.match(await img.getAttribute('alt'), /^Map of 3 opinion groups .*A \(\d+ people\), B \(\d+ people\), C \(\d+ people\).*table/);
  const text = await view.textContent();
  const ground = await view.locator('h3:text("Common ground") + p + ol li').first().textContent();
  assert.match(ground, new RegExp(PLEDGES[0]), 'the pledge everyone supports is common ground');
  const rejection = await view.locator('h3:text("Common rejection") + p + ol li').first().textContent();
  assert.match(rejection, new RegExp(PLEDGES[1]), 'the pledge everyone rejects is common rejection');
  // Only what most of every group agrees on: the divisive pledges are not listed.
  assert.equal(await view.locator('h3:text("Common ground") + p + ol li').count(), 1);
  assert.equal(await view.locator('h3:text("Common rejection") + p + ol li').count(), 1);
  const divisive = view.locator('table.op-divisive');
  assert.equal(await divisive.locator('thead th').count(), 2 + 3, 'pledge, spread and a column per group');
  assert.ok(await divisive.locator('tbody tr').count() >= 3);
  assert.match(await divisive.locator('tbody tr').first().textContent(), /\d+ points(\d+%){3}/);
  assert.match(text, new RegExp(SAYS.partisan), 'camp A’s favourite comment is quoted for its group');
  assert.doesNotMatch(text, /No clear groups/);
}

test('organisers see the opinion groups in the report; axe passes and the CSP holds', { timeout: 120000 }, async () => {
  const { context, page, problems } = await openReport(admin.cookie, { viewport: { width: 1280, height: 900 } });
  await checkGroups(page, '#opinion');
  assert.equal(await page.locator('.report-nav a[href="#opinion-h"]').count(), 1);
  // Comments agreed with in every group, under their pledge; not the partisan one.
  const bridging = page.locator(`.r-top[data-id="${seed.pledges[0]}"] .r-bridging`);
  assert.match(await bridging.locator('h5').textContent(), /Agreed across groups/);
  assert.equal(await bridging.locator('li').count(), 1);
  assert.match(await bridging.textContent(), new RegExp(SAYS.bridge));
  assert.equal(await page.locator('.r-bridging', { hasText: SAYS.partisan }).count(), 0);
  // In print: the map and the tables, full width.
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('#opinion .op-map img').isVisible(), true);
  assert.equal(await page.locator('#opinion table.op-groups').isVisible(), true);
  await page.emulateMedia({ media: 'screen' });
  await shots(page, 'section:has(> #opinion-h)', 'report-opinion');
  await shots(page, `.r-top[data-id="${seed.pledges[0]}"]`, 'report-bridging');
  await assertClean(page, problems);
  await context.close();

  for (const scheme of ['light', 'dark']) {
    const { context: c2, page: p2 } = await openReport(admin.cookie, { bypassCSP: true, colorScheme: scheme });
    await p2.locator('#opinion .op-view').waitFor();
    await axe(p2, `report with opinion groups, ${scheme}`);
    await c2.close();
  }
});

test('the desk shows the live opinion groups, refreshes them, and works 390 px wide', { timeout: 120000 }, async () => {
  const { context, page, problems } = await newPage(browser, { viewport: { width: 1400, height: 900 } });
  await page.clock.install();
  await openDesk(page, server.url, SAM, SLUG);
  const opinionCalls = () => calls.filter((u) => /\/opinion$/.test(new URL(u).pathname)).length;
  const calls = [];
  page.on('request', (r) => calls.push(r.url()));
  assert.equal(await page.locator('#opinion-panel').isVisible(), false, 'hidden until asked for');
  await page.click('#opinion-toggle');
  assert.equal(await page.getAttribute('#opinion-toggle', 'aria-expanded'), 'true');
  await checkGroups(page, '#opinion-panel');
  assert.match(await page.locator('#opinion-at').textContent(), /Updated at \d\d:\d\d/);
  assert.equal(opinionCalls(), 1);

  // On demand.
  await page.click('#opinion-refresh');
  await eventually(() => opinionCalls() === 2, 'Refresh now fetches the groups again');
  await page.waitForSelector('#opinion:not([aria-busy])');
  // Every minute while shown.
  await page.clock.fastForward('01:01');
  await eventually(() => opinionCalls() === 3, 'the panel refreshes after a minute');
  await checkGroups(page, '#opinion-panel');

  // A phone: nothing wider than the screen but the tables' own scrolling regions.
  await page.setViewportSize({ width: 390, height: 844 });
  const layout = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth }));
  assert.ok(layout.doc <= 390 && layout.body <= 390, `no horizontal scroll at 390 px: ${JSON.stringify(layout)}`);
  await page.setViewportSize({ width: 1400, height: 900 });
  await shots(page, '#opinion-panel', 'desk-opinion');

  // Hidden again: no more refreshing.
  await page.click('#opinion-toggle');
  assert.equal(await page.locator('#opinion-panel').isVisible(), false);
  await page.clock.fastForward('02:00');
  await page.waitForTimeout(300);
  assert.equal(opinionCalls(), 3, 'no refresh while hidden');
  await assertClean(page, problems);
  await context.close();

  const { context: c2, page: p2 } = await newPage(browser, { bypassCSP: true, viewport: { width: 390, height: 844 } });
  await openDesk(p2, server.url, SAM, SLUG);
  await p2.click('#opinion-toggle');
  await p2.locator('#opinion-panel .op-view').waitFor();
  await axe(p2, 'desk with the opinion groups open');
  await c2.close();
});

test('participants can read a pledge’s comments agreed across groups first; live comments still arrive', { timeout: 120000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await openConversation(page, server.url, SLUG);
  const card = itemCard(page, PLEDGES[0]);
  await openComments(card);
  const top = () => card.locator('.clist > li.comment > p.text').allTextContents();
  const select = card.locator('.csort select');
  assert.equal(await select.inputValue(), 'most_agreed', 'most agreed first unless the reader chooses');
  assert.equal(await card.locator('.csort label').textContent(), 'Sort comments');
  await select.selectOption('newest');
  await eventually(async () => (await top()).length === 3 && (await top())[0] === SAYS.bridge, 'three top-level comments, newest first');
  assert.deepEqual(await top(), [SAYS.bridge, SAYS.quiet, SAYS.partisan], 'newest first');

  await select.selectOption('across_groups');
  await eventually(async () => (await top())[0] === SAYS.bridge && (await top()).length === 3, 'the bridging comment first');
  assert.deepEqual(await top(), [SAYS.bridge, SAYS.partisan, SAYS.quiet], 'bridging, then scored, then the rest');
  // The reply is folded under its comment, with its count.
  const bridge = card.locator('.clist > li.comment', { has: page.locator(':scope > p.text', { hasText: SAYS.bridge }) });
  const replies = bridge.locator(':scope > button.rcount');
  assert.equal(await replies.textContent(), '1 reply');
  assert.equal(await bridge.locator(':scope > .replies').isVisible(), false, 'folded');
  await replies.click();
  await eventually(async () => (await bridge.locator(':scope > .replies > li.comment').count()) === 1, 'the reply unfolds');
  assert.match(await bridge.locator(':scope > .replies').textContent(), new RegExp(SAYS.reply));
  assert.equal(await card.locator('.csort .hint').isVisible(), true);
  await shots(page, `li.item[data-id="${seed.pledges[0]}"]`, 'participant-sort');

  // A comment made now is announced, and goes to the top once shown.
  const late = 'A late comment that arrives live.';
  await seed.camps[1][5].ok('POST', `/api/conversations/${SLUG}/items/${seed.pledges[0]}/comments`, { id: randomUUID(), body: late });
  await showLive(card, late);
  assert.equal((await top())[0], late);
  assert.equal((await top()).length, 4);

  // Newest first again, read from the server.
  await select.selectOption('newest');
  await eventually(async () => (await top()).length === 4 && (await top())[0] === late, 'newest first again');
  assert.deepEqual(await top(), [late, SAYS.bridge, SAYS.quiet, SAYS.partisan]);
  assert.equal(await card.locator('.csort .hint').isVisible(), false);
  await assertClean(page, problems);
  await context.close();

  const { context: c2, page: p2 } = await newPage(browser, { bypassCSP: true });
  await openConversation(p2, server.url, SLUG);
  const card2 = itemCard(p2, PLEDGES[0]);
  await openComments(card2);
  await card2.locator('.csort select').selectOption('across_groups');
  await eventually(async () => (await card2.locator('.clist > li.comment > p.text').first().textContent()) === SAYS.bridge, 'sorted');
  await axe(p2, 'participant page, comments agreed across groups');
  await c2.close();
});

test('the public sees the opinion groups only once the conversation closes', { timeout: 120000 }, async () => {
  const someone = new Api(server.url);
  await someone.ok('POST', `/api/conversations/${SLUG}/participants`, {});
  let { context, page, problems } = await openReport(someone.cookie);
  assert.match(await page.locator('#opinion').textContent(), /published when the conversation closes/);
  assert.equal(await page.locator('#opinion img').count(), 0);
  assert.equal((await someone.req('GET', `/api/conversations/${SLUG}/report/opinion.svg`)).status, 403);
  await assertClean(page, problems);
  await context.close();

  await admin.ok('PATCH', `/api/conversations/${SLUG}`, { closes_at: 'now' });
  ({ context, page, problems } = await openReport(someone.cookie));
  assert.match(await page.locator('#status').textContent(), /Final results/);
  await checkGroups(page, '#opinion');
  await assertClean(page, problems);
  await context.close();
  const { context: c2, page: p2 } = await openReport(someone.cookie, { bypassCSP: true });
  await p2.locator('#opinion .op-view').waitFor();
  await axe(p2, 'public results with opinion groups');
  await c2.close();
});

test('no clear groups is said plainly, with common ground still shown', { timeout: 60000 }, async () => {
  // A second conversation where only a handful have voted.
  const slug = SLUG + '-few';
  const now = Date.now();
  await admin.ok('POST', '/api/conversations', {
    slug, title: 'Too few to group', introduction: 'Few voters.',
    opens_at: new Date(now - 3600e3).toISOString(), closes_at: new Date(now + 86400e3).toISOString(),
  });
  const ids = [];
  for (const [n, title] of PLEDGES.slice(0, 4).entries()) {
    const id = randomUUID();
    await admin.ok('POST', `/api/conversations/${slug}/items`, { id, title, body: 'A pledge.', position: n });
    ids.push(id);
  }
  for (let n = 0; n < 6; n++) {
    const p = new Api(server.url);
    await p.ok('POST', `/api/conversations/${slug}/participants`, {});
    for (const [j, id] of ids.entries()) await p.ok('PUT', `/api/conversations/${slug}/items/${id}/vote`, { request_id: randomUUID(), choice: j === 0 || (n + j) % 3 === 0 ? 'strong' : 'wrong' });
  }
  const { context, page, problems } = await newPage(browser, { bypassCSP: true });
  const [name, value] = admin.cookie.split('=');
  await context.addCookies([{ name, value, url: server.url }]);
  await page.goto(`${server.url}/report/${slug}`);
  await page.waitForSelector('body.ready');
  const view = page.locator('#opinion .op-view[data-clear="false"]');
  await view.waitFor();
  assert.match(await view.locator('.op-unclear').textContent(), /No clear groups\. Too few people are placed to look for groups: 6 so far, and it takes at least 10/);
  assert.equal(await view.locator('img').count(), 0, 'no map without groups');
  assert.match(await view.locator('h3:text("Common ground") + p + ol li').first().textContent(), new RegExp(PLEDGES[0]));
  await shots(page, 'section:has(> #opinion-h)', 'report-unclear');
  await axe(page, 'report with no clear groups');
  void problems;
  await context.close();
});
