// Two participants, a facilitator and an admin on one real chorus:
// votes, comments, moderation and deadline changes reach pages live.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startChorus, launchBrowser, newPage, assertClean, openConversation, signUp,
  itemCard, openComments, showLive, eventually, Api, SLUG,
} from './lib/harness.js';

const FAC = { name: 'fran', role: 'facilitator', password: 'fran-password-1234' };
const ADMIN = { name: 'ada', role: 'admin', password: 'ada-password-1234' };

let server, browser, a, b, fac, admin, item;

before(async () => {
  // One participant posts more comments here than a person would in a minute:
  // raise the comment burst (offline.test.js meets the real limit).
  server = await startChorus({ users: [FAC, ADMIN], env: { CHORUS_RATE__COMMENT_BURST: '100' } });
  browser = await launchBrowser();
  fac = new Api(server.url);
  await fac.login(FAC.name, FAC.password);
  admin = new Api(server.url);
  await admin.login(ADMIN.name, ADMIN.password);
  const snap = await new Api(server.url).snapshot();
  item = snap.items.filter((i) => i.kind === 'pledge').sort((x, y) => x.position - y.position)[0];
  assert.ok(item, 'the demo conversation has a pledge');
  a = await newPage(browser);
  b = await newPage(browser);
  for (const p of [a, b]) {
    await openConversation(p.page, server.url);
    await signUp(p.page);
    // A marker that a reload would wipe out.
    await p.page.evaluate(() => { window.__sameDocument = true; });
  }
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

async function notReloaded(p) {
  assert.equal(await p.page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
}

test('one participant votes and comments; the other sees both without reloading', { timeout: 60000 }, async () => {
  const cardA = itemCard(a.page, item.title);
  const cardB = itemCard(b.page, item.title);
  await openComments(cardB);
  const before = Number(await cardB.locator('.tally').getAttribute('data-strong'));

  await cardA.locator('button.v-strong').click();
  assert.equal(await cardA.locator('button.v-strong').getAttribute('aria-pressed'), 'true');
  await eventually(async () => Number(await cardB.locator('.tally').getAttribute('data-strong')) === before + 1,
    'B sees the strong tally go up by one', 10000);
  await eventually(async () => (await cardA.locator('.mine').textContent()) === 'You voted strong', 'A sees the vote confirmed');

  const text = 'Protected time would change everything ' + Date.now();
  await openComments(cardA);
  await cardA.locator('.comments > form.cform textarea').fill(text);
  await cardA.locator('.comments > form.cform button[type="submit"]').click();
  await cardA.locator('.comment .text', { hasText: text }).waitFor();
  await showLive(cardB, text);

  let snap = await new Api(server.url).snapshot();
  assert.equal(snap.items.find((i) => i.id === item.id).strong, before + 1, 'the store has the vote once');
  const stillStrong = before + 1;
  const wrongBefore = Number(await cardB.locator('.tally').getAttribute('data-wrong'));
  const announced = await b.page.locator('#announcer').textContent();

  // Change the vote, then withdraw it.
  await cardA.locator('button.v-wrong').click();
  await eventually(async () => Number(await cardB.locator('.tally').getAttribute('data-strong')) === stillStrong - 1
    && Number(await cardB.locator('.tally').getAttribute('data-wrong')) === wrongBefore + 1, 'B sees the vote change', 10000);
  await eventually(async () => (await cardA.locator('.mine').textContent()) === 'You voted wrong', 'A sees the change confirmed');
  await cardA.locator('button.v-wrong').click();
  await eventually(async () => Number(await cardB.locator('.tally').getAttribute('data-wrong')) === wrongBefore, 'B sees the vote withdrawn', 10000);
  await eventually(async () => (await cardA.locator('.mine').textContent()) === '', 'A sees the withdrawal confirmed');
  assert.equal(await cardA.locator('button[aria-pressed="true"]').count(), 0);
  snap = await new Api(server.url).snapshot();
  assert.equal(snap.items.find((i) => i.id === item.id).strong, before);
  // Votes are never announced one by one. (Other announcements, such as
  // the sign-up confirmation, are batched and may land at any moment, so
  // the check is on what is said, not on the region staying unchanged.)
  const heard = await b.page.locator('#announcer').textContent();
  assert.doesNotMatch(heard, /voted|\bstrong\b|\bwrong\b|tall(y|ies)/i, 'no announcement per vote (was: ' + announced + ')');
  const stored = (await fac.comments(item.id)).filter((c) => c.body === text);
  assert.equal(stored.length, 1, 'the store has the comment once');
  await notReloaded(b);
  await assertClean(a.page, a.problems);
  await assertClean(b.page, b.problems);
});

test('a facilitator hides a comment through the API; it disappears from the pages', { timeout: 60000 }, async () => {
  const cardA = itemCard(a.page, item.title);
  const cardB = itemCard(b.page, item.title);
  await openComments(cardA);
  await openComments(cardB);
  const text = 'This one names a colleague ' + Date.now();
  await cardA.locator('.comments > form.cform textarea').fill(text);
  await cardA.locator('.comments > form.cform button[type="submit"]').click();
  await showLive(cardB, text);

  // B had started a reply to it.
  const onB = cardB.locator('.comment', { has: b.page.locator('.text', { hasText: text }) });
  await onB.locator(':scope > .cactions button', { hasText: 'Reply' }).click();
  await onB.locator(':scope > .extra form.cform textarea').fill('I was answering this');
  const c = await eventually(async () => (await fac.comments(item.id)).find((x) => x.body === text), 'the comment is stored');
  await fac.hide(c.id, 'names a colleague');
  await cardB.locator('.comment .text', { hasText: text }).waitFor({ state: 'detached', timeout: 10000 });
  // Its author sees it marked hidden rather than watching it vanish.
  const onA = cardA.locator('.comment', { has: a.page.locator('.text', { hasText: text }) });
  await eventually(async () => /Hidden by a facilitator/.test(await onA.locator(':scope > .meta .cstate').textContent()), 'A sees the comment marked hidden', 10000);
  // The reply B was writing is kept in the item's comment field.
  assert.equal(await cardB.locator('.comments > form.cform textarea').inputValue(), 'I was answering this');
  await cardB.locator('.comments > form.cform textarea').fill('');
  await notReloaded(b);
  await assertClean(b.page, b.problems);
});

test('the deadline is extended through the API; the countdown changes without reloading', { timeout: 60000 }, async () => {
  const cd = b.page.locator('#countdown');
  const oldAttr = await cd.getAttribute('datetime');
  const oldText = await cd.textContent();
  const snap = await admin.snapshot();
  assert.equal(Date.parse(oldAttr), Date.parse(snap.conversation.closes_at), 'the countdown shows the deadline');
  const later = new Date(Date.parse(snap.conversation.closes_at) + 3 * 86400e3).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const r = await admin.req('PATCH', `/api/conversations/${SLUG}`, { closes_at: later });
  assert.equal(r.status, 200, `PATCH closes_at answered ${r.status}: ${JSON.stringify(r.body)}`);

  await eventually(async () => Date.parse(await cd.getAttribute('datetime')) === Date.parse(later), 'the countdown has the new deadline', 10000);
  const newText = await cd.textContent();
  assert.notEqual(newText, oldText);
  assert.match(newText, /left/);
  // A visible notice says so in words, not only a changed countdown.
  const notice = b.page.locator('#deadline-note');
  await notice.waitFor({ state: 'visible', timeout: 5000 });
  const d = new Date(later);
  const expected = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' }).format(d) + ' on ' + new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long' }).format(d);
  assert.equal(await notice.textContent(), `Extended until ${expected}.`);
  await notReloaded(b);
  await assertClean(b.page, b.problems);
});

test('hostile text shows as text', { timeout: 60000 }, async () => {
  const cardA = itemCard(a.page, item.title);
  const cardB = itemCard(b.page, item.title);
  await openComments(cardA);
  await openComments(cardB);
  const hostile = [
    '<img src=x onerror="window.__xss=1">',
    '<script>window.__xss=2</script> & "quotes" \'single\'',
    '<a href="javascript:window.__xss=3">click</a> <b>bold?</b>',
  ];
  for (const t of hostile) {
    await cardA.locator('.comments > form.cform textarea').fill(t);
    await cardA.locator('.comments > form.cform button[type="submit"]').click();
  }
  // On B's page they wait behind "3 new comments: show".
  for (const t of hostile) await showLive(cardB, t);
  for (const p of [a, b]) {
    const card = itemCard(p.page, item.title);
    await eventually(async () => {
      const texts = await card.locator('.comment .text').allTextContents();
      return hostile.every((t) => texts.includes(t));
    }, 'every hostile comment is shown as its exact text', 10000);
    assert.equal(await card.locator('.clist img, .clist script, .clist a, .clist b').count(), 0, 'no element was made from user text');
    assert.equal(await p.page.evaluate(() => window.__xss), undefined, 'no user text ran as script');
  }
  await assertClean(a.page, a.problems);
  await assertClean(b.page, b.problems);
});

test('new comments above the reader wait behind a pill and never steal focus or typing', { timeout: 60000 }, async () => {
  const cardA = itemCard(a.page, item.title);
  const cardB = itemCard(b.page, item.title);
  await openComments(cardA);
  await openComments(cardB);
  // B scrolls down to the idea form and starts typing: the comment list is now above the viewport.
  const title = b.page.locator('#idea-title');
  await title.scrollIntoViewIfNeeded();
  await title.focus();
  await b.page.keyboard.type('Half an idea');
  await eventually(async () => b.page.evaluate(() => {
    const l = [...document.querySelectorAll('li.item')][0].querySelector('.clist');
    return l.getBoundingClientRect().bottom < 0;
  }), 'the first comment list is above the viewport');
  const scrollBefore = await b.page.evaluate(() => window.scrollY);
  const announcedBefore = await b.page.locator('#announcer').textContent();

  const texts = [1, 2, 3].map((n) => `Pill comment ${n} ${Date.now()}`);
  for (const t of texts) {
    await cardA.locator('.comments > form.cform textarea').fill(t);
    await cardA.locator('.comments > form.cform button[type="submit"]').click();
  }
  const pill = b.page.locator('#pill');
  await eventually(async () => (await pill.isVisible()) && /3 new comments/.test(await pill.textContent()), 'B sees "3 new comments"', 10000);
  assert.equal(await cardB.locator('.comment .text', { hasText: 'Pill comment' }).count(), 0, 'nothing was inserted above the reader');
  assert.equal(await b.page.evaluate(() => window.scrollY), scrollBefore, 'the page did not move');
  assert.equal(await b.page.evaluate(() => document.activeElement?.id), 'idea-title', 'focus stayed where the reader was typing');
  assert.equal(await title.inputValue(), 'Half an idea');
  // One polite announcement for the batch, not one per comment.
  await eventually(async () => /\d+ new comments? above/.test(await b.page.locator('#announcer').textContent()), `the batch is announced once (announcer: ${await b.page.locator('#announcer').textContent()})`, 8000);
  assert.notEqual(await b.page.locator('#announcer').textContent(), announcedBefore);

  await pill.click();
  for (const t of texts) await cardB.locator('.comment .text', { hasText: t }).waitFor();
  assert.equal(await pill.isVisible(), false);
  assert.ok(await b.page.evaluate(() => document.activeElement?.classList.contains('comment')), 'the pill takes the reader to the first new comment');
  await title.fill('');
  await assertClean(b.page, b.problems);
});

test('a dropped live connection reconnects and resumes from the last seq without missing anything', { timeout: 60000 }, async () => {
  const c = await newPage(browser);
  let down = false;
  const sockets = [];
  const subscribes = [];
  // Stand between the page and chorus so the test can cut the connection.
  await c.context.routeWebSocket(/\/ws$/, (ws) => {
    if (down) { ws.close({ code: 1011, reason: 'internal error' }); return; }
    const srv = ws.connectToServer();
    ws.onMessage((m) => { if (String(m).includes('"subscribe"')) subscribes.push(JSON.parse(m)); srv.send(m); });
    sockets.push(ws);
  });
  await openConversation(c.page, server.url);
  const card = itemCard(c.page, item.title);
  await openComments(card);
  await c.page.evaluate(() => { window.__sameDocument = true; });
  const before = Number(await card.locator('.tally').getAttribute('data-strong'));
  const firstSince = subscribes.at(-1).since;
  assert.equal(typeof firstSince, 'number', 'the first subscribe carries the snapshot seq');

  down = true;
  for (const ws of sockets) await ws.close({ code: 1012, reason: 'server restarting' });
  await eventually(async () => (await c.page.locator('#conn').getAttribute('data-state')) !== 'live', 'the page notices', 5000);
  // While it is cut off: a comment and a vote from someone else.
  const text = 'Said while you were away ' + Date.now();
  await itemCard(a.page, item.title).locator('.comments > form.cform textarea').fill(text);
  await itemCard(a.page, item.title).locator('.comments > form.cform button[type="submit"]').click();
  const vb = itemCard(b.page, item.title).locator('button.v-wrong');
  await vb.click();
  await eventually(async () => (await itemCard(b.page, item.title).locator('.mine').textContent()) === 'You voted wrong', 'B votes');
  await eventually(async () => (await fac.comments(item.id)).some((x) => x.body === text), 'stored');
  assert.equal(await card.locator('.comment .text', { hasText: text }).count(), 0, 'not delivered while cut off');

  down = false;
  await showLive(card, text, 20000);
  await eventually(async () => Number(await card.locator('.tally').getAttribute('data-wrong')) >= 1, 'the tally catches up', 10000);
  const resumed = subscribes.at(-1);
  assert.ok(subscribes.length >= 2, 'it subscribed again');
  // It applied nothing while cut off, so it resumes from where it was; the server replays the rest.
  assert.equal(resumed.since, firstSince, `resubscribed with the last applied seq: ${JSON.stringify(subscribes)}`);
  assert.equal(await card.locator('.comment .text', { hasText: text }).count(), 1, 'delivered once');
  assert.equal(Number(await card.locator('.tally').getAttribute('data-strong')), before);
  assert.equal(await c.page.evaluate(() => window.__sameDocument), true);
  await assertClean(c.page, c.problems);
  await c.context.close();
});

test('replies, agreements and flags: the other participant sees replies and agree counts live', { timeout: 60000 }, async () => {
  const cardA = itemCard(a.page, item.title);
  const cardB = itemCard(b.page, item.title);
  await openComments(cardA);
  await openComments(cardB);
  await b.page.evaluate(() => window.scrollTo(0, 0));
  const text = 'Something to agree with ' + Date.now();
  await cardA.locator('.comments > form.cform textarea').fill(text);
  await cardA.locator('.comments > form.cform button[type="submit"]').click();
  const onB = cardB.locator('.comment', { has: b.page.locator('.text', { hasText: text }) });
  await showLive(cardB, text);

  await onB.locator(':scope > .cactions button.up').click();
  assert.equal(await onB.locator(':scope > .cactions button.up').getAttribute('aria-pressed'), 'true');
  const onA = cardA.locator('.comment', { has: a.page.locator('.text', { hasText: text }) });
  await eventually(async () => (await onA.locator(':scope > .cactions button.up').textContent()) === 'Agree 1', 'A sees the agree count go up', 10000);

  await onB.locator(':scope > .cactions button', { hasText: 'Reply' }).click();
  const reply = 'A reply to that ' + Date.now();
  await onB.locator(':scope > .extra form.cform textarea').fill(reply);
  await onB.locator(':scope > .extra form.cform button[type="submit"]').click();
  // The reply is folded under A's comment: its count moves, and unfolding shows it.
  const count = onA.locator(':scope > button.rcount');
  await eventually(async () => (await count.isVisible()) && (await count.textContent()) === '1 reply', 'A sees "1 reply"', 10000);
  assert.equal(await count.getAttribute('aria-expanded'), 'false');
  await count.click();
  await onA.locator('.replies .comment .text', { hasText: reply }).waitFor({ timeout: 10000 });
  assert.equal(await count.getAttribute('aria-expanded'), 'true');

  await onB.locator(':scope > .cactions button', { hasText: 'Flag' }).click();
  await onB.locator(':scope > .extra .flag-form input').fill('just checking the flag path');
  await onB.locator(':scope > .extra .flag-form button[type="submit"]').click();
  await eventually(async () => /facilitator will look/.test(await onB.locator(':scope > .msg').textContent()), 'the flag is confirmed', 10000);

  const stored = (await fac.comments(item.id));
  const parent = stored.find((c) => c.body === text);
  assert.equal(parent.up, 1, 'the agreement is stored once');
  assert.ok(stored.some((c) => c.body === reply && c.parent_id === parent.id), 'the reply is stored under its comment');
  await assertClean(a.page, a.problems);
  await assertClean(b.page, b.problems);
});

test('a suggested idea appears for everyone once a facilitator approves it', { timeout: 60000 }, async () => {
  const title = 'Quiet rooms on every ward ' + Date.now();
  await a.page.locator('#idea-title').fill(title);
  await a.page.locator('#idea-body').fill('Somewhere to decompress after a hard shift.');
  await a.page.locator('#idea-form button[type="submit"]').click();
  await eventually(async () => /Thank you/.test(await a.page.locator('#idea-msg').textContent()), 'the idea is acknowledged', 10000);
  const snap = await fac.snapshot();
  const idea = snap.items.find((i) => i.title === title);
  assert.ok(idea, 'the facilitator sees the pending idea');
  await fac.ok('POST', `/api/conversations/${SLUG}/items/${idea.id}/moderation`, { request_id: crypto.randomUUID(), action: 'approve' });
  await b.page.evaluate(() => window.scrollTo(0, 0));
  await itemCard(b.page, title).waitFor({ timeout: 10000 });
  assert.match(await itemCard(b.page, title).locator('.by').textContent(), /^Suggested by /);
  await itemCard(b.page, title).locator('button.v-strong').click();
  await eventually(async () => (await itemCard(a.page, title).locator('.tally').getAttribute('data-strong')) === '1', 'A sees the vote on the idea', 10000);
  await notReloaded(b);
  await assertClean(a.page, a.problems);
  await assertClean(b.page, b.problems);
});

test('resync: told to reload, the page fetches the snapshot again and resubscribes from its seq', { timeout: 60000 }, async () => {
  const c = await newPage(browser);
  const subscribes = [];
  let toPage = null;
  await c.context.routeWebSocket(/\/ws$/, (ws) => {
    const srv = ws.connectToServer();
    ws.onMessage((m) => { if (String(m).includes('"subscribe"')) subscribes.push(JSON.parse(m)); srv.send(m); });
    toPage = ws;
  });
  await openConversation(c.page, server.url);
  await c.page.evaluate(() => { window.__sameDocument = true; });
  const card = itemCard(c.page, item.title);
  await openComments(card);
  const snapshots = [];
  c.page.on('response', (r) => { if (new URL(r.url()).pathname === `/api/conversations/${SLUG}`) snapshots.push(r.url()); });
  // Meanwhile someone comments: the resync snapshot must include it.
  const text = 'Posted before the resync ' + Date.now();
  await itemCard(a.page, item.title).locator('.comments > form.cform textarea').fill(text);
  await itemCard(a.page, item.title).locator('.comments > form.cform button[type="submit"]').click();
  await showLive(card, text);
  const seqNow = (await fac.snapshot()).seq;
  const n = subscribes.length;
  toPage.send(JSON.stringify({ type: 'resync', seq: seqNow, reason: 'too_far_behind' }));
  await eventually(async () => subscribes.length > n, 'it subscribes again', 10000);
  assert.ok(snapshots.length >= 1, 'it reloaded the snapshot');
  assert.equal(subscribes.at(-1).since, seqNow, 'since is the new snapshot seq');
  await card.locator('.comment .text', { hasText: text }).waitFor({ timeout: 10000 });
  assert.equal(await card.locator('.comment .text', { hasText: text }).count(), 1, 'shown once after the reload');
  assert.equal(await c.page.evaluate(() => window.__sameDocument), true);
  await assertClean(c.page, c.problems);
  await c.context.close();
});

test('pre-moderation: the author sees "Awaiting review", others see the comment only once approved', { timeout: 60000 }, async () => {
  let r = await admin.req('PATCH', `/api/conversations/${SLUG}`, { moderation: 'pre' });
  assert.equal(r.status, 200, `PATCH moderation answered ${r.status}: ${JSON.stringify(r.body)}`);
  try {
    const cardA = itemCard(a.page, item.title);
    const cardB = itemCard(b.page, item.title);
    await openComments(cardA);
    await openComments(cardB);
    await b.page.evaluate(() => window.scrollTo(0, 0));
    const text = 'Waiting for a facilitator ' + Date.now();
    await cardA.locator('.comments > form.cform textarea').fill(text);
    await cardA.locator('.comments > form.cform button[type="submit"]').click();
    const onA = cardA.locator('.comment', { has: a.page.locator('.text', { hasText: text }) });
    await eventually(async () => (await onA.locator('.cstate').first().textContent()) === 'Awaiting review', 'the author sees it awaits review', 10000);
    const pending = await eventually(async () => (await fac.ok('GET', `/api/conversations/${SLUG}/moderation/comments?status=pending`)).comments.find((c) => c.body === text), 'the facilitator sees it pending');
    assert.equal(await cardB.locator('.comment .text', { hasText: text }).count(), 0, 'others do not see it yet');
    await fac.ok('POST', `/api/conversations/${SLUG}/comments/${pending.id}/moderation`, { request_id: crypto.randomUUID(), action: 'approve' });
    await showLive(cardB, text);
    await eventually(async () => (await onA.locator('.cstate').first().textContent()) === '', 'the author sees it published', 10000);
    await assertClean(a.page, a.problems);
    await assertClean(b.page, b.problems);
  } finally {
    r = await admin.req('PATCH', `/api/conversations/${SLUG}`, { moderation: 'post' });
    assert.equal(r.status, 200);
  }
});
