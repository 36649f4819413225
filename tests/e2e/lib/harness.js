// Test harness: a real chorus on a temporary SQLite database, an API client
// with its own cookie jar, and headless Chromium through playwright-core.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { participantFiles } from './files.js';
import assert from 'node:assert/strict';

export const HERE = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO = join(HERE, '..', '..');
export const CLIENT = join(REPO, 'client');
export const CHORUS_BIN = process.env.CHORUS_BIN || [
  join(process.env.CARGO_TARGET_DIR || '/work/target', 'debug', 'chorus'),
  join(REPO, 'target', 'debug', 'chorus'),
].find((p) => existsSync(p)) || join(process.env.CARGO_TARGET_DIR || '/work/target', 'debug', 'chorus');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const SLUG = 'best-place-to-work';

/** Rejects after `ms` with a clear message. */
export function within(ms, promise, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]).finally(() => clearTimeout(t));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `chorus serve --demo` on port 0 with a fresh SQLite database.
 * Users are created first with `chorus user add` (password on stdin).
 * @param {{users?: {name: string, role: string, password: string}[], env?: Record<string,string>}} [opts]
 */
export async function startChorus(opts = {}) {
  if (!existsSync(CHORUS_BIN)) throw new Error(`chorus binary not found at ${CHORUS_BIN}: build it (cargo build) or set CHORUS_BIN`);
  const dir = mkdtempSync(join(tmpdir(), 'chorus-e2e-'));
  const database = 'sqlite://' + join(dir, 'chorus.db');
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...(opts.env || {}) };
  // chorus reads every CHORUS_* variable as a setting and refuses unknown ones:
  // CHORUS_BIN is the harness's, not the server's.
  delete env.CHORUS_BIN;
  for (const u of opts.users || []) {
    const r = spawnSync(CHORUS_BIN, ['user', 'add', '--role', u.role, u.name, '--database', database], {
      input: u.password + '\n', env, timeout: 30000, encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`chorus user add ${u.name} failed (${r.status}): ${r.stderr || r.stdout || r.error}`);
  }
  const proc = spawn(CHORUS_BIN, ['serve', '--listen', '127.0.0.1:0', '--database', database, '--demo'], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; if (err.length > 200000) err = err.slice(-100000); });
  const url = await within(30000, new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /chorus listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1].replace(/\/$/, ''));
    });
    proc.on('exit', (code) => reject(new Error(`chorus serve exited (${code}) before listening:\n${out}\n${err}`)));
    proc.on('error', reject);
  }), 'chorus serve to print its listening line');
  proc.stdout.resume();
  const server = {
    url,
    database,
    dir,
    logs: () => out + '\n' + err,
    async stop() {
      if (proc.exitCode == null) {
        proc.kill('SIGTERM');
        await within(10000, new Promise((r) => proc.once('exit', r)), 'chorus to stop').catch(() => proc.kill('SIGKILL'));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await assertServesThisClient(url);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

/**
 * chorus embeds client/ (or, in debug builds, reads it from the folder it was
 * built in): make sure it serves the files of this checkout, so the tests never
 * pass or fail on a stale copy.
 */
async function assertServesThisClient(url) {
  const files = new Set([...participantFiles(), ...participantFiles('index.html')]);
  for (const f of files) {
    const rel = f.slice(CLIENT.length + 1);
    const path = rel === 'participant.html' ? '/c/' + SLUG : rel === 'index.html' ? '/' : '/assets/' + rel;
    const res = await within(10000, fetch(url + path), 'GET ' + path);
    const served = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200 || !served.equals(readFileSync(f))) {
      throw new Error(`chorus serves a different ${rel} (HTTP ${res.status}) than ${f}: ` +
        `the binary ${CHORUS_BIN} was built from another checkout or before client/ changed; rebuild it from this one`);
    }
  }
}

/** A REST client with its own cookie jar (chorus_staff, chorus_p_<id>...). */
export class Api {
  /** @param {string} base */
  constructor(base) {
    this.base = base;
    /** @type {Map<string, string>} */
    this.jar = new Map();
  }
  /** The Cookie header this client sends. */
  get cookie() {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  async req(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.cookie) headers.Cookie = this.cookie;
    const res = await within(15000, fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }), `${method} ${path}`);
    const set = res.headers.getSetCookie ? res.headers.getSetCookie() : [];
    for (const c of set) {
      const m = /^(chorus_staff|chorus_p_[0-9a-f]{32})=([^;]*)/.exec(c);
      if (m && m[2]) this.jar.set(m[1], m[2]);
      else if (m) this.jar.delete(m[1]);
    }
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = text; }
    return { status: res.status, headers: res.headers, body: json };
  }
  async ok(method, path, body) {
    const r = await this.req(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  }
  async login(name, password) { return this.ok('POST', '/api/login', { name, password }); }
  snapshot(slug = SLUG) { return this.ok('GET', `/api/conversations/${slug}`); }
  /** Every comment of an item (paging through `next`). */
  async comments(itemId, slug = SLUG) {
    const all = [];
    let after = 0;
    for (let i = 0; i < 100; i++) {
      const r = await this.ok('GET', `/api/conversations/${slug}/items/${itemId}/comments?after=${after}&limit=500`);
      all.push(...r.comments);
      if (r.next == null) break;
      after = r.next;
    }
    return all;
  }
  hide(commentId, reason = 'names a colleague', slug = SLUG) {
    return this.ok('POST', `/api/conversations/${slug}/comments/${commentId}/moderation`, { request_id: randomUUID(), action: 'hide', reason });
  }
}

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Launches headless Chromium (playwright gives each launch a fresh profile directory). */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (tests/e2e/run.sh does it)`);
  return within(30000, chromium.launch({ executablePath: CHROMIUM, headless: true /* adds --headless */, args: CHROMIUM_ARGS, timeout: 30000 }), 'chromium to start');
}

/**
 * A fresh browser context and page that records page errors, console errors
 * and Content-Security-Policy violations (so tests can assert there were none).
 */
export async function newPage(browser, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, ...contextOptions });
  context.setDefaultTimeout(10000);
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const page = await context.newPage();
  const problems = [];
  if (process.env.E2E_DEBUG) page.on('websocket', (ws) => { ws.on('framereceived', (f) => console.error('WS<', String(f.payload).slice(0, 150))); ws.on('framesent', (f) => console.error('WS>', String(f.payload).slice(0, 150))); ws.on('close', () => console.error('WS closed')); });
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    if (process.env.E2E_DEBUG && m.type() === 'warning') console.error('PAGE', m.text());
    if (m.type() !== 'error') return;
    const t = m.text();
    // The browser logs failed requests while offline and refused writes; those are expected.
    if (/Failed to load resource|net::ERR_INTERNET_DISCONNECTED|WebSocket connection .* failed|ERR_NETWORK_CHANGED/.test(t)) return;
    problems.push('console: ' + t);
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!/^(https?|wss?):\/\/127\.0\.0\.1[:/]/.test(u) && !u.startsWith('data:') && !u.startsWith('about:')) problems.push('third-party request: ' + u);
  });
  return { context, page, problems };
}

/** Throws if the page logged errors or violated the CSP. */
export async function assertClean(page, problems) {
  const csp = await page.evaluate(() => window.__csp || []).catch(() => []);
  const all = [...problems, ...csp.map((c) => 'csp: ' + c)];
  if (all.length) throw new Error('page problems:\n' + all.join('\n'));
}

/** Opens the participant page and waits until it has rendered the snapshot. */
export async function openConversation(page, base, slug = SLUG, query = '') {
  await page.goto(`${base}/c/${slug}${query}`);
  await page.waitForSelector('body.ready', { timeout: 15000 });
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 15000 });
}

/** Signs up through the page's own form. */
export async function signUp(page) {
  await page.click('#signup button[type="submit"]');
  await page.waitForSelector('#me:not([hidden])', { timeout: 10000 });
  // The socket reconnects with the new session.
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 15000 });
}

/** The card of the item with this title. */
export function itemCard(page, title) {
  return page.locator('li.item', { has: page.locator('h3', { hasText: title }) });
}

/** Opens an item's comments panel. */
export async function openComments(card) {
  const toggle = card.locator('> button.toggle');
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  await card.locator('> .comments').waitFor({ state: 'visible' });
}

/**
 * Waits until a comment someone else made arrives in an open comments
 * panel: it waits behind "N new comments: show" (it never moves the list
 * by itself); shows it and waits for its text.
 */
export async function showLive(card, text, ms = 10000) {
  const shown = card.locator('.comment .text', { hasText: text });
  const button = card.locator('> .comments > .cnew > button');
  await eventually(async () => (await shown.count()) > 0 || (await button.isVisible()), `"${text}" is announced`, ms);
  if (!(await shown.count())) {
    assert.match(await button.textContent(), /^\d+ new comments?: show$/);
    await button.click();
  }
  await shown.waitFor({ timeout: ms });
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually(fn, what, ms = 10000, every = 100) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(every);
  }
  throw new Error(`not true within ${ms} ms: ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}
