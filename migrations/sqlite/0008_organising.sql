-- What organisers need (docs/api.md, docs/report.md "Who sees what").
--
-- Who may read the results: results_visibility is public, participants
-- or staff. The old results_visible meant "anyone may see the results
-- while the conversation runs" (and always once it closed): that is now
-- results_while_open, and every existing conversation stays public, so
-- nothing anyone could read before becomes hidden, or the other way round.
ALTER TABLE conversations RENAME COLUMN results_visible TO results_while_open;
ALTER TABLE conversations ADD COLUMN results_visibility TEXT NOT NULL DEFAULT 'public';
-- The addresses of earlier conversations in its series, as a JSON list.
ALTER TABLE conversations ADD COLUMN series TEXT NOT NULL DEFAULT '[]';
-- Hidden from the list of conversations; its link and report still work.
ALTER TABLE conversations ADD COLUMN archived BOOLEAN NOT NULL DEFAULT FALSE;
-- An email address or a sentence shown on every participant page; '' is none.
ALTER TABLE conversations ADD COLUMN support_contact TEXT NOT NULL DEFAULT '';
