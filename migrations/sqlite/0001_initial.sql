-- chorus schema for SQLite. Ids are UUIDs stored as 16-byte blobs; times
-- are milliseconds since the Unix epoch.

CREATE TABLE conversations (
    id BLOB PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    introduction TEXT NOT NULL,
    opens_at INTEGER NOT NULL,
    closes_at INTEGER NOT NULL,
    signup_mode TEXT NOT NULL,
    access_code TEXT,
    moderation TEXT NOT NULL,
    ideas_need_approval BOOLEAN NOT NULL,
    profile_questions TEXT NOT NULL,
    results_visible BOOLEAN NOT NULL,
    -- the last sequence number given to an event of this conversation
    last_seq INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    id BLOB PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    user_id BLOB REFERENCES users(id),
    created_at INTEGER NOT NULL
);

CREATE TABLE participants (
    id BLOB PRIMARY KEY,
    conversation_id BLOB NOT NULL REFERENCES conversations(id),
    session_id BLOB NOT NULL,
    handle TEXT NOT NULL,
    profile TEXT NOT NULL,
    suspended BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    UNIQUE (conversation_id, handle),
    UNIQUE (conversation_id, session_id)
);

CREATE TABLE items (
    id BLOB PRIMARY KEY,
    conversation_id BLOB NOT NULL REFERENCES conversations(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    position INTEGER NOT NULL,
    participant_id BLOB,
    handle TEXT,
    strong INTEGER NOT NULL DEFAULT 0,
    wrong INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0,
    comments INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX items_by_conversation ON items (conversation_id, position);

CREATE TABLE votes (
    participant_id BLOB NOT NULL,
    item_id BLOB NOT NULL REFERENCES items(id),
    conversation_id BLOB NOT NULL,
    choice TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (participant_id, item_id)
);
CREATE INDEX votes_by_item ON votes (item_id);

CREATE TABLE comments (
    id BLOB PRIMARY KEY,
    conversation_id BLOB NOT NULL REFERENCES conversations(id),
    item_id BLOB NOT NULL REFERENCES items(id),
    parent_id BLOB,
    participant_id BLOB NOT NULL,
    handle TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    pinned BOOLEAN NOT NULL,
    hidden_reason TEXT,
    original_body TEXT,
    up INTEGER NOT NULL DEFAULT 0,
    up_version INTEGER NOT NULL DEFAULT 0,
    flags INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX comments_by_item ON comments (item_id, seq);
CREATE INDEX comments_by_conversation ON comments (conversation_id, seq);

CREATE TABLE comment_votes (
    participant_id BLOB NOT NULL,
    comment_id BLOB NOT NULL REFERENCES comments(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (participant_id, comment_id)
);

CREATE TABLE flags (
    id BLOB PRIMARY KEY,
    comment_id BLOB NOT NULL REFERENCES comments(id),
    participant_id BLOB NOT NULL,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (comment_id, participant_id)
);

-- The audit trail and the source for resuming live clients.
CREATE TABLE events (
    conversation_id BLOB NOT NULL REFERENCES conversations(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

-- Client-generated request ids already applied (votes, moderation).
CREATE TABLE requests (
    id BLOB PRIMARY KEY,
    created_at INTEGER NOT NULL
);

CREATE TABLE display_tokens (
    token_hash BLOB PRIMARY KEY,
    conversation_id BLOB NOT NULL REFERENCES conversations(id),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
