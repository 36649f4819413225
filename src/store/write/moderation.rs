//! What facilitators do to comments, ideas and their authors: hide,
//! restore, approve, pin, edit out identifying details, suspend, and hide
//! everything by one author. Each change is an event every desk sees.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::super::backend::Backend;
use super::super::command::{Answer, Command, Committed, Pending, Request, RequestKey};
use super::super::StoreError;
use super::Tx;
use crate::domain::{AuthorAction, Comment, CommentStatus, EventData, Item, ModerationAction};

/// A facilitator moderates a comment.
#[derive(Debug, Clone)]
pub struct ModerateComment {
    pub conversation_id: Uuid,
    pub comment_id: Uuid,
    pub request_id: Uuid,
    /// The facilitator's name, for the audit trail.
    pub actor: String,
    pub action: ModerationAction,
    /// Shown to facilitators (and later to the author) when hiding.
    pub reason: Option<String>,
}

impl Command for ModerateComment {
    type Answer = Comment;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let parts = (
            self.conversation_id,
            self.comment_id,
            &self.actor,
            self.action,
            &self.reason,
        );
        Some(RequestKey::new(self.request_id, "moderate_comment", &parts))
    }
    fn target(&self) -> Option<Uuid> {
        Some(self.comment_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::ModerateComment(request)
    }
}

/// A facilitator approves, hides or restores an idea (or a pledge).
#[derive(Debug, Clone)]
pub struct ModerateItem {
    pub conversation_id: Uuid,
    pub item_id: Uuid,
    pub request_id: Uuid,
    pub actor: String,
    pub action: ModerationAction,
}

impl Command for ModerateItem {
    type Answer = Item;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let parts = (self.conversation_id, self.item_id, &self.actor, self.action);
        Some(RequestKey::new(self.request_id, "moderate_item", &parts))
    }
    fn target(&self) -> Option<Uuid> {
        Some(self.item_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::ModerateItem(request)
    }
}

/// A facilitator edits a comment to remove identifying details; the
/// first original is kept for admins.
#[derive(Debug, Clone)]
pub struct EditComment {
    pub conversation_id: Uuid,
    pub comment_id: Uuid,
    pub request_id: Uuid,
    pub actor: String,
    pub body: String,
}

impl Command for EditComment {
    type Answer = Comment;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let parts = (
            self.conversation_id,
            self.comment_id,
            &self.actor,
            &self.body,
        );
        Some(RequestKey::new(self.request_id, "edit_comment", &parts))
    }
    fn target(&self) -> Option<Uuid> {
        Some(self.comment_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::EditComment(request)
    }
}

/// Suspends, reinstates, or hides everything by a comment's author,
/// without naming them.
#[derive(Debug, Clone)]
pub struct ModerateAuthor {
    pub conversation_id: Uuid,
    pub comment_id: Uuid,
    pub request_id: Uuid,
    pub actor: String,
    pub action: AuthorAction,
    pub reason: Option<String>,
}

/// The author's comment after the action, and how many events it made
/// (one per comment hidden, or one suspension).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorModerated {
    pub comment: Comment,
    pub events: usize,
}

