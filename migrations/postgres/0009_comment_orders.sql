-- The participant page reads an item's comments a page at a time, top-level
-- comments only, newest or most agreed first, each with its number of
-- replies (docs/api.md, the comments endpoint). These partial indexes hold
-- just the visible top-level comments, in each order, so a page reads
-- `limit` index entries at 20,000 comments as at 20; replies are read, and
-- counted, by their parent.
CREATE INDEX comments_top_newest ON comments (item_id, seq) WHERE parent_id IS NULL AND status = 'visible';
CREATE INDEX comments_top_agreed ON comments (item_id, up DESC, seq) WHERE parent_id IS NULL AND status = 'visible';
CREATE INDEX comments_by_parent ON comments (parent_id, seq) WHERE parent_id IS NOT NULL;
