// Conversation admin (issue 7): a deadline extension and an early close from
// the admin page reach participant pages live; creating a conversation,
// writing and reordering pledges, display links and facilitator accounts;
// axe-core finds no WCAG 2.1 AA violations; non-admins get the login form.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChorus, launchBrowser, newPage, assertClean, openConversation, eventually, Api, SLUG,
} from './lib/harness.js';
import { ADMIN, SAM, axe, loginOnPage } from './lib/staff.js';

let server, browser, admin;

before(async () => {
  server = await startChorus({ users: [ADMIN, SAM] });
  browser = await launchBrowser();
  admin = new Api(server.url);
  await admin.login(ADMIN.name, ADMIN.password);
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

async function openAdmin(page, slug) {
  await page.goto(`${server.url}/admin${slug ? '?c=' + slug : ''}`);
  await loginOnPage(page, ADMIN);
  await page.waitForSelector('body.ready #admin:not([hidden])');
  if (slug) await page.waitForSelector('#manage:not([hidden])');
}

test('extending the deadline and closing early from the admin page reach participant pages live', { timeout: 90000 }, async () => {
  const part = await newPage(browser);
  const adm = await newPage(browser, { viewport: { width: 1400, height: 900 } });
  await openConversation(part.page, server.url);
  const before = (await admin.snapshot()).conversation.closes_at;
  assert.equal(Date.parse(await part.page.getAttribute('#countdown', 'datetime')), Date.parse(before));

  await adm.page.goto(`${server.url}/admin`);
  await loginOnPage(adm.page, ADMIN);
  await adm.page.locator(`#convs button[data-slug="${SLUG}"]`).click();
  await adm.page.waitForSelector('#manage:not([hidden])');
  assert.equal(await adm.page.textContent('#m-title'), (await admin.snapshot()).conversation.title);

  // Extend by a day: the participant's countdown moves without a reload.
  await part.page.evaluate(() => { window.__same = true; });
  await adm.page.click('#extend-day');
  await adm.page.waitForSelector('#win-msg:text("Extended")');
  const after1 = (await admin.snapshot()).conversation.closes_at;
  assert.equal(Date.parse(after1) - Date.parse(before), 86400e3);
  await eventually(async () => Date.parse(await part.page.getAttribute('#countdown', 'datetime')) === Date.parse(after1), 'the participant page shows the new deadline', 5000);

  // A chosen time through the form.
  const target = new Date(Date.parse(after1) + 3 * 86400e3);
  target.setSeconds(0, 0);
  const p = (n) => String(n).padStart(2, '0');
  const local = `${target.getFullYear()}-${p(target.getMonth() + 1)}-${p(target.getDate())}T${p(target.getHours())}:${p(target.getMinutes())}`;
  await adm.page.fill('#m-closes', local);
  await adm.page.click('#win-form button[type="submit"]');
  await eventually(async () => Date.parse(await part.page.getAttribute('#countdown', 'datetime')) === target.getTime(), 'the participant page shows the chosen deadline', 5000);

  // Close now (it asks first): participants see it closed at once.
  await adm.page.click('#close-now');
  assert.equal(await part.page.getAttribute('body', 'data-state'), 'open', 'one click only asks');
  await adm.page.click('#close-now');
  await part.page.waitForSelector('body[data-state="closed"]', { timeout: 5000 });
  assert.equal((await admin.snapshot()).conversation.state, 'closed');
  // Reopen by extending a week: participants can take part again.
  await adm.page.click('#extend-week');
  await part.page.waitForSelector('body[data-state="open"]', { timeout: 5000 });
  assert.equal(await part.page.evaluate(() => window.__same), true, 'no reload');

  await assertClean(part.page, part.problems);
  await assertClean(adm.page, adm.problems);
  await part.context.close();
  await adm.context.close();
});

test('create a conversation with an access code, write and reorder pledges, make a display link, add a facilitator', { timeout: 90000 }, async () => {
  const adm = await newPage(browser, { viewport: { width: 1400, height: 900 } });
  await openAdmin(adm.page);
  await adm.page.click('#new-details summary');
  await adm.page.fill('#new-title', 'Winter pressures');
  assert.equal(await adm.page.inputValue('#new-slug'), 'winter-pressures', 'the address follows the title');
  await adm.page.fill('#new-intro', 'What would help this winter?');
  // Ways in: the access code instead of the open link.
  await adm.page.uncheck('#new-ways input[value="open"]');
  await adm.page.check('#new-ways input[value="code"]');
  await adm.page.fill('#new-code', 'WINTER-26');
  await adm.page.selectOption('#new-moderation', 'pre');
  await adm.page.click('#new-form button[type="submit"]');
  await adm.page.waitForSelector('#manage:not([hidden]) #m-title:text("Winter pressures")');
  let snap = await admin.snapshot('winter-pressures');
  assert.deepEqual(snap.conversation.ways_in, ['code']);
  assert.equal(snap.conversation.moderation, 'pre');
  assert.equal(snap.conversation.state, 'open');
  await adm.page.waitForSelector('#m-join a');
  assert.equal(await adm.page.textContent('#m-join a'), `${server.url}/c/winter-pressures?code=WINTER-26`);

  // Three pledges, then move the last one up twice.
  for (const t of ['Warm staff rooms', 'Free flu jabs', 'Hot food at night']) {
    await adm.page.fill('#pl-title', t);
    await adm.page.fill('#pl-body', t + ' for everyone.');
    await adm.page.click('#pl-form button[type="submit"]');
    await adm.page.waitForSelector(`#pl-msg:text("Added “${t}”")`);
  }
  const order = async () => (await admin.snapshot('winter-pressures')).items.filter((i) => i.kind === 'pledge').sort((a, b) => a.position - b.position).map((i) => i.title);
  assert.deepEqual(await order(), ['Warm staff rooms', 'Free flu jabs', 'Hot food at night']);
  await adm.page.click('button[aria-label="Move up: Hot food at night"]');
  await eventually(async () => (await order())[1] === 'Hot food at night', 'moved up once');
  // Keyboard: focus stays on the moved pledge's button; Enter moves it again.
  await eventually(async () => (await adm.page.evaluate(() => document.activeElement?.getAttribute('aria-label'))) === 'Move up: Hot food at night', 'focus follows the pledge');
  await adm.page.keyboard.press('Enter');
  await eventually(async () => JSON.stringify(await order()) === JSON.stringify(['Hot food at night', 'Warm staff rooms', 'Free flu jabs']), 'moved to the top');
  assert.deepEqual(await adm.page.locator('#pledges input[id^="pt-"]').evaluateAll((els) => els.map((e) => e.value)), ['Hot food at night', 'Warm staff rooms', 'Free flu jabs']);
  // Edit a pledge's title.
  const first = adm.page.locator('#pledges > li').first();
  await first.locator('input').fill('Hot food on every night shift');
  await first.locator('button', { hasText: 'Save' }).click();
  await first.locator('.msg:text("Saved.")').waitFor();
  assert.equal((await order())[0], 'Hot food on every night shift');

  // A new access code.
  await adm.page.fill('#m-code', 'SNOW-2026');
  await adm.page.click('#set-form button[type="submit"]');
  await adm.page.waitForSelector('#set-msg:text("Settings saved.")');
  await eventually(async () => (await adm.page.textContent('#m-join a')) === `${server.url}/c/winter-pressures?code=SNOW-2026`, 'the join link carries the new code');

  // A display link that opens the screen.
  await adm.page.click('#make-token');
  const href = await adm.page.locator('#token-out a').getAttribute('href');
  assert.match(href, /^\/display\/winter-pressures\?token=/);
  const d = await newPage(browser, { viewport: { width: 1280, height: 720 } });
  await d.page.goto(server.url + href);
  await d.page.waitForSelector('body.ready #conn[data-state="live"]', { state: 'attached' });
  assert.match(await d.page.textContent('#join-code'), /SNOW-2026/);
  await assertClean(d.page, d.problems);
  await d.context.close();

  // A facilitator account, who can then log in.
  await adm.page.fill('#u-name', 'lee');
  await adm.page.fill('#u-password', 'lee-password-1234');
  await adm.page.click('#user-form button[type="submit"]');
  await adm.page.waitForSelector('#users td:text("lee")');
  const lee = new Api(server.url);
  assert.deepEqual((await lee.login('lee', 'lee-password-1234')).user, { name: 'lee', role: 'facilitator' });
  // A taken name is explained.
  await adm.page.fill('#u-name', 'lee');
  await adm.page.fill('#u-password', 'another-password');
  await adm.page.click('#user-form button[type="submit"]');
  await adm.page.waitForSelector('#u-msg:text("already exists")');

  await assertClean(adm.page, adm.problems.filter((x) => !/409/.test(x)));
  await adm.context.close();
});

test('axe: the admin page has no WCAG 2.1 AA violations; a facilitator is not let in', { timeout: 90000 }, async () => {
  for (const scheme of ['light', 'dark']) {
    const { context, page } = await newPage(browser, { bypassCSP: true, colorScheme: scheme, viewport: { width: 1400, height: 900 } });
    await page.goto(`${server.url}/admin`);
    await page.waitForSelector('#login:not([hidden])');
    await axe(page, `${scheme} admin login`);
    await openAdmin(page, SLUG);
    await page.click('#new-details summary');
    await axe(page, `${scheme} admin with a conversation open`);
    await context.close();
  }
  // A facilitator logging in is told this page is for admins; the API refuses them too.
  const { context, page } = await newPage(browser);
  await page.goto(`${server.url}/admin`);
  await page.fill('#login-name', SAM.name);
  await page.fill('#login-password', SAM.password);
  await page.click('#login button[type="submit"]');
  await page.waitForSelector('#login-msg:text("not an admin")');
  assert.equal(await page.locator('#admin').isHidden(), true);
  const status = await page.evaluate(async () => (await fetch('/api/users')).status);
  assert.equal(status, 403);
  await context.close();
});
