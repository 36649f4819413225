// Tiny DOM helpers. User text only ever goes in through textContent.

/**
 * Creates an element. `props`: className, text (textContent), attrs, on (listeners).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {{className?: string, text?: string|number, attrs?: Record<string, string|number|boolean|null|undefined>, on?: Record<string, (ev: any) => void>}} [props]
 * @param {(Node|string|null|undefined|false)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, children) {
  const el = document.createElement(tag);
  if (props) {
    if (props.className) el.className = props.className;
    if (props.text != null) el.textContent = String(props.text);
    if (props.attrs) {
      for (const [k, v] of Object.entries(props.attrs)) {
        if (v === false || v == null) continue;
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    if (props.on) for (const [k, f] of Object.entries(props.on)) el.addEventListener(k, f);
  }
  if (children) for (const c of children) if (c) el.append(c);
  return el;
}

/** @param {string} id */
export const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** Polite announcements for screen readers, batched so they never chatter. */
export class Announcer {
  /** @param {HTMLElement} region an element with aria-live="polite" */
  constructor(region) {
    this.region = region;
    this.timer = 0;
    /** @type {string[]} */
    this.queue = [];
  }
  /** @param {string} text */
  say(text) {
    this.queue.push(text);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const t = this.queue.join(' ');
      this.queue = [];
      // Clearing first makes a repeated message be announced again.
      this.region.textContent = '';
      setTimeout(() => { this.region.textContent = t; }, 50);
    }, 400);
  }
}

let idn = 0;
/** A unique element id. @param {string} p */
export const uid = (p) => p + '-' + (++idn);
