-- When participants see the pledges' tallies (docs/api.md "tallies_visible"):
-- always, after_voting (a pledge's once they voted on it) or after_close.
-- Every existing conversation keeps showing them, as it did.
ALTER TABLE conversations ADD COLUMN tallies_visible TEXT NOT NULL DEFAULT 'always';
