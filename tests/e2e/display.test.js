// The event display screen (issue 7): tallies move as participants vote, the
// QR code decodes to the join link, it fits 1920x1080 and 1280x720 with no
// scrollbars, follows the desk's display mode, survives a dropped
// connection, and axe-core finds no WCAG 2.1 AA violations.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import jsQR from 'jsqr';
import {
  startChorus, launchBrowser, newPage, assertClean, eventually, Api, SLUG,
} from './lib/harness.js';
import { ADMIN, axe } from './lib/staff.js';

let server, browser, admin, pledges;

before(async () => {
  server = await startChorus({ users: [ADMIN] });
  browser = await launchBrowser();
  admin = new Api(server.url);
  await admin.login(ADMIN.name, ADMIN.password);
  pledges = (await admin.snapshot()).items.filter((i) => i.kind === 'pledge').sort((x, y) => x.position - y.position);
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

async function token(slug = SLUG) {
  return (await admin.ok('POST', `/api/conversations/${slug}/display-tokens`, {})).token;
}

async function openDisplay(page, slug, tok) {
  await page.goto(`${server.url}/display/${slug}?token=${tok}`);
  await page.waitForSelector('body.ready #conn[data-state="live"]', { state: 'attached', timeout: 15000 });
}

/** A participant (REST only) who signed up. */
async function voter(slug = SLUG, body = {}) {
  const p = new Api(server.url);
  await p.ok('POST', `/api/conversations/${slug}/participants`, body);
  return p;
}
const vote = (p, itemId, choice, slug = SLUG) =>
  p.ok('PUT', `/api/conversations/${slug}/items/${itemId}/vote`, { request_id: randomUUID(), choice });

/** Decodes the QR code image on the page (drawn to a canvas in the page, decoded here with jsQR). */
async function decodeQr(page) {
  await page.waitForFunction(() => { const i = document.getElementById('qr'); return i && i.complete && i.naturalWidth > 0; });
  const img = await page.evaluate(() => {
    const i = /** @type {HTMLImageElement} */ (document.getElementById('qr'));
    const size = 600;
    const c = document.createElement('canvas');
    c.width = size; c.height = size;
    const g = c.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, size, size);
    g.drawImage(i, 0, 0, size, size);
    return { width: size, height: size, data: Array.from(g.getImageData(0, 0, size, size).data) };
  });
  const code = jsQR(Uint8ClampedArray.from(img.data), img.width, img.height);
  assert.ok(code, 'jsQR found a QR code in the image');
  return code.data;
}

/** Asserts the page has no scrollbars and its parts are inside the viewport. */
async function assertFits(page, label) {
  const m = await page.evaluate(() => {
    const d = document.documentElement;
    const parts = ['#title', '#presence', '#countdown', '#qr', '#join-link', '#ticker', '.d-main'];
    const out = [];
    for (const sel of parts) {
      const el = document.querySelector(sel);
      if (!el || el.closest('[hidden]')) continue;
      const r = el.getBoundingClientRect();
      if (r.left < 0 || r.top < 0 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5) out.push(`${sel} ${JSON.stringify(r)}`);
    }
    // Every visible pledge row fits inside the pledges area (none is cut off).
    const area = document.querySelector('.d-main').getBoundingClientRect();
    for (const li of document.querySelectorAll('#pledges > li')) {
      const r = li.getBoundingClientRect();
      if (r.bottom > area.bottom + 0.5) out.push(`pledge row ${li.textContent.slice(0, 30)} ends at ${r.bottom} > ${area.bottom}`);
      if (li.scrollHeight > li.clientHeight + 1) out.push(`pledge row ${li.textContent.slice(0, 30)} overflows itself`);
    }
    return {
      sw: d.scrollWidth, sh: d.scrollHeight, bw: document.body.scrollWidth, bh: document.body.scrollHeight,
      w: innerWidth, h: innerHeight, out, fontPx: parseFloat(getComputedStyle(document.querySelector('.d-ptitle') || document.body).fontSize),
    };
  });
  assert.ok(m.sw <= m.w && m.sh <= m.h, `${label}: the document is ${m.sw}x${m.sh} in a ${m.w}x${m.h} viewport (scrollbars)`);
  assert.ok(m.bw <= m.w && m.bh <= m.h, `${label}: the body is ${m.bw}x${m.bh} in a ${m.w}x${m.h} viewport`);
  assert.deepEqual(m.out, [], `${label}: parts outside the viewport`);
  return m;
}

test('tallies move as participants vote; the QR code decodes to the join link; it fits 1920x1080 and 1280x720', { timeout: 120000 }, async () => {
  const d = await newPage(browser, { viewport: { width: 1920, height: 1080 } });
  const tok = await token();
  // Some votes before it opens.
  const early = await voter();
  await vote(early, pledges[0].id, 'strong');
  await openDisplay(d.page, SLUG, tok);
  const row = d.page.locator(`#pledges > li[data-id="${pledges[0].id}"] .tally`);
  await eventually(async () => (await row.getAttribute('data-strong')) === '1', 'the snapshot tally');
  assert.equal(await d.page.locator('#pledges > li').count(), pledges.length, 'every pledge is on the screen');
  // The bars animate (a transition on the transform), and large type.
  const dur = await d.page.locator('#pledges .bar-strong').first().evaluate((el) => getComputedStyle(el).transitionDuration);
  assert.notEqual(dur, '0s', 'bars move smoothly');

  // Participants vote: the bars move.
  const voters = await Promise.all([1, 2, 3].map(() => voter()));
  const width = () => row.locator('.bar-strong').evaluate((el) => el.getBoundingClientRect().width);
  const w0 = await width();
  await vote(voters[0], pledges[0].id, 'wrong');
  await eventually(async () => (await row.getAttribute('data-wrong')) === '1', 'a wrong vote arrives', 5000);
  // Mid-animation the bar is between where it was and where it goes.
  await d.page.waitForTimeout(700 + 300);
  const w1 = await width();
  assert.ok(w1 < w0 - 10, `the strong bar shrank from ${w0} to ${w1} px`);
  await vote(voters[1], pledges[0].id, 'strong');
  await vote(voters[2], pledges[0].id, 'strong');
  await eventually(async () => (await row.getAttribute('data-strong')) === '3', 'strong votes arrive', 5000);
  assert.match(await row.locator('.c-strong').textContent(), /3 strong/);
  assert.match(await row.locator('.c-wrong').textContent(), /1 wrong/);

  // Presence: the display counts people taking part now (REST-only voters are not connected).
  assert.match(await d.page.textContent('#presence'), /^\d+ taking part now$/);
  assert.match(await d.page.textContent('#countdown'), /left/);

  // The QR code decodes to the join link shown as text (and in X-Join-Link).
  const link = await decodeQr(d.page);
  const res = await fetch(`${server.url}/api/conversations/${SLUG}/qr.svg?token=${tok}`);
  assert.equal(link, res.headers.get('x-join-link'));
  assert.equal(link, `${server.url}/c/${SLUG}`);
  assert.equal(await d.page.textContent('#join-link'), link.replace(/^https?:\/\//, ''));
  assert.equal(await d.page.locator('#qr').getAttribute('src'), `/api/conversations/${SLUG}/qr.svg?token=${tok}`);

  // A comment for the ticker, then: no scrollbars at both sizes, in every mode.
  const p = await voter();
  const long = 'A long comment for the ticker that goes on and on. '.repeat(12);
  await p.ok('POST', `/api/conversations/${SLUG}/items/${pledges[0].id}/comments`, { id: randomUUID(), body: long.trim() });
  await d.page.locator('#ticker .d-card').first().waitFor();
  for (const [w, h] of [[1920, 1080], [1280, 720]]) {
    await d.page.setViewportSize({ width: w, height: h });
    for (const mode of ['all', 'focus', 'comments']) {
      await admin.ok('PATCH', `/api/conversations/${SLUG}`, { display: { mode, item_id: mode === 'focus' ? pledges[1].id : null } });
      await d.page.waitForSelector(`body[data-mode="${mode}"]`);
      await d.page.waitForTimeout(200);
      const m = await assertFits(d.page, `${w}x${h} ${mode}`);
      if (mode === 'all') assert.ok(m.fontPx >= (h >= 1080 ? 30 : 20), `${w}x${h}: pledge titles are large (${m.fontPx}px)`);
      await d.page.screenshot({ path: new URL(`./artifacts/display-${w}x${h}-${mode}.png`, import.meta.url).pathname });
    }
  }
  await admin.ok('PATCH', `/api/conversations/${SLUG}`, { display: { mode: 'all', item_id: null } });
  await assertClean(d.page, d.problems);
  await d.context.close();
});

test('the display follows the desk\'s mode live, drops hidden comments at once, and resumes after a dropped connection', { timeout: 90000 }, async () => {
  const d = await newPage(browser, { viewport: { width: 1280, height: 720 } });
  let down = false;
  const sockets = [];
  await d.context.routeWebSocket(/\/ws$/, (ws) => {
    if (down) { ws.close({ code: 1011, reason: 'internal error' }); return; }
    ws.connectToServer();
    sockets.push(ws);
  });
  const tok = await token();
  await openDisplay(d.page, SLUG, tok);

  // Focus on one pledge, then the comments wall, then back.
  await admin.ok('PATCH', `/api/conversations/${SLUG}`, { display: { mode: 'focus', item_id: pledges[2].id } });
  await d.page.waitForSelector('body[data-mode="focus"]');
  assert.equal(await d.page.textContent('#focus-title'), pledges[2].title);
  assert.equal(await d.page.locator('#pledges-sec').isHidden(), true);
  await admin.ok('PATCH', `/api/conversations/${SLUG}`, { display: { mode: 'comments', item_id: null } });
  await d.page.waitForSelector('body[data-mode="comments"]');

  // A comment shows on the wall; hidden, it vanishes at once.
  const p = await voter();
  const text = 'On the wall for a moment ' + Date.now();
  const { comment } = await p.ok('POST', `/api/conversations/${SLUG}/items/${pledges[2].id}/comments`, { id: randomUUID(), body: text });
  await d.page.locator('#wall .d-card', { hasText: text }).waitFor({ timeout: 5000 });
  const t0 = Date.now();
  await admin.hide(comment.id);
  await eventually(async () => (await d.page.locator('.d-card', { hasText: text }).count()) === 0, 'the hidden comment is gone from the wall and the ticker', 5000, 20);
  assert.ok(Date.now() - t0 < 2000, 'the hidden comment vanished within a moment');

  await admin.ok('PATCH', `/api/conversations/${SLUG}`, { display: { mode: 'all', item_id: null } });
  await d.page.waitForSelector('body[data-mode="all"]');

  // Cut the connection; votes and a comment happen meanwhile; it reconnects and catches up by itself.
  const row = d.page.locator(`#pledges > li[data-id="${pledges[3].id}"] .tally`);
  const before = Number(await row.getAttribute('data-strong'));
  down = true;
  for (const ws of sockets) await ws.close({ code: 1012, reason: 'server restarting' });
  await eventually(async () => (await d.page.locator('#conn').getAttribute('data-state')) !== 'live', 'the display notices', 5000);
  const v = await voter();
  await vote(v, pledges[3].id, 'strong');
  const away = 'Said while the screen was away ' + Date.now();
  await v.ok('POST', `/api/conversations/${SLUG}/items/${pledges[3].id}/comments`, { id: randomUUID(), body: away });
  down = false;
  await eventually(async () => Number(await row.getAttribute('data-strong')) === before + 1, 'the tally catches up', 20000);
  await d.page.locator('#ticker .d-card', { hasText: away }).waitFor({ timeout: 10000 });
  assert.equal(await d.page.locator('#conn').getAttribute('data-state'), 'live');
  await assertClean(d.page, d.problems);
  await d.context.close();
});

test('an access-code conversation: the display shows the code, the QR code carries it; a bad token is refused', { timeout: 90000 }, async () => {
  const slug = 'coded-display';
  const now = Date.now();
  await admin.ok('POST', '/api/conversations', {
    slug, title: 'Staff event: what matters', introduction: 'For the event.',
    opens_at: new Date(now - 3600e3).toISOString(), closes_at: new Date(now + 7 * 86400e3).toISOString(),
    signup_mode: 'code', access_code: 'NHS-2026', moderation: 'post', ideas_need_approval: true,
  });
  const item = (await admin.ok('POST', `/api/conversations/${slug}/items`, { id: randomUUID(), title: 'Time to talk', body: 'Weekly team time.', position: 1 })).item
    || (await admin.snapshot(slug)).items[0];
  // A comment made before the screen opens is in its ticker at once.
  const p = await voter(slug, { access_code: 'NHS-2026' });
  const early = 'Said before the screen opened ' + Date.now();
  await p.ok('POST', `/api/conversations/${slug}/items/${item.id}/comments`, { id: randomUUID(), body: early });
  const d = await newPage(browser, { viewport: { width: 1920, height: 1080 } });
  const tok = await token(slug);
  await openDisplay(d.page, slug, tok);
  await d.page.locator(`#pledges > li[data-id="${item.id}"]`).waitFor();
  await d.page.locator('#ticker .d-card', { hasText: early }).waitFor({ timeout: 5000 });
  await d.page.waitForSelector('#join-code:not([hidden])');
  assert.match(await d.page.textContent('#join-code'), /NHS-2026/);
  const link = await decodeQr(d.page);
  assert.equal(link, `${server.url}/c/${slug}?code=NHS-2026`);
  // A participant who joined with the code votes: the bar moves.
  await vote(p, item.id, 'wrong', slug);
  await eventually(async () => (await d.page.locator(`#pledges > li[data-id="${item.id}"] .tally`).getAttribute('data-wrong')) === '1', 'the vote arrives');
  // Fourteen pledges still fit, in two columns, at both sizes.
  for (let i = 2; i <= 14; i++) {
    await admin.ok('POST', `/api/conversations/${slug}/items`, { id: randomUUID(), title: `Pledge number ${i} with a reasonably long title to fit`, body: 'x', position: i });
  }
  await eventually(async () => (await d.page.locator('#pledges > li').count()) === 14, 'new pledges appear live');
  for (const [w, h] of [[1920, 1080], [1280, 720]]) {
    await d.page.setViewportSize({ width: w, height: h });
    await d.page.waitForTimeout(200);
    await assertFits(d.page, `${w}x${h} with 14 pledges`);
    await d.page.screenshot({ path: new URL(`./artifacts/display-${w}x${h}-14-pledges.png`, import.meta.url).pathname });
  }
  // The display token does not open staff endpoints.
  const staff = await d.page.evaluate(async (s) => (await fetch(`/api/conversations/${s}/moderation/comments?status=all`)).status, slug);
  assert.ok(staff === 401 || staff === 403, `a display cannot read the moderation queue (${staff})`);
  await assertClean(d.page, d.problems);
  await d.context.close();

  // Without a valid token the screen says so instead of showing the stream.
  const bad = await newPage(browser, { viewport: { width: 1280, height: 720 } });
  await bad.page.goto(`${server.url}/display/${slug}?token=not-a-token`);
  await bad.page.waitForSelector('#conn[data-state="forbidden"]', { state: 'attached', timeout: 15000 });
  await bad.context.close();
});

test('axe: the display has no WCAG 2.1 AA violations in any mode', { timeout: 90000 }, async () => {
  const { context, page } = await newPage(browser, { bypassCSP: true, viewport: { width: 1920, height: 1080 } });
  await openDisplay(page, SLUG, await token());
  for (const mode of ['all', 'focus', 'comments']) {
    await admin.ok('PATCH', `/api/conversations/${SLUG}`, { display: { mode, item_id: mode === 'focus' ? pledges[0].id : null } });
    await page.waitForSelector(`body[data-mode="${mode}"]`);
    await page.waitForTimeout(800); // let the cards' entrance finish
    await axe(page, `display ${mode}`);
  }
  await admin.ok('PATCH', `/api/conversations/${SLUG}`, { display: { mode: 'all', item_id: null } });
  await context.close();
});
