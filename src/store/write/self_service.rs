//! What a participant does to their own contributions: edit a comment or
//! an idea while nobody has answered it, delete one, or leave the
//! conversation altogether. Each change is an event every screen sees,
//! like moderation.
//!
//! Deleting means the text is gone from the store, not hidden: the row is
//! removed (or, where replies hang off it, emptied), and the copies of the
//! text in the event log and in the answers kept for retries are cleared
//! in the same transaction.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::super::backend::Backend;
use super::super::command::{Answer, Command, Committed, Pending, Request, RequestKey};
use super::super::{StoreError, TallyChange};
use super::Tx;
use crate::domain::contribution::may_edit;
use crate::domain::{
    Choice, Comment, CommentStatus, CommentTally, Event, EventData, Item, ItemKind, ItemStatus,
    LeaveComments, Tally, FORMER_PARTICIPANT,
};

/// The author edits their comment.
#[derive(Debug, Clone)]
pub struct AuthorEditComment {
    pub conversation_id: Uuid,
    pub comment_id: Uuid,
    pub participant_id: Uuid,
    pub request_id: Uuid,
    pub body: String,
    /// The new text matches the conversation's word list: it goes back to
    /// the facilitators before anyone else sees it.
    pub needs_review: bool,
    /// `participation.edit_window_s`, in milliseconds.
    pub window_ms: i64,
}

impl Command for AuthorEditComment {
    type Answer = Comment;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let parts = (
            self.conversation_id,
            self.comment_id,
            self.participant_id,
            &self.body,
        );
        Some(RequestKey::new(
            self.request_id,
            "author_edit_comment",
            &parts,
        ))
    }
    fn target(&self) -> Option<Uuid> {
        Some(self.comment_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::AuthorEditComment(request)
    }
}

/// The author edits their idea.
#[derive(Debug, Clone)]
pub struct AuthorEditIdea {
    pub conversation_id: Uuid,
    pub item_id: Uuid,
    pub participant_id: Uuid,
    pub request_id: Uuid,
    pub title: String,
    pub body: String,
    /// Ideas need a facilitator's approval here: an approved idea whose
    /// text changes waits for it again.
    pub needs_approval: bool,
    pub window_ms: i64,
}

impl Command for AuthorEditIdea {
    type Answer = Item;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let parts = (
            self.conversation_id,
            self.item_id,
            self.participant_id,
            &self.title,
            &self.body,
        );
        Some(RequestKey::new(self.request_id, "author_edit_idea", &parts))
    }
    fn target(&self) -> Option<Uuid> {
        Some(self.item_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::AuthorEditIdea(request)
    }
}

/// The author deletes their comment.
#[derive(Debug, Clone)]
pub struct AuthorDeleteComment {
    pub conversation_id: Uuid,
    pub comment_id: Uuid,
    pub participant_id: Uuid,
    pub request_id: Uuid,
}

impl Command for AuthorDeleteComment {
    type Answer = Comment;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let parts = (self.conversation_id, self.comment_id, self.participant_id);
        Some(RequestKey::new(
            self.request_id,
            "author_delete_comment",
            &parts,
        ))
    }
    fn target(&self) -> Option<Uuid> {
        Some(self.comment_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::AuthorDeleteComment(request)
    }
}

/// The author deletes their idea.
#[derive(Debug, Clone)]
pub struct AuthorDeleteIdea {
    pub conversation_id: Uuid,
    pub item_id: Uuid,
    pub participant_id: Uuid,
    pub request_id: Uuid,
}

impl Command for AuthorDeleteIdea {
    type Answer = Item;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let parts = (self.conversation_id, self.item_id, self.participant_id);
        Some(RequestKey::new(
            self.request_id,
            "author_delete_idea",
            &parts,
        ))
    }
    fn target(&self) -> Option<Uuid> {
        Some(self.item_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::AuthorDeleteIdea(request)
    }
}

/// A participant leaves the conversation, for good.
#[derive(Debug, Clone)]
pub struct Leave {
    pub conversation_id: Uuid,
    pub participant_id: Uuid,
    pub request_id: Uuid,
    pub comments: LeaveComments,
}

