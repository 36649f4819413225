-- The analysis (src/analysis) reads who up-voted which comment across a
-- whole conversation, joining from its comments; without this index each
-- comment's up-votes were a scan of every up-vote.
CREATE INDEX comment_votes_by_comment ON comment_votes (comment_id);
