// Screenshots of the participant page and the desk with 500 comments, at
// 360×740 and 1440×900 (issue 13). Not a test: node tests/e2e/shots-500.mjs OUT_DIR
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { startChorus, launchBrowser, newPage, openConversation, signUp, itemCard, openComments, eventually, Api } from './lib/harness.js';
import { openDesk } from './lib/staff.js';

const OUT = process.argv[2] || '/tmp/shots';
mkdirSync(OUT, { recursive: true });
const ADMIN = { name: 'ada', role: 'admin', password: 'ada-password-1234' };
const server = await startChorus({ users: [ADMIN], env: { CHORUS_RATE__COMMENT_BURST: '1000' } });
const browser = await launchBrowser();
try {
  const admin = new Api(server.url);
  await admin.login(ADMIN.name, ADMIN.password);
  const slug = 'five-hundred';
  const now = Date.now();
  await admin.ok('POST', '/api/conversations', { slug, title: 'Making this the best place to work', introduction: 'Tell us which pledges matter to you, and why. Your comments are anonymous.', opens_at: new Date(now - 3600e3).toISOString(), closes_at: new Date(now + 5 * 86400e3).toISOString() });
  const titles = ['Protected time for training', 'Flexible hours for carers', 'A quiet room on every floor'];
  const pledges = [];
  for (const [i, title] of titles.entries()) {
    const id = randomUUID();
    await admin.ok('POST', `/api/conversations/${slug}/items`, { id, title, body: 'One hour a week, agreed with your manager, for learning of your choice.', position: i + 1 });
    pledges.push(id);
  }
  const people = [];
  for (let i = 0; i < 25; i++) {
    const p = new Api(server.url);
    await p.ok('POST', `/api/conversations/${slug}/participants`, {});
    people.push(p);
  }
  const says = ['Protected time would change everything for our team.', 'We tried this on ward 6 and it lasted a month before rotas ate it.', 'Only if it is really protected: cover has to be arranged first.', 'Yes. Learning in my own time is why I am exhausted.', 'Managers need the same time, or it will not stick.', 'Could it be pooled, so a team can take a day together?'];
  const ids = [];
  for (let i = 0; i < 500; i++) {
    const p = people[i % people.length];
    const item = pledges[i < 400 ? 0 : 1 + (i % 2)];
    const parent = i % 5 === 4 && ids.length ? ids[Math.floor(i / 7)] : null;
    const r = await p.ok('POST', `/api/conversations/${slug}/items/${item}/comments`, { id: randomUUID(), body: `${says[i % says.length]} (${i})`, parent_id: item === pledges[0] ? parent : null });
    if (!r.comment.parent_id && item === pledges[0]) ids.push(r.comment.id);
  }
  for (let k = 0; k < 120; k++) {
    const p = people[k % people.length];
    const c = ids[(k * 7) % 40];
    await p.req('PUT', `/api/conversations/${slug}/comments/${c}/vote`, { request_id: randomUUID(), up: true });
  }
  for (const [i, p] of people.entries()) await p.ok('PUT', `/api/conversations/${slug}/items/${pledges[i % 3]}/vote`, { request_id: randomUUID(), choice: i % 4 ? 'strong' : 'wrong' });

  for (const [w, h] of [[360, 740], [1440, 900]]) {
    const { context, page } = await newPage(browser, { viewport: { width: w, height: h }, isMobile: w < 500, hasTouch: w < 500 });
    await openConversation(page, server.url, slug);
    await signUp(page);
    const card = itemCard(page, titles[0]);
    await page.screenshot({ path: `${OUT}/participant-${w}-top.png` });
    await openComments(card);
    await eventually(async () => (await card.locator('.clist > li.comment').count()) >= 20, 'comments');
    const withReplies = card.locator('.clist > li.comment button.rcount:not([hidden])').first();
    if (await withReplies.count()) await withReplies.click();
    await card.locator('> .comments').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await page.waitForTimeout(400);
    await page.screenshot({ path: `${OUT}/participant-${w}-comments.png` });
    await page.screenshot({ path: `${OUT}/participant-${w}-full.png`, fullPage: true });
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    console.log(`participant ${w}px: page ${height}px high with the first pledge's comments open`);
    await context.close();

    const desk = await newPage(browser, { viewport: { width: w, height: h }, isMobile: w < 500, hasTouch: w < 500 });
    await openDesk(desk.page, server.url, ADMIN, slug);
    await desk.page.click('#tab-all');
    await desk.page.locator('.entry').nth(30).waitFor();
    await desk.page.screenshot({ path: `${OUT}/desk-${w}-top.png` });
    const e = desk.page.locator('.entry').nth(12);
    await e.scrollIntoViewIfNeeded();
    await e.locator('.text').click();
    await desk.page.waitForTimeout(300);
    await e.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await desk.page.waitForTimeout(300);
    await desk.page.screenshot({ path: `${OUT}/desk-${w}-selected.png` });
    await desk.context.close();
  }
} finally {
  await browser.close().catch(() => {});
  await server.stop();
}
