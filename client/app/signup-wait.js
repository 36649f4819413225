// What waits for sign-up on the participant page (issue 13): the "Please sign
// up first" notes, which go away once signed up, and the votes tapped before
// signing up, which are kept (in memory, one per item) and sent right after.

export const SIGNUP_FIRST = 'Please sign up first: it is anonymous and takes one click.';

export class SignupWait {
  constructor() {
    /** @type {Map<HTMLElement, string>} */ this.notes = new Map();
    /** @type {Map<string, string>} */ this.votes = new Map();
  }

  /** Shows `text` in `el` as a sign-up note. @param {HTMLElement} el @param {string} text */
  note(el, text) {
    el.textContent = text;
    el.classList.add('bad');
    this.notes.set(el, text);
  }

  /** The vote kept for an item, if any. @param {string} item */
  vote(item) { return this.votes.get(item) || null; }

  /** Keeps a vote (or forgets it, with null). @param {string} item @param {string|null} choice */
  keepVote(item, choice) {
    if (choice) this.votes.set(item, choice); else this.votes.delete(item);
  }

  /**
   * Once signed up: clears the notes still showing, then hands over the kept votes.
   * @param {(item: string, choice: string) => void} sendVote
   */
  done(sendVote) {
    for (const [el, text] of this.notes) {
      if (el.textContent === text) { el.textContent = ''; el.classList.remove('bad'); }
    }
    this.notes.clear();
    const votes = Array.from(this.votes);
    this.votes.clear();
    for (const [item, choice] of votes) sendVote(item, choice);
  }
}
