-- Ways in (issue 12): a conversation takes one or more of open, code,
-- email and invite; email sign-ins and invites make one person one voice.
-- No email address is stored: a participant holds at most a keyed hash of
-- theirs (HMAC-SHA256 under the identity key, which lives outside the
-- database), and pending codes, invites and return phrases are keyed
-- hashes too.

-- Was one of "open" or "code"; now the ways in joined by commas.
ALTER TABLE conversations RENAME COLUMN signup_mode TO ways_in;
-- The allowed work email domains, as a JSON list of patterns.
ALTER TABLE conversations ADD COLUMN email_domains TEXT NOT NULL DEFAULT '[]';

-- How each participant came in (for the report's count of verified
-- participants); earlier participants came in by their conversation's mode.
ALTER TABLE participants ADD COLUMN way_in TEXT NOT NULL DEFAULT 'open';
UPDATE participants SET way_in = (
    SELECT ways_in FROM conversations WHERE conversations.id = participants.conversation_id
);
-- HMAC(identity key, conversation id || normalised address), email only.
ALTER TABLE participants ADD COLUMN identity_hash BLOB;
CREATE UNIQUE INDEX participants_by_identity ON participants (conversation_id, identity_hash);
-- HMAC of the current return phrase; NULL once erased.
ALTER TABLE participants ADD COLUMN return_phrase_hash BLOB;
CREATE UNIQUE INDEX participants_by_return_phrase ON participants (conversation_id, return_phrase_hash);

-- A code sent by email and not yet used: one per address and conversation
-- (a new request replaces it), gone once used or expired.
CREATE TABLE email_codes (
    id BLOB PRIMARY KEY,
    conversation_id BLOB NOT NULL REFERENCES conversations(id),
    identity_hash BLOB NOT NULL,
    code_hash BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    tries_left INTEGER NOT NULL,
    UNIQUE (conversation_id, identity_hash)
);

-- Single-use invite codes, by keyed hash. Whether one was used, never by whom.
CREATE TABLE invites (
    code_hash BLOB PRIMARY KEY,
    conversation_id BLOB NOT NULL REFERENCES conversations(id),
    used BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL
);
CREATE INDEX invites_by_conversation ON invites (conversation_id);
