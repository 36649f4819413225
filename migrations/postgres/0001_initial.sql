-- chorus schema for PostgreSQL. Times
-- are milliseconds since the Unix epoch.

CREATE TABLE conversations (
    id UUID PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    introduction TEXT NOT NULL,
    opens_at BIGINT NOT NULL,
    closes_at BIGINT NOT NULL,
    signup_mode TEXT NOT NULL,
    access_code TEXT,
    moderation TEXT NOT NULL,
    ideas_need_approval BOOLEAN NOT NULL,
    profile_questions TEXT NOT NULL,
    results_visible BOOLEAN NOT NULL,
    -- the last sequence number given to an event of this conversation
    last_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id UUID PRIMARY KEY,
    token_hash BYTEA NOT NULL UNIQUE,
    user_id UUID REFERENCES users(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE participants (
    id UUID PRIMARY KEY,
    conversation_id UUID NOT NULL REFERENCES conversations(id),
    session_id UUID NOT NULL,
    handle TEXT NOT NULL,
    profile TEXT NOT NULL,
    suspended BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    UNIQUE (conversation_id, handle),
    UNIQUE (conversation_id, session_id)
);

CREATE TABLE items (
    id UUID PRIMARY KEY,
    conversation_id UUID NOT NULL REFERENCES conversations(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    position BIGINT NOT NULL,
    participant_id UUID,
    handle TEXT,
    strong BIGINT NOT NULL DEFAULT 0,
    wrong BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 0,
    comments BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX items_by_conversation ON items (conversation_id, position);

CREATE TABLE votes (
    participant_id UUID NOT NULL,
    item_id UUID NOT NULL REFERENCES items(id),
    conversation_id UUID NOT NULL,
    choice TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (participant_id, item_id)
);
CREATE INDEX votes_by_item ON votes (item_id);

CREATE TABLE comments (
    id UUID PRIMARY KEY,
    conversation_id UUID NOT NULL REFERENCES conversations(id),
    item_id UUID NOT NULL REFERENCES items(id),
    parent_id UUID,
    participant_id UUID NOT NULL,
    handle TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    pinned BOOLEAN NOT NULL,
    hidden_reason TEXT,
    original_body TEXT,
    up BIGINT NOT NULL DEFAULT 0,
    up_version BIGINT NOT NULL DEFAULT 0,
    flags BIGINT NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX comments_by_item ON comments (item_id, seq);
CREATE INDEX comments_by_conversation ON comments (conversation_id, seq);

CREATE TABLE comment_votes (
    participant_id UUID NOT NULL,
    comment_id UUID NOT NULL REFERENCES comments(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (participant_id, comment_id)
);

CREATE TABLE flags (
    id UUID PRIMARY KEY,
    comment_id UUID NOT NULL REFERENCES comments(id),
    participant_id UUID NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (comment_id, participant_id)
);

-- The audit trail and the source for resuming live clients.
CREATE TABLE events (
    conversation_id UUID NOT NULL REFERENCES conversations(id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

-- Client-generated request ids already applied (votes, moderation).
CREATE TABLE requests (
    id UUID PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE display_tokens (
    token_hash BYTEA PRIMARY KEY,
    conversation_id UUID NOT NULL REFERENCES conversations(id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
