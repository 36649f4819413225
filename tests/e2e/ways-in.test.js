// Ways in (issue 12), in the browser, with a real SMTP server
// (tests/smtp/sink.py): sign up with a work email on context A, vote and
// comment; open the emailed link on context B and be the same participant
// (same handle, vote and comment); come back with the return phrase on
// context C. Screenshots of each step at 360 and 1440 px go to
// $SHOTS_DIR (default /tmp/chorus-shots/ways-in).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import {
  startChorus, launchBrowser, newPage, assertClean, eventually, itemCard, openComments, within, Api, REPO,
} from './lib/harness.js';
import { ADMIN, loginOnPage } from './lib/staff.js';

const SHOTS = process.env.SHOTS_DIR || '/tmp/chorus-shots/ways-in';
const SLUG = 'work-talk';
const ADDRESS = 'robin.e2e@uhb.nhs.uk';
let sink, server, browser, admin;

/** A real SMTP server writing each message it receives to a folder. */
async function startSink() {
  const folder = join(mkdtempSync(join(tmpdir(), 'chorus-smtp-')), 'received');
  const proc = spawn('/usr/bin/python3', [join(REPO, 'tests', 'smtp', 'sink.py'), folder], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await within(20000, new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', resolve);
    proc.once('exit', (c) => reject(new Error('the SMTP sink exited (' + c + '): is python3-aiosmtpd installed?')));
  }), 'the SMTP sink to start');
  const port = Number(/^listening (\d+)$/.exec(line)[1]);
  const messages = () => {
    let files = [];
    try { files = readdirSync(folder).filter((f) => f.endsWith('.eml')).sort(); } catch { /* none yet */ }
    return files.map((f) => readable(readFileSync(join(folder, f), 'utf8')));
  };
  return { port, messages, stop: () => proc.stdin.end() };
}

/** A quoted-printable body decoded, as a mail client shows it. */
function readable(m) {
  if (!/content-transfer-encoding: quoted-printable/i.test(m)) return m;
  return m.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, x) => String.fromCharCode(parseInt(x, 16)));
}

async function nthMessageTo(address, n) {
  return eventually(() => sink.messages().filter((m) => m.includes(address))[n - 1], `message ${n} to ${address}`, 20000);
}

/** The "You are taking part as …." sentence (the line also links to My contributions). */
const meLine = (page) => page.$eval('#me', (el) => el.firstChild.textContent.trim());

async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, name + '.png'), fullPage: true });
}

before(async () => {
  sink = await startSink();
  server = await startChorus({ users: [ADMIN], env: { CHORUS_MAIL__SMTP_URL: `smtp://127.0.0.1:${sink.port}` } });
  browser = await launchBrowser();
  admin = new Api(server.url);
  await admin.login(ADMIN.name, ADMIN.password);
  const now = Date.now();
  await admin.ok('POST', '/api/conversations', {
    slug: SLUG, title: 'Working here: what would you change?', introduction: 'Open to everyone who works in health and care in the area.',
    opens_at: new Date(now - 3600e3).toISOString(), closes_at: new Date(now + 14 * 86400e3).toISOString(),
    ways_in: ['email', 'invite'], email_domains: ['nhs.net', '*.nhs.uk'],
  });
  await admin.ok('POST', `/api/conversations/${SLUG}/items`, { id: randomUUID(), title: 'Rotas a month ahead', body: 'Publish rotas four weeks in advance.', position: 1 });
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  sink?.stop();
});

