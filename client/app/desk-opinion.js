// The desk's "Opinion groups" panel (issue 14): GET …/opinion and its map
// …/opinion.svg, for facilitators while the conversation runs. Shown on
// demand; while it is open it refreshes every minute (the server recomputes
// at most that often) and whenever "Refresh now" is pressed.

import { get, explain } from './api.js';
import { byId } from './dom.js';
import { opinionView } from './opinion.js';

const EVERY = 60000;

/**
 * Wires the panel's toggle and refresh buttons.
 * @param {string} api the conversation's API base
 * @param {() => string} title the conversation's title
 * @param {{say: (text: string) => void}} announcer
 */
export function opinionPanel(api, title, announcer) {
  const toggle = /** @type {HTMLButtonElement} */ (byId('opinion-toggle'));
  const panel = byId('opinion-panel');
  const refresh = /** @type {HTMLButtonElement} */ (byId('opinion-refresh'));
  const out = byId('opinion');
  const msg = byId('opinion-msg');
  let timer = 0;
  let busy = false;

  /** @param {boolean} [told] announce the result (a refresh someone asked for) */
  async function load(told) {
    if (busy) return;
    busy = true;
    out.setAttribute('aria-busy', 'true');
    try {
      const o = await get(api + '/opinion');
      // A new URL each time, so the map is fetched again with the table.
      const map = api + '/opinion.svg?at=' + Date.now();
      out.replaceChildren(opinionView(o, { map, prefix: 'desk-opinion', title: title() }));
      const at = new Date().toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
      byId('opinion-at').textContent = 'Updated at ' + at + '.';
      msg.textContent = '';
      msg.classList.remove('bad');
      if (told) announcer.say('Opinion groups updated: ' + (o.clear ? o.groups.length + ' groups.' : 'no clear groups.'));
    } catch (e) {
      msg.textContent = explain(/** @type {any} */ (e), 'Loading the opinion groups');
      msg.classList.add('bad');
    } finally {
      busy = false;
      out.removeAttribute('aria-busy');
    }
  }

  function schedule() {
    clearInterval(timer);
    timer = 0;
    if (!panel.hidden && document.visibilityState === 'visible') timer = setInterval(() => load(false), EVERY);
  }

  /** @param {boolean} show */
  function setShown(show) {
    panel.hidden = !show;
    toggle.setAttribute('aria-expanded', String(show));
    toggle.textContent = show ? 'Hide opinion groups' : 'Show opinion groups';
    if (show) load(false);
    schedule();
  }

  toggle.addEventListener('click', () => setShown(panel.hidden));
  refresh.addEventListener('click', () => load(true));
  // No refreshing behind a hidden tab; catch up when it is seen again.
  document.addEventListener('visibilitychange', () => {
    if (!panel.hidden && document.visibilityState === 'visible') load(false);
    schedule();
  });
  byId('views').hidden = false;
}
