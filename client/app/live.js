// The live stream (docs/protocol.md): one WebSocket, one subscription,
// resume from the last applied sequence number, reconnect with exponential
// backoff and jitter (0.5 s doubling to 15 s). Shared by every page.

/**
 * @typedef {'connecting'|'live'|'reconnecting'|'offline'|'forbidden'|'stopped'} LiveState
 * @typedef {{
 *   slug: string,
 *   since?: number|null,
 *   as?: string,
 *   displayToken?: string,
 *   onEvent: (msg: any) => void,
 *   onTallies?: (msg: any) => void,
 *   onPresence?: (msg: any) => void,
 *   onState?: (state: LiveState, detail?: string) => void,
 *   onResync?: () => Promise<number>,
 *   onSubscribed?: (msg: any) => void,
 * }} LiveOptions
 */

const BASE_MS = 500;
const MAX_MS = 15000;
const PING_EVERY_MS = 25000;
const PONG_WITHIN_MS = 8000;

/** Delay before reconnect attempt `n` (0-based): full jitter in [d/2, d]. */
export function backoff(n) {
  const d = Math.min(MAX_MS, BASE_MS * Math.pow(2, n));
  return Math.round(d / 2 + Math.random() * d / 2);
}

export class Live {
  /** @param {LiveOptions} opts */
  constructor(opts) {
    this.opts = opts;
    /** The largest event sequence number applied. */
    this.seq = opts.since == null ? null : opts.since;
    /** @type {WebSocket|null} */
    this.ws = null;
    this.attempt = 0;
    /** @type {LiveState} */
    this.state = 'connecting';
    this.role = null;
    this.timer = 0;
    this.pingTimer = 0;
    this.pongTimer = 0;
    this.nonce = 0;
    this.stopped = false;
    this.resyncing = false;
    this.onOnline = () => {
      if (this.stopped) return;
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.probe();
      else this.connectNow();
    };
    this.onOffline = () => this.setState('offline');
    addEventListener('online', this.onOnline);
    addEventListener('offline', this.onOffline);
  }

  url() {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
  }

  /** @param {LiveState} s @param {string} [detail] */
  setState(s, detail) {
    if (this.state === s && !detail) return;
    this.state = s;
    if (this.opts.onState) this.opts.onState(s, detail);
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  /** Closes and reconnects at once (e.g. after signing up, so the server sees the new session). */
  restart() {
    this.stopped = false;
    this.attempt = 0;
    this.drop();
    this.connect();
  }

  connectNow() {
    clearTimeout(this.timer);
    this.attempt = 0;
    this.drop();
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.drop();
    removeEventListener('online', this.onOnline);
    removeEventListener('offline', this.onOffline);
    this.setState('stopped');
  }

  drop() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(1000, 'bye'); } catch (e) { /* already closed */ }
    }
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    if (this.state !== 'live' && this.state !== 'offline') this.setState(this.attempt ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.subscribe();
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      clearTimeout(this.pongTimer);
      if (this.stopped || this.state === 'forbidden') return;
      // 4029: too many messages: wait longer before trying again.
      if (ev.code === 4029) this.attempt = Math.max(this.attempt, 4);
      this.scheduleReconnect();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  scheduleReconnect() {
    if (this.stopped) return;
    this.setState(navigator.onLine === false ? 'offline' : 'reconnecting');
    const d = backoff(this.attempt++);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), d);
  }

  /** @param {any} msg */
  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  subscribe() {
    /** @type {any} */
    const msg = { type: 'subscribe', conversation: this.opts.slug, since: this.seq };
    if (this.opts.as) msg.as = this.opts.as;
    if (this.opts.displayToken) msg.display_token = this.opts.displayToken;
    this.send(msg);
  }

  /** Sends an application ping and reconnects if no pong comes back in time. */
  probe() {
    if (this.pongTimer) return;
    this.send({ type: 'ping', nonce: ++this.nonce });
    this.pongTimer = setTimeout(() => {
      this.pongTimer = 0;
      if (this.ws) { this.drop(); this.scheduleReconnect(); }
    }, PONG_WITHIN_MS);
  }

  /** @param {any} data */
  receive(data) {
    let msg;
    try { msg = JSON.parse(data); } catch (e) { return; }
    if (!msg || typeof msg.type !== 'string') return;
    switch (msg.type) {
      case 'subscribed':
        this.role = msg.role;
        if (this.seq == null && typeof msg.seq === 'number') this.seq = msg.seq;
        this.attempt = 0;
        this.setState('live');
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.probe(), PING_EVERY_MS);
        if (this.opts.onSubscribed) this.opts.onSubscribed(msg);
        return;
      case 'pong':
        clearTimeout(this.pongTimer);
        this.pongTimer = 0;
        if (this.role) this.setState('live'); // the socket survived a spell offline
        return;
      case 'tallies':
        if (this.opts.onTallies) this.opts.onTallies(msg);
        return;
      case 'presence':
        if (this.opts.onPresence) this.opts.onPresence(msg);
        return;
      case 'resync':
        this.resync();
        return;
      case 'error':
        if (msg.code === 'forbidden' || msg.code === 'not_found') {
          this.setState('forbidden', msg.code);
          this.drop();
        }
        return;
      default:
        if (typeof msg.seq === 'number') {
          if (this.seq != null && msg.seq <= this.seq) return; // seen already
          this.opts.onEvent(msg);
          this.seq = msg.seq;
        } else {
          this.opts.onEvent(msg);
        }
    }
  }

  async resync() {
    if (this.resyncing || !this.opts.onResync) return;
    this.resyncing = true;
    try {
      const seq = await this.opts.onResync();
      this.seq = seq;
      this.subscribe();
    } catch (e) {
      this.drop();
      this.scheduleReconnect();
    } finally {
      this.resyncing = false;
    }
  }
}