test('a work email signs up on A; its link on B and the return phrase on C are the same participant', { timeout: 150000 }, async () => {
  // A, on a phone: the ways in, the address, the code, the phrase.
  const a = await newPage(browser, { viewport: { width: 360, height: 800 } });
  await a.page.goto(`${server.url}/c/${SLUG}`);
  await a.page.waitForSelector('body.ready');
  assert.equal(await a.page.locator('#email-in').isVisible(), true, 'work email is offered');
  assert.equal(await a.page.locator('#invite-field').isVisible(), true, 'the invite code is offered');
  assert.equal(await a.page.locator('#code-field').isVisible(), false, 'no access code here');
  assert.equal(await a.page.locator('#signup button[type="submit"]').isVisible(), true, 'the invite code signs up with the button');
  await shot(a.page, 'signup-360');
  await a.page.fill('#email-address', 'kim@gmail.com');
  await a.page.click('#email-send');
  await eventually(async () => /ddresses at gmail\.com cannot take part/.test(await a.page.textContent('#email-msg')), 'a refused domain is explained');
  await a.page.fill('#email-address', ADDRESS);
  await a.page.click('#email-send');
  await a.page.waitForSelector('#email-code-field:not([hidden])');
  assert.match(await a.page.textContent('#email-msg'), /If this address can take part, we have sent a code/);
  await shot(a.page, 'code-360');
  const first = await nthMessageTo(ADDRESS, 1);
  const code = /^\s{4}(\d{6})\s*$/m.exec(first)[1];
  await a.page.fill('#email-code', code);
  await a.page.click('#email-verify');
  await a.page.waitForSelector('#phrase-panel');
  assert.equal(await a.page.evaluate(() => document.activeElement && document.activeElement.id), 'phrase-h', 'focus moves to the phrase');
  const phrase = (await a.page.textContent('#phrase-text')).trim();
  assert.equal(phrase.split(' ').length, 5);
  assert.match(await a.page.textContent('#phrase-panel'), /Keep this to come back on another device/);
  assert.equal(await a.page.getAttribute('#phrase-panel a[download]', 'download'), 'chorus-return-phrase.txt');
  await shot(a.page, 'phrase-360');
  const handle = (await meLine(a.page)).replace(/^You are taking part as (.*)\.$/, '$1');
  await a.page.click('#phrase-panel button:text("Done")');
  await a.page.waitForSelector('#conn[data-state="live"]', { timeout: 15000 });
  const card = itemCard(a.page, 'Rotas a month ahead');
  await card.locator('button.v-strong').click();
  await eventually(async () => (await card.locator('button.v-strong').getAttribute('aria-pressed')) === 'true', 'the vote shows');
  await openComments(card);
  await card.locator('textarea').first().fill('Four weeks would let me arrange childcare.');
  await card.locator('form button[type="submit"]').first().click();
  await eventually(async () => (await card.locator('.comments').textContent()).includes('arrange childcare'), 'the comment shows');
  await eventually(async () => (await admin.ok('GET', `/api/conversations/${SLUG}/items/${(await admin.snapshot(SLUG)).items[0].id}/comments`)).comments.length === 1, 'the comment is stored');

  // B, on a desktop: the emailed link alone signs in as the same participant.
  const b = await newPage(browser, { viewport: { width: 1440, height: 900 } });
  await b.page.goto(`${server.url}/c/${SLUG}`);
  await b.page.waitForSelector('body.ready');
  await shot(b.page, 'signup-1440');
  await b.page.fill('#email-address', ADDRESS.toUpperCase());
  await b.page.click('#email-send');
  await b.page.waitForSelector('#email-code-field:not([hidden])');
  await shot(b.page, 'code-1440');
  const second = await nthMessageTo(ADDRESS, 2);
  const link = /^(http:\/\/\S+#signin=\S+)$/m.exec(second)[1];
  await b.page.goto(link);
  await b.page.waitForSelector('#me:not([hidden])', { timeout: 15000 });
  assert.equal(await meLine(b.page), 'You are taking part as ' + handle + '.');
  assert.equal(await b.page.evaluate(() => location.hash), '', 'the code leaves the address bar');
  const bCard = itemCard(b.page, 'Rotas a month ahead');
  await eventually(async () => (await bCard.locator('button.v-strong').getAttribute('aria-pressed')) === 'true', 'B sees its vote');
  await openComments(bCard);
  await eventually(async () => (await bCard.locator('.comments').textContent()).includes(handle), 'B sees its comment under its handle');
  assert.equal(await b.page.locator('#phrase-panel').count(), 0, 'no new phrase for a returning participant');

  // C: the return phrase.
  const c = await newPage(browser, { viewport: { width: 1440, height: 900 } });
  await c.page.goto(`${server.url}/c/${SLUG}`);
  await c.page.waitForSelector('body.ready');
  await c.page.click('#come-back summary');
  await c.page.fill('#phrase-in', 'wrong words entirely here now');
  await c.page.click('#phrase-go');
  await eventually(async () => /is not a return phrase/.test(await c.page.textContent('#phrase-msg')), 'a wrong phrase is explained');
  await c.page.fill('#phrase-in', phrase.toUpperCase());
  await shot(c.page, 'return-1440');
  await c.page.click('#phrase-go');
  await c.page.waitForSelector('#me:not([hidden])', { timeout: 15000 });
  assert.equal(await meLine(c.page), 'You are taking part as ' + handle + '.');
  const cCard = itemCard(c.page, 'Rotas a month ahead');
  await eventually(async () => (await cCard.locator('button.v-strong').getAttribute('aria-pressed')) === 'true', 'C sees the vote');

  // The same on a phone, for the screenshot.
  const c2 = await newPage(browser, { viewport: { width: 360, height: 800 } });
  await c2.page.goto(`${server.url}/c/${SLUG}`);
  await c2.page.waitForSelector('body.ready');
  await c2.page.click('#come-back summary');
  await c2.page.fill('#phrase-in', phrase);
  await shot(c2.page, 'return-360');

  // A new phrase from "My contributions": shown once, and the old one
  // stops working.
  await c.page.goto(`${server.url}/c/${SLUG}/mine`);
  await c.page.waitForSelector('body.ready');
  await c.page.click('#phrase-new');
  await c.page.waitForSelector('#phrase-text');
  const fresh = (await c.page.textContent('#phrase-text')).trim();
  assert.notEqual(fresh, phrase);
  assert.equal(fresh.split(/\s+/).length, 5, fresh);
  const d = await newPage(browser, { viewport: { width: 360, height: 800 } });
  await d.page.goto(`${server.url}/c/${SLUG}`);
  await d.page.waitForSelector('body.ready');
  await d.page.click('#come-back summary');
  await d.page.fill('#phrase-in', phrase);
  await d.page.click('#phrase-go');
  await eventually(async () => /not one of this conversation/.test(await d.page.textContent('#phrase-msg')), 'the old phrase no longer works');
  await d.page.fill('#phrase-in', fresh);
  await d.page.click('#phrase-go');
  await d.page.waitForSelector('#me:not([hidden])', { timeout: 15000 });
  assert.equal(await meLine(d.page), 'You are taking part as ' + handle + '.');

  for (const p of [a, b, c, c2, d]) {
    await assertClean(p.page, p.problems);
    await p.context.close();
  }
});

test('the admin page shows the ways in and makes invite codes once, with CSV and printable sheet', { timeout: 90000 }, async () => {
  for (const width of [1440, 360]) {
    const adm = await newPage(browser, { viewport: { width, height: 900 }, acceptDownloads: true });
    await adm.page.goto(`${server.url}/admin?c=${SLUG}`);
    await loginOnPage(adm.page, ADMIN);
    await adm.page.waitForSelector('#manage:not([hidden])');
    assert.equal(await adm.page.isChecked('#m-ways input[value="email"]'), true);
    assert.equal(await adm.page.isChecked('#m-ways input[value="invite"]'), true);
    assert.equal(await adm.page.inputValue('#m-domains'), 'nhs.net, *.nhs.uk');
    assert.match(await adm.page.textContent('#m-ways-summary'), /^One person, one voice/);
    await adm.page.fill('#inv-count', '3');
    await adm.page.click('#inv-form button[type="submit"]');
    await adm.page.waitForSelector('#inv-out:not([hidden])');
    assert.equal(await adm.page.locator('#inv-codes li').count(), 3);
    await eventually(async () => /invite codes made, 0 used/.test(await adm.page.textContent('#inv-counts')), 'the counts');
    const [download] = await Promise.all([adm.page.waitForEvent('download'), adm.page.click('#inv-sheet')]);
    assert.equal(download.suggestedFilename(), `invites-${SLUG}.html`);
    await adm.page.locator('#ways-h').scrollIntoViewIfNeeded();
    await shot(adm.page, `admin-ways-${width}`);
    await assertClean(adm.page, adm.problems);
    await adm.context.close();
  }
  const counts = await admin.ok('GET', `/api/conversations/${SLUG}/invites`);
  assert.deepEqual(counts, { issued: 6, used: 0 });
});