/// What leaving did, and the tallies it moved (for the live hub).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Left {
    pub votes_withdrawn: i64,
    pub comment_votes_withdrawn: i64,
    pub comments_deleted: i64,
    pub comments_kept: i64,
    pub ideas_deleted: i64,
    pub ideas_kept: i64,
    pub tallies: Vec<TallyChange>,
}

impl Command for Leave {
    type Answer = Left;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        // Not the participant: after leaving, the caller has no identity
        // left to name, and a retry must still get its first answer.
        let parts = (self.conversation_id, self.comments);
        Some(RequestKey::new(self.request_id, "leave", &parts))
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::Leave(request)
    }
}

/// What clearing a contribution from the log and the kept answers does.
#[derive(Debug, Clone, Copy)]
enum Scrub<'a> {
    /// Its author deleted it: no text and no handle stay.
    Text,
    /// Its author left and kept it: only the handle goes.
    Handle(&'a str),
}

/// Clears `target`'s text (or handle) wherever it appears in a JSON value:
/// any object whose `id` is `target` is a copy of that comment or idea.
fn scrub_value(value: &mut Value, target: &str, scrub: Scrub) -> bool {
    let mut changed = false;
    match value {
        Value::Object(map) => {
            if map.get("id").and_then(Value::as_str) == Some(target) {
                match scrub {
                    Scrub::Text => {
                        for key in ["body", "title"] {
                            if map.get(key).is_some_and(Value::is_string) {
                                map.insert(key.into(), Value::from(""));
                            }
                        }
                        if map.get("handle").is_some_and(Value::is_string) {
                            map.insert("handle".into(), Value::from(""));
                        }
                        map.insert("deleted".into(), Value::Bool(true));
                    }
                    Scrub::Handle(handle) => {
                        if map.get("handle").is_some_and(Value::is_string) {
                            map.insert("handle".into(), Value::from(handle));
                        }
                    }
                }
                changed = true;
            }
            for (_, v) in map.iter_mut() {
                changed |= scrub_value(v, target, scrub);
            }
        }
        Value::Array(values) => {
            for v in values {
                changed |= scrub_value(v, target, scrub);
            }
        }
        _ => {}
    }
    changed
}

/// Totals of a leave, before they become the answer.
#[derive(Default)]
struct Count {
    deleted: i64,
    kept: i64,
}