impl Command for ModerateAuthor {
    type Answer = AuthorModerated;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let parts = (
            self.conversation_id,
            self.comment_id,
            &self.actor,
            self.action,
            &self.reason,
        );
        Some(RequestKey::new(self.request_id, "moderate_author", &parts))
    }
    fn target(&self) -> Option<Uuid> {
        Some(self.comment_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::ModerateAuthor(request)
    }
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
    pub async fn moderate_comment(&mut self, command: &ModerateComment) -> Answer<ModerateComment> {
        self.moderate_one_comment(
            command.conversation_id,
            command.comment_id,
            &command.actor,
            command.action,
            command.reason.as_deref(),
        )
        .await
    }

    /// One comment's moderation, also used by "hide everything by this author".
    async fn moderate_one_comment(
        &mut self,
        conversation_id: Uuid,
        comment_id: Uuid,
        actor: &str,
        action: ModerationAction,
        reason: Option<&str>,
    ) -> Result<Committed<Comment>, StoreError> {
        let before = self
            .comment(conversation_id, comment_id)
            .await?
            .ok_or(StoreError::NotFound("comment"))?;
        // What its author deleted is no longer theirs to moderate: the
        // text is gone and the count already left the item.
        if before.deleted {
            return Ok(Committed::quiet(before));
        }
        let after = action.apply_to(&before, reason);
        if after == before {
            return Ok(Committed::quiet(before));
        }
        sqlx::query(
            "UPDATE comments SET status = $1, pinned = $2, hidden_reason = $3, flags = $4 WHERE id = $5",
        )
        .bind(after.status.as_str())
        .bind(after.pinned)
        .bind(&after.hidden_reason)
        .bind(after.flags)
        .bind(comment_id)
        .execute(&mut *self.c)
        .await?;
        let was_visible = before.status == CommentStatus::Visible;
        let is_visible = after.status == CommentStatus::Visible;
        if was_visible != is_visible {
            sqlx::query("UPDATE items SET comments = comments + $1 WHERE id = $2")
                .bind(if is_visible { 1i64 } else { -1i64 })
                .bind(before.item_id)
                .execute(&mut *self.c)
                .await?;
        }
        let data = EventData::Comment {
            action: action.as_str().into(),
            comment: after.clone(),
            previous: Some(before.status),
        };
        let event = self
            .append_event(conversation_id, None, actor, data)
            .await?;
        Ok(Committed {
            answer: after,
            events: vec![event],
            tally: None,
        })
    }

    pub async fn moderate_item(&mut self, command: &ModerateItem) -> Answer<ModerateItem> {
        let before = self
            .item(command.conversation_id, command.item_id)
            .await?
            .ok_or(StoreError::NotFound("item"))?;
        let status = command
            .action
            .item_status()
            .map_err(|message| StoreError::Invalid {
                field: "action",
                message: message.into(),
            })?;
        if status == before.status {
            return Ok(Committed::quiet(before));
        }
        sqlx::query("UPDATE items SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(command.item_id)
            .execute(&mut *self.c)
            .await?;
        let item = Item {
            status,
            ..before.clone()
        };
        let data = EventData::Item {
            action: command.action.as_str().into(),
            item: item.clone(),
            previous: Some(before.status),
        };
        let event = self
            .append_event(command.conversation_id, None, &command.actor, data)
            .await?;
        Ok(Committed {
            answer: item,
            events: vec![event],
            tally: None,
        })
    }

    pub async fn edit_comment(&mut self, command: &EditComment) -> Answer<EditComment> {
        let before = self
            .comment(command.conversation_id, command.comment_id)
            .await?
            .ok_or(StoreError::NotFound("comment"))?;
        if before.deleted {
            return Err(StoreError::Conflict(
                "its author deleted this comment".into(),
            ));
        }
        if before.body == command.body {
            return Ok(Committed::quiet(before));
        }
        sqlx::query(
            "UPDATE comments SET original_body = COALESCE(original_body, body), body = $1 WHERE id = $2",
        )
        .bind(&command.body)
        .bind(command.comment_id)
        .execute(&mut *self.c)
        .await?;
        let comment = Comment {
            body: command.body.clone(),
            ..before.clone()
        };
        let data = EventData::Comment {
            action: "edit".into(),
            comment: comment.clone(),
            previous: Some(before.status),
        };
        let event = self
            .append_event(command.conversation_id, None, &command.actor, data)
            .await?;
        Ok(Committed {
            answer: comment,
            events: vec![event],
            tally: None,
        })
    }

    pub async fn moderate_author(&mut self, command: &ModerateAuthor) -> Answer<ModerateAuthor> {
        let conversation_id = command.conversation_id;
        let author: Option<Uuid> = sqlx::query_scalar(
            "SELECT participant_id FROM comments WHERE id = $1 AND conversation_id = $2",
        )
        .bind(command.comment_id)
        .bind(conversation_id)
        .fetch_optional(&mut *self.c)
        .await?;
        let author = author.ok_or(StoreError::NotFound("comment"))?;
        let (handle, suspended): (String, bool) =
            sqlx::query_as("SELECT handle, suspended FROM participants WHERE id = $1")
                .bind(author)
                .fetch_one(&mut *self.c)
                .await?;
        let mut events = Vec::new();
        match command.action {
            AuthorAction::Suspend | AuthorAction::Unsuspend => {
                let suspend = command.action == AuthorAction::Suspend;
                if suspend != suspended {
                    sqlx::query("UPDATE participants SET suspended = $1 WHERE id = $2")
                        .bind(suspend)
                        .bind(author)
                        .execute(&mut *self.c)
                        .await?;
                    let data = EventData::Participant {
                        action: if suspend { "suspend" } else { "unsuspend" }.into(),
                        handle,
                        suspended: suspend,
                    };
                    events.push(
                        self.append_event(conversation_id, None, &command.actor, data)
                            .await?,
                    );
                }
            }
            AuthorAction::HideAll => {
                let ids: Vec<Uuid> = sqlx::query_scalar(
                    "SELECT id FROM comments WHERE participant_id = $1 AND conversation_id = $2 \
                     AND status <> 'hidden' ORDER BY seq",
                )
                .bind(author)
                .bind(conversation_id)
                .fetch_all(&mut *self.c)
                .await?;
                for id in ids {
                    let hidden = self
                        .moderate_one_comment(
                            conversation_id,
                            id,
                            &command.actor,
                            ModerationAction::Hide,
                            command.reason.as_deref(),
                        )
                        .await?;
                    events.extend(hidden.events);
                }
            }
        }
        let comment = self
            .comment(conversation_id, command.comment_id)
            .await?
            .ok_or(StoreError::NotFound("comment"))?;
        Ok(Committed {
            answer: AuthorModerated {
                comment,
                events: events.len(),
            },
            events,
            tally: None,
        })
    }
}
