// Drafts: whatever someone is typing is kept in localStorage as they type,
// so it survives a reload, a crash or a dropped connection.

const PREFIX = 'chorus:draft:';

/** @param {string} key */
export function readDraft(key) {
  try { return localStorage.getItem(PREFIX + key) || ''; } catch (e) { return ''; }
}

/** @param {string} key @param {string} text */
export function writeDraft(key, text) {
  try {
    if (text) localStorage.setItem(PREFIX + key, text);
    else localStorage.removeItem(PREFIX + key);
  } catch (e) { /* storage full or blocked: the text stays in the field */ }
}

/** Keys (without prefix) of the drafts that start with `scope`. @param {string} scope */
export function draftKeys(scope) {
  const out = [];
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (k && k.startsWith(PREFIX + scope)) out.push(k.slice(PREFIX.length));
    }
  } catch (e) { /* blocked */ }
  return out;
}

/**
 * Keeps a text field's value in a draft: restores it now, saves on input.
 * @param {HTMLInputElement|HTMLTextAreaElement} field
 * @param {string} key
 */
export function bindDraft(field, key) {
  const saved = readDraft(key);
  if (saved && !field.value) field.value = saved;
  field.addEventListener('input', () => writeDraft(key, field.value));
}