impl<DB> Tx<'_, DB>
where
    DB: Backend,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Uuid>: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'r> &'r str: sqlx::ColumnIndex<DB::Row>,
{
    /// The comment, if `participant_id` wrote it; someone else's is "not
    /// found", which tells the caller nothing about who wrote it.
    async fn own_comment(
        &mut self,
        conversation_id: Uuid,
        comment_id: Uuid,
        participant_id: Uuid,
    ) -> Result<Comment, StoreError> {
        let author: Option<Uuid> = sqlx::query_scalar(
            "SELECT participant_id FROM comments WHERE id = $1 AND conversation_id = $2",
        )
        .bind(comment_id)
        .bind(conversation_id)
        .fetch_optional(&mut *self.c)
        .await?;
        if author != Some(participant_id) {
            return Err(StoreError::NotFound("comment"));
        }
        self.comment(conversation_id, comment_id)
            .await?
            .ok_or(StoreError::NotFound("comment"))
    }

    async fn own_idea(
        &mut self,
        conversation_id: Uuid,
        item_id: Uuid,
        participant_id: Uuid,
    ) -> Result<Item, StoreError> {
        let author: Option<Option<Uuid>> = sqlx::query_scalar(
            "SELECT participant_id FROM items WHERE id = $1 AND conversation_id = $2",
        )
        .bind(item_id)
        .bind(conversation_id)
        .fetch_optional(&mut *self.c)
        .await?;
        if author.flatten() != Some(participant_id) {
            return Err(StoreError::NotFound("idea"));
        }
        self.item(conversation_id, item_id)
            .await?
            .filter(|item| item.kind == ItemKind::Idea)
            .ok_or(StoreError::NotFound("idea"))
    }

    async fn count(&mut self, sql: &str, id: Uuid, other: Uuid) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(sql)
            .bind(id)
            .bind(other)
            .fetch_one(&mut *self.c)
            .await?)
    }

    async fn replies(&mut self, comment_id: Uuid) -> Result<i64, StoreError> {
        self.count(
            "SELECT COUNT(*) FROM comments WHERE parent_id = $1 AND id <> $2",
            comment_id,
            comment_id,
        )
        .await
    }

    /// Comments on an idea, and votes on it by anyone but its author.
    async fn responses(&mut self, item_id: Uuid, author: Uuid) -> Result<i64, StoreError> {
        let comments = self
            .count(
                "SELECT COUNT(*) FROM comments WHERE item_id = $1 AND participant_id <> $2",
                item_id,
                author,
            )
            .await?;
        let votes = self
            .count(
                "SELECT COUNT(*) FROM votes WHERE item_id = $1 AND participant_id <> $2",
                item_id,
                author,
            )
            .await?;
        Ok(comments + votes)
    }

    /// Moves an item's count of visible comments (which a deleted one,
    /// even kept as the place its replies hang off, is not).
    async fn comment_count(&mut self, item_id: Uuid, by: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE items SET comments = comments + $1 WHERE id = $2")
            .bind(by)
            .bind(item_id)
            .execute(&mut *self.c)
            .await?;
        Ok(())
    }

    pub async fn author_edit_comment(
        &mut self,
        command: &AuthorEditComment,
    ) -> Answer<AuthorEditComment> {
        let conversation_id = command.conversation_id;
        let handle = self
            .contributor(conversation_id, command.participant_id)
            .await?;
        let before = self
            .own_comment(conversation_id, command.comment_id, command.participant_id)
            .await?;
        let replies = self.replies(before.id).await?;
        may_edit(
            before.created_at,
            self.now,
            command.window_ms,
            replies > 0,
            before.deleted,
        )
        .map_err(|refused| StoreError::Conflict(refused.message().into()))?;
        if before.body == command.body {
            return Ok(Committed::quiet(before));
        }
        let status = if command.needs_review && before.status == CommentStatus::Visible {
            CommentStatus::Pending
        } else {
            before.status
        };
        sqlx::query(
            "UPDATE comments SET original_body = COALESCE(original_body, body), body = $1, \
             edited = $2, status = $3 WHERE id = $4",
        )
        .bind(&command.body)
        .bind(true)
        .bind(status.as_str())
        .bind(before.id)
        .execute(&mut *self.c)
        .await?;
        if before.status == CommentStatus::Visible && status != CommentStatus::Visible {
            self.comment_count(before.item_id, -1).await?;
        }
        let comment = Comment {
            body: command.body.clone(),
            edited: true,
            status,
            ..before.clone()
        };
        let data = EventData::Comment {
            action: "author_edit".into(),
            comment: comment.clone(),
            previous: Some(before.status),
        };
        let event = self
            .append_event(conversation_id, None, &handle, data)
            .await?;
        Ok(Committed {
            answer: comment,
            events: vec![event],
            tally: None,
        })
    }

    pub async fn author_edit_idea(&mut self, command: &AuthorEditIdea) -> Answer<AuthorEditIdea> {
        let conversation_id = command.conversation_id;
        let handle = self
            .contributor(conversation_id, command.participant_id)
            .await?;
        let before = self
            .own_idea(conversation_id, command.item_id, command.participant_id)
            .await?;
        let responses = self.responses(before.id, command.participant_id).await?;
        may_edit(
            before.created_at,
            self.now,
            command.window_ms,
            responses > 0,
            before.deleted,
        )
        .map_err(|refused| StoreError::Conflict(refused.message().into()))?;
        if before.title == command.title && before.body == command.body {
            return Ok(Committed::quiet(before));
        }
        let status = if command.needs_approval && before.status == ItemStatus::Visible {
            ItemStatus::Pending
        } else {
            before.status
        };
        // Both originals are read from the row as it was before this update.
        sqlx::query(
            "UPDATE items SET original_title = COALESCE(original_title, title), \
             original_body = COALESCE(original_body, body), title = $1, body = $2, \
             edited = $3, status = $4 WHERE id = $5",
        )
        .bind(&command.title)
        .bind(&command.body)
        .bind(true)
        .bind(status.as_str())
        .bind(before.id)
        .execute(&mut *self.c)
        .await?;
        let item = Item {
            title: command.title.clone(),
            body: command.body.clone(),
            edited: true,
            status,
            ..before.clone()
        };
        let data = EventData::Item {
            action: "author_edit".into(),
            item: item.clone(),
            previous: Some(before.status),
        };
        let event = self
            .append_event(conversation_id, None, &handle, data)
            .await?;
        Ok(Committed {
            answer: item,
            events: vec![event],
            tally: None,
        })
    }

    pub async fn author_delete_comment(
        &mut self,
        command: &AuthorDeleteComment,
    ) -> Answer<AuthorDeleteComment> {
        let conversation_id = command.conversation_id;
        // A suspended author may still take back what they wrote.
        let handle: String = sqlx::query_scalar(
            "SELECT handle FROM participants WHERE id = $1 AND conversation_id = $2 AND left_at IS NULL",
        )
        .bind(command.participant_id)
        .bind(conversation_id)
        .fetch_optional(&mut *self.c)
        .await?
        .ok_or(StoreError::NotFound("participant"))?;
        let before = self
            .own_comment(conversation_id, command.comment_id, command.participant_id)
            .await?;
        if before.deleted {
            return Ok(Committed::quiet(before));
        }
        let mut events = Vec::new();
        let after = self
            .delete_comment(conversation_id, before, &handle, &mut events)
            .await?;
        Ok(Committed {
            answer: after,
            events,
            tally: None,
        })
    }

    /// Deletes a comment its author asked to delete: emptied where replies
    /// hang off it, removed otherwise (and its parent too, when that was
    /// deleted already and this was its last reply). Returns its state
    /// after; a removed comment reads as `hidden` and `deleted`.
    async fn delete_comment(
        &mut self,
        conversation_id: Uuid,
        before: Comment,
        actor: &str,
        events: &mut Vec<Event>,
    ) -> Result<Comment, StoreError> {
        let replies = self.replies(before.id).await?;
        let after = if replies > 0 {
            sqlx::query(
                "UPDATE comments SET body = '', handle = '', original_body = NULL, pinned = $1, \
                 deleted = $2 WHERE id = $3",
            )
            .bind(false)
            .bind(true)
            .bind(before.id)
            .execute(&mut *self.c)
            .await?;
            before.deleted_by_author()
        } else {
            for sql in [
                "DELETE FROM comment_votes WHERE comment_id = $1",
                "DELETE FROM flags WHERE comment_id = $1",
                "DELETE FROM comments WHERE id = $1",
            ] {
                sqlx::query(sql)
                    .bind(before.id)
                    .execute(&mut *self.c)
                    .await?;
            }
            Comment {
                status: CommentStatus::Hidden,
                hidden_reason: None,
                ..before.deleted_by_author()
            }
        };
        if before.status == CommentStatus::Visible && !before.deleted {
            self.comment_count(before.item_id, -1).await?;
        }
        self.scrub(conversation_id, before.id, Scrub::Text).await?;
        let data = EventData::Comment {
            action: "author_delete".into(),
            comment: after.clone(),
            previous: Some(before.status),
        };
        events.push(
            self.append_event(conversation_id, None, actor, data)
                .await?,
        );
        // A deleted comment kept only for this reply goes with it.
        if replies == 0 {
            if let Some(parent_id) = before.parent_id {
                if let Some(parent) = self.comment(conversation_id, parent_id).await? {
                    if parent.deleted && self.replies(parent.id).await? == 0 {
                        Box::pin(self.delete_comment(conversation_id, parent, actor, events))
                            .await?;
                    }
                }
            }
        }
        Ok(after)
    }

    pub async fn author_delete_idea(
        &mut self,
        command: &AuthorDeleteIdea,
    ) -> Answer<AuthorDeleteIdea> {
        let conversation_id = command.conversation_id;
        let handle: String = sqlx::query_scalar(
            "SELECT handle FROM participants WHERE id = $1 AND conversation_id = $2 AND left_at IS NULL",
        )
        .bind(command.participant_id)
        .bind(conversation_id)
        .fetch_optional(&mut *self.c)
        .await?
        .ok_or(StoreError::NotFound("participant"))?;
        let before = self
            .own_idea(conversation_id, command.item_id, command.participant_id)
            .await?;
        if before.deleted {
            return Ok(Committed::quiet(before));
        }
        let after = self.delete_idea(conversation_id, before, &handle).await?;
        Ok(Committed {
            answer: after.0,
            events: vec![after.1],
            tally: None,
        })
    }

    /// Deletes an idea its author asked to delete: emptied where comments
    /// hang off it (its votes stay: they were others' answers), removed
    /// with its votes otherwise.
    async fn delete_idea(
        &mut self,
        conversation_id: Uuid,
        before: Item,
        actor: &str,
    ) -> Result<(Item, Event), StoreError> {
        let comments = self
            .count(
                "SELECT COUNT(*) FROM comments WHERE item_id = $1 AND id <> $2",
                before.id,
                before.id,
            )
            .await?;
        let after = if comments > 0 {
            sqlx::query(
                "UPDATE items SET title = '', body = '', handle = NULL, original_title = NULL, \
                 original_body = NULL, deleted = $1 WHERE id = $2",
            )
            .bind(true)
            .bind(before.id)
            .execute(&mut *self.c)
            .await?;
            before.deleted_by_author()
        } else {
            for sql in [
                "DELETE FROM votes WHERE item_id = $1",
                "DELETE FROM items WHERE id = $1",
            ] {
                sqlx::query(sql)
                    .bind(before.id)
                    .execute(&mut *self.c)
                    .await?;
            }
            Item {
                status: ItemStatus::Hidden,
                ..before.deleted_by_author()
            }
        };
        self.scrub(conversation_id, before.id, Scrub::Text).await?;
        let data = EventData::Item {
            action: "author_delete".into(),
            item: after.clone(),
            previous: Some(before.status),
        };
        let event = self
            .append_event(conversation_id, None, actor, data)
            .await?;
        Ok((after, event))
    }

    /// Clears a comment's or idea's text (or handle) from the event log
    /// and from the answers kept for retries. The log is searched by the
    /// id's text, which every copy of the comment or idea carries.
    async fn scrub(
        &mut self,
        conversation_id: Uuid,
        target: Uuid,
        scrub: Scrub<'_>,
    ) -> Result<(), StoreError> {
        let id = target.to_string();
        let events: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, data FROM events WHERE conversation_id = $1 AND data LIKE $2",
        )
        .bind(conversation_id)
        .bind(format!("%{id}%"))
        .fetch_all(&mut *self.c)
        .await?;
        for (seq, data) in events {
            let mut value: Value =
                serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if scrub_value(&mut value, &id, scrub) {
                sqlx::query("UPDATE events SET data = $1 WHERE conversation_id = $2 AND seq = $3")
                    .bind(value.to_string())
                    .bind(conversation_id)
                    .bind(seq)
                    .execute(&mut *self.c)
                    .await?;
            }
        }
        let answers: Vec<(Uuid, Vec<u8>)> =
            sqlx::query_as("SELECT id, answer FROM requests WHERE target_id = $1")
                .bind(target)
                .fetch_all(&mut *self.c)
                .await?;
        for (request, answer) in answers {
            let mut value: Value =
                serde_json::from_slice(&answer).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if scrub_value(&mut value, &id, scrub) {
                sqlx::query("UPDATE requests SET answer = $1 WHERE id = $2")
                    .bind(value.to_string().into_bytes())
                    .bind(request)
                    .execute(&mut *self.c)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn leave(&mut self, command: &Leave) -> Answer<Leave> {
        let conversation_id = command.conversation_id;
        let participant_id = command.participant_id;
        let handle: String = sqlx::query_scalar(
            "SELECT handle FROM participants \
             WHERE id = $1 AND conversation_id = $2 AND left_at IS NULL",
        )
        .bind(participant_id)
        .bind(conversation_id)
        .fetch_optional(&mut *self.c)
        .await?
        .ok_or(StoreError::NotFound("participant"))?;
        let mut tallies = Vec::new();

        // Votes: each item's counts move by exactly this participant's vote.
        let votes: Vec<(Uuid, String)> =
            sqlx::query_as("SELECT item_id, choice FROM votes WHERE participant_id = $1")
                .bind(participant_id)
                .fetch_all(&mut *self.c)
                .await?;
        for (item_id, choice) in &votes {
            let choice: Choice = super::super::rows::column("votes.choice", choice)?;
            let (strong, wrong) = crate::domain::vote::delta(Some(choice), None);
            let (strong, wrong, version): (i64, i64, i64) = sqlx::query_as(
                "UPDATE items SET strong = strong + $1, wrong = wrong + $2, version = version + 1 \
                 WHERE id = $3 RETURNING strong, wrong, version",
            )
            .bind(strong)
            .bind(wrong)
            .bind(*item_id)
            .fetch_one(&mut *self.c)
            .await?;
            tallies.push(TallyChange::Item {
                id: *item_id,
                tally: Tally {
                    strong,
                    wrong,
                    version,
                },
            });
        }
        sqlx::query("DELETE FROM votes WHERE participant_id = $1")
            .bind(participant_id)
            .execute(&mut *self.c)
            .await?;

        // Up-votes on comments, likewise.
        let ups: Vec<Uuid> =
            sqlx::query_scalar("SELECT comment_id FROM comment_votes WHERE participant_id = $1")
                .bind(participant_id)
                .fetch_all(&mut *self.c)
                .await?;
        for comment_id in &ups {
            let (up, version): (i64, i64) = sqlx::query_as(
                "UPDATE comments SET up = up - 1, up_version = up_version + 1 WHERE id = $1 \
                 RETURNING up, up_version",
            )
            .bind(*comment_id)
            .fetch_one(&mut *self.c)
            .await?;
            tallies.push(TallyChange::Comment {
                id: *comment_id,
                tally: CommentTally { up, version },
            });
        }
        sqlx::query("DELETE FROM comment_votes WHERE participant_id = $1")
            .bind(participant_id)
            .execute(&mut *self.c)
            .await?;

        let mut events = Vec::new();
        let comments = self
            .leave_comments(
                conversation_id,
                participant_id,
                command.comments,
                &mut events,
            )
            .await?;
        let ideas = self
            .leave_ideas(
                conversation_id,
                participant_id,
                command.comments,
                &mut events,
            )
            .await?;

        // The audit trail named them by handle; it names nobody now.
        sqlx::query("UPDATE events SET actor = $1 WHERE conversation_id = $2 AND actor = $3")
            .bind(FORMER_PARTICIPANT)
            .bind(conversation_id)
            .bind(&handle)
            .execute(&mut *self.c)
            .await?;

        // The row stays (kept comments point at it) but holds nothing of
        // them: no profile, no handle, no way back in. `suspended` makes
        // the writing transaction refuse anything a stale cache lets
        // through after this.
        sqlx::query(
            "UPDATE participants SET profile = '{}', handle = $1, suspended = $2, left_at = $3, \
             identity_hash = NULL, return_phrase_hash = NULL WHERE id = $4",
        )
        .bind(format!("left {participant_id}"))
        .bind(true)
        .bind(self.now.0)
        .bind(participant_id)
        .execute(&mut *self.c)
        .await?;
        // Every session of theirs, on every device (a session is one
        // participant's, never shared).
        sqlx::query("DELETE FROM sessions WHERE participant_id = $1")
            .bind(participant_id)
            .execute(&mut *self.c)
            .await?;

        Ok(Committed {
            answer: Left {
                votes_withdrawn: votes.len() as i64,
                comment_votes_withdrawn: ups.len() as i64,
                comments_deleted: comments.deleted,
                comments_kept: comments.kept,
                ideas_deleted: ideas.deleted,
                ideas_kept: ideas.kept,
                tallies,
            },
            events,
            tally: None,
        })
    }

    async fn leave_comments(
        &mut self,
        conversation_id: Uuid,
        participant_id: Uuid,
        choice: LeaveComments,
        events: &mut Vec<Event>,
    ) -> Result<Count, StoreError> {
        // Replies first, so a comment whose only replies were theirs goes
        // altogether rather than staying as an empty placeholder.
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM comments WHERE participant_id = $1 AND conversation_id = $2 \
             AND deleted = $3 ORDER BY (parent_id IS NULL), seq",
        )
        .bind(participant_id)
        .bind(conversation_id)
        .bind(false)
        .fetch_all(&mut *self.c)
        .await?;
        let mut count = Count::default();
        for id in ids {
            // An earlier deletion may have taken this one with it.
            let Some(before) = self.comment(conversation_id, id).await? else {
                continue;
            };
            if before.deleted {
                continue;
            }
            match choice {
                LeaveComments::Delete => {
                    self.delete_comment(conversation_id, before, FORMER_PARTICIPANT, events)
                        .await?;
                    count.deleted += 1;
                }
                LeaveComments::KeepWithoutHandle => {
                    sqlx::query("UPDATE comments SET handle = $1 WHERE id = $2")
                        .bind(FORMER_PARTICIPANT)
                        .bind(id)
                        .execute(&mut *self.c)
                        .await?;
                    self.scrub(conversation_id, id, Scrub::Handle(FORMER_PARTICIPANT))
                        .await?;
                    let comment = Comment {
                        handle: FORMER_PARTICIPANT.into(),
                        ..before.clone()
                    };
                    let data = EventData::Comment {
                        action: "author_left".into(),
                        comment,
                        previous: Some(before.status),
                    };
                    events.push(
                        self.append_event(conversation_id, None, FORMER_PARTICIPANT, data)
                            .await?,
                    );
                    count.kept += 1;
                }
            }
        }
        Ok(count)
    }

    async fn leave_ideas(
        &mut self,
        conversation_id: Uuid,
        participant_id: Uuid,
        choice: LeaveComments,
        events: &mut Vec<Event>,
    ) -> Result<Count, StoreError> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM items WHERE participant_id = $1 AND conversation_id = $2 \
             AND deleted = $3 ORDER BY created_at",
        )
        .bind(participant_id)
        .bind(conversation_id)
        .bind(false)
        .fetch_all(&mut *self.c)
        .await?;
        let mut count = Count::default();
        for id in ids {
            let Some(before) = self.item(conversation_id, id).await? else {
                continue;
            };
            match choice {
                LeaveComments::Delete => {
                    let (_, event) = self
                        .delete_idea(conversation_id, before, FORMER_PARTICIPANT)
                        .await?;
                    events.push(event);
                    count.deleted += 1;
                }
                LeaveComments::KeepWithoutHandle => {
                    sqlx::query("UPDATE items SET handle = $1 WHERE id = $2")
                        .bind(FORMER_PARTICIPANT)
                        .bind(id)
                        .execute(&mut *self.c)
                        .await?;
                    self.scrub(conversation_id, id, Scrub::Handle(FORMER_PARTICIPANT))
                        .await?;
                    let item = Item {
                        handle: Some(FORMER_PARTICIPANT.into()),
                        ..before.clone()
                    };
                    let data = EventData::Item {
                        action: "author_left".into(),
                        item,
                        previous: Some(before.status),
                    };
                    events.push(
                        self.append_event(conversation_id, None, FORMER_PARTICIPANT, data)
                            .await?,
                    );
                    count.kept += 1;
                }
            }
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_clears_every_copy_of_the_target_and_nothing_else() {
        let target = Uuid::new_v4().to_string();
        let other = Uuid::new_v4().to_string();
        let mut value = serde_json::json!({
            "kind": "comment",
            "comment": {"id": target, "parent_id": null, "handle": "Amber Heron", "body": "secret", "deleted": false},
            "replies": [{"id": other, "parent_id": target, "handle": "Blue Owl", "body": "reply"}]
        });
        assert!(scrub_value(&mut value, &target, Scrub::Text));
        assert_eq!(value["comment"]["body"], "");
        assert_eq!(value["comment"]["handle"], "");
        assert_eq!(value["comment"]["deleted"], true);
        assert_eq!(value["replies"][0]["body"], "reply");
        assert_eq!(value["replies"][0]["handle"], "Blue Owl");
        assert!(!value.to_string().contains("secret"));

        let mut idea =
            serde_json::json!({"id": target, "title": "t", "body": "b", "handle": "Amber Heron"});
        assert!(scrub_value(
            &mut idea,
            &target,
            Scrub::Handle(FORMER_PARTICIPANT)
        ));
        assert_eq!(idea["handle"], FORMER_PARTICIPANT);
        assert_eq!(idea["title"], "t");
    }
}
