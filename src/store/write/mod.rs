//! Every change chorus makes to stored state, one file per concern:
//! accounts and sessions, taking part, votes, moderation, and organising.
//! Each change is a command struct (see [`Command`]) and a method on
//! [`Tx`], the open transaction, that applies it and says what it did.
//!
//! What every change shares lives here: exact retries ([`Tx::once`]), the
//! conversation's sequence numbers and event log, and loading rows.

pub mod accounts;
pub mod arranging;
pub mod deletion;
pub mod moderation;
pub mod organising;
pub mod participation;
pub mod self_service;
pub mod vote;
pub mod ways_in;

pub use accounts::{
    CreateSession, CreateUser, EndSession, PruneSessions, RefreshSession, SessionOwner, SetPassword,
};
pub use arranging::{RemoveItem, ReorderItems};
pub use deletion::DeleteConversation;
pub use moderation::{AuthorModerated, EditComment, ModerateAuthor, ModerateComment, ModerateItem};
pub use organising::{
    AnnounceDeadline, ChangeConversation, CreateConversation, CreateDisplayToken, PruneRequests,
    RecordDisplayDay, UpsertPledge,
};
pub use participation::{
    FlagComment, Flagged, PostComment, SignUp, SignedUp, SuggestIdea, UpVote, UpVoted,
};
pub use self_service::{
    AuthorDeleteComment, AuthorDeleteIdea, AuthorEditComment, AuthorEditIdea, Leave, Left,
};
pub use vote::{CastVote, Voted};
pub use ways_in::{
    EmailVerified, InviteCounts, IssueInvites, NewParticipant, RequestEmailCode, SetReturnPhrase,
    VerifyEmailCode,
};

use uuid::Uuid;

use super::backend::Backend;
use super::command::{Answer, Command, Committed, RequestKey};
use super::rows::{CommentRow, ItemRow, COMMENT_COLUMNS, ITEM_COLUMNS};
use super::StoreError;
use crate::domain::{Comment, Event, EventData, Item, Millis};
use vote::Recorded;

/// The writer's open transaction (or a savepoint in it), and the time the
/// batch is applied at.
pub struct Tx<'c, DB: Backend> {
    pub c: &'c mut DB::Connection,
    pub now: Millis,
}

/// The stored first answer to `key`'s request id, or a conflict when the
/// id was first used for something else.
pub fn replay<C: Command>(key: &RequestKey, recorded: &Recorded) -> Answer<C> {
    if recorded.fingerprint != key.fingerprint {
        return Err(StoreError::Conflict(
            "this request_id was already used for a different request".into(),
        ));
    }
    let answer = serde_json::from_slice(&recorded.answer)
        .map_err(|e| StoreError::Corrupt(format!("stored answer: {e}")))?;
    Ok(Committed::quiet(answer))
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
    /// Applies `command` with `apply` unless its request id was seen: then
    /// the first answer is given back (or a conflict) and nothing changes.
    /// The first answer is recorded in the same transaction as the change.
    pub async fn once<C: Command>(
        &mut self,
        command: &C,
        apply: impl AsyncFnOnce(&mut Self, &C) -> Answer<C>,
    ) -> Answer<C> {
        let Some(key) = command.request() else {
            return apply(self, command).await;
        };
        let recorded: Option<(Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT fingerprint, answer FROM requests WHERE id = $1")
                .bind(key.id)
                .fetch_optional(&mut *self.c)
                .await?;
        if let Some((fingerprint, answer)) = recorded {
            return replay::<C>(
                &key,
                &Recorded {
                    fingerprint,
                    answer,
                },
            );
        }
        let committed = apply(self, command).await?;
        let answer = serde_json::to_vec(&committed.answer)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO requests (id, fingerprint, answer, created_at, target_id) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(key.id)
        .bind(key.fingerprint.to_vec())
        .bind(answer)
        .bind(self.now.0)
        .bind(command.target())
        .execute(&mut *self.c)
        .await?;
        Ok(committed)
    }

    /// Appends an event with the conversation's next sequence number (or
    /// `seq`, when the caller took it already).
    pub async fn append_event(
        &mut self,
        conversation_id: Uuid,
        seq: Option<i64>,
        actor: &str,
        data: EventData,
    ) -> Result<Event, StoreError> {
        let seq = match seq {
            Some(seq) => seq,
            None => self.next_seq(conversation_id).await?,
        };
        let json = serde_json::to_string(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO events (conversation_id, seq, kind, actor, data, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(conversation_id)
        .bind(seq)
        .bind(data.kind())
        .bind(actor)
        .bind(json)
        .bind(self.now.0)
        .execute(&mut *self.c)
        .await?;
        Ok(Event {
            conversation_id,
            seq,
            actor: actor.to_string(),
            data,
            created_at: self.now,
        })
    }

    /// The conversation's next sequence number. The counter row is updated
    /// in the writing transaction, so numbers follow commit order (on
    /// PostgreSQL the row lock orders concurrent nodes too).
    pub async fn next_seq(&mut self, conversation_id: Uuid) -> Result<i64, StoreError> {
        let seq: Option<i64> = sqlx::query_scalar(
            "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
        )
        .bind(conversation_id)
        .fetch_optional(&mut *self.c)
        .await?;
        seq.ok_or(StoreError::NotFound("conversation"))
    }

    pub async fn comment(
        &mut self,
        conversation_id: Uuid,
        comment_id: Uuid,
    ) -> Result<Option<Comment>, StoreError> {
        let row: Option<CommentRow> = sqlx::query_as(&format!(
            "SELECT {COMMENT_COLUMNS} FROM comments WHERE id = $1 AND conversation_id = $2"
        ))
        .bind(comment_id)
        .bind(conversation_id)
        .fetch_optional(&mut *self.c)
        .await?;
        row.map(Comment::try_from).transpose()
    }

    pub async fn item(
        &mut self,
        conversation_id: Uuid,
        item_id: Uuid,
    ) -> Result<Option<Item>, StoreError> {
        let row: Option<ItemRow> = sqlx::query_as(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE id = $1 AND conversation_id = $2"
        ))
        .bind(item_id)
        .bind(conversation_id)
        .fetch_optional(&mut *self.c)
        .await?;
        row.map(Item::try_from).transpose()
    }

    /// The participant's handle, refusing suspended participants. (No row
    /// lock is needed: on PostgreSQL the batch holds its conversation's.)
    pub async fn contributor(
        &mut self,
        conversation_id: Uuid,
        participant_id: Uuid,
    ) -> Result<String, StoreError> {
        let row: Option<(String, bool)> = sqlx::query_as(
            "SELECT handle, suspended FROM participants WHERE id = $1 AND conversation_id = $2",
        )
        .bind(participant_id)
        .bind(conversation_id)
        .fetch_optional(&mut *self.c)
        .await?;
        match row {
            None => Err(StoreError::NotFound("participant")),
            Some((_, true)) => Err(StoreError::Suspended),
            Some((handle, false)) => Ok(handle),
        }
    }
}
