// Links into the participant page: the report's links to a comment in
// context, and the page's own link to the results.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startChorus, launchBrowser, newPage, assertClean, openConversation, eventually, Api } from './lib/harness.js';

let server, browser, item, target;

before(async () => {
  server = await startChorus({ env: { CHORUS_RATE__COMMENT_BURST: '100' } });
  browser = await launchBrowser();
  const author = new Api(server.url);
  const snap = await author.snapshot();
  item = snap.items.filter((i) => i.kind === 'pledge').sort((x, y) => y.position - x.position)[0];
  await author.ok('POST', `/api/conversations/best-place-to-work/participants`, {});
  // Enough comments that the linked one starts out of view.
  for (let n = 0; n < 30; n++) {
    const id = crypto.randomUUID();
    await author.ok('POST', `/api/conversations/best-place-to-work/items/${item.id}/comments`, { id, body: `Comment number ${n}` });
    if (n === 25) target = id;
  }
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

test('a link to a comment opens its pledge and shows the comment', { timeout: 60000 }, async () => {
  const p = await newPage(browser);
  await openConversation(p.page, server.url, 'best-place-to-work', `?item=${item.id}#comment-${target}`);
  const comment = p.page.locator(`#comment-${target}`);
  await comment.waitFor({ timeout: 10000 });
  await eventually(async () => p.page.evaluate((id) => document.activeElement?.id === 'comment-' + id, target), 'the linked comment has focus');
  assert.ok(await comment.isVisible());
  assert.equal(await comment.locator('.text').textContent(), 'Comment number 25');
  const box = await comment.boundingBox();
  const viewport = p.page.viewportSize();
  assert.ok(box && box.y >= 0 && box.y + box.height <= viewport.height, 'the comment is scrolled into view');
  await assertClean(p.page, p.problems);
});

test('the participant page links to the results', { timeout: 30000 }, async () => {
  const p = await newPage(browser);
  await openConversation(p.page, server.url);
  assert.equal(await p.page.locator('#results-link').getAttribute('href'), '/report/best-place-to-work');
  await assertClean(p.page, p.problems);
});
