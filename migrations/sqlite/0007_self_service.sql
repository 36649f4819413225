-- Participant self-service: authors edit and delete their own comments
-- and ideas, and may leave a conversation.
--
-- `edited`: the author changed the text (shown as "edited"). `deleted`:
-- the author deleted it; the row stays only where replies hang off it,
-- with its text cleared. The first text of an idea an author edited is
-- kept for facilitators, as `comments.original_body` already is.
ALTER TABLE comments ADD COLUMN edited BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE comments ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE items ADD COLUMN edited BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE items ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE items ADD COLUMN original_title TEXT;
ALTER TABLE items ADD COLUMN original_body TEXT;
-- When the participant left (their row stays, emptied, so kept comments
-- and the handle's uniqueness have something to point at).
ALTER TABLE participants ADD COLUMN left_at INTEGER;
-- The comment or idea a recorded answer shows, so deleting it can clear
-- its text from the answers kept for retries too.
ALTER TABLE requests ADD COLUMN target_id BLOB;
CREATE INDEX requests_by_target ON requests (target_id) WHERE target_id IS NOT NULL;
