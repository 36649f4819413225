// The participant page's HTML, CSS and JS together stay under 60 KB gzip
// (each file compressed on its own, as it is sent, and summed).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLIENT } from './lib/harness.js';
import { participantFiles } from './lib/files.js';

const LIMIT = 60 * 1024;

test('the participant page is under 60 KB compressed', () => {
  const files = participantFiles();
  assert.ok(files.some((f) => f.endsWith('participant.js')), 'the page script is counted');
  assert.ok(files.some((f) => f.endsWith('.css')), 'the stylesheet is counted');
  let total = 0;
  const rows = [];
  for (const f of files) {
    const gz = gzipSync(readFileSync(f), { level: 9 }).length;
    total += gz;
    rows.push(`${(gz / 1024).toFixed(1).padStart(6)} KB  ${f.slice(CLIENT.length + 1)}`);
  }
  console.log(rows.join('\n') + `\n${(total / 1024).toFixed(1).padStart(6)} KB  total gzip (limit ${LIMIT / 1024} KB)`);
  assert.ok(total < LIMIT, `participant page is ${total} bytes gzip, over ${LIMIT}`);
});

test('no inline script, inline style or inline handler in the pages', () => {
  for (const name of ['participant.html', 'index.html']) {
    const text = readFileSync(join(CLIENT, name), 'utf8');
    assert.doesNotMatch(text, /<script(?![^>]*\bsrc=)[^>]*>/i, `${name}: inline <script>`);
    assert.doesNotMatch(text, /\sstyle\s*=/i, `${name}: style attribute`);
    assert.doesNotMatch(text, /<style/i, `${name}: <style> element`);
    assert.doesNotMatch(text, /\son[a-z]+\s*=/i, `${name}: inline event handler`);
    assert.doesNotMatch(text, /https?:\/\//i, `${name}: third-party URL`);
  }
  for (const f of participantFiles().filter((x) => x.endsWith('.js'))) {
    const src = readFileSync(f, 'utf8');
    assert.doesNotMatch(src, /\.innerHTML\s*=|insertAdjacentHTML|outerHTML\s*=|document\.write/, `${f}: writes HTML`);
    assert.doesNotMatch(src, /\beval\(|new Function\(/, `${f}: eval`);
  }
});
