// REST calls (docs/api.md). Shared by the participant page, the facilitator
// desk and the display screen. Every write sends JSON; errors become ApiError
// carrying the problem JSON (RFC 9457) so callers can explain them.

/** A refused or failed request. `status` 0 means the network failed. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {any} problem problem JSON, or {} when there was none
   * @param {number} retryAfter seconds from the Retry-After header (0 if none)
   */
  constructor(status, problem, retryAfter) {
    super((problem && (problem.detail || problem.title)) || (status ? 'HTTP ' + status : 'network error'));
    this.status = status;
    this.problem = problem || {};
    this.type = this.problem.type || '';
    this.retryAfter = retryAfter || 0;
  }
  /** True when the request never got an answer (offline, DNS, reset). */
  get network() { return this.status === 0; }
}

/**
 * Calls the API. `body` (if any) is sent as JSON.
 * @param {string} method
 * @param {string} path
 * @param {any} [body]
 * @returns {Promise<any>} the parsed JSON answer (null for 204)
 */
export async function call(method, path, body) {
  /** @type {RequestInit} */
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, { title: 'You seem to be offline' }, 0);
  }
  const text = await res.text().catch(() => '');
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = { title: text.slice(0, 200) }; }
  }
  if (!res.ok) {
    const ra = parseInt(res.headers.get('Retry-After') || '', 10);
    throw new ApiError(res.status, data, Number.isFinite(ra) ? ra : 0);
  }
  return data;
}

export const get = (/** @type {string} */ path) => call('GET', path);

/** Encodes one path segment. */
export const seg = (/** @type {string} */ s) => encodeURIComponent(s);

/** Base path of a conversation's API. */
export const conv = (/** @type {string} */ slug) => '/api/conversations/' + seg(slug);

/** A new client-generated UUID (idempotency key). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Fallback for old browsers on plain http (randomUUID needs a secure context).
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
}

/**
 * A sentence a person can act on, for a refused request.
 * @param {ApiError} e
 * @param {string} what e.g. "Your vote"
 */
export function explain(e, what) {
  if (!(e instanceof ApiError)) return what + ' failed: ' + String(e);
  switch (e.status) {
    case 0: return 'You are offline. ' + what + ' will be sent when you are back online.';
    case 401: return 'Please sign up first (it is anonymous). ' + what + ' was not sent.';
    case 403: return what + ' was refused: ' + (e.problem.detail || 'you may not do this.');
    case 404: return what + ' was refused: it no longer exists.';
    case 409:
      if (e.type.includes('not-open')) return 'This conversation has not opened yet. ' + what + ' was not recorded.';
      if (e.type.includes('closed')) return 'This conversation is closed. ' + what + ' was not recorded.';
      return what + ' was refused: ' + (e.problem.detail || 'conflict.');
    case 413: return what + ' is too long.';
    case 422: {
      const errs = Array.isArray(e.problem.errors) ? e.problem.errors : [];
      const d = errs.length ? errs.map((x) => x.message ? (x.field ? x.field + ' ' : '') + x.message : '').join('; ') : e.problem.detail;
      return what + ' was not accepted: ' + (d || 'invalid input.');
    }
    case 429: return 'You are going a little fast. ' + what + ' will be sent in ' + (e.retryAfter || 'a few') + ' seconds.';
    default: return what + ' failed (' + (e.problem.title || 'error ' + e.status) + '). Please try again.';
  }
}
