-- Sessions of issue 12. A session is either a staff login (user_id) or
-- one participant's sign-in to one conversation (participant_id), never
-- both, so no row links a staff account to a participant, or two
-- participants (two conversations) to each other. Sessions expire on the
-- server (expires_at); refreshed_at records the last sliding renewal.
-- Participants lose session_id: the session points at the participant.

CREATE TABLE sessions_new (
    id UUID PRIMARY KEY,
    token_hash BYTEA NOT NULL UNIQUE,
    user_id UUID REFERENCES users(id),
    participant_id UUID REFERENCES participants(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    refreshed_at BIGINT NOT NULL,
    CHECK ((user_id IS NULL) <> (participant_id IS NULL))
);

-- Each existing participant gets a session of its own, 30 days long. The
-- browser's old token keeps working for the participant it made first
-- (read from the old cookie, see src/http/auth.rs); a browser that had
-- signed up to several conversations gets unusable random tokens for the
-- others, because one token may no longer stand for two participants.
-- Old staff sessions are dropped: staff log in again.
INSERT INTO sessions_new (id, token_hash, user_id, participant_id, created_at, expires_at, refreshed_at)
    SELECT gen_random_uuid(),
           CASE WHEN p.id = (SELECT q.id FROM participants q WHERE q.session_id = p.session_id
                              ORDER BY q.created_at, q.id LIMIT 1)
                THEN s.token_hash
                ELSE sha256(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())) END,
           NULL, p.id, s.created_at,
           (extract(epoch FROM now()) * 1000)::BIGINT + 30 * 86400000::BIGINT,
           (extract(epoch FROM now()) * 1000)::BIGINT
    FROM participants p JOIN sessions s ON s.id = p.session_id;

DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
ALTER TABLE participants DROP COLUMN session_id;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_participant ON sessions (participant_id);
