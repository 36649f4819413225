-- Exact retries. A request id (a client UUID) is recorded with a
-- fingerprint of what was asked and the answer its first commit gave;
-- a retry gets that answer back and changes nothing, and the same id
-- used for anything else is refused. Rows older than the retention
-- window (store.request_retention_hours) are pruned on a timer.
DROP TABLE requests;
CREATE TABLE requests (
    id UUID PRIMARY KEY,
    -- SHA-256 (its first 128 bits) of the kind of write, the caller and
    -- what they sent
    fingerprint BYTEA NOT NULL,
    -- the first answer, as JSON
    answer BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX requests_by_age ON requests (created_at);
