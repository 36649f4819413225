//! What participants do besides voting on items: sign up, comment and
//! reply, up-vote comments, flag them, and suggest ideas.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::super::backend::Backend;
use super::super::command::{Answer, Command, Committed, Pending, Request, RequestKey};

use super::super::{StoreError, TallyChange};
use super::ways_in::NewParticipant;
use super::Tx;
use crate::domain::{
    Comment, CommentStatus, CommentTally, EventData, Item, ItemStatus, Participant,
};

/// Someone joins a conversation as a new participant, by the open link,
/// the access code or an invite code (by its keyed hash, used up here).
/// Signing them in (a session) is separate:
/// `http::auth::start_participant_session`.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub conversation_id: Uuid,
    pub new: NewParticipant,
    pub invite_hash: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedUp {
    pub participant: Participant,
    /// Always true today; kept so a way in that finds an existing
    /// participant can say it did not make one.
    pub created: bool,
}

impl SignUp {
    /// A sign-up by the open link (imports, tests, the demo), with a
    /// return phrase nobody holds.
    pub fn open(
        conversation_id: Uuid,
        profile: std::collections::BTreeMap<String, String>,
    ) -> SignUp {
        SignUp {
            conversation_id,
            new: NewParticipant {
                profile,
                way_in: crate::domain::WayIn::Open,
                identity_hash: None,
                return_phrase_hash: Uuid::new_v4().as_bytes().to_vec(),
            },
            invite_hash: None,
        }
    }
}

impl Command for SignUp {
    type Answer = SignedUp;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::SignUp(request)
    }
}

/// A participant up-votes a comment, or takes the up-vote back.
#[derive(Debug, Clone)]
pub struct UpVote {
    pub conversation_id: Uuid,
    pub comment_id: Uuid,
    pub participant_id: Uuid,
    pub request_id: Uuid,
    pub up: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct UpVoted {
    pub comment_id: Uuid,
    pub up: bool,
    pub tally: CommentTally,
}

impl Command for UpVote {
    type Answer = UpVoted;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let parts = (
            self.conversation_id,
            self.comment_id,
            self.participant_id,
            self.up,
        );
        Some(RequestKey::new(self.request_id, "comment_vote", &parts))
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::UpVote(request)
    }
}

/// A comment on an item, or a reply to one (`parent_id`).
#[derive(Debug, Clone)]
pub struct PostComment {
    pub conversation_id: Uuid,
    pub item_id: Uuid,
    /// The client's id for the comment, which is also its request id.
    pub comment_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub participant_id: Uuid,
    pub body: String,
    /// Decided by the conversation's rules (`Conversation::comment_status`).
    pub status: CommentStatus,
}

impl Command for PostComment {
    type Answer = Comment;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let parts = (
            self.conversation_id,
            self.item_id,
            self.parent_id,
            self.participant_id,
            &self.body,
        );
        Some(RequestKey::new(self.comment_id, "comment", &parts))
    }
    fn target(&self) -> Option<Uuid> {
        Some(self.comment_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::PostComment(request)
    }
}

/// A participant flags a comment for the facilitators.
#[derive(Debug, Clone)]
pub struct FlagComment {
    pub conversation_id: Uuid,
    pub comment_id: Uuid,
    /// The client's id for the flag, which is also its request id.
    pub flag_id: Uuid,
    pub participant_id: Uuid,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Flagged {
    /// The comment's open flags after this one.
    pub flags: i64,
}

impl Command for FlagComment {
    type Answer = Flagged;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let parts = (
            self.conversation_id,
            self.comment_id,
            self.participant_id,
            &self.reason,
        );
        Some(RequestKey::new(self.flag_id, "flag", &parts))
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::FlagComment(request)
    }
}

/// A participant suggests an idea, which others vote and comment on.
#[derive(Debug, Clone)]
pub struct SuggestIdea {
    pub conversation_id: Uuid,
    /// The client's id for the idea, which is also its request id.
    pub item_id: Uuid,
    pub participant_id: Uuid,
    pub title: String,
    pub body: String,
    /// Decided by the conversation's rules (`Conversation::idea_status`).
    pub status: ItemStatus,
}

