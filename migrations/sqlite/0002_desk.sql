-- The facilitator desk: a per-conversation word list that sends matching
-- comments to review, and what display screens show.
ALTER TABLE conversations ADD COLUMN word_list TEXT NOT NULL DEFAULT '[]';
ALTER TABLE conversations ADD COLUMN display TEXT NOT NULL DEFAULT '{"mode":"all","item_id":null}';
-- When a display screen first watched a conversation (event days in the report).
CREATE TABLE display_sessions (
    conversation_id BLOB NOT NULL REFERENCES conversations(id),
    day INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, day)
);
