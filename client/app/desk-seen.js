// What this facilitator has seen on the desk, per conversation, so the
// "New" tab can list the rest with an unread marker (issue 13).
//
// The rule, kept simple on purpose: an entry counts as seen once it was
// the selected entry (focused or clicked), or once it stayed at least half
// in view for SEEN_AFTER_MS while the page was visible (a glance while
// scrolling past does not count). Seen ids are kept in localStorage under
// `chorus.desk.seen:{slug}:{facilitator}`, at most MAX_SEEN of them (the
// oldest are forgotten first, and would show as new again only if they
// were still loaded on the desk).

const MAX_SEEN = 5000;
export const SEEN_AFTER_MS = 2000;

export class SeenStore {
  /** @param {string} slug @param {string} who */
  constructor(slug, who) {
    this.key = 'chorus.desk.seen:' + slug + ':' + who;
    /** @type {Set<string>} */
    this.ids = new Set();
    try {
      const v = JSON.parse(localStorage.getItem(this.key) || '[]');
      if (Array.isArray(v)) for (const id of v) if (typeof id === 'string') this.ids.add(id);
    } catch (e) { /* blocked or corrupt: start empty */ }
  }

  /** @param {string} id */
  has(id) { return this.ids.has(id); }

  /** Marks ids seen; answers whether anything changed. @param {string[]} ids */
  add(ids) {
    let changed = false;
    for (const id of ids) if (!this.ids.has(id)) { this.ids.add(id); changed = true; }
    if (!changed) return false;
    // A Set keeps insertion order: drop the oldest beyond the bound.
    while (this.ids.size > MAX_SEEN) this.ids.delete(/** @type {string} */ (this.ids.values().next().value));
    try { localStorage.setItem(this.key, JSON.stringify([...this.ids])); } catch (e) { /* storage full or blocked */ }
    return true;
  }
}

/**
 * Calls onSeen(id) for an element that stays at least half in view for
 * SEEN_AFTER_MS while the page is visible.
 * @param {(id: string) => void} onSeen
 */
export function dwellWatcher(onSeen) {
  /** @type {Map<Element, number>} */
  const timers = new Map();
  const io = new IntersectionObserver((recs) => {
    for (const r of recs) {
      const el = /** @type {HTMLElement} */ (r.target);
      clearTimeout(timers.get(el));
      timers.delete(el);
      if (r.isIntersecting && document.visibilityState === 'visible') {
        timers.set(el, setTimeout(() => { timers.delete(el); if (el.isConnected && el.dataset.id) onSeen(el.dataset.id); }, SEEN_AFTER_MS));
      }
    }
  }, { threshold: 0.5 });
  return {
    /** @param {Element} el */ watch(el) { io.observe(el); },
    /** @param {Element} el */ unwatch(el) { io.unobserve(el); clearTimeout(timers.get(el)); timers.delete(el); },
  };
}