impl Command for SuggestIdea {
    type Answer = Item;
    fn conversation_id(&self) -> Option<Uuid> {
        Some(self.conversation_id)
    }
    fn request(&self) -> Option<RequestKey> {
        let parts = (
            self.conversation_id,
            self.participant_id,
            &self.title,
            &self.body,
        );
        Some(RequestKey::new(self.item_id, "idea", &parts))
    }
    fn target(&self) -> Option<Uuid> {
        Some(self.item_id)
    }
    fn pending(request: Request<Self>) -> Pending {
        Pending::SuggestIdea(request)
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
    pub async fn sign_up(&mut self, command: &SignUp) -> Answer<SignUp> {
        if let Some(hash) = &command.invite_hash {
            self.use_invite(command.conversation_id, hash).await?;
        }
        let participant = self
            .insert_participant(command.conversation_id, &command.new)
            .await?;
        Ok(Committed::quiet(SignedUp {
            participant,
            created: true,
        }))
    }

    pub async fn up_vote(&mut self, command: &UpVote) -> Answer<UpVote> {
        let comment = self
            .comment(command.conversation_id, command.comment_id)
            .await?
            .filter(|comment| comment.status == CommentStatus::Visible && !comment.deleted)
            .ok_or(StoreError::NotFound("comment"))?;
        self.contributor(command.conversation_id, command.participant_id)
            .await?;
        // Agreeing with yourself would count your voice twice.
        let author: Uuid = sqlx::query_scalar("SELECT participant_id FROM comments WHERE id = $1")
            .bind(command.comment_id)
            .fetch_one(&mut *self.c)
            .await?;
        if command.up && author == command.participant_id {
            return Err(StoreError::Invalid {
                field: "up",
                message: "you cannot agree with your own comment".into(),
            });
        }
        let had: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM comment_votes WHERE participant_id = $1 AND comment_id = $2",
        )
        .bind(command.participant_id)
        .bind(command.comment_id)
        .fetch_one(&mut *self.c)
        .await?;
        if (had > 0) == command.up {
            return Ok(Committed::quiet(UpVoted {
                comment_id: command.comment_id,
                up: command.up,
                tally: CommentTally {
                    up: comment.up,
                    version: comment.up_version,
                },
            }));
        }
        let delta = if command.up {
            sqlx::query(
                "INSERT INTO comment_votes (participant_id, comment_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(command.participant_id)
            .bind(command.comment_id)
            .bind(self.now.0)
            .execute(&mut *self.c)
            .await?;
            1i64
        } else {
            sqlx::query("DELETE FROM comment_votes WHERE participant_id = $1 AND comment_id = $2")
                .bind(command.participant_id)
                .bind(command.comment_id)
                .execute(&mut *self.c)
                .await?;
            -1i64
        };
        let (up, version): (i64, i64) = sqlx::query_as(
            "UPDATE comments SET up = up + $1, up_version = up_version + 1 WHERE id = $2 \
             RETURNING up, up_version",
        )
        .bind(delta)
        .bind(command.comment_id)
        .fetch_one(&mut *self.c)
        .await?;
        let tally = CommentTally { up, version };
        Ok(Committed {
            answer: UpVoted {
                comment_id: command.comment_id,
                up: command.up,
                tally,
            },
            events: Vec::new(),
            tally: Some((
                command.conversation_id,
                TallyChange::Comment {
                    id: command.comment_id,
                    tally,
                },
            )),
        })
    }

    pub async fn post_comment(&mut self, command: &PostComment) -> Answer<PostComment> {
        let taken: Option<Uuid> = sqlx::query_scalar("SELECT id FROM comments WHERE id = $1")
            .bind(command.comment_id)
            .fetch_optional(&mut *self.c)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(
                "this comment id is already in use".into(),
            ));
        }
        let handle = self
            .contributor(command.conversation_id, command.participant_id)
            .await?;
        let item = self
            .item(command.conversation_id, command.item_id)
            .await?
            .filter(|item| item.status == ItemStatus::Visible)
            .ok_or(StoreError::NotFound("item"))?;
        if let Some(parent_id) = command.parent_id {
            let parent = self
                .comment(command.conversation_id, parent_id)
                .await?
                .filter(|p| p.status != CommentStatus::Hidden)
                .ok_or(StoreError::NotFound("parent comment"))?;
            if parent.item_id != item.id {
                return Err(StoreError::Invalid {
                    field: "parent_id",
                    message: "is a comment on another item".into(),
                });
            }
            if parent.parent_id.is_some() {
                return Err(StoreError::Invalid {
                    field: "parent_id",
                    message:
                        "is itself a reply; reply to the comment it answers (one level of replies)"
                            .into(),
                });
            }
        }
        let seq = self.next_seq(command.conversation_id).await?;
        sqlx::query(
            "INSERT INTO comments (id, conversation_id, item_id, parent_id, participant_id, handle, body, \
             status, pinned, up, up_version, flags, seq, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 0, 0, $10, $11)",
        )
        .bind(command.comment_id)
        .bind(command.conversation_id)
        .bind(command.item_id)
        .bind(command.parent_id)
        .bind(command.participant_id)
        .bind(&handle)
        .bind(&command.body)
        .bind(command.status.as_str())
        .bind(false)
        .bind(seq)
        .bind(self.now.0)
        .execute(&mut *self.c)
        .await?;
        if command.status == CommentStatus::Visible {
            sqlx::query("UPDATE items SET comments = comments + 1 WHERE id = $1")
                .bind(command.item_id)
                .execute(&mut *self.c)
                .await?;
        }
        let comment = Comment {
            id: command.comment_id,
            item_id: command.item_id,
            parent_id: command.parent_id,
            handle: handle.clone(),
            body: command.body.clone(),
            status: command.status,
            pinned: false,
            hidden_reason: None,
            up: 0,
            up_version: 0,
            flags: 0,
            seq,
            created_at: self.now,
            edited: false,
            deleted: false,
        };
        let data = EventData::Comment {
            action: "created".into(),
            comment: comment.clone(),
            previous: None,
        };
        let event = self
            .append_event(command.conversation_id, Some(seq), &handle, data)
            .await?;
        Ok(Committed {
            answer: comment,
            events: vec![event],
            tally: None,
        })
    }

    pub async fn flag_comment(&mut self, command: &FlagComment) -> Answer<FlagComment> {
        let comment = self
            .comment(command.conversation_id, command.comment_id)
            .await?
            .ok_or(StoreError::NotFound("comment"))?;
        let handle = self
            .contributor(command.conversation_id, command.participant_id)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO flags (id, comment_id, participant_id, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(command.flag_id)
        .bind(command.comment_id)
        .bind(command.participant_id)
        .bind(&command.reason)
        .bind(self.now.0)
        .execute(&mut *self.c)
        .await?;
        if DB::rows_affected(&inserted) == 0 {
            // This participant flagged the comment already: one flag each.
            return Ok(Committed::quiet(Flagged {
                flags: comment.flags,
            }));
        }
        let flags: i64 = sqlx::query_scalar(
            "UPDATE comments SET flags = flags + 1 WHERE id = $1 RETURNING flags",
        )
        .bind(command.comment_id)
        .fetch_one(&mut *self.c)
        .await?;
        let data = EventData::Flag {
            comment_id: command.comment_id,
            reason: command.reason.clone(),
            flags,
        };
        let event = self
            .append_event(command.conversation_id, None, &handle, data)
            .await?;
        Ok(Committed {
            answer: Flagged { flags },
            events: vec![event],
            tally: None,
        })
    }

    pub async fn suggest_idea(&mut self, command: &SuggestIdea) -> Answer<SuggestIdea> {
        let taken: Option<Uuid> = sqlx::query_scalar("SELECT id FROM items WHERE id = $1")
            .bind(command.item_id)
            .fetch_optional(&mut *self.c)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(
                "this idea id is already in use".into(),
            ));
        }
        let handle = self
            .contributor(command.conversation_id, command.participant_id)
            .await?;
        sqlx::query(
            "INSERT INTO items (id, conversation_id, kind, title, body, status, position, participant_id, \
             handle, strong, wrong, version, comments, created_at) \
             VALUES ($1, $2, 'idea', $3, $4, $5, 0, $6, $7, 0, 0, 0, 0, $8)",
        )
        .bind(command.item_id)
        .bind(command.conversation_id)
        .bind(&command.title)
        .bind(&command.body)
        .bind(command.status.as_str())
        .bind(command.participant_id)
        .bind(&handle)
        .bind(self.now.0)
        .execute(&mut *self.c)
        .await?;
        let item = self
            .item(command.conversation_id, command.item_id)
            .await?
            .ok_or(StoreError::NotFound("item"))?;
        let data = EventData::Item {
            action: "created".into(),
            item: item.clone(),
            previous: None,
        };
        let event = self
            .append_event(command.conversation_id, None, &handle, data)
            .await?;
        Ok(Committed {
            answer: item,
            events: vec![event],
            tally: None,
        })
    }
}
