// Helpers for the staff pages' tests (desk, display, admin).

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { itemCard, openComments, openConversation, signUp } from './harness.js';

const require = createRequire(import.meta.url);
export const AXE = require.resolve('axe-core/axe.min.js');

export const ADMIN = { name: 'ada', role: 'admin', password: 'ada-password-1234' };
export const SAM = { name: 'sam', role: 'facilitator', password: 'sam-password-1234' };
export const KIM = { name: 'kim', role: 'facilitator', password: 'kim-password-1234' };

/** Runs axe-core (WCAG 2.1 AA) on the page; needs a context with bypassCSP. */
export async function axe(page, label) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    resultTypes: ['violations'],
  }));
  const v = result.violations.map((x) => `${x.id} (${x.impact}): ${x.help}\n    ${x.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary.replace(/\s+/g, ' ')).join('\n    ')}`);
  assert.equal(v.length, 0, `${label}: axe found WCAG violations:\n  ${v.join('\n  ')}`);
}

/** Logs in through a staff page's own form, if it shows one. */
export async function loginOnPage(page, user) {
  await page.waitForSelector('body.ready, #login:not([hidden])', { timeout: 15000 });
  if (await page.locator('#login:not([hidden])').count()) {
    await page.fill('#login-name', user.name);
    await page.fill('#login-password', user.password);
    await page.click('#login button[type="submit"]');
  }
}

/** Opens the desk, logs in and waits until it is live. */
export async function openDesk(page, base, user, slug) {
  await page.goto(`${base}/desk/${slug}`);
  await loginOnPage(page, user);
  await page.waitForSelector('body.ready #conn[data-state="live"]', { timeout: 15000 });
}

/** A desk entry by its text. */
export const entry = (page, text) => page.locator('.entry', { hasText: text });

/** A participant page, signed up, with the first pledge's comments open. */
export async function participant(page, base, slug, title, query = '') {
  await openConversation(page, base, slug, query);
  await signUp(page);
  const card = itemCard(page, title);
  await openComments(card);
  return card;
}

/** Posts a comment from a participant page's item card. */
export async function comment(card, text) {
  await card.locator('.comments > form.cform textarea').fill(text);
  await card.locator('.comments > form.cform button[type="submit"]').click();
}
