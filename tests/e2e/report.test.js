// The report page (issue 8): the organisers' report and the participants'
// results render their chart and tables, pass axe-core (WCAG 2.1 AA), keep
// the CSP, hide hidden comments from participants, and print without the
// navigation.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { startChorus, launchBrowser, newPage, assertClean, Api } from './lib/harness.js';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

const ADMIN = { name: 'rita', role: 'admin', password: 'rita-password-1234' };
const SLUG = 'report-e2e-' + Date.now().toString(36);
const PLEDGES = ['Protected time for training', 'Free staff car parking', 'Flexible rotas'];
let server, browser, admin, pledgeIds = [];

/** Signs a browser-less participant up with profile answers. */
async function participant(org, role) {
  const api = new Api(server.url);
  await api.ok('POST', `/api/conversations/${SLUG}/participants`, { profile: { organisation_type: org, role } });
  return api;
}

before(async () => {
  server = await startChorus({ users: [ADMIN] });
  browser = await launchBrowser();
  admin = new Api(server.url);
  await admin.login(ADMIN.name, ADMIN.password);
  const now = Date.now();
  await admin.ok('POST', '/api/conversations', {
    slug: SLUG, title: 'Report test conversation', introduction: 'For the report test.',
    opens_at: new Date(now - 3600e3).toISOString(), closes_at: new Date(now + 7 * 86400e3).toISOString(),
  });
  for (const [n, title] of PLEDGES.entries()) {
    const id = randomUUID();
    await admin.ok('POST', `/api/conversations/${SLUG}/items`, { id, title, body: 'A pledge.', position: n });
    pledgeIds.push(id);
  }
  // 6 Primary Care staff, 5 Hospital trust volunteers, 3 Local Authority
  // volunteers: by organisation only Primary Care can be shown (Hospital
  // trust is withheld too, or Local Authority's 3 would be the rest).
  const people = [];
  for (let i = 0; i < 6; i++) people.push(await participant('Primary Care', 'staff'));
  for (let i = 0; i < 5; i++) people.push(await participant('Hospital trust', 'volunteer'));
  for (let i = 0; i < 3; i++) people.push(await participant('Local Authority', 'volunteer'));
  for (const [n, p] of people.entries()) {
    await p.ok('PUT', `/api/conversations/${SLUG}/items/${pledgeIds[0]}/vote`, { request_id: randomUUID(), choice: n % 4 === 3 ? 'wrong' : 'strong' });
    await p.ok('PUT', `/api/conversations/${SLUG}/items/${pledgeIds[1]}/vote`, { request_id: randomUUID(), choice: n % 2 ? 'wrong' : 'strong' });
  }
  const says = [
    [0, 'Protected training time would change everything.'],
    [0, 'We need protected training time on the rota.'],
    [1, 'Car parking is a nightmare on night shifts.'],
    [1, 'Free car parking for night staff please.'],
  ];
  for (const [n, [item, body]] of says.entries()) {
    await people[n].ok('POST', `/api/conversations/${SLUG}/items/${pledgeIds[item]}/comments`, { id: randomUUID(), body });
  }
  const secret = await people[5].ok('POST', `/api/conversations/${SLUG}/items/${pledgeIds[0]}/comments`, { id: randomUUID(), body: 'A hidden remark naming someone' });
  await admin.hide(secret.comment.id, 'names a colleague', SLUG);
  await admin.ok('PATCH', `/api/conversations/${SLUG}`, { closes_at: new Date(now + 14 * 86400e3).toISOString() });
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

async function axe(page, label) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    resultTypes: ['violations'],
  }));
  const v = result.violations.map((x) => `${x.id} (${x.impact}): ${x.help}\n    ${x.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary.replace(/\s+/g, ' ')).join('\n    ')}`);
  assert.equal(v.length, 0, `${label}: axe found WCAG violations:\n  ${v.join('\n  ')}`);
}

/** Opens the report page with a session cookie (or none) and waits for it. */
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

