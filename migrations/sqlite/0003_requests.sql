-- Exact retries. A request id (a client UUID) is recorded with a
-- fingerprint of what was asked and the answer its first commit gave;
-- a retry gets that answer back and changes nothing, and the same id
-- used for anything else is refused. Rows older than the retention
-- window (store.request_retention_hours) are pruned on a timer.
--
-- Every vote writes a row here. A rowid table appends the (wide) rows at
-- its end, and the age index is appended to as well; only the narrow
-- index on the id takes random inserts. (Keyed by the id WITHOUT ROWID,
-- every insert would dirty a page of wide rows: measurably slower.)
DROP TABLE requests;
CREATE TABLE requests (
    id BLOB PRIMARY KEY,
    -- SHA-256 (its first 128 bits) of the kind of write, the caller and
    -- what they sent
    fingerprint BLOB NOT NULL,
    -- the first answer, as JSON
    answer BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX requests_by_age ON requests (created_at);
