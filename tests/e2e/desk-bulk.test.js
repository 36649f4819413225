// The desk's "New" view and bulk actions (issue 13): under post-moderation a
// live comment enters "New" with an unread marker until this facilitator has
// seen it (kept across reloads); many entries are hidden or approved at once,
// one request each, at 390 px too; axe-core finds no WCAG 2.1 AA violations.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startChorus, launchBrowser, newPage, assertClean, eventually, Api, SLUG } from './lib/harness.js';
import { ADMIN, SAM, KIM, axe, openDesk, entry, participant } from './lib/staff.js';

let server, browser, admin, pledge, author;

before(async () => {
  server = await startChorus({ users: [ADMIN, SAM, KIM], env: { CHORUS_RATE__COMMENT_BURST: '400' } });
  browser = await launchBrowser();
  admin = new Api(server.url);
  await admin.login(ADMIN.name, ADMIN.password);
  pledge = (await admin.snapshot()).items.filter((i) => i.kind === 'pledge').sort((x, y) => x.position - y.position)[0];
  author = new Api(server.url);
  await author.ok('POST', `/api/conversations/${SLUG}/participants`, {});
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

const post = async (body) => (await author.ok('POST', `/api/conversations/${SLUG}/items/${pledge.id}/comments`, { id: randomUUID(), body })).comment;
const count = async (page, id) => Number(await page.textContent(id));

test('"New" under post-moderation: a live comment arrives unread; selecting it or keeping it in view marks it seen, for this facilitator only, across reloads', { timeout: 120000 }, async () => {
  const desk = await newPage(browser, { viewport: { width: 1440, height: 900 } });
  await openDesk(desk.page, server.url, SAM, SLUG);
  await desk.page.click('#tab-new');
  const before = await count(desk.page, '#n-new');

  const text = 'New view check ' + Date.now();
  const c = await post(text);
  assert.equal(c.status, 'visible', 'post-moderation: public at once');
  const e = entry(desk.page, text);
  await e.waitFor({ timeout: 5000 });
  // Unread: the marker, and the tab's count went up. It never entered "Needs review".
  assert.equal(await e.locator('.badge.b-new').textContent(), 'New');
  assert.match(await e.getAttribute('class'), /\bunread\b/);
  await eventually(async () => (await count(desk.page, '#n-new')) === before + 1, 'the New count went up');
  assert.equal(await desk.page.locator('#tab-review').textContent().then((t) => /\b0\b/.test(t)), true, 'nothing in review');

  // Selecting it marks it seen: the marker goes, the count goes down, it stays listed until the tab is left.
  await e.click();
  await e.locator('.badge.b-new').waitFor({ state: 'detached', timeout: 3000 });
  assert.doesNotMatch(await e.getAttribute('class'), /\bunread\b/);
  assert.equal(await count(desk.page, '#n-new'), before);
  assert.equal(await e.count(), 1, 'still listed while the New tab is shown');

  // Another facilitator has not seen it.
  const kim = await newPage(browser, { viewport: { width: 1440, height: 900 } });
  await openDesk(kim.page, server.url, KIM, SLUG);
  await kim.page.click('#tab-new');
  await entry(kim.page, text).locator('.badge.b-new').waitFor({ timeout: 5000 });
  await assertClean(kim.page, kim.problems);
  await kim.context.close();

  // Kept in view for a couple of seconds counts as seen too.
  const text2 = 'Seen by scrolling ' + Date.now();
  await post(text2);
  await entry(desk.page, text2).locator('.badge.b-new').waitFor({ timeout: 5000 });
  await entry(desk.page, text2).locator('.badge.b-new').waitFor({ state: 'detached', timeout: 6000 });

  // A reload remembers: neither is new any more.
  await desk.page.reload();
  await desk.page.waitForSelector('body.ready #conn[data-state="live"]');
  await desk.page.click('#tab-new');
  await desk.page.waitForTimeout(500);
  assert.equal(await entry(desk.page, text).count(), 0, 'seen before the reload');
  assert.equal(await entry(desk.page, text2).count(), 0, 'seen before the reload');
  await assertClean(desk.page, desk.problems);
  await desk.context.close();
});

test('bulk hide at 390 px: select all shown, one reason, three requests; participants no longer see them', { timeout: 120000 }, async () => {
  const tag = 'bulkhide' + Date.now();
  const texts = [1, 2, 3].map((i) => `Bulk ${i} of ${tag}`);
  for (const t of texts) await post(t);
  const part = await newPage(browser);
  const card = await participant(part.page, server.url, SLUG, pledge.title);
  for (const t of texts) await card.locator('.comment .text', { hasText: t }).waitFor({ timeout: 5000 });

  const desk = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await openDesk(desk.page, server.url, SAM, SLUG);
  await desk.page.click('#tab-all');
  await desk.page.fill('#f-q', tag);
  const shown = desk.page.locator('.entry', { hasText: tag });
  await eventually(async () => (await shown.count()) === 3 && (await desk.page.locator('.entries > .entry').count()) === 3, 'the three comments, only them');
  const requests = [];
  desk.page.on('request', (r) => { if (/\/moderation$/.test(r.url()) && r.method() === 'POST') requests.push(JSON.parse(r.postData())); });

  await desk.page.locator('#bulk-all').check();
  assert.equal(await desk.page.textContent('#bulk-n'), '3 selected');
  for (const t of texts) assert.equal(await entry(desk.page, t).locator('input[type="checkbox"]').isChecked(), true);
  // The bulk bar stays on screen (sticky) with its buttons within reach.
  const box = await desk.page.locator('#bulk-hide').boundingBox();
  assert.ok(box && box.y >= 0 && box.y + box.height <= 844, 'the Hide button is on screen');
  assert.ok(box.height >= 24 && box.width >= 24, 'a target big enough to tap');
  await desk.page.screenshot({ path: '/tmp/shots/desk-bulk-390.png' });

  await desk.page.locator('#bulk-hide').tap();
  await desk.page.selectOption('#bulk-reason', 'Spam or off topic');
  await desk.page.screenshot({ path: '/tmp/shots/desk-bulk-390-hide-form.png' });
  await desk.page.locator('#bulk-ok').tap();
  await desk.page.waitForSelector('#bulk-msg:text("Hid 3 of 3.")', { timeout: 10000 });
  assert.equal(requests.length, 3, 'one request per comment');
  assert.equal(new Set(requests.map((r) => r.request_id)).size, 3, 'each with its own request_id');
  assert.ok(requests.every((r) => r.action === 'hide' && r.reason === 'Spam or off topic'));
  for (const t of texts) {
    await card.locator('.comment .text', { hasText: t }).waitFor({ state: 'detached', timeout: 5000 });
    assert.equal(await entry(desk.page, t).getAttribute('data-status'), 'hidden');
  }
  assert.equal(await desk.page.textContent('#bulk-n'), 'None selected');
  assert.equal(await desk.page.locator('.entry input[type="checkbox"]:checked').count(), 0, 'their boxes are cleared');
  assert.ok(await desk.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth + 1), 'fits 390 px');
  await desk.page.screenshot({ path: '/tmp/shots/desk-bulk-390-done.png' });
  await assertClean(desk.page, desk.problems);
  await assertClean(part.page, part.problems);
  await desk.context.close();
  await part.context.close();
});

test('bulk approve with the keyboard at 1440 px (Space selects), counts what succeeded and what was skipped; axe in light and dark', { timeout: 120000 }, async () => {
  const tag = 'bulkkeys' + Date.now();
  const flagged = await post(`Flagged one of ${tag}`);
  await post(`Plain one of ${tag}`);
  const flagger = new Api(server.url);
  await flagger.ok('POST', `/api/conversations/${SLUG}/participants`, {});
  await flagger.ok('POST', `/api/conversations/${SLUG}/comments/${flagged.id}/flags`, { id: randomUUID(), reason: 'names a colleague' });

  for (const scheme of ['light', 'dark']) {
    const { context, page, problems } = await newPage(browser, { bypassCSP: true, colorScheme: scheme, viewport: { width: 1440, height: 900 } });
    await openDesk(page, server.url, SAM, SLUG);
    await page.click('#tab-new');
    await page.fill('#f-q', tag);
    await eventually(async () => (await page.locator('.entries > .entry').count()) === 2, 'the two comments');
    // Keyboard: Space on a focused entry selects it, arrows move on.
    await page.locator('.entries > .entry').first().focus();
    await page.keyboard.press(' ');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press(' ');
    assert.equal(await page.textContent('#bulk-n'), '2 selected');
    await axe(page, `${scheme} desk with New and a bulk selection`);
    await page.focus('#bulk-hide');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'bulk-reason');
    await axe(page, `${scheme} desk with the bulk hide form`);
    await page.screenshot({ path: `/tmp/shots/desk-bulk-1440-${scheme}.png` });
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#bulk-form').isHidden(), true);
    if (scheme === 'light') {
      await page.focus('#bulk-approve');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#bulk-msg:text("Approved 1 of 1. 1 skipped")', { timeout: 10000 });
      await eventually(async () => (await entry(page, `Flagged one of ${tag}`).locator('.b-flag').count()) === 0, 'its flag settled');
    }
    await assertClean(page, problems);
    await context.close();
  }
});