async function checkRendered(page, organisers) {
  assert.equal(await page.getAttribute('body', 'data-state'), 'ready');
  assert.equal(await page.locator('#items tbody tr').count(), PLEDGES.length, 'a row per pledge');
  // The chart image loaded and has a real size.
  await page.waitForFunction(() => { const i = document.getElementById('chart'); return i.complete && i.naturalWidth > 0; });
  assert.ok((await page.locator('#chart').getAttribute('alt')).length > 20, 'the chart has a text alternative');
  assert.match(await page.locator('#chart-caption').textContent(), /deadline was extended/);
  assert.equal(await page.locator('#comparison-table tbody tr').count(), 3);
  assert.ok(await page.locator('#days tbody tr').count() >= 1);
  // Groups: organisers see them live, without Local Authority (3 voters)
  // or Hospital trust (withheld so that Local Authority is not the rest);
  // the public sees none until the conversation closes.
  const groups = await page.locator('#groups').textContent();
  if (organisers) {
    assert.match(groups, /Primary Care/);
    assert.match(groups, /volunteer/);
    assert.doesNotMatch(groups, /Hospital trust|Other groups/);
    assert.match(await page.locator('#suppression').textContent(), /at least 5 of its members voted/);
  } else {
    assert.doesNotMatch(groups, /Primary Care|volunteer/);
    assert.match(await page.locator('#suppression').textContent(), /published when the conversation closes/);
  }
  assert.doesNotMatch(await page.locator('main').textContent(), /Local Authority/);
  assert.match(await page.locator('#themes').textContent(), /training|parking/);
  const row = page.locator('#items tbody tr', { hasText: PLEDGES[0] });
  assert.match(await row.textContent(), /\d+\.\d%\s*\(\d+\.\d%–\d+\.\d%\)/, 'support with its interval');
}

test('organisers see the full report; it passes axe and keeps the CSP', { timeout: 90000 }, async () => {
  const { context, page, problems } = await openReport(admin.cookie);
  await checkRendered(page, true);
  assert.match(await page.locator('#view-note').textContent(), /Organisers/);
  // Counted grammatically: one hidden comment is "1 comment".
  assert.match(await page.locator('#totals').textContent(), /Hidden by moderators1 comment \(not counted above\)/);
  const head = await page.locator('#items thead').textContent();
  assert.match(head, /Hidden/);
  await assertClean(page, problems);
  await context.close();

  for (const scheme of ['light', 'dark']) {
    const { context: c2, page: p2 } = await openReport(admin.cookie, { bypassCSP: true, colorScheme: scheme });
    await p2.locator('details.r-days summary').click();
    await axe(p2, `organisers' report, ${scheme}`);
    await c2.close();
  }
});

test('participants see the results without hidden comments; axe passes', { timeout: 90000 }, async () => {
  const someone = await participant('Primary Care', 'staff');
  const { context, page, problems } = await openReport(someone.cookie);
  await checkRendered(page, false);
  assert.equal(await page.locator('#view-note').isVisible(), false);
  assert.doesNotMatch(await page.locator('main').textContent(), /hidden remark|Hidden by moderators/);
  assert.doesNotMatch(await page.locator('#items thead').textContent(), /Hidden/);
  await assertClean(page, problems);
  await context.close();
  const { context: c2, page: p2 } = await openReport(someone.cookie, { bypassCSP: true });
  await axe(p2, 'participant results');
  await c2.close();
});

test('results are withheld from participants until closing when the organisers say so', { timeout: 60000 }, async () => {
  await admin.ok('PATCH', `/api/conversations/${SLUG}`, { results_while_open: false });
  try {
    const { context, page, problems } = await openReport('');
    assert.equal(await page.getAttribute('body', 'data-state'), 'error');
    assert.match(await page.locator('#status').textContent(), /published when it closes/);
    assert.equal(await page.locator('#report').isVisible(), false);
    void problems; // the 403 is logged by the browser as a failed resource
    await context.close();
  } finally {
    await admin.ok('PATCH', `/api/conversations/${SLUG}`, { results_while_open: true });
  }
});

test('the print stylesheet hides the navigation and the downloads', { timeout: 60000 }, async () => {
  const { context, page, problems } = await openReport(admin.cookie);
  for (const sel of ['nav.report-nav', '#downloads', '#print']) assert.equal(await page.locator(sel).isVisible(), true, `${sel} on screen`);
  await page.emulateMedia({ media: 'print' });
  for (const sel of ['nav.report-nav', '#downloads', '#print', '.skip']) assert.equal(await page.locator(sel).isVisible(), false, `${sel} hidden in print`);
  for (const sel of ['#items', '#chart', '#groups', '#themes']) assert.equal(await page.locator(sel).isVisible(), true, `${sel} printed`);
  const pdf = await page.pdf({ format: 'A4' });
  assert.ok(pdf.length > 10000, 'a PDF is produced');
  await assertClean(page, problems);
  await context.close();
});

test('the downloads are the CSV and JSON exports', { timeout: 30000 }, async () => {
  const { context, page } = await openReport(admin.cookie);
  const hrefs = await page.locator('#downloads a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.equal(hrefs.length, 5);
  for (const href of hrefs) {
    const r = await admin.req('GET', href);
    assert.equal(r.status, 200, href);
  }
  const items = await admin.req('GET', `/api/conversations/${SLUG}/report.csv?table=items`);
  assert.equal(items.body.trim().split('\r\n').length, 1 + PLEDGES.length);
  await context.close();
});
