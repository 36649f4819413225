// The web done properly (issue 13) in a real browser: an unknown
// conversation address is a 404 page that reads well (axe, light and dark,
// 360 px and 1440 px wide) and leads home; every page has its icon; and a
// second visit revalidates the page's files instead of downloading them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startChorus, launchBrowser, newPage, assertClean, openConversation, eventually, HERE } from './lib/harness.js';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const ARTIFACTS = join(HERE, 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

let server, browser;

before(async () => {
  server = await startChorus();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

async function axe(page, label) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    resultTypes: ['violations'],
  }));
  const v = result.violations.map((x) => `${x.id} (${x.impact}): ${x.help}\n    ${x.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary.replace(/\s+/g, ' ')).join('\n    ')}`);
  assert.equal(v.length, 0, `${label}: axe found WCAG violations:\n  ${v.join('\n  ')}`);
}

test('an unknown conversation address is a 404 page that leads home', { timeout: 60000 }, async () => {
  const { page, problems } = await newPage(browser);
  const icons = [];
  page.on('response', (r) => { if (/\/favicon\.(svg|ico)$/.test(r.url())) icons.push(r.status()); });
  for (const path of ['/c/no-such-talk', '/report/no-such-talk', '/desk/no-such-talk', '/display/no-such-talk']) {
    const response = await page.goto(server.url + path);
    assert.equal(response.status(), 404, path);
    assert.equal(await page.title(), 'Conversation not found · chorus');
    assert.equal(await page.locator('h1').textContent(), "We can't find that conversation");
    assert.equal(await page.locator('link[rel="icon"]').getAttribute('href'), '/favicon.svg');
  }
  // The page's only control is the way out, reached by keyboard.
  await page.keyboard.press('Tab'); // the skip link
  await page.keyboard.press('Tab'); // the brand
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'See the open conversations');
  await page.keyboard.press('Enter');
  await page.waitForURL(server.url + '/');
  await page.waitForSelector('#convs li a');
  assert.ok(icons.every((s) => s === 200), `icon answers: ${icons}`);
  await assertClean(page, problems);
});

for (const scheme of ['light', 'dark']) {
  test(`the 404 page passes axe, ${scheme} scheme, and fits 360 px and 1440 px`, { timeout: 60000 }, async () => {
    const { page } = await newPage(browser, { bypassCSP: true, colorScheme: scheme });
    for (const width of [360, 1440]) {
      await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
      await page.goto(server.url + '/c/no-such-talk');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${width} px: no sideways scrolling (${overflow} px too wide)`);
      await page.screenshot({ path: join(ARTIFACTS, `not-found-${scheme}-${width}.png`), fullPage: true });
    }
    await axe(page, `${scheme} 404 page`);
  });
}

test('a second visit revalidates the page and its files (304) instead of downloading them', { timeout: 60000 }, async () => {
  const { page, problems } = await newPage(browser);
  const first = [];
  const count = async (request) => first.push((await request.sizes()).responseBodySize);
  page.on('requestfinished', count);
  await openConversation(page, server.url);
  await eventually(async () => first.length >= 10, 'the first visit is counted');
  assert.ok(first.reduce((a, b) => a + b, 0) > 20000, `the first visit downloads the files: ${first}`);
  page.off('requestfinished', count);
  const seen = [];
  page.on('requestfinished', async (request) => {
    const u = new URL(request.url());
    if (!u.pathname.startsWith('/assets/') && !u.pathname.startsWith('/c/')) return;
    const response = await request.response();
    const sizes = await request.sizes();
    seen.push({ path: u.pathname, status: response.status(), asked: (await request.allHeaders())['if-none-match'] || null, body: sizes.responseBodySize });
  });
  await page.goto('about:blank');
  await openConversation(page, server.url);
  await eventually(async () => seen.length >= 10, 'every file is counted');
  const rows = JSON.stringify(seen);
  assert.ok(seen.every((r) => r.asked && r.asked.startsWith('W/"')), `each request sends its ETag back: ${rows}`);
  // Chromium shows a revalidated navigation as the cached 200; the files' 304s show as such.
  assert.ok(seen.filter((r) => r.path.startsWith('/assets/')).every((r) => r.status === 304), `the files are 304: ${rows}`);
  assert.deepEqual(seen.filter((r) => r.body > 0), [], `nothing is downloaded again: ${rows}`);
  await assertClean(page, problems);
});
