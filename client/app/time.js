// Deadlines and countdowns.

/** "3 days 4 hours", "2 hours 5 minutes", "4 minutes 10 seconds". @param {number} ms */
export function remaining(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const u = (/** @type {number} */ n, /** @type {string} */ w) => n + ' ' + w + (n === 1 ? '' : 's');
  if (d) return u(d, 'day') + ' ' + u(hr, 'hour');
  if (hr) return u(hr, 'hour') + ' ' + u(m, 'minute');
  if (m) return u(m, 'minute') + ' ' + u(sec, 'second');
  return u(sec, 'second');
}

/** A readable local date and time. @param {string} iso */
export function when(iso) {
  const d = new Date(iso);
  if (isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(d);
}

/** "5 minutes ago" style, short. @param {string} iso */
export function ago(iso) {
  const s = (Date.now() - new Date(iso).getTime()) / 1000;
  if (!(s >= 0)) return '';
  if (s < 60) return 'just now';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ago';
  return when(iso);
}

/**
 * The state of a conversation from its window and the clock.
 * @param {{opens_at: string, closes_at: string, state?: string}} c
 * @returns {'upcoming'|'open'|'closed'}
 */
export function stateOf(c) {
  const now = Date.now();
  const o = Date.parse(c.opens_at), cl = Date.parse(c.closes_at);
  if (!isNaN(o) && now < o) return 'upcoming';
  if (!isNaN(cl) && now >= cl) return 'closed';
  if (isNaN(o) && isNaN(cl)) return /** @type {any} */ (c.state) || 'open';
  return 'open';
}

/**
 * Keeps an element showing the time left; call `set` with a new conversation
 * when the deadline moves.
 */
export class Countdown {
  /** @param {HTMLTimeElement} el @param {(state: string) => void} [onState] */
  constructor(el, onState) {
    this.el = el;
    this.onState = onState;
    /** @type {any} */
    this.c = null;
    this.last = '';
    this.timer = setInterval(() => this.render(), 1000);
  }
  /** @param {any} c the conversation */
  set(c) {
    this.c = c;
    this.render();
  }
  render() {
    const c = this.c;
    if (!c) return;
    const st = stateOf(c);
    let text, dt;
    if (st === 'upcoming') { text = 'Opens ' + when(c.opens_at) + ' (in ' + remaining(Date.parse(c.opens_at) - Date.now()) + ')'; dt = c.opens_at; }
    else if (st === 'open') { text = 'Open until ' + when(c.closes_at) + ': ' + remaining(Date.parse(c.closes_at) - Date.now()) + ' left'; dt = c.closes_at; }
    else { text = 'Closed ' + when(c.closes_at); dt = c.closes_at; }
    if (text !== this.last) {
      this.last = text;
      this.el.textContent = text;
      this.el.dateTime = dt;
    }
    if (st !== this.state) {
      this.state = st;
      if (this.onState) this.onState(st);
    }
  }
}
