// The outbox: every write goes through here. Actions are kept in
// localStorage with their client-generated UUIDs, sent in order, and kept
// while the network is down (or the server asks us to wait), so a reload or
// a dropped connection loses nothing and a retry never doubles anything
// (the server treats a repeated UUID as the same request).

import { call, ApiError } from './api.js';
import { backoff } from './live.js';

/**
 * @typedef {{key: string, kind: string, method: string, path: string, body: any, meta?: any, tries?: number}} Action
 * @typedef {{
 *   onDone?: (a: Action, data: any) => void,
 *   onRefused?: (a: Action, e: ApiError) => void,
 *   onWait?: (a: Action, e: ApiError) => void,
 *   onChange?: (pending: Action[]) => void,
 * }} QueueHandlers
 */

const MAX_SERVER_ERRORS = 5;

export class Queue {
  /**
   * @param {string} storageKey
   * @param {QueueHandlers} handlers
   */
  constructor(storageKey, handlers) {
    this.storageKey = storageKey;
    this.h = handlers;
    /** @type {Action[]} */
    this.items = load(storageKey);
    this.busy = false;
    this.timer = 0;
    this.fails = 0;
    this.waitUntil = 0;
    addEventListener('online', () => { this.fails = 0; this.flush(); });
    // Another tab of the same conversation may have sent or added actions.
    addEventListener('storage', (ev) => {
      if (ev.key === this.storageKey) { this.items = load(storageKey); this.changed(false); }
    });
  }

  /** @returns {Action[]} */
  pending() { return this.items.slice(); }

  /** Adds an action and tries to send it at once. @param {Action} a */
  add(a) {
    this.items.push(a);
    this.changed(true);
    this.flush();
  }

  save() {
    try { localStorage.setItem(this.storageKey, JSON.stringify(this.items)); } catch (e) { /* storage full or blocked */ }
  }

  /** @param {boolean} persist */
  changed(persist) {
    if (persist) this.save();
    if (this.h.onChange) this.h.onChange(this.pending());
  }

  /** @param {Action} a */
  remove(a) {
    this.items = this.items.filter((x) => x.key !== a.key);
    this.changed(true);
  }

  /** @param {number} ms */
  later(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), ms);
  }

  async flush() {
    if (this.busy) return;
    if (Date.now() < this.waitUntil) { this.later(this.waitUntil - Date.now()); return; }
    this.busy = true;
    try {
      while (this.items.length) {
        if (navigator.onLine === false) return;
        const a = this.items[0];
        try {
          const data = await call(a.method, a.path, a.body);
          this.fails = 0;
          this.remove(a);
          if (this.h.onDone) this.h.onDone(a, data);
        } catch (err) {
          const e = err instanceof ApiError ? err : new ApiError(0, {}, 0);
          if (e.network) {
            this.later(backoff(this.fails++));
            if (this.h.onWait) this.h.onWait(a, e);
            return;
          }
          if (e.status === 429) {
            const s = Math.max(1, e.retryAfter || 2);
            this.waitUntil = Date.now() + s * 1000;
            this.later(s * 1000);
            if (this.h.onWait) this.h.onWait(a, e);
            return;
          }
          if (e.status >= 500 && (a.tries || 0) < MAX_SERVER_ERRORS) {
            a.tries = (a.tries || 0) + 1;
            this.save();
            this.later(backoff(a.tries + 1));
            return;
          }
          this.remove(a);
          if (this.h.onRefused) this.h.onRefused(a, e);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

/** @param {string} key @returns {Action[]} */
function load(key) {
  try {
    const v = JSON.parse(localStorage.getItem(key) || '[]');
    return Array.isArray(v) ? v.filter((a) => a && a.key && a.path) : [];
  } catch (e) {
    return [];
  }
}
