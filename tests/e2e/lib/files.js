// The files a page loads, found from its HTML and the modules' imports.

import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLIENT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'client');

/** Maps a served URL (/assets/x) to its file under client/. */
const fileOf = (url) => join(CLIENT, url.replace(/^\/assets\//, ''));

/** Every file the participant page loads: the HTML, its stylesheets and scripts, and their module imports. */
export function participantFiles(page = 'participant.html') {
  const html = join(CLIENT, page);
  const text = readFileSync(html, 'utf8');
  const files = new Set([html]);
  const urls = [...text.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  const queue = urls.filter((u) => u.startsWith('/assets/')).map(fileOf);
  while (queue.length) {
    const f = queue.shift();
    if (files.has(f)) continue;
    assert.ok(existsSync(f), `${f} exists`);
    files.add(f);
    if (f.endsWith('.js')) {
      const src = readFileSync(f, 'utf8');
      for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s*['"](\.\.?\/[^'"]+)['"]|import\s*\(\s*['"](\.\.?\/[^'"]+)['"]\s*\)/g)) {
        queue.push(join(f, '..', m[1] || m[2]));
      }
    }
  }
  return [...files];
}

